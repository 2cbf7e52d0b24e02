// SPDX-License-Identifier: GPL-2.0-only
/*
 * --web.config.file: the YAML subset, its errors (one line naming the file, line and key),
 * bcrypt hash checks, TLS files (tests/fixtures/web: a self-signed EC certificate, its key and
 * another key) and the basic-auth checker.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "testlib.h"
#include "web_auth.h"
#include "web_config.h"

#define WEB FIXTURES "/web"
#define HASH_PROM "$2y$04$/YM/NPL9V.1z2q305vWLcuYvYNPPgW7N4eWhXtWjpe1zDV.1RtgCy" /* secret */
#define HASH_ALICE "$2y$04$xMVe9lm7HFd0sXi9HYN6IOLjz5Yhvg5HKIS1lfM8Dfk2ahSD9BfFi" /* pa:ss wörd */
#define HASH_SLOW "$2y$10$lXw3CPD.4tAgn1wWLPwoQOov8bkHlyigrh/pYCwQDGV0OX8yg3ueG" /* secret */

struct cfg_case {
	const char *what, *yaml;
	const char *err; /* substring of the message, NULL when the text is valid */
};

static const struct cfg_case cfg_cases[] = {
    {"empty file", "", NULL},
    {"only a comment", "# nothing\n", NULL},
    {"TLS", "tls_server_config:\n  cert_file: cert.pem\n  key_file: /abs/key.pem\n", NULL},
    {"TLS with versions and NoClientCert",
     "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n"
     "  max_version: TLS13\n  client_auth_type: NoClientCert\n",
     NULL},
    {"users", "basic_auth_users:\n  prom: " HASH_PROM "\n  alice: '" HASH_ALICE "'\n", NULL},
    {"http2 accepted", "http_server_config:\n  http2: false\n", NULL},
    {"empty sections", "basic_auth_users:\nhttp_server_config:\n", NULL},
    {"not YAML", "tls_server_config: [\n", "line 2: did not find expected node content"},
    {"tabs", "tls_server_config:\n\tcert_file: x\n", "line 2:"},
    {"a list at the top", "- a\n- b\n", "the file must be a mapping"},
    {"unknown top-level key", "\n\nweb: 1\n",
     "line 3: unknown key \"web\" in the file (expected tls_server_config, http_server_config, "
     "basic_auth_users)"},
    {"unknown TLS key", "tls_server_config:\n  cert_file: c\n  key_file: k\n  certfile: x\n",
     "line 4: unknown key \"certfile\" in tls_server_config (expected cert_file, key_file,"},
    {"unsupported TLS key", "tls_server_config:\n  client_ca_file: ca.pem\n",
     "line 2: tls_server_config.client_ca_file is not supported by tcpstate"},
    {"client certificates", "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n",
     "client_auth_type \"RequireAndVerifyClientCert\" is not supported by tcpstate"},
    {"key file missing", "tls_server_config:\n  cert_file: c\n",
     "line 1: tls_server_config needs both cert_file and key_file"},
    {"empty TLS section", "tls_server_config:\n", "needs both cert_file and key_file"},
    {"empty file name", "tls_server_config:\n  cert_file: ''\n  key_file: k\n",
     "cert_file must be a non-empty string"},
    {"file name is a list", "tls_server_config:\n  cert_file: [a]\n  key_file: k\n",
     "cert_file must be a non-empty string"},
    {"key given twice", "tls_server_config:\n  cert_file: a\n  cert_file: b\n  key_file: k\n",
     "line 3: tls_server_config.cert_file is given twice"},
    {"bad version", "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS1.2\n",
     "line 4: tls_server_config.min_version \"TLS1.2\": expected TLS10, TLS11, TLS12 or TLS13"},
    {"versions upside down",
     "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_version: TLS13\n"
     "  max_version: TLS12\n",
     "min_version is above max_version"},
    {"headers", "http_server_config:\n  headers:\n    X-A: b\n",
     "http_server_config.headers is not supported by tcpstate"},
    {"http2 not a boolean", "http_server_config:\n  http2: maybe\n", "http2 must be true or false"},
    {"users as a list", "basic_auth_users:\n  - prom\n", "must map user names to bcrypt hashes"},
    {"plain password", "basic_auth_users:\n  prom: secret\n",
     "line 2: basic_auth_users.prom: expected a bcrypt hash"},
    {"SHA-512 crypt hash", "basic_auth_users:\n  prom: $6$abc$def\n", "expected a bcrypt hash"},
    {"bcrypt with a bad character",
     "basic_auth_users:\n  prom: $2y$04$/YM/NPL9V.1z2q305vWLcuYvYNPPgW7N4eWhXtWjpe1zDV.1Rt!Cy\n",
     "expected a bcrypt hash"},
    {"bcrypt cut short",
     "basic_auth_users:\n  prom: $2y$04$/YM/NPL9V.1z2q305vWLcuYvYNPPgW7N4eWhXtWjpe1zDV.1Rt\n",
     "expected a bcrypt hash"},
    {"bcrypt with cost 99",
     "basic_auth_users:\n  prom: $2y$99$/YM/NPL9V.1z2q305vWLcuYvYNPPgW7N4eWhXtWjpe1zDV.1RtgCy\n",
     "expected a bcrypt hash"},
    {"user twice", "basic_auth_users:\n  a: " HASH_PROM "\n  a: " HASH_PROM "\n",
     "line 3: basic_auth_users: user \"a\" is given twice"},
    {"user with a colon", "basic_auth_users:\n  'a:b': " HASH_PROM "\n", "without ':'"},
};

static void test_parse_cases(void)
{
	for (size_t i = 0; i < sizeof(cfg_cases) / sizeof(cfg_cases[0]); i++) {
		const struct cfg_case *t = &cfg_cases[i];
		struct web_config *c = NULL;
		char err[512] = "";
		int ret = web_config__parse(t->yaml, strlen(t->yaml), "/etc/t/web.yml", &c, err,
					    sizeof(err));

		if (!t->err) {
			CHECK(ret == 0, "%s: expected 0, got %d (%s)", t->what, ret, err);
		} else {
			CHECK(ret == -EINVAL, "%s: expected -EINVAL, got %d", t->what, ret);
			CHECK(strstr(err, t->err) != NULL, "%s: expected \"%s\" in \"%s\"", t->what,
			      t->err, err);
			CHECK(!strncmp(err, "invalid web config /etc/t/web.yml: ", 35) &&
				      !strchr(err, '\n'),
			      "%s: expected one line naming the file, got \"%s\"", t->what, err);
		}
		web_config__free(c);
	}
}

static void test_parse_values(void)
{
	static const char yaml[] = "tls_server_config:\n  cert_file: cert.pem\n"
				   "  key_file: /abs/key.pem\n  min_version: TLS13\n"
				   "basic_auth_users:\n  prom: " HASH_PROM "\n";
	struct web_config *c = NULL;
	char err[512] = "";

	CHECK_EQ_INT(web_config__parse(yaml, strlen(yaml), "/etc/t/web.yml", &c, err,
				       sizeof(err)),
		     0, err);
	if (!c)
		return;
	CHECK(c->tls, "expected TLS on");
	CHECK_EQ_STR(c->cert_file, "/etc/t/cert.pem", "relative cert_file resolved");
	CHECK_EQ_STR(c->key_file, "/abs/key.pem", "absolute key_file kept");
	CHECK_EQ_STR(c->priorities, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1:-VERS-TLS1.2",
		     "priorities for TLS13 only");
	CHECK_EQ_INT(c->n_users, 1, "users");
	CHECK(c->n_users == 1 && !strcmp(c->users[0].name, "prom") &&
		      !strcmp(c->users[0].hash, HASH_PROM),
	      "expected user prom with its hash");
	web_config__free(c);
	c = NULL;
	CHECK_EQ_INT(web_config__parse("tls_server_config: {cert_file: c, key_file: k}", 46, "w.yml",
				       &c, err, sizeof(err)),
		     0, err);
	if (c) {
		CHECK_EQ_STR(c->priorities, "NORMAL:-VERS-TLS1.0:-VERS-TLS1.1",
			     "default versions TLS12 to TLS13");
		CHECK_EQ_STR(c->cert_file, "c", "a path relative to a config in the working dir");
	}
	web_config__free(c);
}

static void test_load_files(void)
{
	static const struct {
		const char *file, *err;
	} cases[] = {
	    {WEB "/ok.yml", NULL},
	    {WEB "/wrong_key.yml", "do not match"},
	    {WEB "/missing_cert.yml", "tls_server_config.cert_file " WEB "/nope.pem: No such file"},
	    {WEB "/cert_is_dir.yml", "Is a directory"},
	    {WEB "/no-such.yml", "cannot read web config " WEB "/no-such.yml: No such file"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct web_config *c = NULL;
		char err[512] = "";
		int ret = web_config__load(cases[i].file, &c, err, sizeof(err));

		if (!cases[i].err) {
			CHECK(ret == 0 && c && c->cert_pem && c->key_pem &&
				      strstr(c->cert_pem, "BEGIN CERTIFICATE"),
			      "%s: expected the PEM files read, got %d (%s)", cases[i].file, ret,
			      err);
		} else {
			CHECK(ret < 0 && !c && strstr(err, cases[i].err),
			      "%s: expected an error with \"%s\", got %d \"%s\"", cases[i].file,
			      cases[i].err, ret, err);
		}
		web_config__free(c);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_auth_check(void)
{
	static const struct {
		const char *user, *pass;
		enum web_auth_result want;
	} cases[] = {
	    {"prom", "secret", WEB_AUTH_OK},
	    {"prom", "secret", WEB_AUTH_OK}, /* remembered */
	    {"prom", "Secret", WEB_AUTH_DENIED},
	    {"prom", "secret ", WEB_AUTH_DENIED},
	    {"prom", "", WEB_AUTH_DENIED},
	    {"alice", "pa:ss wörd", WEB_AUTH_OK},
	    {"alice", "secret", WEB_AUTH_DENIED},
	    {"Prom", "secret", WEB_AUTH_DENIED},
	    {"mallory", "secret", WEB_AUTH_DENIED},
	    {"", "secret", WEB_AUTH_DENIED},
	    {NULL, NULL, WEB_AUTH_DENIED},
	    {"prom", NULL, WEB_AUTH_DENIED},
	};
	struct web_user users[] = {{"prom", HASH_PROM}, {"alice", HASH_ALICE}};
	struct web_auth *a = web_auth__new(users, 2);

	CHECK(a != NULL, "expected a checker");
	for (size_t i = 0; a && i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum web_auth_result got = web_auth__check(a, cases[i].user, cases[i].pass);

		CHECK(got == cases[i].want, "%zu: %s/%s: expected %d, got %d", i,
		      cases[i].user ? cases[i].user : "(none)",
		      cases[i].pass ? cases[i].pass : "(none)", cases[i].want, got);
	}
	web_auth__free(a);
	CHECK(web_auth__equal("abc", "abc", 3) && !web_auth__equal("abc", "abd", 3) &&
		      web_auth__equal("", "x", 0),
	      "constant-time equality");
}

/* Wrong passwords against a cost-10 hash spend the bcrypt budget; a remembered one still works. */
static void test_auth_budget(void)
{
	struct web_user users[] = {{"slow", HASH_SLOW}};
	struct web_auth *a = web_auth__new(users, 1);
	int tries = 0, busy_at = 0;
	double t0;

	if (!a)
		return;
	CHECK_EQ_INT(web_auth__check(a, "slow", "secret"), WEB_AUTH_OK, "first right password");
	for (tries = 1; tries <= 40 && !busy_at; tries++)
		if (web_auth__check(a, "slow", "wrong") == WEB_AUTH_BUSY)
			busy_at = tries;
	CHECK(busy_at > 0, "expected BUSY within 40 wrong passwords at cost 10, got none");
	t0 = now_s();
	CHECK_EQ_INT(web_auth__check(a, "slow", "secret"), WEB_AUTH_OK,
		     "a remembered password while the budget is spent");
	CHECK(now_s() - t0 < 0.005, "expected the remembered password to cost no bcrypt run, "
				    "took %.1f ms", (now_s() - t0) * 1e3);
	CHECK_EQ_INT(web_auth__check(a, "slow", "other"), WEB_AUTH_BUSY,
		     "an unremembered password while the budget is spent");
	web_auth__free(a);
}

TEST_MAIN("web_config", TL_CASE(test_parse_cases), TL_CASE(test_parse_values),
	  TL_CASE(test_load_files), TL_CASE(test_auth_check), TL_CASE(test_auth_budget))

// SPDX-License-Identifier: GPL-2.0-only
/* --web.config.file: the exporter-toolkit YAML read with libyaml (see web_config.h). */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <yaml.h>

#include "web_config.h"

#define WEB_FILE_MAX (1 << 20) /* a config, certificate or key larger than this is refused */
#define BCRYPT_LEN 60
#define BCRYPT_SETTING_LEN 29 /* "$2b$10$" and the 22-character salt */

/* What a parse needs at hand: the document, where it came from, and where errors go. */
struct cfg_ctx {
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t errlen;
	struct web_config *c;
};

static int cfg_error(struct cfg_ctx *x, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cfg_error(struct cfg_ctx *x, const yaml_node_t *n, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(x->err, x->errlen, "invalid web config %s: line %zu: %s", x->path,
			 n->start_mark.line + 1, what);
	else
		snprintf(x->err, x->errlen, "invalid web config %s: %s", x->path, what);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A plain empty scalar (`key:` with nothing after it) stands for an empty mapping. */
static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);

	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!s[0] || !strcmp(s, "~") || !strcmp(s, "null"));
}

typedef int (*cfg_key_fn)(struct cfg_ctx *x, const yaml_node_t *key, const yaml_node_t *val);

struct cfg_key {
	const char *name;
	cfg_key_fn fn; /* NULL: a key of the exporter-toolkit that tcpstate does not support */
};

/* Call the handler of each key of mapping n (named section in messages); unknown keys fail. */
static int cfg_mapping(struct cfg_ctx *x, const yaml_node_t *n, const char *section,
		       const struct cfg_key *keys, size_t nkeys, const char *expected)
{
	unsigned long long seen = 0;

	if (is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return cfg_error(x, n, "%s must be a mapping of keys to values", section);
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(k);
		size_t i;
		int err;

		for (i = 0; name && i < nkeys && strcmp(keys[i].name, name); i++)
			;
		if (!name || i == nkeys)
			return cfg_error(x, k, "unknown key \"%s\" in %s (expected %s)",
					 name ? name : "?", section, expected);
		if (!keys[i].fn)
			return cfg_error(x, k, "%s.%s is not supported by tcpstate", section,
					 name);
		if (seen & (1ull << i))
			return cfg_error(x, k, "%s.%s is given twice", section, name);
		seen |= 1ull << i;
		err = keys[i].fn(x, k, v);
		if (err)
			return err;
	}
	return 0;
}

/* A string value into *dst (strdup'ed); -EINVAL unless it is a non-empty scalar. */
static int cfg_string(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v, char **dst)
{
	const char *s = scalar(v);

	if (!s || !s[0])
		return cfg_error(x, v, "%s must be a non-empty string", scalar(k));
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* A file name, resolved against the directory of the config file when relative. */
static int cfg_file(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v, char **dst)
{
	const char *slash = strrchr(x->path, '/');
	char *name = NULL;
	int err = cfg_string(x, k, v, &name);

	if (err || name[0] == '/' || !slash)
		return *dst = name, err;
	if (asprintf(dst, "%.*s/%s", (int)(slash - x->path), x->path, name) < 0)
		*dst = NULL;
	free(name);
	return *dst ? 0 : -ENOMEM;
}

static int tls_cert_file(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	return cfg_file(x, k, v, &x->c->cert_file);
}

static int tls_key_file(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	return cfg_file(x, k, v, &x->c->key_file);
}

static int tls_client_auth(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *s = scalar(v);

	(void)k;
	if (s && !strcmp(s, "NoClientCert"))
		return 0;
	return cfg_error(x, v, "tls_server_config.client_auth_type \"%s\" is not supported by "
			       "tcpstate (only NoClientCert; use basic_auth_users)",
			 s ? s : "?");
}

static int tls_version(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v, int *dst)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12", "TLS13" };
	const char *s = scalar(v);

	for (int i = 0; s && i < 4; i++)
		if (!strcmp(s, names[i])) {
			*dst = 0x0301 + i;
			return 0;
		}
	return cfg_error(x, v, "tls_server_config.%s \"%s\": expected TLS10, TLS11, TLS12 or TLS13",
			 scalar(k), s ? s : "?");
}

static int tls_min_version(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	return tls_version(x, k, v, &x->c->min_version);
}

static int tls_max_version(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	return tls_version(x, k, v, &x->c->max_version);
}

/* "NORMAL" without the versions outside [min, max]. */
static int build_priorities(struct web_config *c)
{
	static const char *const vers[] = { "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3" };
	char buf[128] = "NORMAL";
	size_t n = strlen(buf);

	for (int i = 0; i < 4; i++)
		if (0x0301 + i < c->min_version || 0x0301 + i > c->max_version)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ":-VERS-%s", vers[i]);
	c->priorities = strdup(buf);
	return c->priorities ? 0 : -ENOMEM;
}

static int cfg_tls(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	static const struct cfg_key keys[] = {
		{ "cert_file", tls_cert_file },
		{ "key_file", tls_key_file },
		{ "client_auth_type", tls_client_auth },
		{ "min_version", tls_min_version },
		{ "max_version", tls_max_version },
		{ "client_ca_file", NULL },
		{ "cert", NULL },
		{ "key", NULL },
		{ "cipher_suites", NULL },
		{ "curve_preferences", NULL },
		{ "prefer_server_cipher_suites", NULL },
		{ "client_allowed_sans", NULL },
	};
	struct web_config *c = x->c;
	int err;

	c->tls = true;
	err = cfg_mapping(x, v, "tls_server_config", keys, sizeof(keys) / sizeof(keys[0]),
			  "cert_file, key_file, client_auth_type, min_version, max_version");
	if (err)
		return err;
	if (!c->cert_file || !c->key_file)
		return cfg_error(x, k, "tls_server_config needs both cert_file and key_file");
	if (c->min_version > c->max_version)
		return cfg_error(x, k, "tls_server_config.min_version is above max_version");
	return build_priorities(c);
}

static int http_http2(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	const char *s = scalar(v);

	(void)k;
	if (s && (!strcmp(s, "true") || !strcmp(s, "false")))
		return 0;
	return cfg_error(x, v, "http_server_config.http2 must be true or false");
}

static int cfg_http(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	static const struct cfg_key keys[] = { { "http2", http_http2 }, { "headers", NULL } };

	(void)k;
	return cfg_mapping(x, v, "http_server_config", keys, 2, "http2");
}

/* A bcrypt hash that crypt() accepts as a setting; -EINVAL otherwise. */
static int check_bcrypt(const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	int ok;

	if (strlen(hash) != BCRYPT_LEN || hash[0] != '$' || hash[1] != '2' ||
	    (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$')
		return -EINVAL;
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return -ENOMEM;
	out = crypt_rn("", hash, cd, sizeof(*cd));
	ok = out && out[0] != '*' && !strncmp(out, hash, BCRYPT_SETTING_LEN);
	free(cd);
	return ok ? 0 : -EINVAL;
}

static int cfg_users(struct cfg_ctx *x, const yaml_node_t *k, const yaml_node_t *v)
{
	struct web_config *c = x->c;
	size_t n;

	(void)k;
	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return cfg_error(x, v, "basic_auth_users must map user names to bcrypt hashes");
	n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		return -ENOMEM;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *kn = yaml_document_get_node(x->doc, p->key);
		const yaml_node_t *vn = yaml_document_get_node(x->doc, p->value);
		const char *name = scalar(kn), *hash = scalar(vn);
		struct web_user *u = &c->users[c->n_users];

		if (!name || !name[0] || strchr(name, ':'))
			return cfg_error(x, kn, "basic_auth_users: a user name must be a non-empty "
						"string without ':'");
		for (size_t i = 0; i < c->n_users; i++)
			if (!strcmp(c->users[i].name, name))
				return cfg_error(x, kn, "basic_auth_users: user \"%s\" is given "
							"twice", name);
		if (!hash || check_bcrypt(hash))
			return cfg_error(x, vn, "basic_auth_users.%s: expected a bcrypt hash "
						"($2y$..., 60 characters, as htpasswd -nbB makes)",
					 name);
		u->name = strdup(name);
		u->hash = strdup(hash);
		c->n_users++;
		if (!u->name || !u->hash)
			return -ENOMEM;
	}
	return 0;
}

int web_config__parse(const char *text, size_t len, const char *path, struct web_config **out,
		      char *err, size_t errlen)
{
	static const struct cfg_key keys[] = {
		{ "tls_server_config", cfg_tls },
		{ "http_server_config", cfg_http },
		{ "basic_auth_users", cfg_users },
	};
	struct cfg_ctx x = { .path = path, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int ret = 0;

	x.c = calloc(1, sizeof(*x.c));
	if (!x.c || !yaml_parser_initialize(&parser)) {
		free(x.c);
		snprintf(err, errlen, "cannot read web config %s: out of memory", path);
		return -ENOMEM;
	}
	x.c->min_version = 0x0303;
	x.c->max_version = 0x0304;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "invalid web config %s: line %zu: %s", path,
			 parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not valid YAML");
		yaml_parser_delete(&parser);
		web_config__free(x.c);
		return -EINVAL;
	}
	x.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root)
		ret = cfg_mapping(&x, root, "the file", keys, 3,
				  "tls_server_config, http_server_config, basic_auth_users");
	if (ret == -ENOMEM)
		snprintf(err, errlen, "cannot read web config %s: out of memory", path);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret) {
		web_config__free(x.c);
		return ret;
	}
	*out = x.c;
	return 0;
}

/* The whole of a file of at most WEB_FILE_MAX bytes, NUL-terminated; NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	char *buf = NULL;
	struct stat st;
	ssize_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) {
		e = errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX) {
		e = S_ISDIR(st.st_mode) ? EISDIR : S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf)
		n = read(fd, buf, (size_t)st.st_size);
	e = !buf ? ENOMEM : n < 0 ? errno : 0;
	if (buf && n >= 0) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
out_close:
	close(fd);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	return buf;
}

int web_config__read_files(struct web_config *c, const char *path, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cd, kd;
	size_t clen = 0, klen = 0;
	int r;

	if (!c->tls)
		return 0;
	c->cert_pem = read_file(c->cert_file, &clen);
	if (!c->cert_pem)
		goto out_errno_cert;
	c->key_pem = read_file(c->key_file, &klen);
	if (!c->key_pem) {
		r = errno;
		snprintf(err, errlen, "invalid web config %s: tls_server_config.key_file %s: %s",
			 path, c->key_file, strerror(r));
		return -r;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(err, errlen, "cannot check the TLS files of %s: out of memory", path);
		return -ENOMEM;
	}
	cd = (gnutls_datum_t){ (unsigned char *)c->cert_pem, (unsigned int)clen };
	kd = (gnutls_datum_t){ (unsigned char *)c->key_pem, (unsigned int)klen };
	r = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (r >= 0)
		return 0;
	snprintf(err, errlen,
		 "invalid web config %s: tls_server_config.cert_file %s and key_file %s: %s "
		 "(expected a PEM certificate and its unencrypted PEM key)",
		 path, c->cert_file, c->key_file, gnutls_strerror(r));
	return -EINVAL;

out_errno_cert:
	r = errno;
	snprintf(err, errlen, "invalid web config %s: tls_server_config.cert_file %s: %s", path,
		 c->cert_file, strerror(r));
	return -r;
}

int web_config__load(const char *path, struct web_config **out, char *err, size_t errlen)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	int ret;

	if (!text) {
		ret = -errno;
		snprintf(err, errlen, "cannot read web config %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = web_config__parse(text, len, path, out, err, errlen);
	free(text);
	if (!ret && (ret = web_config__read_files(*out, path, err, errlen))) {
		web_config__free(*out);
		*out = NULL;
	}
	return ret;
}

void web_config__free(struct web_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->priorities);
	free(c);
}

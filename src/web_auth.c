// SPDX-License-Identifier: GPL-2.0-only
/* Basic-auth checks against bcrypt hashes (see web_auth.h). */
#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <linux/types.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "web_auth.h"
#include "web_config.h"

#define AUTH_KEY_LEN 32
#define AUTH_MAC_LEN 32		       /* SHA-256 */
#define AUTH_BURST_NS 250000000ull      /* bcrypt time allowed in one go */
#define AUTH_SHARE_DIV 4	       /* over time, a quarter of the CPU */

struct auth_user {
	char *name, *hash;
	unsigned char mac[AUTH_MAC_LEN]; /* HMAC of the last password accepted */
	bool has_mac;
};

struct web_auth {
	struct auth_user *users;
	size_t n;
	unsigned char key[AUTH_KEY_LEN];
	struct crypt_data *cd;
	__u64 debt_ns, debt_at_ns; /* bcrypt time not yet paid back, and when it was counted */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

int web_auth__equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

struct web_auth *web_auth__new(const struct web_user *users, size_t n)
{
	struct web_auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->users = calloc(n ? n : 1, sizeof(*a->users));
	a->cd = calloc(1, sizeof(*a->cd));
	if (!a->users || !a->cd || getrandom(a->key, sizeof(a->key), 0) != sizeof(a->key))
		goto out_free;
	for (size_t i = 0; i < n; i++, a->n++) {
		a->users[i].name = strdup(users[i].name);
		a->users[i].hash = strdup(users[i].hash);
		if (!a->users[i].name || !a->users[i].hash) {
			a->n++;
			goto out_free;
		}
	}
	return a;

out_free:
	web_auth__free(a);
	return NULL;
}

void web_auth__free(struct web_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	free(a->cd);
	explicit_bzero(a->key, sizeof(a->key));
	free(a);
}

/* Pay back the bcrypt debt at the allowed share; false if a run now would exceed the burst. */
static bool budget_allows(struct web_auth *a, __u64 now)
{
	__u64 paid = (now - a->debt_at_ns) / AUTH_SHARE_DIV;

	a->debt_ns = a->debt_ns > paid ? a->debt_ns - paid : 0;
	a->debt_at_ns = now;
	return a->debt_ns < AUTH_BURST_NS;
}

/* bcrypt of password under hash's setting equals hash; costs the budget the time it took. */
static bool bcrypt_matches(struct web_auth *a, const char *hash, const char *password)
{
	__u64 start = mono_ns();
	const char *out = crypt_rn(password, hash, a->cd, sizeof(*a->cd));
	size_t len = strlen(hash);
	bool ok = out && strlen(out) == len && web_auth__equal(out, hash, len);

	a->debt_ns += mono_ns() - start;
	return ok;
}

enum web_auth_result web_auth__check(struct web_auth *a, const char *user, const char *password)
{
	unsigned char mac[AUTH_MAC_LEN];
	struct auth_user *u = NULL;
	bool known = false, ok;

	if (!user || !password || !a->n)
		return WEB_AUTH_DENIED;
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->users[i].name) == strlen(user) &&
		    web_auth__equal(a->users[i].name, user, strlen(user)) && !known) {
			u = &a->users[i];
			known = true;
		}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, a->key, sizeof(a->key), password,
			     strlen(password), mac) < 0)
		return WEB_AUTH_BUSY;
	if (known && u->has_mac && web_auth__equal(u->mac, mac, sizeof(mac)))
		return WEB_AUTH_OK;
	if (!budget_allows(a, mono_ns()))
		return WEB_AUTH_BUSY;
	/* an unknown user is checked against some hash all the same, and always refused */
	ok = bcrypt_matches(a, known ? u->hash : a->users[0].hash, password) && known;
	if (!ok)
		return WEB_AUTH_DENIED;
	memcpy(u->mac, mac, sizeof(mac));
	u->has_mac = true;
	return WEB_AUTH_OK;
}

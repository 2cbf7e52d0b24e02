/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Basic-auth credentials checked against the bcrypt hashes of the web config's
 * basic_auth_users, with crypt() from libxcrypt. Comparisons run in constant time, and an
 * unknown user costs a bcrypt run like a known one, so timing tells neither.
 *
 * bcrypt is slow by design (tens of milliseconds at cost 10) and the exporter has one thread:
 * a password accepted once is remembered as an HMAC-SHA256 under a random key made at start, so
 * Prometheus's scrapes after the first cost a hash, not a bcrypt run; and bcrypt runs may use at
 * most a quarter of the CPU over time (a burst of 250 ms), beyond which checks are refused as
 * busy (answered 429) instead of stalling event intake.
 */
#ifndef TCPSTATE_WEB_AUTH_H
#define TCPSTATE_WEB_AUTH_H

#include <stddef.h>

struct web_user;
struct web_auth;

enum web_auth_result {
	WEB_AUTH_OK,
	WEB_AUTH_DENIED, /* unknown user or wrong password */
	WEB_AUTH_BUSY,	 /* the bcrypt budget is spent; try again in a second */
};

/* A checker for users[0..n-1] (copied). NULL when out of memory or without a random key. */
struct web_auth *web_auth__new(const struct web_user *users, size_t n);

/* Free the checker. Accepts NULL. */
void web_auth__free(struct web_auth *a);

/* Check user and password (either may be NULL: no credentials given -> DENIED). */
enum web_auth_result web_auth__check(struct web_auth *a, const char *user, const char *password);

/* Constant-time equality of a[0..n-1] and b[0..n-1]. */
int web_auth__equal(const void *a, const void *b, size_t n);

#endif

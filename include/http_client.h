/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small HTTP client on libcurl for reading a running agent's JSON snapshot
 * (`snapshot --from URL`, `top`). One handle per URL is kept so that repeated reads reuse the
 * connection. Requests are bounded: a short connect timeout, a total timeout and a size limit.
 */
#ifndef TCPSTATE_HTTP_CLIENT_H
#define TCPSTATE_HTTP_CLIENT_H

#include <stddef.h>

#define HTTP_CLIENT_MAX_BODY (256u << 20) /* refuse larger answers */

struct http_client;

/*
 * Normalise a --from value into buf: http:// or https:// URLs only; a URL with no path (or
 * "/") gets the snapshot path "/api/v1/snapshot" appended. Returns 0, or -EINVAL with a
 * one-line reason in err.
 */
int http_client__snapshot_url(const char *from, char *buf, size_t len, char *err, size_t errlen);

/* A client for url (copied), with timeout_ms for each whole request. NULL on ENOMEM. */
struct http_client *http_client__new(const char *url, long timeout_ms);
/* Accepts NULL. */
void http_client__free(struct http_client *c);

/*
 * GET the URL. On 200 returns 0 with a NUL-terminated malloc()ed body the caller frees. On
 * failure returns a negative errno (-ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT for connection
 * failures, -EPROTO for a non-200 answer, -EFBIG past HTTP_CLIENT_MAX_BODY) with a one-line
 * reason in err: "cannot read http://...: Couldn't connect to server".
 */
int http_client__get(struct http_client *c, char **body, size_t *len, char *err, size_t errlen);

#endif

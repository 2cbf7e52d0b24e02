// SPDX-License-Identifier: GPL-2.0-only
/* HTTP GET on libcurl, for reading an agent's JSON snapshot (see include/http_client.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http_client.h"

#define SNAPSHOT_PATH "/api/v1/snapshot"
#define CONNECT_TIMEOUT_MS 1000L

struct http_client {
	CURL *curl;
	char *url;
	char *buf;
	size_t len, cap;
	bool too_big;
};

int http_client__snapshot_url(const char *from, char *buf, size_t len, char *err, size_t errlen)
{
	const char *host, *path;
	int n;

	if (strncasecmp(from, "http://", 7) && strncasecmp(from, "https://", 8)) {
		snprintf(err, errlen, "invalid --from value '%s': expected an http:// or https:// URL, "
			 "e.g. http://127.0.0.1:9976", from);
		return -EINVAL;
	}
	host = strstr(from, "://") + 3;
	if (!*host || *host == '/') {
		snprintf(err, errlen, "invalid --from value '%s': the URL has no host", from);
		return -EINVAL;
	}
	path = strchr(host, '/');
	if (!path || !strcmp(path, "/")) /* no path: the agent's snapshot */
		n = snprintf(buf, len, "%.*s%s", (int)(path ? path - from : (long)strlen(from)), from,
			     SNAPSHOT_PATH);
	else
		n = snprintf(buf, len, "%s", from);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "invalid --from value: the URL is too long");
		return -EINVAL;
	}
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_client *c = ctx;
	size_t n = size * nmemb;

	if (c->len + n + 1 > HTTP_CLIENT_MAX_BODY) {
		c->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		char *p;

		while (cap < c->len + n + 1)
			cap *= 2;
		p = realloc(c->buf, cap);
		if (!p)
			return 0;
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

struct http_client *http_client__new(const char *url, long timeout_ms)
{
	static bool curl_ready;
	struct http_client *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return NULL;
		curl_ready = true;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->url = strdup(url);
	c->curl = curl_easy_init();
	if (!c->url || !c->curl) {
		http_client__free(c);
		return NULL;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "tcpstate/" TCPSTATE_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	return c;
}

void http_client__free(struct http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->buf);
	free(c->url);
	free(c);
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int http_client__get(struct http_client *c, char **body, size_t *len, char *err, size_t errlen)
{
	CURLcode rc;
	long status = 0;

	c->len = 0;
	c->too_big = false;
	rc = curl_easy_perform(c->curl);
	if (c->too_big) {
		snprintf(err, errlen, "cannot read %s: the answer is larger than %u MiB", c->url,
			 HTTP_CLIENT_MAX_BODY >> 20);
		return -EFBIG;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot read %s: %s", c->url, curl_easy_strerror(rc));
		return curl_errno(rc);
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(err, errlen, "cannot read %s: the server answered HTTP %ld (is it a tcpstate "
			 "serve of this version?)", c->url, status);
		return -EPROTO;
	}
	*body = malloc(c->len + 1);
	if (!*body) {
		snprintf(err, errlen, "cannot read %s: out of memory", c->url);
		return -ENOMEM;
	}
	if (c->len)
		memcpy(*body, c->buf, c->len);
	(*body)[c->len] = '\0';
	*len = c->len;
	return 0;
}

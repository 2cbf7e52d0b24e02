/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The --web.config.file of the Prometheus exporter-toolkit: TLS and basic auth for the HTTP
 * server. tcpstate reads the subset below; any other key is an error, so that a setting that
 * would not be applied never passes unnoticed:
 *
 *   tls_server_config:
 *     cert_file: server.crt         # PEM; relative paths are taken from the file's directory
 *     key_file: server.key          # PEM, unencrypted
 *     client_auth_type: NoClientCert   # the only value supported
 *     min_version: TLS12            # TLS10, TLS11, TLS12 (default), TLS13
 *     max_version: TLS13            # default TLS13
 *   http_server_config:
 *     http2: true                   # accepted and ignored: HTTP/1.1 is served
 *   basic_auth_users:
 *     prometheus: $2y$10$...        # bcrypt hashes ($2a$, $2b$, $2y$)
 *
 * An empty file means plain HTTP without authentication.
 */
#ifndef TCPSTATE_WEB_CONFIG_H
#define TCPSTATE_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct web_user {
	char *name;
	char *hash; /* bcrypt, checked with crypt() at load */
};

struct web_config {
	bool tls;
	char *cert_file, *key_file; /* paths as resolved */
	char *cert_pem, *key_pem;   /* their contents, once web_config__read_files() ran */
	int min_version, max_version; /* 0x0301 (TLS 1.0) .. 0x0304 (TLS 1.3) */
	char *priorities;	      /* GnuTLS priority string for those versions */
	struct web_user *users;
	size_t n_users;
};

/*
 * Parse and check the YAML text (len bytes) of the file at path (named in messages; relative
 * cert/key paths are resolved against its directory). Bcrypt hashes are checked here; files
 * are not read. Returns 0 with *out set (free with web_config__free()), or -EINVAL (-ENOMEM)
 * with a one-line message in err naming the file, the line and the key.
 */
int web_config__parse(const char *text, size_t len, const char *path, struct web_config **out,
		      char *err, size_t errlen);

/*
 * Read the certificate and key files of a TLS config and check that they load as a pair.
 * Returns 0, or -errno / -EINVAL with a one-line message naming the file and key.
 */
int web_config__read_files(struct web_config *c, const char *path, char *err, size_t errlen);

/* Read the file at path, parse it and read its files: the three steps above. */
int web_config__load(const char *path, struct web_config **out, char *err, size_t errlen);

/* Free the config. Accepts NULL. */
void web_config__free(struct web_config *c);

#endif

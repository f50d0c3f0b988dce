/* basicauth.h — the `basicauth` extension (the Collector contrib's basicauthextension): HTTP Basic
 * authentication. With `htpasswd` (file and/or inline, inline lines winning) it is a server
 * authenticator for receivers; with `client_auth` (username, password, or username_file /
 * password_file re-read when they change) a client authenticator for exporters; never both. The factory is basicauth_extension_factory (registry.c).
 *
 * Exposed for tests: the htpasswd verifier alone, without a service. */
#ifndef LLMOTLP_BASICAUTH_H
#define LLMOTLP_BASICAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct basicauth_htpasswd;

/* Parses htpasswd text: "user:hash" lines, '#' comments and blank lines skipped, a later line for
 * the same user replacing an earlier one. Hashes: bcrypt ($2y$, $2b$, $2a$), SHA-crypt ($5$,
 * $6$), MD5-crypt ($1$) and the other schemes of crypt(3) (libxcrypt), {SHA}, {SSHA}, and
 * anything else as a plain password, as the Collector's go-htpasswd does. `where` names the
 * source in messages. NULL with err (a line without ':', an $apr1$ hash) on failure. */
struct basicauth_htpasswd *basicauth_htpasswd_parse(const char *text, size_t len, const char *where,
                                                    struct error *err);
/* Adds the entries of `text` to h (same rules), replacing those of the same user. 0 or -1. */
int basicauth_htpasswd_add(struct basicauth_htpasswd *h, const char *text, size_t len,
                           const char *where, struct error *err);
/* Whether user/password match an entry. Thread-safe. */
bool basicauth_htpasswd_match(struct basicauth_htpasswd *h, const char *user, const char *password);
size_t basicauth_htpasswd_count(const struct basicauth_htpasswd *h);
void basicauth_htpasswd_free(struct basicauth_htpasswd *h);

/* For tests: looks at client_auth.username_file / password_file now (regardless of the poll
 * interval, 1 s) and reloads what changed. `ext` is the instance the factory created. */
void basicauth_check_files(void *ext);

/* SHA-1 of data (20 bytes into out), for {SHA} and {SSHA} entries. */
void basicauth_sha1(const void *data, size_t len, unsigned char out[20]);

#endif

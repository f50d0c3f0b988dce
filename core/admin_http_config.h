/* admin_http_config.h — the checks that the components serving through core/admin_http
 * (health_check, zpages, the prometheus exporter's scrape endpoint) share for the
 * confighttp.ServerConfig keys the Collector gives them.
 *
 * The one idea: a key of the page server either acts as in the Collector or is refused where it
 * is written, never accepted quietly. `tls` acts (admin_http_start_tls), so its values are checked
 * against what that server honours; `auth` and a non-empty `middlewares` cannot act (the page
 * server hands no request headers to a handler), and a page that looks protected but is not is
 * worse than an error, so they are refused, at their key.
 *
 * Everything here is reentrant and keeps no state; errors are returned in err, never printed. */
#ifndef LLMOTLP_ADMIN_HTTP_CONFIG_H
#define LLMOTLP_ADMIN_HTTP_CONFIG_H

#include "core/config.h"
#include "core/error.h"
#include "core/tls_config.h"

/* Checks `tls` (bound with tls_server_fields) against what admin_http_start_tls serves: the
 * configtls checks, min_version/max_version among 1.0..1.3 and in order, reload_interval only
 * with files; cipher_suites, curve_preferences and client_ca_file_reload are refused (the
 * endpoint must not look stricter than it is). Messages start with "tls.<key>". 0, or -1. */
int admin_http_tls_validate(const struct tls_server_config *t, struct error *err);

/* Refuses `auth` (the raw value node; NULL or null = absent, and accepted) with
 * "auth: not supported ...", `owner` naming what is served ("the health check", "the pages"); the
 * service places the error at the `auth` key. 0 when absent, -1 with err otherwise. */
int admin_http_refuse_auth(const struct cnode *auth, const char *owner, struct error *err);

/* Refuses a non-empty `middlewares` list the same way; absent, null and [] are what is done
 * anyway (no middleware) and pass. A value that is not a list is an error too. */
int admin_http_refuse_middlewares(const struct cnode *middlewares, struct error *err);

#endif

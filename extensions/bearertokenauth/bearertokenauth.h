/* bearertokenauth.h — the `bearertokenauth` extension (the Collector contrib's
 * bearertokenauthextension): a receiver accepts a request whose `header` (Authorization) holds
 * "<scheme> <token>" for one of the configured tokens; an exporter sends "<scheme> <token>" with
 * the first one. Tokens come from `token`, `tokens` or `filename` (one token a line, reloaded when
 * the file changes). The factory is bearertokenauth_extension_factory (registry.c). */
#ifndef LLMOTLP_BEARERTOKENAUTH_H
#define LLMOTLP_BEARERTOKENAUTH_H

#include <stdint.h>

/* How often, at most, the token file's identity (inode, size, mtime, ctime) is looked at; the
 * look happens on the next request that needs the token, so an idle extension costs nothing. */
#define BEARERTOKENAUTH_POLL_NS ((int64_t)1000000000)

/* For tests: looks at the token file now (regardless of the poll interval) and reloads it if it
 * changed. `ext` is the instance the factory created. */
void bearertokenauth_check_file(void *ext);

#endif

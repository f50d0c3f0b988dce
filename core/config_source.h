/* config_source.h — where a config comes from: the Collector's `--config` URIs, resolved into one
 * tree.
 *
 * A source is `file:PATH` or a bare PATH (a file), `env:VAR` or `env:VAR:-default` (the whole
 * YAML in an environment variable), or `yaml:TEXT` (an inline fragment such as
 * `yaml:exporters::otlp::endpoint: h:4317`). Other schemes (http:, https:, ...) are refused with
 * an error naming the scheme. Sources merge in order as the Collector's confmap merges them:
 * maps key by key, everything else (lists included) replaced by the later source; with the
 * `confmap.enableMergeAppendOption` feature gate, lists under `service` are appended instead
 * (items already present, maps and lists compared by value, are not repeated). In every source
 * a key holding `::` is split into nested keys, as confmap's key delimiter does.
 *
 * Nodes name their source in positions: a file by its path, other sources by their URI
 * ("env:LLMOTLP_CFG:3:5: ...", "'yaml:a::b: x':1:4: ..."; columns count in the fragment, and
 * a long one is shortened).
 *
 * Nothing here is thread-safe or needs to be: config is resolved once, at start-up. Errors are
 * returned in err, warnings handed to the caller's callback; nothing is printed. */
#ifndef LLMOTLP_CONFIG_SOURCE_H
#define LLMOTLP_CONFIG_SOURCE_H

#include <stddef.h>

#include "core/config.h"
#include "core/error.h"

/* Called with one warning: "position: message" (an unset variable, an empty env: source). */
typedef void (*config_source_warn_fn)(void *ctx, const char *msg);

/* Loads one source into a tree (keys split on `::`). NULL with err naming the source. A source
 * that is empty (an unset env: variable, an empty file) gives a CNODE_NULL root. */
struct cnode *config_source_load(const char *uri, config_source_warn_fn warn, void *ctx,
                                 struct error *err);

/* Loads and merges `uris` in order, then applies `--set` assignments (config_apply_set). An
 * empty source changes nothing. Unset ${...} variables left in the result are reported to warn
 * at their value's position. NULL with err when a source fails or none is given. The caller owns
 * the tree. */
struct cnode *config_source_resolve(const char *const *uris, size_t n_uris,
                                    const char *const *sets, size_t n_sets,
                                    config_source_warn_fn warn, void *ctx, struct error *err);

/* Splits every map key holding `::` into nested maps (at every `::`, as confmap does), merging
 * into a sibling of the same first part. Sequences are not entered (confmap does not split keys
 * inside lists). -1 with err ("where: key '...' nests deeper than 256 levels ...") when a split
 * would nest maps deeper than the parser allows; the tree may then be partly split (free it). */
int config_source_unflatten(struct cnode *root, struct error *err);

/* Merges src into dst (taking src) as config_merge does, except that sequences under `service`
 * present in both are appended: dst's items, then src's items not already there. */
void config_source_merge_append(struct cnode *dst, struct cnode *src);

#endif

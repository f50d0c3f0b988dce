/* config_source.c — the Collector's config providers (file, env, yaml) and its resolver: one
 * `--config` URI into a tree, several into one merged tree.
 *
 * The one idea: every source becomes the same position-carrying tree as a file does, with the
 * source's URI standing where a file name would, so all later errors and warnings ("env:CFG:3:5:
 * ...") point into the source they came from, whatever that source is. */
#include "core/config_source.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/featuregate.h"

#define YAML_NAME_MAX 64 /* a yaml: source longer than this is named by its start */
#define UNFLATTEN_MAX_DEPTH 256 /* the parser's nesting limit (CONFIG_MAX_DEPTH in config.c) */

/* The scheme of `uri` as the Collector's resolver sees one: a letter then letters, digits, '+',
 * '.' or '-' (two characters at least, so "C:\..." stays a path), then ':'. 0 when none. */
static size_t scheme_len(const char *uri)
{
    if (!isalpha((unsigned char)uri[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)uri[i]) || uri[i] == '+' || uri[i] == '.' || uri[i] == '-')
        i++;
    return i >= 2 && uri[i] == ':' ? i : 0;
}

static void warnf(config_source_warn_fn warn, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warnf(config_source_warn_fn warn, void *ctx, const char *fmt, ...)
{
    if (!warn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    warn(ctx, msg);
}

static struct cnode *load_env(const char *uri, config_source_warn_fn warn, void *ctx,
                              struct error *err)
{
    const char *name = uri + 4;
    const char *dash = strstr(name, ":-");
    size_t nlen = dash ? (size_t)(dash - name) : strlen(name);
    if (!config_env_name_ok(name, nlen)) {
        error_set(err, "--config %s: environment variable '%.*s' has an invalid name: names must "
                  "match ^[a-zA-Z_][a-zA-Z0-9_]*$", uri, (int)nlen, name);
        return NULL;
    }
    char var[256];
    if (nlen >= sizeof var) {
        error_set(err, "--config %s: environment variable name too long", uri);
        return NULL;
    }
    memcpy(var, name, nlen);
    var[nlen] = '\0';
    const char *val = getenv(var);
    if (!val && dash) {
        val = dash + 2;
    } else if (!val) {
        warnf(warn, ctx, "%s: environment variable '%s' is not set and has no default; the "
              "source is empty", uri, var);
        val = "";
    }
    return config_parse_string(val, uri, err);
}

static struct cnode *load_yaml(const char *uri, struct error *err)
{
    char name[YAML_NAME_MAX + 8];
    size_t n = strlen(uri);
    /* The name stands before ":line:col" in messages: quoted, so that the fragment's own colons
     * do not read as the position; a long fragment is named by its start. */
    if (n > YAML_NAME_MAX)
        snprintf(name, sizeof name, "'%.*s...'", YAML_NAME_MAX, uri);
    else
        snprintf(name, sizeof name, "'%s'", uri);
    for (char *p = name; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return config_parse_string(uri + 5, name, err);
}

struct cnode *config_source_load(const char *uri, config_source_warn_fn warn, void *ctx,
                                 struct error *err)
{
    error_clear(err);
    if (!uri || !*uri) {
        error_set(err, "--config: empty config source");
        return NULL;
    }
    size_t sl = scheme_len(uri);
    struct cnode *root;
    if (sl == 0) {
        root = config_load_file(uri, err);
    } else if (sl == 4 && strncmp(uri, "file", 4) == 0) {
        root = config_load_file(uri + 5, err);
    } else if (sl == 3 && strncmp(uri, "env", 3) == 0) {
        root = load_env(uri, warn, ctx, err);
    } else if (sl == 4 && strncmp(uri, "yaml", 4) == 0) {
        root = load_yaml(uri, err);
    } else {
        error_set(err, "--config '%s': config source scheme '%.*s' is not supported; use file:, "
                  "env: or yaml:", uri, (int)sl, uri);
        return NULL;
    }
    if (root && config_source_unflatten(root, err) != 0) {
        cnode_free(root);
        return NULL;
    }
    return root;
}

/* ---- `::` keys --------------------------------------------------------------------------- */

static void remove_entry(struct cnode *map, size_t i)
{
    memmove(map->keys + i, map->keys + i + 1, (map->n - i - 1) * sizeof *map->keys);
    memmove(map->items + i, map->items + i + 1, (map->n - i - 1) * sizeof *map->items);
    map->n--;
}

static void insert_entry(struct cnode *map, size_t i, struct cnode *key, struct cnode *item)
{
    cnode_append(map, key, item); /* grows the arrays */
    memmove(map->keys + i + 1, map->keys + i, (map->n - 1 - i) * sizeof *map->keys);
    memmove(map->items + i + 1, map->items + i, (map->n - 1 - i) * sizeof *map->items);
    map->keys[i] = key;
    map->items[i] = item;
}

/* How many parts `key` splits into at "::", found left to right and not overlapping, as Go's
 * strings.Split finds them ("a:::b" is "a" and ":b"). */
static size_t key_parts(const char *key)
{
    size_t n = 1;
    for (const char *p = key ? strstr(key, "::") : NULL; p; p = strstr(p + 2, "::"))
        n++;
    return n;
}

/* `map` sits `depth` levels down in the split tree (the root is 1). Each of its values lands
 * one level down per part of its key, which is where its own keys are split. */
static int unflatten_at(struct cnode *map, int depth, struct error *err)
{
    if (!map || map->kind != CNODE_MAP)
        return 0;
    for (size_t i = 0; i < map->n; i++) {
        size_t parts = key_parts(map->keys[i]->value);
        /* The parser refuses nesting deeper than this; splitting a key must not get around
         * that, or a long key would make every later walk of the tree recurse without bound. */
        if (parts > 1 && (size_t)depth + parts > UNFLATTEN_MAX_DEPTH + 1) {
            char pos[512];
            return error_set(err, "%s: key '%.40s%s' nests deeper than %d levels once split at "
                             "'::'", cnode_where(map->keys[i], pos, sizeof pos),
                             map->keys[i]->value, strlen(map->keys[i]->value) > 40 ? "..." : "",
                             UNFLATTEN_MAX_DEPTH);
        }
        if (unflatten_at(map->items[i], depth + (int)parts, err) != 0)
            return -1;
    }
    for (size_t i = 0; i < map->n;) {
        struct cnode *key = map->keys[i];
        size_t parts = key_parts(key->value);
        if (parts == 1) {
            i++;
            continue;
        }
        /* "a::b::c: v" becomes "a: {b: {c: v}}"; the parts keep their columns in the key,
         * built from the last part outwards. */
        struct cnode *value = map->items[i];
        remove_entry(map, i);
        char *text = key->value;
        size_t cuts[UNFLATTEN_MAX_DEPTH], nc = 0; /* offsets of the separators, left to right */
        for (const char *p = strstr(text, "::"); p; p = strstr(p + 2, "::"))
            cuts[nc++] = (size_t)(p - text);
        size_t last = strlen(text);
        while (nc > 0) {
            size_t start = cuts[--nc] + 2;
            text[last] = '\0';
            struct cnode *m = cnode_new_at(CNODE_MAP, key, 0, NULL);
            cnode_append(m, cnode_new_at(CNODE_SCALAR, key, (int)start, text + start), value);
            value = m;
            last = start - 2;
        }
        text[last] = '\0';
        struct cnode *same = cnode_get(map, text);
        if (same) {
            config_merge(same, value);
            cnode_free(key);
        } else {
            insert_entry(map, i, key, value);
            i++;
        }
    }
    return 0;
}

int config_source_unflatten(struct cnode *root, struct error *err)
{
    return unflatten_at(root, 1, err);
}

/* ---- merge ----------------------------------------------------------------------------------- */

/* Whether two list items are the same value, as Go's reflect.DeepEqual sees the decoded YAML:
 * scalars by text, lists item by item, maps key by key in any order. A list of maps (such as
 * service.telemetry.metrics.readers) needs this as much as a list of IDs. */
static bool same_value(const struct cnode *a, const struct cnode *b)
{
    if (a->kind != b->kind || a->n != b->n)
        return false;
    if (a->kind == CNODE_SCALAR)
        return strcmp(a->value, b->value) == 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct cnode *other = a->kind == CNODE_MAP ? cnode_get(b, a->keys[i]->value)
                                                         : b->items[i];
        if (!other || !same_value(a->items[i], other))
            return false;
    }
    return true;
}

/* Makes every sequence of src that has a sequence at the same place in dst hold dst's items and
 * then its own new ones; dst's items move (dst is replaced by src in the merge that follows). */
static void append_lists(struct cnode *dst, struct cnode *src)
{
    if (dst->kind == CNODE_MAP && src->kind == CNODE_MAP) {
        for (size_t i = 0; i < src->n; i++) {
            struct cnode *d = cnode_get(dst, src->keys[i]->value);
            if (d)
                append_lists(d, src->items[i]);
        }
        return;
    }
    if (dst->kind != CNODE_SEQ || src->kind != CNODE_SEQ)
        return;
    struct cnode *all = cnode_new_at(CNODE_SEQ, src, 0, NULL);
    for (size_t i = 0; i < dst->n; i++)
        cnode_append(all, NULL, dst->items[i]);
    dst->n = 0;
    for (size_t i = 0; i < src->n; i++) {
        bool dup = false;
        for (size_t j = 0; j < all->n && !dup; j++)
            dup = same_value(all->items[j], src->items[i]);
        if (dup)
            cnode_free(src->items[i]);
        else
            cnode_append(all, NULL, src->items[i]);
    }
    free(src->items);
    src->items = all->items;
    src->n = all->n;
    all->items = NULL;
    all->n = 0;
    cnode_free(all);
}

void config_source_merge_append(struct cnode *dst, struct cnode *src)
{
    if (dst && src) {
        struct cnode *ds = cnode_get(dst, "service"), *ss = cnode_get(src, "service");
        if (ds && ss)
            append_lists(ds, ss);
    }
    config_merge(dst, src);
}

/* ---- resolve --------------------------------------------------------------------------------- */

static void report_unset(const struct cnode *n, config_source_warn_fn warn, void *ctx)
{
    if (n->unset_env) {
        char pos[512];
        warnf(warn, ctx, "%s: environment variable%s %s %s not set and %s no default; using an "
              "empty value", cnode_where(n, pos, sizeof pos), strchr(n->unset_env, ',') ? "s" : "",
              n->unset_env, strchr(n->unset_env, ',') ? "are" : "is",
              strchr(n->unset_env, ',') ? "have" : "has");
    }
    for (size_t i = 0; i < n->n; i++)
        report_unset(n->items[i], warn, ctx);
}

struct cnode *config_source_resolve(const char *const *uris, size_t n_uris,
                                    const char *const *sets, size_t n_sets,
                                    config_source_warn_fn warn, void *ctx, struct error *err)
{
    if (n_uris == 0) {
        error_set(err, "at least one config flag must be provided (--config URI)");
        return NULL;
    }
    bool append = featuregate_enabled(FEATUREGATE_MERGE_APPEND);
    struct cnode *root = NULL;
    for (size_t i = 0; i < n_uris; i++) {
        struct cnode *t = config_source_load(uris[i], warn, ctx, err);
        if (!t) {
            cnode_free(root);
            return NULL;
        }
        if (!root) {
            root = t;
        } else if (t->kind == CNODE_NULL) {
            cnode_free(t); /* an empty source: the Collector merges nothing */
        } else if (root->kind == CNODE_NULL) {
            cnode_free(root);
            root = t;
        } else if (append) {
            config_source_merge_append(root, t);
        } else {
            config_merge(root, t);
        }
    }
    for (size_t i = 0; i < n_sets; i++) {
        if (config_apply_set(root, sets[i], err) != 0) {
            error_prefix(err, "in --set '%s': ", sets[i]);
            cnode_free(root);
            return NULL;
        }
    }
    report_unset(root, warn, ctx);
    return root;
}

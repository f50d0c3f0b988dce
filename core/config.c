/* config.c — the Collector's YAML config: libyaml events into a position-carrying tree, env
 * expansion as confmap does it, merge and --set overrides, and the one table-driven binder.
 *
 * The one idea: every node remembers file:line:col from the moment it is parsed (keys included),
 * and nothing after that ever loses it, so every later error — a wrong type three sections deep,
 * an unknown key, a missing required field — can point at the exact place in the file. The file
 * name is a small reference-counted string shared by all nodes that came from that file, so nodes
 * can move between trees (merge, --set) and still name their origin.
 *
 * Warnings ride the same positions: a field marked no_effect is reported at its key when the
 * key is present (config_bind_warn), so an accepted setting that changes nothing is never silent.
 *
 * Hostile input is bounded: nesting deeper than CONFIG_MAX_DEPTH, documents (alias and merge-key
 * expansion included) of more than CONFIG_MAX_NODES nodes and maps of more than CONFIG_MAX_KEYS
 * keys are refused with an error, and the tree is built from events with an explicit stack, so
 * the input never drives recursion deeper than the depth cap.
 *
 * Allocation failure aborts (as Redis's zmalloc does): config is read once at start-up, and a
 * process that cannot allocate a few kilobytes then cannot run anyway. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "core/log.h"

#define CONFIG_MAX_DEPTH 256
#define CONFIG_MAX_NODES 100000
#define CONFIG_MAX_KEYS 10000 /* per map: keeps the quadratic duplicate check cheap */
#define CONFIG_MAX_FILE (16u << 20)
#define LOG_NAME "config"

/* ---- allocation ----------------------------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* Growable string for env expansion and messages. */
struct sbuf {
    char *p;
    size_t n, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sbuf_addc(struct sbuf *b, char c) { sbuf_add(b, &c, 1); }

/* ---- shared file names ---------------------------------------------------------------------- */

/* node->file points at name[]; every node holds one reference. */
struct cfile {
    size_t refs;
    char name[];
};

static struct cfile *cfile_of(const char *file)
{
    return (struct cfile *)(void *)((char *)(void *)(uintptr_t)file - offsetof(struct cfile, name));
}

static const char *cfile_new(const char *name)
{
    size_t n = strlen(name);
    struct cfile *f = xrealloc(NULL, sizeof *f + n + 1);
    f->refs = 1;
    memcpy(f->name, name, n + 1);
    return f->name;
}

static const char *cfile_ref(const char *file)
{
    if (file)
        cfile_of(file)->refs++;
    return file;
}

static void cfile_unref(const char *file)
{
    if (!file)
        return;
    struct cfile *f = cfile_of(file);
    if (--f->refs == 0)
        free(f);
}

/* ---- nodes ---------------------------------------------------------------------------------- */

static struct cnode *node_new(enum cnode_kind kind, const char *file, int line, int col)
{
    struct cnode *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->file = cfile_ref(file);
    n->line = line;
    n->col = col;
    return n;
}

/* Appends (key, item) to a map, or item to a sequence (key NULL). Capacity doubles at powers of
 * two so n alone tells whether the arrays are full. */
static void node_append(struct cnode *n, struct cnode *key, struct cnode *item)
{
    if (n->n == 0 || (n->n >= 4 && (n->n & (n->n - 1)) == 0)) {
        size_t cap = n->n == 0 ? 4 : n->n * 2;
        n->items = xrealloc(n->items, cap * sizeof *n->items);
        if (n->kind == CNODE_MAP)
            n->keys = xrealloc(n->keys, cap * sizeof *n->keys);
    }
    if (n->kind == CNODE_MAP)
        n->keys[n->n] = key;
    n->items[n->n++] = item;
}

/* Frees what the node owns but not the node itself, leaving an empty null node. */
static void node_clear(struct cnode *n)
{
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            cnode_free(n->keys[i]);
        cnode_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->value);
    free(n->unset_env);
    cfile_unref(n->file);
    memset(n, 0, sizeof *n);
    n->kind = CNODE_NULL;
}

void cnode_free(struct cnode *n)
{
    if (!n)
        return;
    node_clear(n);
    free(n);
}

struct cnode *cnode_new_at(enum cnode_kind kind, const struct cnode *at, int col_offset,
                           const char *value)
{
    struct cnode *n = node_new(kind, at ? at->file : NULL, at ? at->line : 0,
                               (at ? at->col : 0) + col_offset);
    if (value)
        n->value = xstrdup(value);
    return n;
}

void cnode_append(struct cnode *n, struct cnode *key, struct cnode *item)
{
    node_append(n, n->kind == CNODE_MAP ? key : NULL, item);
}

struct cnode *cnode_get(const struct cnode *map, const char *key)
{
    if (!map || map->kind != CNODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->value && strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

const struct cnode *cnode_key(const struct cnode *map, const char *key)
{
    if (!map || map->kind != CNODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->value && strcmp(map->keys[i]->value, key) == 0)
            return map->keys[i];
    return NULL;
}

const struct cnode *cnode_find_key(const struct cnode *map, const char *dotted)
{
    const struct cnode *key = NULL;
    const char *p = dotted;
    while (map && p && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        key = NULL;
        if (map->kind != CNODE_MAP)
            return NULL;
        for (size_t i = 0; i < map->n && !key; i++)
            if (map->keys[i]->value && strlen(map->keys[i]->value) == n &&
                memcmp(map->keys[i]->value, p, n) == 0) {
                key = map->keys[i];
                map = map->items[i];
            }
        if (!key)
            return NULL;
        p = dot ? dot + 1 : NULL;
    }
    return key;
}

const char *cnode_where(const struct cnode *n, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    if (!n)
        snprintf(buf, len, "<unknown>");
    else
        snprintf(buf, len, "%s:%d:%d", n->file ? n->file : "<unknown>", n->line, n->col);
    return buf;
}

static void node_set_pos(struct cnode *n, const char *file, int line, int col)
{
    if (n->file != file) {
        cfile_unref(n->file);
        n->file = cfile_ref(file);
    }
    n->line = line;
    n->col = col;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            node_set_pos(n->keys[i], file, line, col);
        node_set_pos(n->items[i], file, line, col);
    }
}

static int node_depth(const struct cnode *n)
{
    int d = 0;
    for (size_t i = 0; i < n->n; i++) {
        int c = node_depth(n->items[i]);
        if (c > d)
            d = c;
    }
    return (n->kind == CNODE_MAP || n->kind == CNODE_SEQ) ? d + 1 : d;
}

static size_t node_count(const struct cnode *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->n; i++)
        c += (n->keys ? 1 : 0) + node_count(n->items[i]);
    return c;
}

/* ---- env expansion ---------------------------------------------------------------------------- */

bool config_env_name_ok(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* Expands ${env:VAR}, ${VAR}, ${env:VAR:-default} and $$ in `s`. Returns a malloc'd string, or
 * NULL with err. *whole tells whether `s` was exactly one reference (then the Collector parses
 * the result as YAML). Only an unset variable takes the default, as the env provider does.
 * Names of unset variables without a default are appended to *unset ("A, B"). */
static char *env_expand(const char *s, const struct cnode *at, bool *whole, char **unset,
                        struct error *err)
{
    struct sbuf out = {0};
    size_t len = strlen(s);
    *whole = false;
    sbuf_add(&out, "", 0);
    for (size_t i = 0; i < len;) {
        if (s[i] != '$') {
            const char *next = memchr(s + i, '$', len - i);
            size_t run = next ? (size_t)(next - (s + i)) : len - i;
            sbuf_add(&out, s + i, run);
            i += run;
            continue;
        }
        if (s[i + 1] == '$') {
            sbuf_addc(&out, '$');
            i += 2;
            continue;
        }
        if (s[i + 1] != '{') {
            sbuf_addc(&out, '$');
            i++;
            continue;
        }
        const char *ref = s + i + 2;
        const char *close = strchr(ref, '}');
        if (!close) {
            free(out.p);
            error_set(err, "%s:%d:%d: unterminated '${' in value '%s' (write '$$' for a literal '$')",
                      at->file, at->line, at->col, s);
            return NULL;
        }
        size_t rlen = (size_t)(close - ref);
        const char *name = ref;
        size_t nlen = rlen;
        if (rlen >= 4 && strncmp(ref, "env:", 4) == 0) {
            name += 4;
            nlen -= 4;
        } else {
            const char *colon = memchr(ref, ':', rlen);
            if (colon && !(colon + 1 < close && colon[1] == '-')) {
                free(out.p);
                error_set(err, "%s:%d:%d: unsupported config provider '%.*s' in '${%.*s}' "
                          "(only env is supported)", at->file, at->line, at->col,
                          (int)(colon - ref), ref, (int)rlen, ref);
                return NULL;
            }
        }
        const char *def = NULL;
        size_t dlen = 0;
        for (size_t k = 0; k + 1 < nlen; k++) {
            if (name[k] == ':' && name[k + 1] == '-') {
                def = name + k + 2;
                dlen = nlen - k - 2;
                nlen = k;
                break;
            }
        }
        if (!config_env_name_ok(name, nlen)) {
            free(out.p);
            error_set(err, "%s:%d:%d: invalid environment variable name '%.*s' in '${%.*s}': names "
                      "must match ^[a-zA-Z_][a-zA-Z0-9_]*$", at->file, at->line, at->col,
                      (int)nlen, name, (int)rlen, ref);
            return NULL;
        }
        char *vname = xstrndup(name, nlen);
        const char *val = getenv(vname);
        if (val) {
            sbuf_add(&out, val, strlen(val));
        } else if (def) {
            sbuf_add(&out, def, dlen);
        } else if (unset) {
            /* Reported by whoever keeps the node (the service warns at load), so a value that a
             * later --config overrides is not reported, as the Collector expands after merging. */
            if (!*unset) {
                *unset = vname;
                vname = NULL;
            } else {
                char *both = xrealloc(*unset, strlen(*unset) + 2 + nlen + 1);
                strcat(strcat(both, ", "), vname);
                *unset = both;
            }
        }
        free(vname);
        if (i == 0 && (size_t)(close - s) == len - 1)
            *whole = true;
        i = (size_t)(close - s) + 1;
    }
    return out.p;
}

/* ---- YAML events → tree --------------------------------------------------------------------- */

struct anchor {
    char *name;
    struct cnode *node;
};

struct frame {
    struct cnode *node;
    struct cnode *key;  /* map key waiting for its value; owned here until then */
    char *anchor;       /* registered when the collection ends, so it cannot refer to itself */
};

struct builder {
    const char *file;   /* one reference held by the builder */
    bool expand;
    int base_depth;     /* depth of the place a nested parse lands (whole ${...} expansion) */
    int col_shift;      /* added to first-line columns (--set values) */
    size_t len;         /* input length, to place end-of-input errors of one-line --set values */
    size_t nodes;
    struct anchor *anchors;
    size_t n_anchors;
    struct frame stack[CONFIG_MAX_DEPTH];
    int depth;
    struct cnode *root;
    struct cnode *graveyard; /* map of `<<` entries already merged; anchors may point into it */
    int docs;
    struct error *err;
};

static struct cnode *build(const char *text, size_t len, const char *file, bool expand, int base_depth,
                           int col_shift, struct error *err);

static int mark_col(const struct builder *b, const yaml_mark_t *m)
{
    return (int)m->column + 1 + (m->line == 0 ? b->col_shift : 0);
}

static struct cnode *bnode(struct builder *b, enum cnode_kind kind, const yaml_mark_t *m)
{
    return node_new(kind, b->file, (int)m->line + 1, mark_col(b, m));
}

static int count_nodes(struct builder *b, size_t k, const struct cnode *at)
{
    b->nodes += k;
    if (b->nodes > CONFIG_MAX_NODES)
        return error_set(b->err, "%s:%d:%d: document has more than %d nodes (alias expansion?)",
                         at->file, at->line, at->col, CONFIG_MAX_NODES);
    return 0;
}

static bool top_wants_key(const struct builder *b)
{
    if (b->depth == 0)
        return false;
    const struct frame *f = &b->stack[b->depth - 1];
    return f->node->kind == CNODE_MAP && !f->key;
}

/* Hands a finished node to its parent (or makes it the root). Takes ownership of n. */
static int attach(struct builder *b, struct cnode *n)
{
    if (b->depth == 0) {
        cnode_free(b->root);
        b->root = n;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == CNODE_SEQ) {
        node_append(f->node, NULL, n);
        return 0;
    }
    if (f->key) {
        node_append(f->node, f->key, n);
        f->key = NULL;
        return 0;
    }
    if (n->kind == CNODE_MAP || n->kind == CNODE_SEQ) {
        error_set(b->err, "%s:%d:%d: a map key must be a scalar, not a %s", n->file, n->line, n->col,
                  n->kind == CNODE_MAP ? "map" : "sequence");
        cnode_free(n);
        return -1;
    }
    if (n->kind == CNODE_NULL) {
        n->kind = CNODE_SCALAR;
        n->value = xstrdup("");
    }
    if (f->node->n >= CONFIG_MAX_KEYS) {
        error_set(b->err, "%s:%d:%d: map has more than %d keys", n->file, n->line, n->col,
                  CONFIG_MAX_KEYS);
        cnode_free(n);
        return -1;
    }
    for (size_t i = 0; i < f->node->n; i++) {
        const struct cnode *k = f->node->keys[i];
        if (strcmp(k->value, n->value) == 0) {
            error_set(b->err, "%s:%d:%d: duplicate key '%s' (first defined at line %d, column %d)",
                      n->file, n->line, n->col, n->value, k->line, k->col);
            cnode_free(n);
            return -1;
        }
    }
    f->key = n;
    return 0;
}

static void add_anchor(struct builder *b, char *name, struct cnode *node)
{
    if ((b->n_anchors & (b->n_anchors - 1)) == 0)
        b->anchors = xrealloc(b->anchors, (b->n_anchors ? b->n_anchors * 2 : 1) * sizeof *b->anchors);
    b->anchors[b->n_anchors].name = name;
    b->anchors[b->n_anchors].node = node;
    b->n_anchors++;
}

static bool is_null_text(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool is_key = top_wants_key(b);
    bool quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                  (tag && strcmp(tag, YAML_STR_TAG) == 0);
    bool null = !is_key && ((!quoted && is_null_text(text) && (!tag || strcmp(tag, "!") != 0)) ||
                            (tag && strcmp(tag, YAML_NULL_TAG) == 0));
    struct cnode *n = bnode(b, null ? CNODE_NULL : CNODE_SCALAR, &ev->start_mark);
    if (!null) {
        n->value = xstrndup(text, ev->data.scalar.length);
        n->quoted = quoted;
    }
    if (count_nodes(b, 1, n)) {
        cnode_free(n);
        return -1;
    }
    if (!null && !is_key && b->expand && strchr(n->value, '$')) {
        bool whole;
        char *v = env_expand(n->value, n, &whole, &n->unset_env, b->err);
        if (!v) {
            cnode_free(n);
            return -1;
        }
        free(n->value);
        n->value = v;
        const char *p = v;
        while (*p == ' ' || *p == '\t')
            p++;
        if (whole && (*p == '[' || *p == '{')) {
            /* The Collector YAML-parses a value that is one whole reference; only collections
             * change shape here, scalars stay text for the binder to convert. A value that does
             * not parse stays the string it was. */
            struct error sub_err;
            struct cnode *sub = build(v, strlen(v), b->file, false, b->base_depth + b->depth, 0,
                                      &sub_err);
            if (sub && (sub->kind == CNODE_MAP || sub->kind == CNODE_SEQ)) {
                if (count_nodes(b, node_count(sub), n)) {
                    cnode_free(sub);
                    cnode_free(n);
                    return -1;
                }
                node_set_pos(sub, n->file, n->line, n->col);
                cnode_free(n);
                n = sub;
            } else {
                cnode_free(sub);
            }
        }
    }
    if (ev->data.scalar.anchor)
        add_anchor(b, xstrdup((const char *)ev->data.scalar.anchor), n);
    return attach(b, n);
}

static int check_depth(struct builder *b, int extra, const struct cnode *at)
{
    if (b->base_depth + b->depth + extra > CONFIG_MAX_DEPTH)
        return error_set(b->err, "%s:%d:%d: nesting deeper than %d levels", at->file, at->line,
                         at->col, CONFIG_MAX_DEPTH);
    return 0;
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum cnode_kind kind)
{
    struct cnode *n = bnode(b, kind, &ev->start_mark);
    if (check_depth(b, 1, n) || count_nodes(b, 1, n)) {
        cnode_free(n);
        return -1;
    }
    const yaml_char_t *anchor = kind == CNODE_MAP ? ev->data.mapping_start.anchor
                                                  : ev->data.sequence_start.anchor;
    if (attach(b, n))
        return -1;
    struct frame *f = &b->stack[b->depth++];
    f->node = n;
    f->key = NULL;
    f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
    return 0;
}

static struct cnode *node_copy(const struct cnode *src);
static int count_nodes(struct builder *b, size_t k, const struct cnode *at);

/* Copies the entries of one `<<` source map into `map` where the key is not already there. */
static int merge_key_source(struct builder *b, struct cnode *map, const struct cnode *src)
{
    for (size_t i = 0; i < src->n; i++) {
        if (cnode_get(map, src->keys[i]->value))
            continue;
        if (count_nodes(b, 1 + node_count(src->items[i]), src->items[i]))
            return -1;
        node_append(map, node_copy(src->keys[i]), node_copy(src->items[i]));
    }
    return 0;
}

/* YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`), as Go's yaml.v3 reads them for the
 * Collector: keys written in the map win, then earlier sources over later ones. The `<<` value
 * is copied from, not moved, and kept alive until the parse ends, because anchors may point
 * into it. */
static int resolve_merge_keys(struct builder *b, struct cnode *map)
{
    for (size_t i = 0; i < map->n;) {
        struct cnode *k = map->keys[i];
        if (k->quoted || strcmp(k->value, "<<") != 0) {
            i++;
            continue;
        }
        struct cnode *v = map->items[i];
        bool ok = v->kind == CNODE_MAP || v->kind == CNODE_SEQ;
        for (size_t j = 0; ok && v->kind == CNODE_SEQ && j < v->n; j++)
            ok = v->items[j]->kind == CNODE_MAP;
        if (!ok)
            return error_set(b->err, "%s:%d:%d: merge key '<<' needs a map or a list of maps",
                             v->file, v->line, v->col);
        /* Removing an entry keeps the arrays at least as large as node_append expects. */
        memmove(map->keys + i, map->keys + i + 1, (map->n - i - 1) * sizeof *map->keys);
        memmove(map->items + i, map->items + i + 1, (map->n - i - 1) * sizeof *map->items);
        map->n--;
        node_append(b->graveyard, k, v);
        if (v->kind == CNODE_MAP) {
            if (merge_key_source(b, map, v))
                return -1;
        } else {
            for (size_t j = 0; j < v->n; j++)
                if (merge_key_source(b, map, v->items[j]))
                    return -1;
        }
    }
    return 0;
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->stack[--b->depth];
    cnode_free(f->key); /* libyaml always pairs keys and values; defensive only */
    f->key = NULL;
    int rc = f->node->kind == CNODE_MAP ? resolve_merge_keys(b, f->node) : 0;
    if (f->anchor)
        add_anchor(b, f->anchor, f->node);
    f->anchor = NULL;
    return rc;
}

static struct cnode *node_copy(const struct cnode *src)
{
    struct cnode *n = node_new(src->kind, src->file, src->line, src->col);
    n->quoted = src->quoted;
    if (src->value)
        n->value = xstrdup(src->value);
    if (src->unset_env)
        n->unset_env = xstrdup(src->unset_env);
    for (size_t i = 0; i < src->n; i++)
        node_append(n, src->keys ? node_copy(src->keys[i]) : NULL, node_copy(src->items[i]));
    return n;
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1, col = mark_col(b, &ev->start_mark);
    for (size_t i = b->n_anchors; i-- > 0;) {
        if (strcmp(b->anchors[i].name, name) != 0)
            continue;
        const struct cnode *src = b->anchors[i].node;
        struct cnode at = {.file = b->file, .line = line, .col = col};
        /* Count and measure before copying, so a "billion laughs" document costs nothing. */
        if (count_nodes(b, node_count(src), &at) || check_depth(b, node_depth(src), &at))
            return -1;
        struct cnode *n = node_copy(src);
        n->line = line;
        n->col = col;
        return attach(b, n);
    }
    return error_set(b->err, "%s:%d:%d: alias '*%s' refers to an unknown anchor", b->file, line, col,
                     name);
}

/* libyaml places errors at end of input on the line after it; a --set value is one line, so
 * such errors are reported at its end, where the user's text stops. */
static void error_pos(const struct builder *b, const yaml_mark_t *m, int *line, int *col)
{
    *line = (int)m->line + 1;
    *col = mark_col(b, m);
    if (b->col_shift > 0 && m->line > 0) {
        *line = 1;
        *col = b->col_shift + (int)b->len + 1;
    }
}

static void syntax_error(struct builder *b, const yaml_parser_t *p)
{
    int pl, pc, cl, cc;
    error_pos(b, &p->problem_mark, &pl, &pc);
    error_pos(b, &p->context_mark, &cl, &cc);
    if (p->error == YAML_MEMORY_ERROR) {
        error_set(b->err, "%s: out of memory while parsing YAML", b->file);
    } else if (p->error == YAML_READER_ERROR) {
        error_set(b->err, "%s: YAML syntax error: %s at byte offset %zu", b->file,
                  p->problem ? p->problem : "unreadable input", p->problem_offset);
    } else if (p->context) {
        error_set(b->err, "%s:%d:%d: YAML syntax error: %s (%s at line %d, column %d)", b->file, pl,
                  pc, p->problem ? p->problem : "invalid YAML", p->context, cl, cc);
    } else {
        error_set(b->err, "%s:%d:%d: YAML syntax error: %s", b->file, pl, pc,
                  p->problem ? p->problem : "invalid YAML");
    }
}

static void builder_release(struct builder *b)
{
    for (int i = 0; i < b->depth; i++) {
        cnode_free(b->stack[i].key);
        free(b->stack[i].anchor);
    }
    for (size_t i = 0; i < b->n_anchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    cnode_free(b->graveyard);
    cfile_unref(b->file);
}

/* Parses one YAML document into a tree. `file` is a shared name (a reference is taken). */
static struct cnode *build(const char *text, size_t len, const char *file, bool expand, int base_depth,
                           int col_shift, struct error *err)
{
    struct builder *b = xcalloc(1, sizeof *b);
    b->file = cfile_ref(file);
    b->expand = expand;
    b->base_depth = base_depth;
    b->col_shift = col_shift;
    b->len = len;
    b->err = err;
    b->graveyard = node_new(CNODE_MAP, file, 0, 0);
    error_clear(err);

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            syntax_error(b, &parser);
            rc = -1;
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++b->docs > 1)
                rc = error_set(err, "%s:%d:%d: only one YAML document per file is supported", file,
                               (int)ev.start_mark.line + 1, mark_col(b, &ev.start_mark));
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(b, &ev, CNODE_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(b, &ev, CNODE_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(b);
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    struct cnode *root = b->root;
    if (rc) {
        cnode_free(root);
        root = NULL;
    } else if (!root) {
        root = node_new(CNODE_NULL, file, 1, 1 + col_shift);
    }
    builder_release(b);
    free(b);
    return root;
}

struct cnode *config_parse_string(const char *yaml, const char *name, struct error *err)
{
    const char *file = cfile_new(name ? name : "<string>");
    struct cnode *root = build(yaml ? yaml : "", yaml ? strlen(yaml) : 0, file, true, 0, 0, err);
    cfile_unref(file);
    return root;
}

struct cnode *config_load_file(const char *path, struct error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        error_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct sbuf buf = {0};
    char chunk[8192];
    size_t got;
    sbuf_add(&buf, "", 0);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf.n + got > CONFIG_MAX_FILE) {
            fclose(f);
            free(buf.p);
            error_set(err, "%s: file larger than %u bytes", path, CONFIG_MAX_FILE);
            return NULL;
        }
        sbuf_add(&buf, chunk, got);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf.p);
        error_set(err, "%s: read error", path);
        return NULL;
    }
    const char *file = cfile_new(path);
    struct cnode *root = build(buf.p, buf.n, file, true, 0, 0, err);
    cfile_unref(file);
    free(buf.p);
    return root;
}

/* ---- merge and --set ------------------------------------------------------------------------ */

void config_merge(struct cnode *dst, struct cnode *src)
{
    if (!src)
        return;
    if (!dst) {
        cnode_free(src);
        return;
    }
    if (dst->kind == CNODE_MAP && src->kind == CNODE_MAP) {
        for (size_t i = 0; i < src->n; i++) {
            struct cnode *k = src->keys[i], *v = src->items[i];
            size_t j;
            for (j = 0; j < dst->n; j++)
                if (strcmp(dst->keys[j]->value, k->value) == 0)
                    break;
            if (j < dst->n) {
                config_merge(dst->items[j], v);
                cnode_free(k);
            } else {
                node_append(dst, k, v);
            }
        }
        free(src->keys);
        free(src->items);
        cfile_unref(src->file);
        free(src);
        return;
    }
    node_clear(dst);
    *dst = *src;
    free(src);
}

int config_apply_set(struct cnode *root, const char *assignment, struct error *err)
{
    error_clear(err);
    if (!root || !assignment)
        return error_set(err, "--set: nothing to set");
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return error_set(err, "--set: expected key=value, got '%s'", assignment);
    if (root->kind != CNODE_MAP && root->kind != CNODE_NULL)
        return error_set(err, "--set: the configuration root is not a map");
    size_t klen = (size_t)(eq - assignment);
    bool colons = false;
    for (size_t i = 0; i + 1 < klen; i++)
        if (assignment[i] == ':' && assignment[i + 1] == ':')
            colons = true;
    size_t seplen = colons ? 2 : 1;

    /* Validate every segment before touching the tree, so a bad assignment changes nothing. */
    int nseg = 0;
    for (size_t start = 0;;) {
        size_t end = start;
        while (end < klen && !(colons ? (end + 1 < klen && assignment[end] == ':' &&
                                         assignment[end + 1] == ':')
                                      : assignment[end] == '.'))
            end++;
        if (end == start)
            return error_set(err, "--set:1:%zu: empty key segment in '%.*s'", start + 1, (int)klen,
                             assignment);
        if (++nseg > CONFIG_MAX_DEPTH)
            return error_set(err, "--set: key nested deeper than %d levels", CONFIG_MAX_DEPTH);
        if (end >= klen)
            break;
        start = end + seplen;
        if (start >= klen)
            return error_set(err, "--set:1:%zu: empty key segment in '%.*s'", start + 1, (int)klen,
                             assignment);
    }

    const char *file = cfile_new("--set");
    const char *vtext = eq + 1;
    struct cnode *value = build(vtext, strlen(vtext), file, true, nseg, (int)(vtext - assignment), err);
    if (!value) {
        cfile_unref(file);
        return -1;
    }
    if (root->kind == CNODE_NULL)
        root->kind = CNODE_MAP; /* an empty config file */
    struct cnode *cur = root;
    for (size_t start = 0;;) {
        size_t end = start;
        while (end < klen && !(colons ? (end + 1 < klen && assignment[end] == ':' &&
                                         assignment[end + 1] == ':')
                                      : assignment[end] == '.'))
            end++;
        int col = (int)start + 1;
        char *seg = xstrndup(assignment + start, end - start);
        struct cnode *child = cnode_get(cur, seg);
        bool last = end >= klen;
        if (last) {
            if (child) {
                config_merge(child, value);
            } else {
                struct cnode *k = node_new(CNODE_SCALAR, file, 1, col);
                k->value = seg;
                seg = NULL;
                node_append(cur, k, value);
            }
            free(seg);
            break;
        }
        if (!child) {
            struct cnode *k = node_new(CNODE_SCALAR, file, 1, col);
            k->value = seg;
            seg = NULL;
            child = node_new(CNODE_MAP, file, 1, col);
            node_append(cur, k, child);
        } else if (child->kind != CNODE_MAP) {
            /* A scalar on the way is replaced by a map, as the Collector's merge replaces it. */
            node_clear(child);
            child->kind = CNODE_MAP;
            child->file = cfile_ref(file);
            child->line = 1;
            child->col = col;
        }
        free(seg);
        cur = child;
        start = end + seplen;
    }
    cfile_unref(file);
    return 0;
}

/* ---- scalar conversions ------------------------------------------------------------------------
 * The Collector reads YAML with go-yaml v3 into untyped values, then mapstructure converts them
 * into typed fields. So a plain scalar is an integer when go-yaml resolves it as one: underscores
 * removed anywhere, then Go's strconv.ParseInt with base 0 (0x, 0o, 0b prefixes and a leading 0
 * for octal, as "0755"), then ParseUint, then a float of the form [-+]?(.d+|d+(.d*)?)([eE]..d+)?,
 * which mapstructure truncates toward zero into an integer field (we take whole ones only, see
 * config_parse_int). Booleans are the six spellings
 * go-yaml knows (true/True/TRUE/false/False/FALSE); "yes", "on" or "tRuE" are strings there and so
 * refused for a boolean here too. A quoted scalar is a string there and refused for a number; we
 * accept it (a user who quotes a number means it), which is the one place we are more lenient. */

/* Removes every '_' (go-yaml does before parsing a number). -1 when the text does not fit. */
static int strip_underscores(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '_')
            continue;
        if (n + 1 >= len)
            return -1;
        out[n++] = *s;
    }
    out[n] = '\0';
    return 0;
}

/* Go's strconv.ParseUint(s, 0, 64) on an unsigned, underscore-free text: a 0x/0o/0b prefix or a
 * leading 0 (octal) picks the base; every digit must be valid in it; overflow fails. */
int config_parse_uint0(const char *s, uint64_t *v)
{
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
        base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    else if (s[0] == '0' && s[1])
        base = 8, s += 1;
    if (!*s)
        return -1;
    uint64_t x = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (d >= base || x > (UINT64_MAX - d) / base)
            return -1;
        x = x * base + d;
    }
    *v = x;
    return 0;
}

bool config_yaml_float_form(const char *p)
{
    if (*p == '+' || *p == '-')
        p++;
    bool digits = false;
    while (isdigit((unsigned char)*p))
        p++, digits = true;
    if (*p == '.') {
        p++;
        bool frac = false;
        while (isdigit((unsigned char)*p))
            p++, frac = true;
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* go-yaml's float form, then strtod; finite values only. */
static int yaml_float(const char *s, double *v)
{
    if (!config_yaml_float_form(s))
        return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || !isfinite(x))
        return -1;
    *v = x;
    return 0;
}

int config_parse_bool(const char *s, bool *v)
{
    if (!s)
        return -1;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        *v = true;
        return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        *v = false;
        return 0;
    }
    return -1;
}

/* go-yaml's integer forms on an underscore-free text: a sign, then Go's base-0 digits. 1 when it
 * is one and fits an int64, 0 when it is not an integer, -1 when it is one out of range. */
static int yaml_int(const char *plain, int64_t *v)
{
    const char *p = plain;
    bool neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    uint64_t u;
    if (*p == '+' || *p == '-' || config_parse_uint0(p, &u) != 0)
        return 0;
    if (!neg && u <= (uint64_t)INT64_MAX)
        *v = (int64_t)u;
    else if (neg && u <= (uint64_t)INT64_MAX + 1)
        *v = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    else
        return -1;
    return 1;
}

/* go-yaml looks for a number only in a text that starts with a sign or a digit ('.' starts a
 * float, read without removing underscores): "_1" is a string there. */
static bool number_hint(const char *s)
{
    return *s == '+' || *s == '-' || isdigit((unsigned char)*s);
}

int config_parse_int(const char *s, int64_t *v)
{
    char plain[128];
    if (!s || !*s)
        return -1;
    if (*s == '.') {
        double d;
        if (yaml_float(s, &d) != 0 || d != trunc(d))
            return -1;
        *v = (int64_t)d;
        return 0;
    }
    if (!number_hint(s) || strip_underscores(s, plain, sizeof plain))
        return -1;
    int r = yaml_int(plain, v);
    if (r)
        return r > 0 ? 0 : -1;
    double d;
    /* A float into an integer field: the Collector truncates (mapstructure's int64(f)), so 1e6 is
     * 1000000 there and here; 1.5 would silently be 1, which no one means, so a number that is
     * not whole is refused instead. */
    if (yaml_float(plain, &d) != 0 || !(d > -9223372036854775808.0 && d < 9223372036854775808.0) ||
        d != trunc(d))
        return -1;
    *v = (int64_t)d;
    return 0;
}

/* A number for a float field: any integer form above, or go-yaml's float form. A text starting
 * with '.' is parsed as it is (go-yaml does not strip underscores there). */
static int parse_double(const char *s, double *v)
{
    char plain[128];
    if (!s || !*s)
        return -1;
    if (*s == '.')
        return yaml_float(s, v);
    if (!number_hint(s) || strip_underscores(s, plain, sizeof plain))
        return -1;
    int64_t i;
    int r = yaml_int(plain, &i);
    if (r > 0) {
        *v = (double)i;
        return 0;
    }
    if (r < 0) {
        /* beyond int64, go-yaml tries ParseUint, then a float; both give a finite double */
        uint64_t u;
        const char *p = plain[0] == '+' ? plain + 1 : plain;
        if (plain[0] != '-' && config_parse_uint0(p, &u) == 0) {
            *v = (double)u;
            return 0;
        }
    }
    return yaml_float(plain, v);
}

/* Go's time.ParseDuration, to the same limits: components are summed in uint64 and the total
 * must fit an int64 (one more for a negative total). */
int config_parse_duration(const char *s, int64_t *ns)
{
    if (!s || !*s)
        return -1;
    int64_t bare;
    if (config_parse_int(s, &bare) == 0) {
        *ns = bare;
        return 0;
    }
    static const struct { const char *name; uint64_t ns; } units[] = {
        {"ns", 1ull}, {"us", 1000ull}, {"\xc2\xb5s", 1000ull}, {"\xce\xbcs", 1000ull},
        {"ms", 1000000ull}, {"s", 1000000000ull}, {"m", 60000000000ull}, {"h", 3600000000000ull},
    };
    const uint64_t limit = 1ull << 63;
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!*p)
        return -1;
    uint64_t total = 0;
    while (*p) {
        uint64_t v = 0, frac = 0;
        double scale = 1;
        bool pre = false, post = false, frac_full = false;
        if (!(*p == '.' || isdigit((unsigned char)*p)))
            return -1;
        for (; isdigit((unsigned char)*p); p++) {
            if (v > limit / 10)
                return -1;
            v = v * 10 + (uint64_t)(*p - '0');
            if (v > limit)
                return -1;
            pre = true;
        }
        if (*p == '.') {
            for (p++; isdigit((unsigned char)*p); p++) {
                post = true;
                if (frac_full || frac > (limit - 10) / 10) {
                    frac_full = true; /* extra digits cannot change the result */
                    continue;
                }
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
        if (!pre && !post)
            return -1;
        const char *u = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        size_t ulen = (size_t)(p - u);
        if (ulen == 0)
            return -1;
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ulen && memcmp(units[i].name, u, ulen) == 0)
                unit = units[i].ns;
        if (!unit)
            return -1;
        if (v > limit / unit)
            return -1;
        v *= unit;
        if (frac > 0) {
            v += (uint64_t)((double)frac * ((double)unit / scale));
            if (v > limit)
                return -1;
        }
        total += v;
        if (total > limit)
            return -1;
    }
    if (neg) {
        *ns = total == limit ? INT64_MIN : -(int64_t)total;
        return 0;
    }
    if (total > (uint64_t)INT64_MAX)
        return -1;
    *ns = (int64_t)total;
    return 0;
}

/* ---- binder --------------------------------------------------------------------------------- */

static const char *describe_node(const struct cnode *v, char *buf, size_t len)
{
    switch (v->kind) {
    case CNODE_MAP:
        return "a map";
    case CNODE_SEQ:
        return "a sequence";
    case CNODE_NULL:
        return "null";
    case CNODE_SCALAR:
        break;
    }
    if (strlen(v->value) > 60)
        snprintf(buf, len, "'%.57s...'", v->value);
    else
        snprintf(buf, len, "'%s'", v->value);
    return buf;
}

/* "file:line:col: 'path.name': expected <what>, got <v>" */
static int type_error(struct error *err, const struct cnode *v, const char *path,
                      const struct config_field *f, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int type_error(struct error *err, const struct cnode *v, const char *path,
                      const struct config_field *f, const char *fmt, ...)
{
    char what[512], got[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return error_set(err, "%s:%d:%d: '%s%s': expected %s, got %s", v->file, v->line, v->col, path,
                     f->name, what, describe_node(v, got, sizeof got));
}

static void format_duration(int64_t ns, char *buf, size_t len)
{
    static const struct { const char *name; int64_t ns; } units[] = {
        {"h", 3600000000000LL}, {"m", 60000000000LL}, {"s", 1000000000LL},
        {"ms", 1000000LL}, {"us", 1000LL},
    };
    if (ns == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ns % units[i].ns == 0) {
            snprintf(buf, len, "%" PRId64 "%s", ns / units[i].ns, units[i].name);
            return;
        }
    snprintf(buf, len, "%" PRId64 "ns", ns);
}

/* Where present no_effect keys are reported while binding: the sink and the key path of the
 * bound node below the sink's path. NULL = not reported (also inside a no_effect section, which
 * was reported once as a whole). */
struct warn_ctx {
    const struct config_warn_sink *w;
    const char *base;
};

void config_warnf(const struct config_warn_sink *w, const struct cnode *at, const char *key,
                  const char *fmt, ...)
{
    if (!w || !w->warn)
        return;
    char text[768], msg[1280];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *path = w->path ? w->path : "";
    const char *k = key ? key : "";
    snprintf(msg, sizeof msg, "%s%s%s%s%s", path, *path && *k ? "." : "", k, *path || *k ? ": " : "",
             text);
    w->warn(w->ctx, at, msg);
}

/* A present no_effect key: "<base>.<path><name>: accepted but has no effect: <reason>". */
static void warn_no_effect(const struct warn_ctx *wc, const struct config_field *f,
                           const struct cnode *key, const char *path)
{
    if (!wc || !wc->w)
        return;
    char full[512];
    const char *base = wc->base ? wc->base : "";
    snprintf(full, sizeof full, "%s%s%s%s", base, *base ? "." : "", path, f->name);
    config_warnf(wc->w, key, full, "accepted but has no effect: %s", f->no_effect);
}

static struct cnode *parse_default(const struct config_field *f, const char *path, struct error *err);
static int convert(const struct config_field *f, const struct cnode *v, char *out, const char *path,
                   struct error *err);

/* Whether the value bound for f in `out` (v: its node) is f->harmless (config.h). The harmless
 * text is converted as a value from the file would be, into a scratch slot, and compared; text
 * the field cannot read is never harmless, so a mistake in a table shows as a warning. */
static bool is_harmless(const struct config_field *f, const struct cnode *v, const char *out)
{
    const char *h = f->harmless;
    if (!h)
        return false;
    const void *slot = out + f->offset;
    if (strcmp(h, "[]") == 0 || strcmp(h, "{}") == 0) {
        switch (f->type) {
        case CFG_STRING_LIST:
            return ((const struct config_str_list *)slot)->n == 0;
        case CFG_STRING_MAP:
            return ((const struct config_kv_list *)slot)->n == 0;
        case CFG_DOUBLE_LIST:
            return ((const struct config_double_list *)slot)->n == 0;
        case CFG_RAW:
            return !v || v->kind == CNODE_NULL ||
                   ((v->kind == CNODE_SEQ || v->kind == CNODE_MAP) && v->n == 0);
        default:
            return false;
        }
    }
    bool at_most = strncmp(h, "<=", 2) == 0;
    if (at_most && f->type != CFG_INT && f->type != CFG_DOUBLE && f->type != CFG_DURATION)
        return false;
    struct config_field g = *f;
    g.offset = 0;
    g.min = g.max = 0;
    g.def = at_most ? h + 2 : h;
    struct error e;
    struct cnode *hn = parse_default(&g, "", &e);
    if (!hn)
        return false;
    union {
        bool b;
        int64_t i;
        double d;
        int e;
        char *s;
    } u;
    memset(&u, 0, sizeof u);
    bool same = false;
    if (hn->kind == CNODE_SCALAR && convert(&g, hn, (char *)&u, "", &e) == 0) {
        switch (f->type) {
        case CFG_BOOL:
            same = *(const bool *)slot == u.b;
            break;
        case CFG_INT:
        case CFG_DURATION:
            same = at_most ? *(const int64_t *)slot <= u.i : *(const int64_t *)slot == u.i;
            break;
        case CFG_DOUBLE:
            same = at_most ? *(const double *)slot <= u.d : *(const double *)slot == u.d;
            break;
        case CFG_ENUM:
            same = *(const int *)slot == u.e;
            break;
        case CFG_STRING: {
            const char *bound = *(char *const *)slot;
            same = strcmp(bound ? bound : "", u.s ? u.s : "") == 0;
            break;
        }
        default:
            break;
        }
    }
    if (f->type == CFG_STRING)
        free(u.s);
    cnode_free(hn);
    return same;
}

/* Binds `node` (a map, null or NULL) into out; `at` is where a missing required key is reported. */
static int bind_fields(const struct config_field *fields, const struct cnode *node,
                       const struct cnode *at, char *out, const char *path,
                       const struct warn_ctx *wc, struct error *err);

static void append_choices(const char *const *choices, char *buf, size_t len)
{
    size_t n = strlen(buf);
    for (size_t i = 0; choices && choices[i] && n < len; i++) {
        snprintf(buf + n, len - n, "%s%s", i ? ", " : "", choices[i]);
        n += strlen(buf + n);
    }
}

static int require_scalar(const struct cnode *v, const char *path, const struct config_field *f,
                          const char *what, struct error *err)
{
    if (v->kind == CNODE_SCALAR)
        return 0;
    return type_error(err, v, path, f, "%s", what);
}

/* Converts a non-null node into the field's slot. */
static int convert(const struct config_field *f, const struct cnode *v, char *out, const char *path,
                   struct error *err)
{
    void *slot = out + f->offset;
    bool ranged = f->min < f->max;
    switch (f->type) {
    case CFG_BOOL: {
        bool b;
        if (require_scalar(v, path, f, "true or false", err) ||
            config_parse_bool(v->value, &b))
            return type_error(err, v, path, f, "true or false");
        *(bool *)slot = b;
        return 0;
    }
    case CFG_INT: {
        int64_t x;
        if (require_scalar(v, path, f, "an integer", err) || config_parse_int(v->value, &x)) {
            double d;
            if (v->kind == CNODE_SCALAR && parse_double(v->value, &d) == 0 && d != trunc(d))
                return type_error(err, v, path, f, "a whole number (the Collector would truncate "
                                  "it to %.0f; write that if it is meant)", trunc(d));
            if (v->kind == CNODE_SCALAR && ranged)
                return type_error(err, v, path, f, "an integer between %" PRId64 " and %" PRId64,
                                  f->min, f->max);
            return type_error(err, v, path, f, "an integer");
        }
        if (ranged && (x < f->min || x > f->max)) {
            if (f->max == INT64_MAX)
                return type_error(err, v, path, f, "an integer of at least %" PRId64 " (out of range)",
                                  f->min);
            return type_error(err, v, path, f, "an integer between %" PRId64 " and %" PRId64
                              " (out of range)", f->min, f->max);
        }
        *(int64_t *)slot = x;
        return 0;
    }
    case CFG_DOUBLE: {
        double x;
        if (require_scalar(v, path, f, "a number", err) || parse_double(v->value, &x))
            return type_error(err, v, path, f, "a number");
        *(double *)slot = x;
        return 0;
    }
    case CFG_STRING:
        if (require_scalar(v, path, f, "a string", err))
            return -1;
        free(*(char **)slot);
        *(char **)slot = xstrdup(v->value);
        return 0;
    case CFG_DURATION: {
        int64_t x;
        if (require_scalar(v, path, f, "a duration such as 5s or 200ms", err) ||
            config_parse_duration(v->value, &x))
            return type_error(err, v, path, f, "a duration such as 5s or 200ms");
        if (ranged && (x < f->min || x > f->max)) {
            char lo[32], hi[32];
            format_duration(f->min, lo, sizeof lo);
            format_duration(f->max, hi, sizeof hi);
            if (f->max == INT64_MAX)
                return type_error(err, v, path, f, "a duration of at least %s (out of range)", lo);
            return type_error(err, v, path, f, "a duration between %s and %s (out of range)", lo, hi);
        }
        *(int64_t *)slot = x;
        return 0;
    }
    case CFG_ENUM: {
        char list[512] = "one of: ";
        append_choices(f->choices, list, sizeof list);
        if (require_scalar(v, path, f, list, err))
            return -1;
        for (int i = 0; f->choices && f->choices[i]; i++)
            if (strcasecmp(f->choices[i], v->value) == 0) {
                *(int *)slot = i;
                return 0;
            }
        return type_error(err, v, path, f, "%s", list);
    }
    case CFG_STRING_MAP: {
        if (v->kind != CNODE_MAP)
            return type_error(err, v, path, f, "a map of strings");
        struct config_kv_list *l = slot;
        for (size_t i = 0; i < l->n; i++) {
            free(l->items[i].key);
            free(l->items[i].value);
        }
        free(l->items);
        l->n = 0;
        l->items = xcalloc(v->n, sizeof *l->items);
        for (size_t i = 0; i < v->n; i++) {
            const struct cnode *item = v->items[i];
            if (item->kind == CNODE_MAP || item->kind == CNODE_SEQ) {
                char got[80];
                return error_set(err, "%s:%d:%d: '%s%s.%s': expected a string, got %s", item->file,
                                 item->line, item->col, path, f->name, v->keys[i]->value,
                                 describe_node(item, got, sizeof got));
            }
            l->items[i].key = xstrdup(v->keys[i]->value);
            l->items[i].value = xstrdup(item->value ? item->value : "");
            l->n = i + 1;
        }
        return 0;
    }
    case CFG_STRING_LIST: {
        struct config_str_list *l = slot;
        for (size_t i = 0; i < l->n; i++)
            free(l->items[i]);
        free(l->items);
        l->n = 0;
        l->items = NULL;
        if (v->kind == CNODE_SCALAR) {
            /* As the Collector's decoder (mapstructure's StringToSliceHookFunc(",")): one string
             * is split at every comma, nothing trimmed; an empty one (an unset ${env:...}) is no
             * item. */
            if (*v->value) {
                size_t n = 1;
                for (const char *c = v->value; *c; c++)
                    n += *c == ',';
                l->items = xcalloc(n, sizeof *l->items);
                const char *start = v->value;
                for (;;) {
                    const char *comma = strchr(start, ',');
                    size_t len = comma ? (size_t)(comma - start) : strlen(start);
                    l->items[l->n++] = xstrndup(start, len);
                    if (!comma)
                        break;
                    start = comma + 1;
                }
            }
            return 0;
        }
        if (v->kind != CNODE_SEQ)
            return type_error(err, v, path, f, "a list of strings");
        l->items = xcalloc(v->n, sizeof *l->items);
        for (size_t i = 0; i < v->n; i++) {
            const struct cnode *item = v->items[i];
            if (item->kind != CNODE_SCALAR) {
                char got[80];
                return error_set(err, "%s:%d:%d: '%s%s[%zu]': expected a string, got %s", item->file,
                                 item->line, item->col, path, f->name, i,
                                 describe_node(item, got, sizeof got));
            }
            l->items[i] = xstrdup(item->value);
            l->n = i + 1;
        }
        return 0;
    }
    case CFG_DOUBLE_LIST: {
        struct config_double_list *l = slot;
        free(l->items);
        l->n = 0;
        l->items = NULL;
        if (v->kind == CNODE_SCALAR && !*v->value)
            return 0;
        size_t n = v->kind == CNODE_SCALAR ? 1 : v->n;
        if (v->kind != CNODE_SCALAR && v->kind != CNODE_SEQ)
            return type_error(err, v, path, f, "a list of numbers");
        l->items = xcalloc(n ? n : 1, sizeof *l->items);
        for (size_t i = 0; i < n; i++) {
            const struct cnode *item = v->kind == CNODE_SCALAR ? v : v->items[i];
            if (item->kind != CNODE_SCALAR || parse_double(item->value, &l->items[i])) {
                char got[80];
                return error_set(err, "%s:%d:%d: '%s%s[%zu]': expected a number, got %s",
                                 item->file, item->line, item->col, path, f->name, i,
                                 describe_node(item, got, sizeof got));
            }
            l->n = i + 1;
        }
        return 0;
    }
    case CFG_SECTION:
    case CFG_PRESENCE:
    case CFG_RAW:
        break; /* handled by bind_one */
    }
    return error_set(err, "'%s%s': unsupported field type %d", path, f->name, (int)f->type);
}

/* Defaults are YAML text, read without env expansion, so they convert exactly as a value from
 * the file would. */
static struct cnode *parse_default(const struct config_field *f, const char *path, struct error *err)
{
    const char *dfile = cfile_new("<default>");
    struct error derr;
    struct cnode *d = build(f->def, strlen(f->def), dfile, false, 0, 0, &derr);
    cfile_unref(dfile);
    if (!d)
        error_set(err, "'%s%s': invalid default '%s' in the field table: %s", path, f->name, f->def,
                  derr.msg);
    return d;
}

static int bind_one(const struct config_field *f, const struct cnode *v, const struct cnode *parent,
                    char *out, const char *path, const struct warn_ctx *wc, struct error *err)
{
    bool absent = !v || v->kind == CNODE_NULL;
    if (f->type == CFG_RAW) {
        *(const struct cnode **)(void *)(out + f->offset) = v;
        return 0;
    }
    if (f->type == CFG_SECTION || f->type == CFG_PRESENCE) {
        if (!absent && v->kind != CNODE_MAP)
            return type_error(err, v, path, f, "a map");
        size_t plen = strlen(path) + strlen(f->name) + 2;
        char *sub_path = xrealloc(NULL, plen);
        snprintf(sub_path, plen, "%s%s.", path, f->name);
        int rc;
        if (absent && f->def) {
            struct cnode *d = parse_default(f, path, err);
            rc = d ? bind_fields(f->sub, d, d, out + f->offset, sub_path, NULL, err) : -1;
            cnode_free(d);
        } else {
            /* An absent or null section is all defaults; a required key missing inside it is
             * reported where the section (or, when absent, its parent) is. */
            rc = bind_fields(f->sub, v, v ? v : parent, out + f->offset, sub_path,
                             f->no_effect ? NULL : wc, err);
        }
        free(sub_path);
        return rc;
    }
    if (!absent)
        return convert(f, v, out, path, err);
    if (!f->def)
        return 0;
    struct cnode *d = parse_default(f, path, err);
    if (!d)
        return -1;
    struct error derr;
    int rc = 0;
    if (d->kind != CNODE_NULL && convert(f, d, out, path, &derr))
        rc = error_set(err, "'%s%s': invalid default in the field table: %s", path, f->name, derr.msg);
    cnode_free(d);
    return rc;
}

static int bind_fields(const struct config_field *fields, const struct cnode *node,
                       const struct cnode *at, char *out, const char *path,
                       const struct warn_ctx *wc, struct error *err)
{
    const struct cnode *map = NULL;
    if (node && node->kind == CNODE_MAP) {
        map = node;
    } else if (node && node->kind != CNODE_NULL) {
        char got[80];
        /* Sections are type-checked by their parent; only the bound root gets here. */
        return error_set(err, "%s:%d:%d: expected a map of settings, got %s", node->file, node->line,
                         node->col, describe_node(node, got, sizeof got));
    }
    if (map) {
        for (size_t i = 0; i < map->n; i++) {
            const struct cnode *k = map->keys[i];
            const struct config_field *f;
            for (f = fields; f && f->name; f++)
                if (strcmp(f->name, k->value) == 0)
                    break;
            if (f && f->name)
                continue;
            struct sbuf known = {0};
            sbuf_add(&known, "", 0);
            for (f = fields; f && f->name; f++) {
                if (f != fields)
                    sbuf_add(&known, ", ", 2);
                sbuf_add(&known, f->name, strlen(f->name));
            }
            error_set(err, "%s:%d:%d: unknown key '%s%s'; known keys: %s", k->file, k->line, k->col,
                      path, k->value, known.n ? known.p : "(none)");
            free(known.p);
            return -1;
        }
    }
    for (const struct config_field *f = fields; f && f->name; f++) {
        const struct cnode *v = cnode_get(map, f->name);
        if (f->type == CFG_PRESENCE)
            *(bool *)(void *)(out + f->present_offset) = v != NULL;
        if (f->track_set)
            *(bool *)(void *)(out + f->set_offset) = v != NULL && v->kind != CNODE_NULL;
        if (!v && f->required) {
            if (at)
                return error_set(err, "%s:%d:%d: missing required key '%s%s'", at->file, at->line,
                                 at->col, path, f->name);
            return error_set(err, "missing required key '%s%s'", path, f->name);
        }
        if (bind_one(f, v, node ? node : at, out, path, wc, err))
            return -1;
        /* after binding, so a key that fails to bind is an error and not also a warning */
        if (v && f->no_effect && !is_harmless(f, v, out))
            warn_no_effect(wc, f, cnode_key(map, f->name), path);
    }
    return 0;
}

int config_bind_warn(const struct config_field *fields, const struct cnode *node, void *out,
                     const struct config_warn_sink *w, const char *path, struct error *err)
{
    error_clear(err);
    const struct cnode *at = node;
    if (node && node->kind == CNODE_SCALAR && node->value[0] == '\0')
        node = NULL; /* `otlp: ${env:UNSET}` reads as "no settings", as a null value does */
    struct warn_ctx wc = {.w = w, .base = path};
    return bind_fields(fields, node, at, out, "", w ? &wc : NULL, err);
}

int config_bind(const struct config_field *fields, const struct cnode *node, void *out,
                struct error *err)
{
    return config_bind_warn(fields, node, out, NULL, NULL, err);
}

void config_free_bound(const struct config_field *fields, void *cfg)
{
    char *out = cfg;
    if (!out)
        return;
    for (const struct config_field *f = fields; f && f->name; f++) {
        void *slot = out + f->offset;
        switch (f->type) {
        case CFG_STRING:
            free(*(char **)slot);
            *(char **)slot = NULL;
            break;
        case CFG_STRING_MAP: {
            struct config_kv_list *l = slot;
            for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].key);
                free(l->items[i].value);
            }
            free(l->items);
            l->items = NULL;
            l->n = 0;
            break;
        }
        case CFG_STRING_LIST: {
            struct config_str_list *l = slot;
            for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
            free(l->items);
            l->items = NULL;
            l->n = 0;
            break;
        }
        case CFG_DOUBLE_LIST: {
            struct config_double_list *l = slot;
            free(l->items);
            l->items = NULL;
            l->n = 0;
            break;
        }
        case CFG_SECTION:
        case CFG_PRESENCE:
            config_free_bound(f->sub, slot);
            break;
        default:
            break;
        }
    }
}

/* ---- describe ------------------------------------------------------------------------------- */

static const char *type_name(enum config_type t)
{
    switch (t) {
    case CFG_BOOL: return "bool";
    case CFG_INT: return "int";
    case CFG_DOUBLE: return "double";
    case CFG_STRING: return "string";
    case CFG_DURATION: return "duration";
    case CFG_ENUM: return "enum";
    case CFG_STRING_MAP: return "map[string]string";
    case CFG_STRING_LIST: return "[]string";
    case CFG_DOUBLE_LIST: return "[]double";
    case CFG_SECTION: return "section";
    case CFG_PRESENCE: return "section";
    case CFG_RAW: return "any";
    }
    return "?";
}

/* One line per field, "name  type  default=...  doc" after `indent` spaces, columns aligned
 * within a section; a section's fields follow it, two spaces further in. */
void config_describe(const struct config_field *fields, FILE *out, int indent)
{
    int width = 0, twidth = 0;
    for (const struct config_field *f = fields; f && f->name; f++) {
        if ((int)strlen(f->name) > width)
            width = (int)strlen(f->name);
        if ((int)strlen(type_name(f->type)) > twidth)
            twidth = (int)strlen(type_name(f->type));
    }
    for (const struct config_field *f = fields; f && f->name; f++) {
        char line[1024], extra[600] = "";
        int n = snprintf(line, sizeof line, "%*s%-*s  %-*s", indent < 0 ? 0 : indent, "", width, f->name, twidth,
                         type_name(f->type));
        if (f->type == CFG_ENUM) {
            char list[512] = "";
            append_choices(f->choices, list, sizeof list);
            snprintf(extra, sizeof extra, " (one of: %s)", list);
        } else if ((f->type == CFG_INT || f->type == CFG_DURATION) && f->min < f->max) {
            char lo[32], hi[32];
            if (f->type == CFG_INT) {
                snprintf(lo, sizeof lo, "%" PRId64, f->min);
                snprintf(hi, sizeof hi, "%" PRId64, f->max);
            } else {
                format_duration(f->min, lo, sizeof lo);
                format_duration(f->max, hi, sizeof hi);
            }
            if (f->max == INT64_MAX) /* "no upper bound" reads better than 9223372036854775807 */
                snprintf(extra, sizeof extra, " (at least %s)", lo);
            else
                snprintf(extra, sizeof extra, " (range %s..%s)", lo, hi);
        } else if (f->type == CFG_PRESENCE) {
            snprintf(extra, sizeof extra, " (enabled when the key is present)");
        }
        if (f->no_effect) {
            size_t e = strlen(extra);
            if (f->harmless)
                snprintf(extra + e, sizeof extra - e, "  [no effect (%s is what llmotlp does): %s]", f->harmless,
                         f->no_effect);
            else
                snprintf(extra + e, sizeof extra - e, "  [no effect: %s]", f->no_effect);
        }
        if (f->secret) {
            size_t e = strlen(extra);
            snprintf(extra + e, sizeof extra - e, "  [secret: print-config shows [REDACTED]]");
        }
        if (n > 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, "%s%s%s%s%s%s", f->def ? "  default=" : "",
                     f->def ? f->def : "", f->required ? "  required" : "",
                     f->doc && *f->doc ? "  " : "", f->doc ? f->doc : "", extra);
        size_t len = strlen(line);
        while (len > 0 && line[len - 1] == ' ')
            line[--len] = '\0';
        fprintf(out, "%s\n", line);
        /* A raw field may declare the shape of its items (a list of maps) for describe only. */
        if ((f->type == CFG_SECTION || f->type == CFG_PRESENCE || f->type == CFG_RAW) && f->sub)
            config_describe(f->sub, out, indent + 2);
    }
}

/* config_print.c — `print-config`: mask secrets by the field tables, then emit YAML (libyaml's
 * emitter) or JSON (json-c).
 *
 * The one idea: print the tree the loader built, not the bound structs, so what comes out is
 * what the loader would read back — each scalar keeps the quoting that decided its type, and
 * the only rewriting is what loading would undo ('$$' for a literal '$', quotes around a text
 * that would otherwise read as null). */
#include "core/config_print.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/component.h"

/* ---- masking --------------------------------------------------------------------------------- */

static size_t mask(struct cnode *n)
{
    if (n->kind != CNODE_SCALAR)
        return 0;
    free(n->value);
    n->value = strdup(CONFIG_PRINT_REDACTED);
    if (!n->value)
        abort(); /* as config.c: start-up code that cannot allocate cannot run */
    n->quoted = true;
    free(n->unset_env);
    n->unset_env = NULL;
    return 1;
}

static size_t redact_fields(const struct config_field *fields, struct cnode *node)
{
    if (!fields || !node || node->kind != CNODE_MAP)
        return 0;
    size_t masked = 0;
    for (size_t i = 0; i < node->n; i++) {
        const char *name = node->keys[i]->value;
        const struct config_field *f = fields;
        while (f->name && (!name || strcmp(f->name, name) != 0))
            f++;
        if (!f->name)
            continue;
        struct cnode *v = node->items[i];
        if (f->secret) {
            if (v->kind == CNODE_SCALAR)
                masked += mask(v);
            else
                for (size_t j = 0; j < v->n; j++)
                    masked += mask(v->items[j]);
        } else if ((f->type == CFG_SECTION || f->type == CFG_PRESENCE) && f->sub) {
            masked += redact_fields(f->sub, v);
        }
    }
    return masked;
}

size_t config_print_redact(struct cnode *root)
{
    if (!root || root->kind != CNODE_MAP)
        return 0;
    size_t masked = 0;
    for (int k = 0; k < COMPONENT_KIND_COUNT; k++) {
        struct cnode *sec = cnode_get(root, component_kind_section((enum component_kind)k));
        if (!sec || sec->kind != CNODE_MAP)
            continue;
        for (size_t i = 0; i < sec->n; i++) {
            const char *id = sec->keys[i]->value ? sec->keys[i]->value : "";
            char type[256];
            size_t tl = strcspn(id, "/");
            snprintf(type, sizeof type, "%.*s", (int)(tl < sizeof type ? tl : sizeof type - 1), id);
            const struct component_factory *f = component_find((enum component_kind)k, type);
            if (f)
                masked += redact_fields(f->fields, sec->items[i]);
        }
    }
    return masked;
}

/* ---- text rules shared by both outputs ------------------------------------------------------ */

/* '$' followed by '{' or '$' doubled: the loader turns "$$" back into '$' and leaves other '$'
 * alone. Caller frees. */
static char *escape_dollars(const char *s)
{
    size_t extra = 0, n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '$' && (s[i + 1] == '{' || s[i + 1] == '$'))
            extra++;
    char *out = malloc(n + extra + 1);
    if (!out)
        abort();
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        *o++ = s[i];
        if (s[i] == '$' && (s[i + 1] == '{' || s[i + 1] == '$'))
            *o++ = '$';
    }
    *o = '\0';
    return out;
}

static bool null_text(const char *s)
{
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

/* ---- YAML ------------------------------------------------------------------------------------ */

static int emit(yaml_emitter_t *e, yaml_event_t *ev, struct error *err)
{
    if (!yaml_emitter_emit(e, ev))
        return error_set(err, "cannot write YAML: %s", e->problem ? e->problem : "write error");
    return 0;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, bool quoted, struct error *err)
{
    char *v = escape_dollars(text);
    bool force = quoted || null_text(v);
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)v, (int)strlen(v), !force, 1,
                                 force ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    free(v);
    return emit(e, &ev, err);
}

static int emit_node(yaml_emitter_t *e, const struct cnode *n, struct error *err)
{
    yaml_event_t ev;
    switch (n->kind) {
    case CNODE_NULL:
        yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)"null", 4, 1, 0,
                                     YAML_PLAIN_SCALAR_STYLE);
        return emit(e, &ev, err);
    case CNODE_SCALAR:
        return emit_scalar(e, n->value, n->quoted, err);
    case CNODE_MAP:
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
        if (emit(e, &ev, err))
            return -1;
        for (size_t i = 0; i < n->n; i++)
            if (emit_scalar(e, n->keys[i]->value ? n->keys[i]->value : "", n->keys[i]->quoted,
                            err) ||
                emit_node(e, n->items[i], err))
                return -1;
        yaml_mapping_end_event_initialize(&ev);
        return emit(e, &ev, err);
    case CNODE_SEQ:
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
        if (emit(e, &ev, err))
            return -1;
        for (size_t i = 0; i < n->n; i++)
            if (emit_node(e, n->items[i], err))
                return -1;
        yaml_sequence_end_event_initialize(&ev);
        return emit(e, &ev, err);
    }
    return error_set(err, "cannot write YAML: unknown node kind");
}

int config_print_yaml(const struct cnode *root, FILE *out, struct error *err)
{
    error_clear(err);
    yaml_emitter_t e;
    if (!yaml_emitter_initialize(&e))
        return error_set(err, "out of memory");
    yaml_emitter_set_output_file(&e, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1); /* no folding: a long value stays on one line */
    yaml_emitter_set_indent(&e, 2);
    yaml_event_t ev;
    int rc = 0;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    rc = emit(&e, &ev, err);
    if (!rc) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
        rc = emit(&e, &ev, err);
    }
    if (!rc)
        rc = root ? emit_node(&e, root, err) : emit_scalar(&e, "", false, err);
    if (!rc) {
        yaml_document_end_event_initialize(&ev, 1);
        rc = emit(&e, &ev, err);
    }
    if (!rc) {
        yaml_stream_end_event_initialize(&ev);
        rc = emit(&e, &ev, err);
    }
    if (!rc && !yaml_emitter_flush(&e))
        rc = error_set(err, "cannot write YAML: %s", strerror(errno));
    yaml_emitter_delete(&e);
    return rc;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static struct json_object *json_scalar(const struct cnode *n)
{
    char *v = escape_dollars(n->value);
    struct json_object *o = NULL;
    if (!n->quoted) {
        bool b;
        int64_t i;
        char *end;
        if (null_text(v)) {
            free(v);
            return NULL; /* json null */
        }
        if (config_parse_bool(v, &b) == 0) {
            o = json_object_new_boolean(b);
        } else if (config_parse_int(v, &i) == 0) {
            o = json_object_new_int64(i);
        } else {
            errno = 0;
            double d = strtod(v, &end);
            if (*v && !*end && errno == 0 && isfinite(d))
                o = json_object_new_double(d);
        }
    }
    if (!o)
        o = json_object_new_string(v);
    free(v);
    return o;
}

static struct json_object *json_node(const struct cnode *n)
{
    switch (n->kind) {
    case CNODE_NULL:
        return NULL;
    case CNODE_SCALAR:
        return json_scalar(n);
    case CNODE_MAP: {
        struct json_object *o = json_object_new_object();
        for (size_t i = 0; i < n->n; i++)
            json_object_object_add(o, n->keys[i]->value ? n->keys[i]->value : "",
                                   json_node(n->items[i]));
        return o;
    }
    case CNODE_SEQ: {
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < n->n; i++)
            json_object_array_add(a, json_node(n->items[i]));
        return a;
    }
    }
    return NULL;
}

int config_print_json(const struct cnode *root, FILE *out, struct error *err)
{
    error_clear(err);
    struct json_object *o = root ? json_node(root) : NULL;
    const char *text = json_object_to_json_string_ext(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = fprintf(out, "%s\n", text) < 0 ? error_set(err, "cannot write JSON: %s",
                                                         strerror(errno))
                                            : 0;
    json_object_put(o);
    return rc;
}

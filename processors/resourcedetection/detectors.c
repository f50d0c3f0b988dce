/* detectors.c — the `env` and `system` detectors of the resourcedetection processor, each
 * reading what the Collector's detector of that name reads and writing what it writes.
 *
 * The one idea: reproduce the Collector's sources, not their spirit. `env` is the Collector's
 * key=value regular expression walked by hand in the order Go's leftmost-first engine prefers
 * (only the whitespace runs and the two lazy lengths can vary, so the walk is short), followed by
 * Go's url.QueryUnescape. `system` reads hostnames through the same chain as the Collector (go-fqdn:
 * hosts(5), then the resolver's canonical name, then reverse lookups), host.id from the machine-id
 * files the OTel Go SDK reads, os.description as that SDK builds it from os-release and uname(2),
 * addresses in interface-index order as Go's net.Interfaces lists them, and the CPU from
 * /proc/cpuinfo as gopsutil parses it. Nothing here keeps state between calls. */

#include "processors/resourcedetection/resourcedetection.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/log.h"

#define SCHEMA_URL_1_6_1 "https://opentelemetry.io/schemas/1.6.1"
#define MAX_FILE (1 << 20) /* host files read: os-release, hosts, cpuinfo (cpuinfo of 512 CPUs
                              fits; only the first processor is used) */

/* ---- the resource -------------------------------------------------------------------------- */

static void attr_free(struct rd_attr *a)
{
    free(a->key);
    free(a->s);
    for (size_t i = 0; i < a->n; i++)
        free(a->list[i]);
    free(a->list);
    memset(a, 0, sizeof *a);
}

static void attr_free_value(struct rd_attr *a)
{
    free(a->s);
    for (size_t i = 0; i < a->n; i++)
        free(a->list[i]);
    free(a->list);
    a->s = NULL;
    a->list = NULL;
    a->n = 0;
}

void rd_resource_free(struct rd_resource *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        attr_free(&r->v[i]);
    free(r->v);
    free(r->schema_url);
    memset(r, 0, sizeof *r);
}

const struct rd_attr *rd_resource_get(const struct rd_resource *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].key, key) == 0)
            return &r->v[i];
    return NULL;
}

int rd_resource_put(struct rd_resource *r, struct rd_attr *a, bool replace)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].key, a->key) != 0)
            continue;
        if (replace) {
            attr_free_value(&r->v[i]);
            free(a->key);
            r->v[i].type = a->type;
            r->v[i].s = a->s;
            r->v[i].i = a->i;
            r->v[i].list = a->list;
            r->v[i].n = a->n;
        } else {
            attr_free(a);
        }
        memset(a, 0, sizeof *a);
        return 0;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct rd_attr *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            attr_free(a);
            return -1;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = *a;
    memset(a, 0, sizeof *a);
    return 0;
}

static int put_str(struct rd_resource *r, const char *key, const char *val)
{
    struct rd_attr a = {.key = strdup(key), .type = RD_STR, .s = strdup(val ? val : "")};
    if (!a.key || !a.s) {
        attr_free(&a);
        return -1;
    }
    return rd_resource_put(r, &a, true);
}

static int put_int(struct rd_resource *r, const char *key, int64_t v)
{
    struct rd_attr a = {.key = strdup(key), .type = RD_INT, .i = v};
    if (!a.key)
        return -1;
    return rd_resource_put(r, &a, true);
}

size_t rd_resource_keep(struct rd_resource *r, char *const *keep, size_t n)
{
    if (n == 0)
        return 0;
    size_t w = 0, dropped = 0;
    for (size_t i = 0; i < r->n; i++) {
        bool k = false;
        for (size_t j = 0; j < n && !k; j++)
            k = strcmp(r->v[i].key, keep[j]) == 0;
        if (k)
            r->v[w++] = r->v[i];
        else {
            attr_free(&r->v[i]);
            dropped++;
        }
    }
    r->n = w;
    return dropped;
}

static int attr_copy(struct rd_attr *dst, const struct rd_attr *src)
{
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->i = src->i;
    if (!(dst->key = strdup(src->key)))
        return -1;
    if (src->type == RD_STR && !(dst->s = strdup(src->s)))
        goto oom;
    if (src->type == RD_STRS && src->n) {
        if (!(dst->list = calloc(src->n, sizeof *dst->list)))
            goto oom;
        for (size_t i = 0; i < src->n; i++, dst->n++)
            if (!(dst->list[i] = strdup(src->list[i])))
                goto oom;
    }
    return 0;
oom:
    attr_free(dst);
    return -1;
}

int rd_resource_merge_first(struct rd_resource *to, const struct rd_resource *from)
{
    if ((!to->schema_url || !to->schema_url[0]) && from->schema_url && from->schema_url[0]) {
        free(to->schema_url);
        if (!(to->schema_url = strdup(from->schema_url)))
            return -1;
    }
    for (size_t i = 0; i < from->n; i++) {
        if (rd_resource_get(to, from->v[i].key))
            continue;
        struct rd_attr a;
        if (attr_copy(&a, &from->v[i]) != 0 || rd_resource_put(to, &a, false) != 0)
            return -1;
    }
    return 0;
}

/* ---- env ----------------------------------------------------------------------------------- */

/* Go's \s: [\t\n\f\r ]. */
static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static size_t ws_run(const char *s, size_t n, size_t i)
{
    size_t k = 0;
    while (i + k < n && is_ws(s[i + k]))
        k++;
    return k;
}

struct env_match {
    size_t start, end, k0, k1, v0, v1;
};

/* The match of \s*([[:ascii:]]{1,256}?)\s*=\s*([[:ascii:]]{0,256}?)\s*(?:,|$) that Go's
 * leftmost-first engine prefers at position p. The leading \s* is greedy, so fewer blanks are
 * tried only when the most fail (the key may then begin with blanks); the key and the value are
 * lazy, so the shortest that lets the rest match wins. The other blank runs can only match in
 * full: a shorter run would leave a blank where '=' or ','/end must stand, and a value starting
 * on a blank is only longer. */
static bool env_match_at(const char *s, size_t n, size_t p, struct env_match *m)
{
    size_t w1max = ws_run(s, n, p);
    for (size_t w1 = w1max + 1; w1-- > 0;) {
        size_t k0 = p + w1;
        for (size_t len = 1; len <= 256 && k0 + len <= n; len++) {
            if ((unsigned char)s[k0 + len - 1] >= 0x80)
                break;
            size_t k1 = k0 + len;
            size_t eq = k1 + ws_run(s, n, k1);
            if (eq >= n || s[eq] != '=')
                continue;
            size_t v0 = eq + 1 + ws_run(s, n, eq + 1);
            for (size_t vl = 0; vl <= 256 && v0 + vl <= n; vl++) {
                if (vl > 0 && (unsigned char)s[v0 + vl - 1] >= 0x80)
                    break;
                size_t v1 = v0 + vl;
                size_t t = v1 + ws_run(s, n, v1);
                if (t == n || s[t] == ',') {
                    *m = (struct env_match){.start = p, .end = t == n ? n : t + 1, .k0 = k0,
                                            .k1 = k1, .v0 = v0, .v1 = v1};
                    return true;
                }
            }
        }
    }
    return false;
}

static bool env_find(const char *s, size_t n, size_t from, struct env_match *m)
{
    for (size_t p = from; p < n; p++)
        if (env_match_at(s, n, p, m))
            return true;
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Go's url.QueryUnescape: %XX decoded, '+' is a space; a '%' not followed by two hex digits is
 * an error naming the bad escape. */
static char *query_unescape(const char *s, size_t n, char *bad, size_t badcap)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n) {
                snprintf(bad, badcap, "%.*s", (int)(n - i), s + i);
                free(out);
                return NULL;
            }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) {
                snprintf(bad, badcap, "%.3s", s + i);
                free(out);
                return NULL;
            }
            out[o++] = (char)(h << 4 | l);
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return out;
}

int rd_env_parse(const char *s, struct rd_resource *out, struct error *err)
{
    size_t n = strlen(s), prev = 0;
    struct env_match m;
    bool any = false;
    while (prev < n && env_find(s, n, prev, &m)) {
        any = true;
        if (m.start != prev)
            return error_set(err, "invalid resource format, invalid text: \"%.*s\"",
                             (int)(m.start - prev), s + prev);
        char bad[8] = "";
        char *val = query_unescape(s + m.v0, m.v1 - m.v0, bad, sizeof bad);
        if (!val) {
            if (!bad[0])
                return error_set(err, "out of memory");
            return error_set(err, "invalid resource format in attribute: \"%.*s\", err: "
                             "invalid URL escape \"%s\"", (int)(m.end - m.start), s + m.start,
                             bad);
        }
        struct rd_attr a = {.key = strndup(s + m.k0, m.k1 - m.k0), .type = RD_STR, .s = val};
        if (!a.key) {
            free(val);
            return error_set(err, "out of memory");
        }
        if (rd_resource_put(out, &a, true) != 0)
            return error_set(err, "out of memory");
        prev = m.end;
    }
    if (!any)
        return error_set(err, "invalid resource format: \"%s\"", s);
    if (prev != n)
        return error_set(err, "invalid resource format, invalid text: \"%s\"", s + prev);
    return 0;
}

static char *trimmed_env(const char *name)
{
    const char *v = getenv(name);
    if (!v)
        return NULL;
    while (*v && is_ws(*v))
        v++;
    size_t n = strlen(v);
    while (n && is_ws(v[n - 1]))
        n--;
    return n ? strndup(v, n) : NULL;
}

int rd_env_detect(struct rd_resource *out, bool has_allow, char *const *allow, size_t n_allow,
                  struct error *err)
{
    char *v = trimmed_env("OTEL_RESOURCE_ATTRIBUTES");
    if (!v)
        v = trimmed_env("OTEL_RESOURCE");
    if (!v)
        return 0;
    int rc = rd_env_parse(v, out, err);
    free(v);
    if (rc != 0) {
        rd_resource_free(out);
        return -1;
    }
    if (has_allow) {
        size_t w = 0;
        for (size_t i = 0; i < out->n; i++) {
            bool k = false;
            for (size_t j = 0; j < n_allow && !k; j++)
                k = strcmp(out->v[i].key, allow[j]) == 0;
            if (k)
                out->v[w++] = out->v[i];
            else
                attr_free(&out->v[i]);
        }
        out->n = w;
    }
    return 0;
}

/* ---- host files ---------------------------------------------------------------------------- */

/* The whole file (up to MAX_FILE bytes), NUL-terminated; NULL when it cannot be opened. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0 || n >= MAX_FILE)
            break;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Calls fn on each line of text (without its "\n" or "\r\n"); stops when fn returns true. */
static bool each_line(const char *text, bool (*fn)(void *ctx, const char *line, size_t n),
                      void *ctx)
{
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        size_t ln = n && p[n - 1] == '\r' ? n - 1 : n;
        if (fn(ctx, p, ln))
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* ---- hosts(5), as go-fqdn reads it --------------------------------------------------------- */

static bool valid_hostname(const char *s, size_t n)
{
    if (n > 254)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c >= 0x80 || c == '.' || c == '-' || isalnum(c)))
            return false;
    }
    return true;
}

static char *hosts_line_canon_n(const char *line, size_t n, const char *host)
{
    size_t hl = strlen(host);
    size_t i = 0;
    const char *canon = NULL;
    size_t canon_n = 0;
    int field = 0;
    while (i < n && line[i] != '#') {
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= n || line[i] == '#')
            break;
        size_t start = i;
        while (i < n && line[i] != ' ' && line[i] != '\t' && line[i] != '#')
            i++;
        size_t len = i - start;
        if (field == 1) {
            if (!valid_hostname(line + start, len))
                return NULL;
            canon = line + start;
            canon_n = len;
            if (len == hl && memcmp(canon, host, hl) == 0)
                return strndup(canon, canon_n);
        } else if (field > 1 && len == hl && memcmp(line + start, host, hl) == 0) {
            return strndup(canon, canon_n);
        }
        field++;
    }
    return NULL;
}

char *rd_hosts_line_canon(const char *line, const char *host)
{
    return hosts_line_canon_n(line, strlen(line), host);
}

struct hosts_ctx {
    const char *host;
    char *found;
};

static bool hosts_line(void *ctx, const char *line, size_t n)
{
    struct hosts_ctx *h = ctx;
    h->found = hosts_line_canon_n(line, n, h->host);
    return h->found != NULL;
}

/* ---- os-release, as the OTel Go SDK reads it ----------------------------------------------- */

struct osr_ctx {
    const char *key;
    char *value;
};

static bool osr_line(void *ctx, const char *line, size_t n)
{
    struct osr_ctx *c = ctx;
    size_t a = 0, b = n;
    while (a < b && isspace((unsigned char)line[a]))
        a++;
    if (a == b || line[a] == '#')
        return false;
    const char *eq = memchr(line, '=', n);
    if (!eq || eq == line)
        return false;
    size_t kn = (size_t)(eq - line), ks = 0;
    while (ks < kn && isspace((unsigned char)line[ks]))
        ks++;
    while (kn > ks && isspace((unsigned char)line[kn - 1]))
        kn--;
    if (kn - ks != strlen(c->key) || memcmp(line + ks, c->key, kn - ks) != 0)
        return false;
    const char *v = eq + 1;
    size_t vn = n - (size_t)(v - line);
    while (vn && isspace((unsigned char)*v))
        v++, vn--;
    while (vn && isspace((unsigned char)v[vn - 1]))
        vn--;
    if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[0] == v[vn - 1])
        v++, vn -= 2;
    char *out = malloc(vn + 1);
    if (!out)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < vn; i++) {
        if (v[i] == '\\' && i + 1 < vn && strchr("$\"'\\`", v[i + 1])) {
            out[o++] = v[++i];
            continue;
        }
        out[o++] = v[i];
    }
    out[o] = '\0';
    free(c->value);
    c->value = out; /* later lines win, as the SDK's map does */
    return false;
}

char *rd_os_release_value(const char *text, const char *key)
{
    struct osr_ctx c = {.key = key};
    each_line(text, osr_line, &c);
    return c.value;
}

char *rd_os_release_describe(const char *text)
{
    char *name = rd_os_release_value(text, "NAME");
    char *version = rd_os_release_value(text, "VERSION");
    if (!version || !version[0]) {
        free(version);
        version = rd_os_release_value(text, "VERSION_ID");
    }
    char *out = NULL;
    if (name && name[0] && version && version[0]) {
        if (asprintf(&out, "%s %s", name, version) < 0)
            out = NULL;
    } else {
        out = rd_os_release_value(text, "PRETTY_NAME");
    }
    free(name);
    free(version);
    if (out && !out[0]) {
        free(out);
        out = NULL;
    }
    return out;
}

char *rd_os_description(const char *os_release, const char *sysname, const char *nodename,
                        const char *release, const char *version, const char *machine)
{
    char *rel = os_release ? rd_os_release_describe(os_release) : NULL;
    char *out = NULL;
    int rc = rel ? asprintf(&out, "%s (%s %s %s %s %s)", rel, sysname, nodename, release, version,
                            machine)
                 : asprintf(&out, "%s %s %s %s %s", sysname, nodename, release, version, machine);
    free(rel);
    return rc < 0 ? NULL : out;
}

struct build_ctx {
    char *value;
};

static bool build_line(void *ctx, const char *line, size_t n)
{
    struct build_ctx *c = ctx;
    if (n < 9 || memcmp(line, "BUILD_ID=", 9) != 0)
        return false;
    const char *v = line + 9;
    size_t vn = n - 9;
    while (vn && *v == '"')
        v++, vn--;
    while (vn && v[vn - 1] == '"')
        vn--;
    c->value = strndup(v, vn);
    return true;
}

char *rd_os_build_id(const char *os_release, const char *kernel)
{
    struct build_ctx c = {0};
    if (os_release)
        each_line(os_release, build_line, &c);
    if (c.value && c.value[0])
        return c.value;
    free(c.value);
    return strdup(kernel ? kernel : "");
}

/* ---- /proc/cpuinfo, as gopsutil reads it --------------------------------------------------- */

struct cpu_ctx {
    struct rd_cpuinfo *ci;
    int seen;          /* "processor" lines met */
    bool bad;
};

static void copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool cpu_line(void *ctx, const char *line, size_t n)
{
    struct cpu_ctx *c = ctx;
    /* gopsutil splits at every ':' and keeps the first two parts, both trimmed */
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return false;
    const char *k = line, *v = colon + 1;
    size_t kn = (size_t)(colon - line);
    const char *vend = memchr(v, ':', n - (size_t)(v - line));
    size_t vn = vend ? (size_t)(vend - v) : n - (size_t)(v - line);
    while (kn && isspace((unsigned char)*k))
        k++, kn--;
    while (kn && isspace((unsigned char)k[kn - 1]))
        kn--;
    while (vn && isspace((unsigned char)*v))
        v++, vn--;
    while (vn && isspace((unsigned char)v[vn - 1]))
        vn--;
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
    if (KEY("processor")) {
        if (++c->seen > 1)
            return true; /* only the first processor is used */
        c->ci->found = true;
        return false;
    }
    struct rd_cpuinfo *ci = c->ci;
    if (KEY("vendorId") || KEY("vendor_id"))
        copy_field(ci->vendor_id, sizeof ci->vendor_id, v, vn);
    else if (KEY("cpu family"))
        copy_field(ci->family, sizeof ci->family, v, vn);
    else if (KEY("model"))
        copy_field(ci->model, sizeof ci->model, v, vn);
    else if (KEY("model name") || KEY("cpu"))
        copy_field(ci->model_name, sizeof ci->model_name, v, vn);
    else if (KEY("stepping") || KEY("cache size")) {
        char num[32];
        copy_field(num, sizeof num, v, vn);
        if (KEY("cache size")) {
            char *kb = strstr(num, " KB");
            if (kb)
                *kb = '\0';
        }
        char *end;
        errno = 0;
        long long x = strtoll(num, &end, 10);
        if (!num[0] || *end || errno)
            c->bad = true;
        else if (KEY("stepping"))
            ci->stepping = x;
        else
            ci->cache_size = x;
    }
#undef KEY
    return false;
}

void rd_cpuinfo_parse(const char *text, struct rd_cpuinfo *out)
{
    memset(out, 0, sizeof *out);
    struct cpu_ctx c = {.ci = out};
    each_line(text, cpu_line, &c);
    if (c.bad)
        out->found = false;
}

/* ---- architecture, MAC ---------------------------------------------------------------------- */

const char *rd_host_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "x86";
#elif defined(__arm__)
    return "arm32";
#elif defined(__powerpc64__)
    return "ppc64";        /* ppc64 and ppc64le alike */
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__loongarch64)
    return "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
    return "mips64le";
#elif defined(__mips64)
    return "mips64";
#else
    return "unknown";
#endif
}

void rd_mac_format(const uint8_t *addr, size_t len, char *out, size_t cap)
{
    bool nonzero = false;
    for (size_t i = 0; i < len; i++)
        nonzero |= addr[i] != 0;
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; nonzero && i < len && o + 4 <= cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%02X", i ? "-" : "", addr[i]);
}

/* ---- hostname sources ---------------------------------------------------------------------- */

const char *const rd_hostname_source_names[RD_HN_COUNT + 1] = {"dns", "os", "cname", "lookup",
                                                                NULL};

static char *os_hostname(void)
{
    char buf[HOST_NAME_MAX + 1];
    if (gethostname(buf, sizeof buf) != 0)
        return NULL;
    buf[HOST_NAME_MAX] = '\0';
    return strdup(buf);
}

static void trim_dots(char *s, bool all)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '.') {
        s[--n] = '\0';
        if (!all)
            break;
    }
}

/* The resolver's canonical name for host (Go's LookupCNAME through getaddrinfo). */
static char *lookup_cname(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_CANONNAME};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return NULL;
    char *out = res && res->ai_canonname && res->ai_canonname[0] ? strdup(res->ai_canonname)
                                                                 : NULL;
    freeaddrinfo(res);
    return out;
}

/* The first name a reverse lookup gives for one of host's addresses (Go's LookupHost, then
 * LookupAddr on each). */
static char *lookup_reverse(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return NULL;
    char *out = NULL;
    for (struct addrinfo *a = res; a && !out; a = a->ai_next) {
        char name[NI_MAXHOST];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, name, sizeof name, NULL, 0, NI_NAMEREQD) == 0)
            out = strdup(name);
    }
    freeaddrinfo(res);
    return out;
}

/* go-fqdn's FqdnHostname: hosts(5), then the canonical name, then a reverse lookup. */
static char *fqdn_hostname(void)
{
    char *host = os_hostname();
    if (!host)
        return NULL;
    char *hosts = read_text("/etc/hosts");
    struct hosts_ctx h = {.host = host};
    if (hosts)
        each_line(hosts, hosts_line, &h);
    free(hosts);
    char *out = h.found;
    if (!out)
        out = lookup_cname(host);
    if (!out)
        out = lookup_reverse(host);
    free(host);
    if (out)
        trim_dots(out, false);
    return out;
}

static char *hostname_from(enum rd_hostname_source src)
{
    char *host = NULL, *out = NULL;
    switch (src) {
    case RD_HN_OS:
        return os_hostname();
    case RD_HN_DNS:
        return fqdn_hostname();
    case RD_HN_CNAME:
        if ((host = os_hostname()))
            out = lookup_cname(host);
        break;
    case RD_HN_LOOKUP:
        if ((host = os_hostname()))
            out = lookup_reverse(host);
        break;
    case RD_HN_COUNT:
        break;
    }
    free(host);
    if (out)
        trim_dots(out, true);
    return out;
}

/* ---- interfaces ---------------------------------------------------------------------------- */

struct iface {
    unsigned index;
    char name[IF_NAMESIZE + 8];
    unsigned flags;
    char mac[64];
};

static int iface_cmp(const void *a, const void *b)
{
    const struct iface *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Interface index of an address entry: its name, or the name before ':' for an IPv4 label. */
static unsigned entry_index(const char *name)
{
    unsigned i = if_nametoindex(name);
    if (i)
        return i;
    char base[IF_NAMESIZE + 8];
    snprintf(base, sizeof base, "%s", name);
    char *c = strchr(base, ':');
    if (c)
        *c = '\0';
    return if_nametoindex(base);
}

static bool ip_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
        return true;
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        return in6->sin6_addr.s6_addr[12] == 127;
    return false;
}

static int push_str(char ***list, size_t *n, const char *s)
{
    char **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l)
        return -1;
    *list = l;
    if (!(l[*n] = strdup(s)))
        return -1;
    (*n)++;
    return 0;
}

/* host.ip and host.mac as Go lists them: interfaces by index, up and not loopback; per
 * interface its IPv4 then IPv6 addresses as the kernel reports them, loopback addresses left
 * out; a MAC of zeros is no MAC (""). */
static int host_addrs(bool want_ip, bool want_mac, struct rd_attr *ips, struct rd_attr *macs,
                      struct error *err)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0)
        return error_set(err, "failed getting host IP addresses: %s", strerror(errno));
    size_t n = 0, cap = 0;
    struct iface *v = NULL;
    int rc = 0;
    for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_PACKET)
            continue;
        const struct sockaddr_ll *ll = (const struct sockaddr_ll *)(const void *)a->ifa_addr;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct iface *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                rc = error_set(err, "out of memory");
                goto out;
            }
            v = nv;
        }
        struct iface *f = &v[n++];
        memset(f, 0, sizeof *f);
        f->index = (unsigned)ll->sll_ifindex;
        f->flags = a->ifa_flags;
        snprintf(f->name, sizeof f->name, "%s", a->ifa_name);
        rd_mac_format(ll->sll_addr, ll->sll_halen, f->mac, sizeof f->mac);
    }
    qsort(v, n, sizeof *v, iface_cmp);
    for (size_t i = 0; i < n; i++) {
        if (!(v[i].flags & IFF_UP) || (v[i].flags & IFF_LOOPBACK))
            continue;
        if (want_mac && push_str(&macs->list, &macs->n, v[i].mac) != 0) {
            rc = error_set(err, "out of memory");
            goto out;
        }
        if (!want_ip)
            continue;
        for (int fam = 0; fam < 2; fam++) {
            int want = fam == 0 ? AF_INET : AF_INET6;
            for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
                if (!a->ifa_addr || a->ifa_addr->sa_family != want ||
                    entry_index(a->ifa_name) != v[i].index || ip_is_loopback(a->ifa_addr))
                    continue;
                char txt[INET6_ADDRSTRLEN];
                const void *src = want == AF_INET
                    ? (const void *)&((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr
                    : (const void *)&((const struct sockaddr_in6 *)(const void *)a->ifa_addr)->sin6_addr;
                if (!inet_ntop(want, src, txt, sizeof txt))
                    continue;
                if (push_str(&ips->list, &ips->n, txt) != 0) {
                    rc = error_set(err, "out of memory");
                    goto out;
                }
            }
        }
    }
out:
    free(v);
    freeifaddrs(ifa);
    return rc;
}

/* ---- the system detector ------------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
#define CPU_UNSUPPORTED NULL
#else
#define CPU_UNSUPPORTED "gopsutil reads this architecture's /proc/cpuinfo with rules llmotlp does " \
                        "not reproduce (it does on x86 only)"
#endif
#define GOPSUTIL_PLATFORM "the Collector takes it from gopsutil's per-distribution platform " \
                          "rules (lsb-release, debian_version, redhat-release, ...), which " \
                          "llmotlp does not reproduce"

const struct rd_sys_attr_info rd_sys_attrs[RD_SYS_ATTR_COUNT] = {
    [RD_HOST_NAME] = {"host.name", true, NULL},
    [RD_OS_TYPE] = {"os.type", true, NULL},
    [RD_OS_VERSION] = {"os.version", false, GOPSUTIL_PLATFORM},
    [RD_HOST_ID] = {"host.id", false, NULL},
    [RD_HOST_ARCH] = {"host.arch", false, NULL},
    [RD_HOST_IP] = {"host.ip", false, NULL},
    [RD_HOST_MAC] = {"host.mac", false, NULL},
    [RD_OS_DESCRIPTION] = {"os.description", false, NULL},
    [RD_OS_NAME] = {"os.name", false, GOPSUTIL_PLATFORM},
    [RD_OS_BUILD_ID] = {"os.build.id", false, NULL},
    [RD_HOST_INTERFACE] = {"host.interface", false,
                           "llmotlp does not list network interfaces as a resource attribute"},
    [RD_CPU_VENDOR_ID] = {"host.cpu.vendor.id", false, CPU_UNSUPPORTED},
    [RD_CPU_FAMILY] = {"host.cpu.family", false, CPU_UNSUPPORTED},
    [RD_CPU_MODEL_ID] = {"host.cpu.model.id", false, CPU_UNSUPPORTED},
    [RD_CPU_MODEL_NAME] = {"host.cpu.model.name", false, CPU_UNSUPPORTED},
    [RD_CPU_STEPPING] = {"host.cpu.stepping", false, CPU_UNSUPPORTED},
    [RD_CPU_CACHE_L2_SIZE] = {"host.cpu.cache.l2.size", false, CPU_UNSUPPORTED},
};

static const char *os_type(void)
{
#if defined(__linux__)
    return "linux";
#elif defined(__FreeBSD__)
    return "freebsd";
#elif defined(__APPLE__)
    return "darwin";
#else
    return "unknown";
#endif
}

/* The OTel Go SDK's host id: the first machine-id file that can be read, trimmed; empty is no
 * id. */
static char *host_id(void)
{
    char *t = read_text("/etc/machine-id");
    if (!t)
        t = read_text("/var/lib/dbus/machine-id");
    if (!t)
        return NULL;
    char *p = t;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    char *out = n ? strndup(p, n) : NULL;
    free(t);
    return out;
}

static char *read_os_release(void)
{
    char *t = read_text("/etc/os-release");
    return t ? t : read_text("/usr/lib/os-release");
}

int rd_system_detect(const struct rd_system_spec *spec, struct rd_resource *out,
                     const char *log_name, struct error *err)
{
    const bool *en = spec->enabled;
    char *hostname = NULL;
    struct utsname u;
    if (uname(&u) != 0)
        return error_set(err, "failed getting OS description: uname: %s", strerror(errno));
    struct rd_attr ips = {.type = RD_STRS}, macs = {.type = RD_STRS};
    if ((en[RD_HOST_IP] || en[RD_HOST_MAC]) &&
        host_addrs(en[RD_HOST_IP], en[RD_HOST_MAC], &ips, &macs, err) != 0) {
        attr_free(&ips);
        attr_free(&macs);
        return -1;
    }
    char *osr = read_os_release();
    char *desc = rd_os_description(osr, u.sysname, u.nodename, u.release, u.version, u.machine);
    char *build = en[RD_OS_BUILD_ID] ? rd_os_build_id(osr, u.release) : NULL;
    free(osr);
    struct rd_cpuinfo cpu = {0};
    bool want_cpu = false;
    for (int a = RD_CPU_VENDOR_ID; a <= RD_CPU_CACHE_L2_SIZE; a++)
        want_cpu |= en[a];
    int rc = 0;
    if (want_cpu) {
        char *t = read_text("/proc/cpuinfo");
        if (!t) {
            rc = error_set(err, "failed getting host cpuinfo: /proc/cpuinfo: %s",
                           strerror(errno));
            goto done;
        }
        rd_cpuinfo_parse(t, &cpu);
        free(t);
    }
    static const enum rd_hostname_source defaults[] = {RD_HN_DNS, RD_HN_OS};
    const enum rd_hostname_source *src = spec->n_sources ? spec->sources : defaults;
    size_t nsrc = spec->n_sources ? spec->n_sources : 2;
    for (size_t i = 0; i < nsrc && !hostname; i++) {
        hostname = hostname_from(src[i]);
        if (!hostname)
            log_debug(log_name, "system detector: hostname source %s failed",
                      rd_hostname_source_names[src[i]]);
    }
    if (!hostname) {
        rc = error_set(err, "all hostname sources failed to get hostname");
        goto done;
    }
#define OK(x) do { if ((x) != 0) { rc = error_set(err, "out of memory"); goto done; } } while (0)
    if (en[RD_HOST_NAME])
        OK(put_str(out, "host.name", hostname));
    if (en[RD_OS_TYPE])
        OK(put_str(out, "os.type", os_type()));
    if (en[RD_HOST_ID]) {
        char *id = host_id();
        if (id)
            OK(put_str(out, "host.id", id));
        else
            log_warn(log_name, "failed to get host ID: neither /etc/machine-id nor "
                               "/var/lib/dbus/machine-id holds one");
        free(id);
    }
    if (en[RD_HOST_ARCH])
        OK(put_str(out, "host.arch", rd_host_arch()));
    if (en[RD_HOST_IP]) {
        OK(!(ips.key = strdup("host.ip")));
        OK(rd_resource_put(out, &ips, true));
    }
    if (en[RD_HOST_MAC]) {
        OK(!(macs.key = strdup("host.mac")));
        OK(rd_resource_put(out, &macs, true));
    }
    if (en[RD_OS_DESCRIPTION])
        OK(!desc || put_str(out, "os.description", desc));
    if (en[RD_OS_BUILD_ID])
        OK(!build || put_str(out, "os.build.id", build));
    if (want_cpu && cpu.found) {
        if (en[RD_CPU_VENDOR_ID])
            OK(put_str(out, "host.cpu.vendor.id", cpu.vendor_id));
        if (en[RD_CPU_FAMILY])
            OK(put_str(out, "host.cpu.family", cpu.family));
        if (en[RD_CPU_MODEL_ID] && cpu.model[0])
            OK(put_str(out, "host.cpu.model.id", cpu.model));
        if (en[RD_CPU_MODEL_NAME])
            OK(put_str(out, "host.cpu.model.name", cpu.model_name));
        if (en[RD_CPU_STEPPING]) {
            char st[32];
            snprintf(st, sizeof st, "%" PRId64, cpu.stepping);
            OK(put_str(out, "host.cpu.stepping", st));
        }
        if (en[RD_CPU_CACHE_L2_SIZE])
            OK(put_int(out, "host.cpu.cache.l2.size", cpu.cache_size));
    }
#undef OK
    free(out->schema_url);
    if (!(out->schema_url = strdup(SCHEMA_URL_1_6_1)))
        rc = error_set(err, "out of memory");
done:
    free(hostname);
    free(desc);
    free(build);
    attr_free(&ips);
    attr_free(&macs);
    if (rc != 0)
        rd_resource_free(out);
    return rc;
}

/* lb_ring.c — the consistent hash ring and the backend lists of the `loadbalancing` exporter,
 * bit for bit the Collector's, so that llmotlp and Collectors in one routing tier send a key to
 * the same backend.
 *
 * The one idea: a ring is 36000 positions; each endpoint takes up to 100 of them, position i
 * being crc32(endpoint bytes, then the byte i) % 36000, first taker wins in the sorted endpoint
 * order; a key goes to the first position at or after crc32(key) % 36000, wrapping around. Only
 * the positions of a leaving or joining endpoint change owner, about 1/n of the keys. */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <zlib.h>

#include "exporters/loadbalancing/loadbalancing.h"

static int item_cmp(const void *a, const void *b)
{
    const struct lb_ring_item *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

struct lb_ring *lb_ring_new(const char *const *endpoints, size_t n, int weight)
{
    struct lb_ring *r = calloc(1, sizeof *r);
    uint8_t *taken = calloc(LB_RING_MAX_POSITIONS, 1);
    if (!r || !taken || weight < 0 || weight > 256)
        goto oom;
    if (n && weight) {
        r->items = calloc(n * (size_t)weight, sizeof *r->items);
        if (!r->items)
            goto oom;
    }
    for (size_t e = 0; e < n; e++) {
        size_t len = strlen(endpoints[e]);
        uLong base = crc32(0L, (const Bytef *)endpoints[e], (uInt)len);
        for (int i = 0; i < weight; i++) {
            uint8_t byte = (uint8_t)i;
            uint32_t pos = (uint32_t)crc32(base, &byte, 1) % LB_RING_MAX_POSITIONS;
            if (taken[pos])
                continue;
            taken[pos] = 1;
            r->items[r->n++] = (struct lb_ring_item){.pos = pos, .endpoint = (uint32_t)e};
        }
    }
    free(taken);
    qsort(r->items, r->n, sizeof *r->items, item_cmp);
    return r;
oom:
    free(taken);
    lb_ring_free(r);
    return NULL;
}

void lb_ring_free(struct lb_ring *r)
{
    if (!r)
        return;
    free(r->items);
    free(r);
}

int lb_ring_find(const struct lb_ring *r, uint32_t pos)
{
    if (!r || r->n == 0)
        return -1;
    size_t lo = 0, hi = r->n; /* first item with item.pos >= pos */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->items[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int)r->items[lo == r->n ? 0 : lo].endpoint;
}

int lb_ring_lookup(const struct lb_ring *r, const uint8_t *key, size_t len)
{
    uint32_t h = (uint32_t)crc32(0L, len ? key : (const Bytef *)"", (uInt)len);
    return lb_ring_find(r, h % LB_RING_MAX_POSITIONS);
}

/* ---- endpoint lists -------------------------------------------------------------------------- */

void lb_endpoints_free(struct lb_endpoints *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->items[i]);
    free(e->items);
    e->items = NULL;
    e->n = 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts and drops duplicates in place. */
static void sort_unique(struct lb_endpoints *e)
{
    qsort(e->items, e->n, sizeof *e->items, str_cmp);
    size_t w = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (w && strcmp(e->items[w - 1], e->items[i]) == 0) {
            free(e->items[i]);
            continue;
        }
        e->items[w++] = e->items[i];
    }
    e->n = w;
}

int lb_endpoints_from(struct lb_endpoints *out, const char *const *names, size_t n)
{
    memset(out, 0, sizeof *out);
    out->items = calloc(n ? n : 1, sizeof *out->items);
    if (!out->items)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out->items[i] = strdup(names[i]);
        if (!out->items[i]) {
            out->n = i;
            lb_endpoints_free(out);
            return -1;
        }
        out->n = i + 1;
    }
    /* The Collector's static resolver sorts but keeps duplicates; a duplicate adds no position to
     * the ring (first taker wins), so dropping it routes the same. */
    sort_unique(out);
    return 0;
}

bool lb_endpoints_equal(const struct lb_endpoints *a, const struct lb_endpoints *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    return true;
}

int lb_endpoints_resolve(struct lb_endpoints *out, const char *hostname, const char *port,
                         struct error *err)
{
    memset(out, 0, sizeof *out);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(hostname, NULL, &hints, &res);
    if (rc != 0)
        return error_set(err, "cannot resolve %s: %s", hostname, gai_strerror(rc));
    size_t cap = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        cap++;
    out->items = calloc(cap ? cap : 1, sizeof *out->items);
    if (!out->items) {
        freeaddrinfo(res);
        return error_set(err, "out of memory");
    }
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char ip[INET6_ADDRSTRLEN], ep[INET6_ADDRSTRLEN + 16];
        if (a->ai_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, ip, sizeof ip);
            snprintf(ep, sizeof ep, "%s", ip);
        } else if (a->ai_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, ip, sizeof ip);
            snprintf(ep, sizeof ep, "[%s]", ip);
        } else {
            continue;
        }
        size_t l = strlen(ep);
        if (port && *port)
            snprintf(ep + l, sizeof ep - l, ":%s", port);
        out->items[out->n] = strdup(ep);
        if (!out->items[out->n]) {
            freeaddrinfo(res);
            lb_endpoints_free(out);
            return error_set(err, "out of memory");
        }
        out->n++;
    }
    freeaddrinfo(res);
    sort_unique(out);
    return 0;
}

const char *lb_endpoint_with_port(const char *endpoint, char *buf, size_t len)
{
    if (strchr(endpoint, ':'))
        snprintf(buf, len, "%s", endpoint);
    else
        snprintf(buf, len, "%s:4317", endpoint);
    return buf;
}

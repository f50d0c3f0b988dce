/* loadbalancing.h — the `loadbalancing` exporter (the Collector's exporter of that name): each
 * item goes to the backend that a consistent hash ring picks for its routing key, so a tier of
 * routers (llmotlp and Collectors mixed) sends a whole trace to one tail sampler.
 *
 * The pieces are exposed for the unit tests: the ring (lb_ring_*), the identities that
 * routing_key resource and streamID hash (lb_map_hash, lb_id_*), the routing of one request into
 * per-backend requests (lb_route_split), the resolvers' endpoint lists (lb_endpoints_*).
 * Ownership: what a function returns is the caller's to free with the matching *_free.
 * Thread-safety: a ring is immutable once built (any thread may look up); the rest keeps no
 * state. */
#ifndef LLMOTLP_LOADBALANCING_H
#define LLMOTLP_LOADBALANCING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "exporters/otlp/otlp_exporter.h"
#include "opentelemetry/proto/metrics/v1/metrics.pb-c.h"

/* The Collector's constants: 36000 positions (360 degrees, two decimals), 100 per endpoint. */
#define LB_RING_MAX_POSITIONS 36000u
#define LB_RING_WEIGHT 100

enum lb_routing_key {
    LB_KEY_TRACE_ID = 0,
    LB_KEY_SERVICE,
    LB_KEY_METRIC,
    LB_KEY_RESOURCE,   /* metrics only */
    LB_KEY_STREAM_ID,  /* metrics only */
    LB_KEY_ATTRIBUTES, /* refused at validate */
    LB_KEY_DEFAULT,    /* not written: traceID for traces and logs, service for metrics */
};

struct lb_static_config {
    struct config_str_list hostnames;
};
struct lb_dns_config {
    char *hostname;
    char *port;
    int64_t interval;  /* ns, default 5s */
    int64_t timeout;   /* ns, default 1s */
};
struct lb_resolver_config {
    bool static_present;
    struct lb_static_config static_;
    bool dns_present;
    struct lb_dns_config dns;
    const struct cnode *k8s;           /* refused */
    const struct cnode *aws_cloud_map; /* refused */
};
struct lb_protocol_config {
    struct otlp_exporter_config otlp;
};
struct lb_config {
    struct lb_protocol_config protocol;
    struct lb_resolver_config resolver;
    char *routing_key;
    const struct cnode *routing_attributes; /* refused */
    const struct cnode *timeout;            /* refused: per backend under protocol.otlp */
    const struct cnode *retry_on_failure;   /* refused: idem */
    const struct cnode *sending_queue;      /* refused: idem */
    const struct cnode *spa_per_endpoint;   /* refused */
};

extern const struct config_field lb_config_fields[];
extern const struct component_factory loadbalancing_exporter_factory;

/* "traceID" ... to the enum; LB_KEY_DEFAULT for NULL or ""; -1 for an unknown word. */
int lb_routing_key_parse(const char *s);

/* ---- ring ---------------------------------------------------------------------------------- */

struct lb_ring_item {
    uint32_t pos;
    uint32_t endpoint; /* index into the endpoint list the ring was built from */
};
struct lb_ring {
    size_t n;
    struct lb_ring_item *items; /* sorted by pos, positions unique */
};

/* The positions of `endpoints` (in the given order; the resolvers sort them), `weight` each:
 * crc32(endpoint bytes followed by one byte i) % 36000 for i in [0, weight); a position already
 * taken (by an earlier endpoint or an earlier i) is skipped. NULL on out of memory. */
struct lb_ring *lb_ring_new(const char *const *endpoints, size_t n, int weight);
void lb_ring_free(struct lb_ring *r);
/* The endpoint index for a position: the first item at or after pos, wrapping to the first.
 * -1 for an empty ring. */
int lb_ring_find(const struct lb_ring *r, uint32_t pos);
/* crc32(key) % 36000, then lb_ring_find. */
int lb_ring_lookup(const struct lb_ring *r, const uint8_t *key, size_t len);

/* ---- identities (routing_key resource and streamID) ----------------------------------------- */

/* The Collector's identities of contrib v0.115 (internal/exp/metrics/identity), so a resource or
 * a stream hashes to the same ring position as in a Collector. An identity is an FNV-1a 64 state:
 * resource = fnv(MapHash(resource attributes)); scope = resource + name + version +
 * MapHash(scope attributes); metric = scope + name + unit + {type, monotonic, temporality};
 * stream = metric + MapHash(data point attributes). The routing string is lb_id_key's
 * "resource/<hex>" or "stream/<hex>". The lb_id_* functions return 0, or -1 on out of memory;
 * none keeps state. */
#define LB_FNV64A_INIT 14695981039346656037ULL
#define LB_ID_KEY_MAX 32
uint64_t lb_fnv64a(uint64_t state, const void *p, size_t n);
/* pdatautil.MapHash: attributes sorted by key, serialised with tag bytes, XXH64 (seed 0) of the
 * buffer then of the buffer plus 0xf3, both little-endian into out; no attributes: 16 zeros. */
int lb_map_hash(Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n,
                uint8_t out[16]);
int lb_id_resource(const Opentelemetry__Proto__Resource__V1__Resource *res, uint64_t *state);
int lb_id_scope(uint64_t resource, const Opentelemetry__Proto__Common__V1__InstrumentationScope *s,
                uint64_t *state);
uint64_t lb_id_metric(uint64_t scope, const Opentelemetry__Proto__Metrics__V1__Metric *m);
int lb_id_stream(uint64_t metric, Opentelemetry__Proto__Common__V1__KeyValue *const *attrs,
                 size_t n, uint64_t *state);
/* prefix "/" state in lowercase hex, no padding (Go's %x); returns the length. */
size_t lb_id_key(char out[LB_ID_KEY_MAX], const char *prefix, uint64_t state);

/* ---- endpoints ----------------------------------------------------------------------------- */

struct lb_endpoints {
    size_t n;
    char **items; /* sorted bytewise, as Go's sort.Strings; no duplicates */
};
void lb_endpoints_free(struct lb_endpoints *e);
/* Copies and sorts (the static resolver). 0 or -1 on out of memory. */
int lb_endpoints_from(struct lb_endpoints *out, const char *const *names, size_t n);
bool lb_endpoints_equal(const struct lb_endpoints *a, const struct lb_endpoints *b);
/* The DNS resolver's list for `hostname`: every address getaddrinfo gives (IPv6 in brackets),
 * followed by ":port" when port is non-empty, sorted, without duplicates. 0, or -1 with err when
 * the name does not resolve. */
int lb_endpoints_resolve(struct lb_endpoints *out, const char *hostname, const char *port,
                         struct error *err);
/* The exporter's endpoint: as is when it holds a ':', else with ":4317" (the Collector's
 * endpointWithPort). Writes into buf. */
const char *lb_endpoint_with_port(const char *endpoint, char *buf, size_t len);

/* ---- routing ------------------------------------------------------------------------------- */

/* One per-backend request of a split. */
struct lb_part {
    int endpoint;        /* index into the ring's endpoint list */
    struct batch *batch; /* one ref, the caller's */
};

/* Routes batch b of its signal with key (resolved for the signal: not LB_KEY_DEFAULT) through
 * ring r: items whose key hashes to the same endpoint go into one request, each trace (or
 * service, resource, metric) whole, nothing duplicated, resource and scope repeated as needed;
 * with LB_KEY_STREAM_ID the unit is the data point (a metric is repeated with the points of each
 * backend). When
 * every item goes to one endpoint the part is b itself (a new ref, not re-encoded). Items that
 * have no value for the key (service routing without service.name) are left out, counted in
 * *dropped and rejected on b with a reason (OTLP partial success). Log records without a trace
 * ID go to a random backend, as in the Collector. *parts is malloc'd (free with
 * lb_parts_free). 0, or -1 with err (err->code 1: the key does not apply to the signal or the
 * request does not decode; 2: out of memory). */
int lb_route_split(struct batch *b, enum lb_routing_key key, const struct lb_ring *r,
                   struct lb_part **parts, size_t *n_parts, uint64_t *dropped, struct error *err);
void lb_parts_free(struct lb_part *parts, size_t n);

/* Makes names (sorted here) the backend list of a started instance, as a resolver does when the
 * list changes: new backends start, backends that left re-route what they hold. For tests; the
 * resolvers call the same path. 0 or -1 on out of memory. Not concurrent with a resolver. */
int lb_set_endpoints(void *instance, const char *const *names, size_t n);

#endif

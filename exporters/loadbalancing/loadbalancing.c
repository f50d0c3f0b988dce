/* loadbalancing.c — the `loadbalancing` exporter: config (the Collector's keys), the backends
 * (one otlp exporter instance each, with its own queue and retry), the resolvers (static, dns)
 * and what happens when the backend list changes.
 *
 * The one idea: every backend's queue is drained through a hook that first asks "is my backend
 * still in the ring?". While it is, the hook sends (a backend that is down keeps its data queued
 * and retried, as the otlp exporter does). Once it has left, the hook routes each batch it still
 * holds through the current ring into the queues of the remaining backends, so a membership change
 * loses nothing that was acknowledged; the Collector instead shuts the leaving exporter down
 * (https://github.com/open-telemetry/opentelemetry-collector-contrib/issues/1690). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/telemetry.h"
#include "exporters/loadbalancing/loadbalancing.h"

#define CFG_OFF(f) offsetof(struct lb_config, f)
#define RES_OFF(f) offsetof(struct lb_resolver_config, f)

/* How long a leaving backend's queue may take to move its batches to the new ring. */
#define LB_RETIRE_DRAIN_NS (30LL * 1000000000LL)

static const struct config_field lb_static_fields[] = {
    {.name = "hostnames", .type = CFG_STRING_LIST,
     .offset = offsetof(struct lb_static_config, hostnames),
     .doc = "backends as host:port (no port: 4317); their order does not matter (sorted)"},
    {.name = NULL},
};

static const struct config_field lb_dns_fields[] = {
    {.name = "hostname", .type = CFG_STRING, .offset = offsetof(struct lb_dns_config, hostname),
     .doc = "name whose addresses are the backends (a headless Service in Kubernetes)"},
    {.name = "port", .type = CFG_STRING, .offset = offsetof(struct lb_dns_config, port),
     .doc = "port added to each address (empty: the address alone is hashed and 4317 is used)"},
    {.name = "interval", .type = CFG_DURATION, .offset = offsetof(struct lb_dns_config, interval),
     .def = "5s", .doc = "time between resolutions"},
    {.name = "timeout", .type = CFG_DURATION, .offset = offsetof(struct lb_dns_config, timeout),
     .def = "1s", .doc = "time limit of one resolution",
     .no_effect = "resolution uses the system resolver (getaddrinfo), whose own timeout and "
                  "attempts from resolv.conf apply",
     .harmless = "1s"},
    {.name = NULL},
};

static const struct config_field lb_resolver_fields[] = {
    {.name = "static", .type = CFG_PRESENCE, .offset = RES_OFF(static_),
     .present_offset = RES_OFF(static_present), .sub = lb_static_fields,
     .doc = "a fixed list of backends"},
    {.name = "dns", .type = CFG_PRESENCE, .offset = RES_OFF(dns),
     .present_offset = RES_OFF(dns_present), .sub = lb_dns_fields,
     .doc = "backends from a DNS name, resolved again every interval"},
    {.name = "k8s", .type = CFG_RAW, .offset = RES_OFF(k8s),
     .doc = "not supported by llmotlp: use dns with a headless Service"},
    {.name = "aws_cloud_map", .type = CFG_RAW, .offset = RES_OFF(aws_cloud_map),
     .doc = "not supported by llmotlp: use dns"},
    {.name = NULL},
};

static const struct config_field lb_protocol_fields[] = {
    {.name = "otlp", .type = CFG_SECTION, .offset = offsetof(struct lb_protocol_config, otlp),
     .sub = otlp_exporter_template_fields,
     .doc = "the otlp exporter's settings for every backend (each backend gets its own queue "
            "and retry)"},
    {.name = NULL},
};

const struct config_field lb_config_fields[] = {
    {.name = "protocol", .type = CFG_SECTION, .offset = CFG_OFF(protocol),
     .sub = lb_protocol_fields, .doc = "how backends are reached: otlp only, as in the Collector"},
    {.name = "resolver", .type = CFG_SECTION, .offset = CFG_OFF(resolver),
     .sub = lb_resolver_fields, .doc = "where the list of backends comes from: static or dns"},
    {.name = "routing_key", .type = CFG_STRING, .offset = CFG_OFF(routing_key),
     .doc = "traceID (default for traces and logs) or service; metrics: service (default), "
            "resource, metric or streamID (one data point stream)"},
    {.name = "routing_attributes", .type = CFG_RAW, .offset = CFG_OFF(routing_attributes),
     .doc = "not supported by llmotlp (routing_key attributes)"},
    {.name = "timeout", .type = CFG_RAW, .offset = CFG_OFF(timeout),
     .doc = "not supported here: set protocol.otlp.timeout"},
    {.name = "retry_on_failure", .type = CFG_RAW, .offset = CFG_OFF(retry_on_failure),
     .doc = "not supported here: set protocol.otlp.retry_on_failure"},
    {.name = "sending_queue", .type = CFG_RAW, .offset = CFG_OFF(sending_queue),
     .doc = "not supported here: set protocol.otlp.sending_queue"},
    {.name = "spa_per_endpoint", .type = CFG_RAW, .offset = CFG_OFF(spa_per_endpoint),
     .doc = "not supported by llmotlp"},
    {.name = NULL},
};

int lb_routing_key_parse(const char *s)
{
    static const char *const names[] = {"traceID", "service", "metric", "resource", "streamID",
                                        "attributes"};
    if (!s || !*s)
        return LB_KEY_DEFAULT;
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static bool raw_set(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

static int lb_validate(const void *cfgp, struct error *err)
{
    const struct lb_config *c = cfgp;
    const struct lb_resolver_config *r = &c->resolver;
    if (raw_set(r->k8s))
        return error_set(err, "resolver.k8s: not supported by llmotlp: use resolver.dns with a "
                              "headless service (hostname: <service>.<namespace>.svc.cluster.local)");
    if (raw_set(r->aws_cloud_map))
        return error_set(err, "resolver.aws_cloud_map: not supported by llmotlp: use resolver.dns "
                              "with a headless service");
    if (r->static_present + r->dns_present == 0)
        return error_set(err, "resolver: no resolver specified; set resolver.static or "
                              "resolver.dns");
    if (r->static_present && r->dns_present)
        return error_set(err, "resolver: only one resolver should be specified (static or dns)");
    if (r->static_present && r->static_.hostnames.n == 0)
        return error_set(err, "resolver.static.hostnames: no endpoints specified for the static "
                              "resolver");
    for (size_t i = 0; r->static_present && i < r->static_.hostnames.n; i++)
        if (!r->static_.hostnames.items[i] || !*r->static_.hostnames.items[i])
            return error_set(err, "resolver.static.hostnames: an empty hostname");
    if (r->dns_present && (!r->dns.hostname || !*r->dns.hostname))
        return error_set(err, "resolver.dns.hostname: no hostname specified to resolve the "
                              "backends");
    if (r->dns_present && r->dns.interval <= 0)
        return error_set(err, "resolver.dns.interval: must be positive");
    int key = lb_routing_key_parse(c->routing_key);
    if (key < 0)
        return error_set(err, "routing_key: unsupported value \"%s\"; expected traceID, service, "
                              "resource, metric or streamID", c->routing_key);
    if (key == LB_KEY_ATTRIBUTES)
        return error_set(err, "routing_key: \"%s\" is not supported by llmotlp; use traceID, "
                              "service, resource, metric or streamID", c->routing_key);
    if (raw_set(c->routing_attributes))
        return error_set(err, "routing_attributes: not supported by llmotlp (routing_key "
                              "attributes is not supported)");
    if (raw_set(c->timeout))
        return error_set(err, "timeout: not supported by llmotlp at this level: set "
                              "protocol.otlp.timeout (each backend has its own)");
    if (raw_set(c->retry_on_failure))
        return error_set(err, "retry_on_failure: not supported by llmotlp at this level: set "
                              "protocol.otlp.retry_on_failure (each backend retries on its own)");
    if (raw_set(c->sending_queue))
        return error_set(err, "sending_queue: not supported by llmotlp at this level: set "
                              "protocol.otlp.sending_queue (each backend has its own queue)");
    if (raw_set(c->spa_per_endpoint))
        return error_set(err, "spa_per_endpoint: not supported by llmotlp");
    const struct otlp_exporter_config *o = &c->protocol.otlp;
    if (o->sending_queue.storage && *o->sending_queue.storage)
        return error_set(err, "protocol.otlp.sending_queue.storage: not supported by llmotlp "
                              "with loadbalancing (backends come and go; their queues are in "
                              "memory)");
    if (o->has_auth)
        return error_set(err, "protocol.otlp.auth: not supported by llmotlp with loadbalancing; "
                              "use protocol.otlp.headers");
    /* the otlp exporter's own checks, with a stand-in for the endpoint the resolver gives */
    struct otlp_exporter_config t = *o;
    t.endpoint = "backend:4317";
    if (otlp_exporter_factory.validate(&t, err) != 0) {
        error_prefix(err, "protocol.otlp.");
        return -1;
    }
    return 0;
}

/* ---- instance -------------------------------------------------------------------------------- */

struct lb;

struct lb_backend {
    struct lb *lb;
    char *endpoint;                  /* as resolved: the string the ring hashes */
    struct otlp_exporter_config cfg; /* the template with this backend's endpoint */
    char *id, *log_name;
    void *otlp;                      /* otlp exporter instance */
    atomic_bool member;              /* false once it left the ring: its queue re-routes */
    _Atomic uint64_t *ok, *failed;   /* otelcol_loadbalancer_backend_outcome */
    pthread_t retire_th;
    atomic_bool retired_done;
    struct lb_backend *next;         /* in lb->retiring */
};

struct lb {
    const struct lb_config *cfg;
    struct component_env env;
    char *id, *log_name;
    int key;                         /* enum lb_routing_key as written (LB_KEY_DEFAULT too) */
    const char *resolver_name;       /* "static" or "dns" */
    pthread_rwlock_t lock;           /* guards eps, ring, backends */
    struct lb_endpoints eps;
    struct lb_ring *ring;
    struct lb_backend **backends;    /* parallel to eps.items */
    pthread_mutex_t mu;              /* guards retiring, stopping; with cv */
    pthread_cond_t cv;
    struct lb_backend *retiring;
    bool stopping, dns_running;
    pthread_t dns_th;
    _Atomic uint64_t *res_ok, *res_failed, *updates;
    _Atomic int64_t *num_backends;
    _Atomic uint64_t *rerouted;
    atomic_int warned_key;
};

static void backend_free(struct lb_backend *be)
{
    if (!be)
        return;
    if (be->otlp)
        otlp_exporter_factory.destroy(be->otlp);
    free(be->cfg.endpoint);
    free(be->endpoint);
    free(be->id);
    free(be->log_name);
    free(be);
}

static enum consume_status lb_dispatch(struct lb *lb, struct batch *b, struct error *err);

/* Each attempt of a backend's queue: send while a member, re-route once it has left. */
static enum send_result backend_hook(void *ctx, struct batch *b, int64_t *throttle_ns,
                                     struct error *err)
{
    struct lb_backend *be = ctx;
    if (atomic_load(&be->member)) {
        enum send_result r = otlp_exporter_send(be->otlp, b, throttle_ns, err);
        telemetry_add(r == SEND_OK ? be->ok : be->failed, 1);
        return r;
    }
    /* The helper may hand us a piece it made itself and frees after the call: route a copy. */
    const uint8_t *data;
    size_t len;
    if (batch_encoded(b, &data, &len, err) != 0)
        return SEND_PERMANENT;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        error_set(err, "out of memory");
        return SEND_RETRYABLE;
    }
    memcpy(copy, data, len);
    struct batch *c = batch_adopt_wire(b->signal, copy, len, b->items);
    if (!c) {
        error_set(err, "out of memory");
        return SEND_RETRYABLE;
    }
    enum consume_status st = lb_dispatch(be->lb, c, err);
    batch_unref(c);
    if (st == CONSUME_OK) {
        telemetry_add(be->lb->rerouted, b->items);
        return SEND_OK;
    }
    if (st == CONSUME_REJECT)
        return SEND_PERMANENT;
    error_prefix(err, "re-routing what was queued for %s (no longer a backend): ", be->endpoint);
    return SEND_RETRYABLE;
}

static struct lb_backend *backend_new(struct lb *lb, const char *endpoint, struct error *err)
{
    struct lb_backend *be = calloc(1, sizeof *be);
    if (!be)
        goto oom;
    be->lb = lb;
    be->cfg = lb->cfg->protocol.otlp;
    char ep[512];
    lb_endpoint_with_port(endpoint, ep, sizeof ep);
    be->endpoint = strdup(endpoint);
    be->cfg.endpoint = strdup(ep);
    size_t il = strlen(lb->id) + strlen(ep) + 2;
    be->id = malloc(il);
    be->log_name = malloc(il + 16);
    if (!be->endpoint || !be->cfg.endpoint || !be->id || !be->log_name)
        goto oom;
    snprintf(be->id, il, "%s/%s", lb->id, ep);
    snprintf(be->log_name, il + 16, "exporter/%s", be->id);
    atomic_store(&be->member, true);
    char labels[600];
    snprintf(labels, sizeof labels, "endpoint=\"%s\",success=\"true\"", ep);
    be->ok = telemetry_counter(lb->env.telemetry, "otelcol_loadbalancer_backend_outcome", labels,
                               "Attempts to send to each backend, by outcome");
    snprintf(labels, sizeof labels, "endpoint=\"%s\",success=\"false\"", ep);
    be->failed = telemetry_counter(lb->env.telemetry, "otelcol_loadbalancer_backend_outcome",
                                   labels, "Attempts to send to each backend, by outcome");
    struct component_env env = lb->env;
    env.id = be->id;
    env.log_name = be->log_name;
    be->otlp = otlp_exporter_create_hooked(&be->cfg, &env, backend_hook, be, err);
    if (!be->otlp) {
        backend_free(be);
        return NULL;
    }
    if (otlp_exporter_factory.start(be->otlp, err) != 0) {
        backend_free(be);
        return NULL;
    }
    return be;
oom:
    backend_free(be);
    error_set(err, "out of memory");
    return NULL;
}

/* A leaving backend: its queue drains through the hook (which now re-routes), then it goes. */
static void *retire_main(void *p)
{
    struct lb_backend *be = p;
    otlp_exporter_factory.shutdown(be->otlp, clock_now_ns() + LB_RETIRE_DRAIN_NS);
    /* no dispatch still holds a pointer to it once we got the write lock */
    pthread_rwlock_wrlock(&be->lb->lock);
    pthread_rwlock_unlock(&be->lb->lock);
    atomic_store(&be->retired_done, true);
    return NULL;
}

/* Joins and frees the retired backends that are done (all of them when `all`). Under lb->mu. */
static void reap_retiring(struct lb *lb, bool all)
{
    struct lb_backend **pp = &lb->retiring;
    while (*pp) {
        struct lb_backend *be = *pp;
        if (all || atomic_load(&be->retired_done)) {
            pthread_join(be->retire_th, NULL);
            *pp = be->next;
            backend_free(be);
        } else {
            pp = &be->next;
        }
    }
}

/* Makes `eps` (taken over) the backend list: new backends are created and started first, then
 * ring and list are swapped under the write lock, then the leaving ones start re-routing. */
static void apply_endpoints(struct lb *lb, struct lb_endpoints *eps)
{
    pthread_rwlock_rdlock(&lb->lock);
    bool same = lb->ring && lb_endpoints_equal(&lb->eps, eps);
    pthread_rwlock_unlock(&lb->lock);
    if (same) {
        lb_endpoints_free(eps);
        return;
    }
    struct lb_ring *ring = lb_ring_new((const char *const *)eps->items, eps->n, LB_RING_WEIGHT);
    struct lb_backend **nb = calloc(eps->n ? eps->n : 1, sizeof *nb);
    if (!ring || !nb) {
        log_error(lb->log_name, "out of memory while updating the backends; keeping the old list");
        lb_ring_free(ring);
        free(nb);
        lb_endpoints_free(eps);
        return;
    }
    /* Only the resolver thread (or start) changes the list, so reading it here is safe. */
    for (size_t i = 0; i < eps->n; i++)
        for (size_t j = 0; j < lb->eps.n; j++)
            if (lb->backends[j] && strcmp(lb->eps.items[j], eps->items[i]) == 0)
                nb[i] = lb->backends[j];
    size_t n_ok = 0;
    for (size_t i = 0; i < eps->n; i++) {
        if (!nb[i]) {
            struct error e = {0};
            nb[i] = backend_new(lb, eps->items[i], &e);
            if (!nb[i])
                log_error(lb->log_name, "backend %s: %s", eps->items[i], e.msg);
        }
        n_ok += nb[i] != NULL;
    }
    if (n_ok < eps->n) {
        /* the ring must only name backends that exist: rebuild it over those */
        size_t w = 0;
        for (size_t i = 0; i < eps->n; i++) {
            if (nb[i]) {
                eps->items[w] = eps->items[i];
                nb[w++] = nb[i];
            } else {
                free(eps->items[i]);
            }
        }
        eps->n = w;
        lb_ring_free(ring);
        ring = lb_ring_new((const char *const *)eps->items, eps->n, LB_RING_WEIGHT);
    }

    pthread_rwlock_wrlock(&lb->lock);
    struct lb_endpoints old_eps = lb->eps;
    struct lb_backend **old = lb->backends;
    struct lb_ring *old_ring = lb->ring;
    lb->eps = *eps;
    lb->backends = nb;
    lb->ring = ring;
    for (size_t j = 0; j < old_eps.n; j++) {
        bool kept = false;
        for (size_t i = 0; i < lb->eps.n && !kept; i++)
            kept = old[j] == nb[i];
        if (!kept && old[j])
            atomic_store(&old[j]->member, false);
        else
            old[j] = NULL;
    }
    pthread_rwlock_unlock(&lb->lock);

    telemetry_add(lb->updates, 1);
    telemetry_set(lb->num_backends, (int64_t)lb->eps.n);
    log_info(lb->log_name, "backends (%s resolver): %zu", lb->resolver_name, lb->eps.n);
    pthread_mutex_lock(&lb->mu);
    reap_retiring(lb, false);
    for (size_t j = 0; j < old_eps.n; j++) {
        if (!old[j])
            continue;
        log_info(lb->log_name, "backend %s left: what is queued for it goes to the new ring",
                 old[j]->endpoint);
        if (pthread_create(&old[j]->retire_th, NULL, retire_main, old[j]) != 0) {
            retire_main(old[j]); /* cannot happen in practice; drain here rather than leak */
            backend_free(old[j]);
            continue;
        }
        old[j]->next = lb->retiring;
        lb->retiring = old[j];
    }
    pthread_mutex_unlock(&lb->mu);
    lb_ring_free(old_ring);
    free(old);
    lb_endpoints_free(&old_eps);
    memset(eps, 0, sizeof *eps);
}

int lb_set_endpoints(void *instance, const char *const *names, size_t n)
{
    struct lb_endpoints eps;
    if (lb_endpoints_from(&eps, names, n) != 0)
        return -1;
    apply_endpoints(instance, &eps);
    return 0;
}

static enum lb_routing_key key_for(const struct lb *lb, enum signal s)
{
    if (lb->key != LB_KEY_DEFAULT)
        return (enum lb_routing_key)lb->key;
    return s == SIGNAL_METRICS ? LB_KEY_SERVICE : LB_KEY_TRACE_ID;
}

static enum consume_status lb_dispatch(struct lb *lb, struct batch *b, struct error *err)
{
    struct lb_part *parts = NULL;
    size_t n = 0;
    uint64_t dropped = 0;
    enum consume_status worst = CONSUME_OK;
    pthread_rwlock_rdlock(&lb->lock);
    if (lb_route_split(b, key_for(lb, b->signal), lb->ring, &parts, &n, &dropped, err) != 0) {
        pthread_rwlock_unlock(&lb->lock);
        return err->code == 1 ? CONSUME_REJECT : CONSUME_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        struct lb_backend *be = lb->backends[parts[i].endpoint];
        enum consume_status st = otlp_exporter_factory.consume(be->otlp, parts[i].batch);
        if (st != CONSUME_OK) {
            error_set(err, "backend %s cannot take more now", be->endpoint);
            if (worst == CONSUME_OK || st == CONSUME_RETRY)
                worst = st;
        }
    }
    pthread_rwlock_unlock(&lb->lock);
    lb_parts_free(parts, n);
    return worst;
}

static enum consume_status lb_consume(void *self, struct batch *b)
{
    struct lb *lb = self;
    struct error err = {0};
    enum consume_status st = lb_dispatch(lb, b, &err);
    if (st == CONSUME_REJECT && atomic_exchange(&lb->warned_key, 1) == 0)
        log_error(lb->log_name, "%s refused: %s", signal_name(b->signal), err.msg);
    else if (st == CONSUME_RETRY)
        log_debug(lb->log_name, "%s not taken (sender retries): %s", signal_name(b->signal),
                  err.msg);
    /* A part that was taken while another was not is sent again with the retry: at least once. */
    return st;
}

/* ---- resolvers ------------------------------------------------------------------------------- */

static void resolve_dns_once(struct lb *lb)
{
    const struct lb_dns_config *d = &lb->cfg->resolver.dns;
    struct lb_endpoints eps;
    struct error err = {0};
    if (lb_endpoints_resolve(&eps, d->hostname, d->port, &err) != 0) {
        telemetry_add(lb->res_failed, 1);
        log_warn(lb->log_name, "dns resolver: %s (keeping %zu backends)", err.msg, lb->eps.n);
        return;
    }
    telemetry_add(lb->res_ok, 1);
    apply_endpoints(lb, &eps);
}

static void *dns_main(void *p)
{
    struct lb *lb = p;
    pthread_mutex_lock(&lb->mu);
    while (!lb->stopping) {
        int64_t at = clock_now_ns() + lb->cfg->resolver.dns.interval;
        struct timespec ts = {.tv_sec = (time_t)(at / 1000000000), .tv_nsec = (long)(at % 1000000000)};
        while (!lb->stopping && clock_now_ns() < at)
            pthread_cond_timedwait(&lb->cv, &lb->mu, &ts);
        if (lb->stopping)
            break;
        pthread_mutex_unlock(&lb->mu);
        resolve_dns_once(lb);
        pthread_mutex_lock(&lb->mu);
    }
    pthread_mutex_unlock(&lb->mu);
    return NULL;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void lb_destroy(void *self);

static void *lb_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct lb_config *cfg = cfgp;
    struct lb *lb = calloc(1, sizeof *lb);
    if (!lb) {
        error_set(err, "out of memory");
        return NULL;
    }
    lb->cfg = cfg;
    lb->env = *env;
    lb->id = strdup(env->id ? env->id : "loadbalancing");
    lb->log_name = strdup(env->log_name ? env->log_name : "exporter/loadbalancing");
    pthread_rwlock_init(&lb->lock, NULL);
    pthread_mutex_init(&lb->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lb->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!lb->id || !lb->log_name) {
        lb_destroy(lb);
        error_set(err, "out of memory");
        return NULL;
    }
    lb->env.id = lb->id;
    lb->env.log_name = lb->log_name;
    lb->key = lb_routing_key_parse(cfg->routing_key);
    lb->resolver_name = cfg->resolver.dns_present ? "dns" : "static";
    char labels[64];
    snprintf(labels, sizeof labels, "resolver=\"%s\",success=\"true\"", lb->resolver_name);
    lb->res_ok = telemetry_counter(env->telemetry, "otelcol_loadbalancer_num_resolutions", labels,
                                   "Resolutions performed by the resolver, by outcome");
    snprintf(labels, sizeof labels, "resolver=\"%s\",success=\"false\"", lb->resolver_name);
    lb->res_failed = telemetry_counter(env->telemetry, "otelcol_loadbalancer_num_resolutions",
                                       labels, "Resolutions performed by the resolver, by outcome");
    snprintf(labels, sizeof labels, "resolver=\"%s\"", lb->resolver_name);
    lb->num_backends = telemetry_gauge(env->telemetry, "otelcol_loadbalancer_num_backends", labels,
                                       "Backends currently in use");
    lb->updates = telemetry_counter(env->telemetry, "otelcol_loadbalancer_num_backend_updates",
                                    labels, "Resolutions that resulted in a new list of backends");
    char el[256];
    snprintf(el, sizeof el, "exporter=\"%s\"", lb->id);
    lb->rerouted = telemetry_counter(env->telemetry, "llmotlp_loadbalancer_rerouted_items", el,
                                     "Items queued for a backend that left the ring and were "
                                     "routed again through the new ring");
    return lb;
}

static int lb_start(void *self, struct error *err)
{
    struct lb *lb = self;
    (void)err;
    if (lb->cfg->resolver.static_present) {
        struct lb_endpoints eps;
        const struct config_str_list *h = &lb->cfg->resolver.static_.hostnames;
        if (lb_endpoints_from(&eps, (const char *const *)h->items, h->n) != 0)
            return error_set(err, "out of memory");
        telemetry_add(lb->res_ok, 1);
        apply_endpoints(lb, &eps);
        if (lb->eps.n == 0)
            return error_set(err, "no backend could be created");
        return 0;
    }
    resolve_dns_once(lb); /* a failure is logged; the thread keeps trying, as the Collector */
    if (pthread_create(&lb->dns_th, NULL, dns_main, lb) != 0)
        return error_set(err, "cannot start the dns resolver thread");
    lb->dns_running = true;
    return 0;
}

static void lb_shutdown(void *self, int64_t deadline_ns)
{
    struct lb *lb = self;
    pthread_mutex_lock(&lb->mu);
    lb->stopping = true;
    pthread_cond_broadcast(&lb->cv);
    pthread_mutex_unlock(&lb->mu);
    if (lb->dns_running) {
        pthread_join(lb->dns_th, NULL);
        lb->dns_running = false;
    }
    /* Leaving backends first: what they still re-route lands in the current ones' queues. */
    pthread_mutex_lock(&lb->mu);
    reap_retiring(lb, true);
    pthread_mutex_unlock(&lb->mu);
    for (size_t i = 0; i < lb->eps.n; i++)
        if (lb->backends[i])
            otlp_exporter_factory.shutdown(lb->backends[i]->otlp, deadline_ns);
}

static void lb_destroy(void *self)
{
    struct lb *lb = self;
    if (!lb)
        return;
    pthread_mutex_lock(&lb->mu);
    reap_retiring(lb, true);
    pthread_mutex_unlock(&lb->mu);
    for (size_t i = 0; i < lb->eps.n; i++)
        backend_free(lb->backends[i]);
    free(lb->backends);
    lb_ring_free(lb->ring);
    lb_endpoints_free(&lb->eps);
    pthread_rwlock_destroy(&lb->lock);
    pthread_mutex_destroy(&lb->mu);
    pthread_cond_destroy(&lb->cv);
    free(lb->id);
    free(lb->log_name);
    free(lb);
}

/* The keys each signal can be routed by, as the Collector's exporter for that signal accepts
 * them when it is built: refused at load, at the pipeline's line. */
static int lb_signal_check(const void *cfgp, enum signal s, struct error *err)
{
    const struct lb_config *c = cfgp;
    int key = lb_routing_key_parse(c->routing_key);
    if (key == LB_KEY_DEFAULT || key < 0 || key == LB_KEY_ATTRIBUTES)
        return 0; /* the default, or refused by validate */
    /* v0.115: the metrics exporter takes service, resource, metric and streamID; the traces
     * exporter refuses all but traceID and service; the logs exporter routes by trace ID
     * whatever the key says, so another key there would not do what it reads as: refused. */
    if (s == SIGNAL_LOGS && key != LB_KEY_TRACE_ID)
        return error_set(err, "routing_key \"%s\" does not apply to logs (the Collector routes "
                              "logs by trace ID whatever the key; use traceID or leave it unset)",
                         c->routing_key);
    bool ok = s == SIGNAL_METRICS ? key != LB_KEY_TRACE_ID
                                  : (key == LB_KEY_TRACE_ID || key == LB_KEY_SERVICE);
    if (ok)
        return 0;
    return error_set(err, "routing_key \"%s\" does not apply to %s (use %s)", c->routing_key,
                     signal_name(s),
                     s == SIGNAL_METRICS ? "service, resource, metric or streamID"
                                         : "traceID or service");
}

const struct component_factory loadbalancing_exporter_factory = {
    .type = "loadbalancing",
    .kind = COMPONENT_EXPORTER,
    .doc = "routes by trace ID, service, resource, metric name or stream to backends on the "
           "Collector's hash ring "
           "(static or dns resolver), one otlp exporter per backend",
    .fields = lb_config_fields,
    .config_size = sizeof(struct lb_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = lb_validate,
    .create = lb_create,
    .start = lb_start,
    .shutdown = lb_shutdown,
    .consume = lb_consume,
    .destroy = lb_destroy,
    .signal_check = lb_signal_check,
};

/* testutil.h — helpers shared by the cmocka unit tests: OTLP request builders, batches built
 * from them, a recording consumer that can be scripted to refuse, a processor fixture that binds
 * and creates any processor factory from YAML in front of that consumer, and an exporter fixture
 * that binds, starts and stops any exporter factory from YAML.
 *
 * The one idea: helpers fail the calling test through cmocka (assert_* / fail_msg) instead of
 * returning errors, so a test reads as its inputs and its expectations only.
 *
 * Ownership: every uint8_t * and struct batch * returned is the caller's (free / batch_free).
 * Thread-safety: struct tu_rec is safe to feed from any thread (its own mutex); read its fields
 * under `mu` while the producer may still run. Everything else is single-threaded.
 * Include after <cmocka.h>'s prerequisites (stdarg.h, stddef.h, setjmp.h). */
#ifndef LLMOTLP_TESTS_UNIT_TESTUTIL_H
#define LLMOTLP_TESTS_UNIT_TESTUTIL_H

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "opentelemetry/proto/common/v1/common.pb-c.h"

/* ---- request builders: packed Export*ServiceRequest bytes, one resource, one scope ---------- */

/* Packs any message into a fresh buffer; *len gets its size. */
uint8_t *tu_pack(const ProtobufCMessage *m, size_t *len);

/* Traces with `n` spans named `name`; trace IDs are `tid_len` bytes (16 is valid, at most 32),
 * span IDs 8 bytes, start/end times 1000+i / 2000+i. */
uint8_t *tu_make_traces(size_t n, size_t tid_len, const char *name, size_t *len);
/* Metrics: one gauge "llmproxy.tokens.input" with `npoints` int points (time 5000+i, value 7*i). */
uint8_t *tu_make_metrics(size_t npoints, size_t *len);
/* Logs: `nrec` records with body "completion finished", time 9000+i. */
uint8_t *tu_make_logs(size_t nrec, size_t *len);

/* ---- attributes in an arena ------------------------------------------------------------------ */

/* A KeyValue key = string v, or key = int v, allocated (key and value copied) in a. */
Opentelemetry__Proto__Common__V1__KeyValue *tu_kv_str(struct arena *a, const char *key,
                                                     const char *v);
Opentelemetry__Proto__Common__V1__KeyValue *tu_kv_int(struct arena *a, const char *key, int64_t v);

/* ---- batches -------------------------------------------------------------------------------- */

/* batch_from_wire of the packed message; fails the test when the batch does not decode. */
struct batch *tu_pack_batch(enum signal s, const ProtobufCMessage *m);
/* `nspans` (<= 16) spans "chat gpt-4o" of the given kind (0: unspecified); IDs derive from
 * `seed` so two seeds give different bytes; times 1700000000[5]00000000 + i. */
struct batch *tu_trace_batch(int nspans, uint8_t seed, int kind);
/* `nrecords` (<= 8) log records with body "request done". */
struct batch *tu_log_batch(int nrecords);
/* One gauge "gen_ai.client.token.usage" with `npoints` (<= 8) double points 0.25*(i+1). */
struct batch *tu_metric_batch(int npoints);
/* Asserts that `got` is byte for byte the batch's encoded form. */
void tu_assert_batch_bytes(struct batch *b, const uint8_t *got, size_t got_len);

/* ---- recording consumer --------------------------------------------------------------------- */

struct tu_rec {
    struct consumer base;           /* hand &rec.base to the component under test */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    enum consume_status answer;     /* what consume returns (CONSUME_OK after init) */
    uint64_t reject_n;              /* batch_reject(b, reject_n, reject_why) when either is set */
    const char *reject_why;
    bool block;                     /* hold every batch until `release` (signal cv) */
    bool entered, release;
    size_t calls;
    uint64_t items;
    int bad;                        /* batches whose encoded form could not be had */
    uint8_t *last;                  /* copy of the last batch's bytes, owned */
    size_t last_len;
    enum signal last_signal;
};

void tu_rec_init(struct tu_rec *r);
void tu_rec_fini(struct tu_rec *r);

/* ---- processor fixture ---------------------------------------------------------------------- */

/* A processor bound from YAML and created for one signal with a recording consumer as its next. */
struct tu_proc {
    const struct component_factory *f;
    struct cnode *root;             /* the parsed YAML: the bound config may point into it */
    void *cfg;                      /* f->config_size bytes */
    void *proc;                     /* the instance; NULL when a step refused */
    struct tu_rec rec;              /* env.next[signal] */
    struct telemetry *tel;
};

/* Parses yaml (`file` in its positions; the test fails when it does not parse), binds the node
 * under `section` (NULL: the root), validates and creates with component id `id` and log name
 * `log_name` (may be NULL). 0, or -1 with err from the step that refused; call tu_proc_close
 * either way. Does not start the instance. */
int tu_proc_open(struct tu_proc *p, const struct component_factory *f, const char *yaml,
                 const char *file, const char *section, const char *id, const char *log_name,
                 enum signal s, struct error *err);
/* Destroys the instance (when there is one), the config, the recorder and the telemetry. */
void tu_proc_close(struct tu_proc *p);

/* ---- exporter fixture ----------------------------------------------------------------------- */

struct tu_exp {
    const struct component_factory *f;
    const char *labels;             /* telemetry labels of the instance, for tu_exp_value */
    struct cnode *tree;
    void *cfg;                      /* f->config_size bytes, bound from the YAML */
    struct telemetry *t;
    void *x;                        /* the exporter instance */
    char log_name[128];             /* env.log_name: the instance may keep the pointer */
};

/* Parses, binds and validates; 0 or -1 with err. Call tu_exp_unbind either way. */
int tu_exp_bind(struct tu_exp *e, const struct component_factory *f, const char *labels,
                const char *yaml, struct error *err);
void tu_exp_unbind(struct tu_exp *e);
/* Binds, creates with component id `id` (log name "exporter/<id>") and starts; fails the test
 * on any error. */
void tu_exp_start_yaml(struct tu_exp *e, const struct component_factory *f, const char *id,
                       const char *labels, const char *yaml);
/* Shuts down (2 s deadline), destroys and unbinds; telemetry stays for tu_exp_value. */
void tu_exp_stop(struct tu_exp *e);
void tu_exp_free(struct tu_exp *e);
int64_t tu_exp_value(struct tu_exp *e, const char *name);
/* Waits (bounded, generously) for a counter to reach want; asserts the value. */
void tu_exp_wait_counter(struct tu_exp *e, const char *name, int64_t want);

/* ---- HTTP GET (libcurl) ------------------------------------------------------------------- */

/* What a GET of http://127.0.0.1:<port><path> answered: status 0 when nothing answered; body is
 * malloc'd, NUL-terminated and never NULL (free it with tu_http_reply_free). */
struct tu_http_reply {
    long status;
    char *body;
    size_t len;
    char content_type[128];
};
struct tu_http_reply tu_http_get(uint16_t port, const char *path);
void tu_http_reply_free(struct tu_http_reply *r);

/* ---- a file_storage extension on a fresh temporary directory ------------------------------ */

struct tu_store {
    char dir[64];
    const struct component_factory *f;
    struct cnode *tree;
    void *cfg;
    void *fs;             /* the started extension instance */
};
/* Binds, creates and starts file_storage on a new /tmp directory; extra_yaml (may be NULL) adds
 * keys after `directory:`. Fails the test on any error. */
void tu_store_open(struct tu_store *st, const char *extra_yaml);
/* Destroys the extension and removes its directory with everything in it. */
void tu_store_close(struct tu_store *st);

/* ---- small helpers -------------------------------------------------------------------------- */

void tu_sleep_ms(int ms);
/* Loads `yaml` as the service would (service_load_string) and fails the test unless it is
 * refused with an error containing `frag`. */
void tu_load_fails(const char *yaml, const char *frag);
/* mkstemp(path) (a "...XXXXXX" template, rewritten in place) and writes `text` into it. */
void tu_write_temp(char *path, const char *text);
/* PEM of a self-signed certificate for "localhost" and its private key, for TLS tests. */
extern const char tu_test_cert_pem[];
extern const char tu_test_key_pem[];

/* ---- certificates made by the openssl command, in a test's own directory ------------------ */

/* Runs the printf-style shell command in dir, its output discarded; fails the test unless it
 * exits 0. */
void tu_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "dir/name" in one of 64 buffers used in turn, so a config can keep its paths for a test. */
char *tu_path(const char *dir, const char *name);
/* In dir: <ca>.pem and <ca>.key, a self-signed P-256 CA (CN=<ca>) valid for 2 days. */
void tu_make_ca(const char *dir, const char *ca);
/* In dir: <name>.pem and <name>.key, CN=<name>.test, signed by <ca> (made by tu_make_ca). */
void tu_make_leaf(const char *dir, const char *name, const char *ca);
/* In dir: <name>.pem and <name>.key, a server certificate for localhost (CN and subjectAltName
 * DNS:localhost), signed by <ca>. */
void tu_make_localhost(const char *dir, const char *name, const char *ca);

#endif

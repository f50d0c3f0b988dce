/* gen_send.h — the OTLP senders of `llmotlp gen`: one encoded Export request at a time, over
 * OTLP/gRPC (grpc core) or OTLP/HTTP (libcurl, application/x-protobuf), with the answer read
 * back: status, partial success (rejected items and message), retryable or not.
 *
 * The one idea: a blocking call per request on a connection owned by one worker thread, so the
 * caller sees each answer in order and can count exactly what the receiver accepted; concurrency
 * comes from running several workers, each with its own gen_conn over one shared gen_sender.
 *
 * Ownership: gen_sender_new copies what it keeps of the options; gen_conn_free before
 * gen_sender_free. Thread-safety: a gen_sender may be shared by threads; a gen_conn may not.
 * Errors: gen_sender_new returns NULL with err set; gen_send never fails itself, it describes
 * the outcome in gen_result. */
#ifndef LLMOTLP_GEN_SEND_H
#define LLMOTLP_GEN_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/otlp.h"

struct gen_sender_opts {
    const char *endpoint;        /* gRPC: HOST:PORT; HTTP: HOST:PORT or http(s)://HOST:PORT[/base] */
    bool http;
    const char *const *headers;  /* "key=value" each, sent as gRPC metadata / HTTP headers */
    size_t n_headers;
    long timeout_ms;             /* per request */
    bool tls;                    /* TLS with the system roots, or ca_file */
    const char *ca_file;         /* PEM roots; NULL = the system's */
    const char *user_agent;
};

enum gen_outcome {
    GEN_OK,          /* accepted (perhaps partly: see rejected) */
    GEN_RETRYABLE,   /* backpressure: gRPC UNAVAILABLE/RESOURCE_EXHAUSTED, HTTP 429/502/503/504 */
    GEN_REFUSED,     /* a permanent refusal by the receiver */
    GEN_UNREACHABLE, /* no answer: connection refused, DNS, TLS, timeout */
};

struct gen_result {
    enum gen_outcome outcome;
    int code;           /* gRPC status code, or HTTP status (0 when there was no answer) */
    int64_t rejected;   /* partial_success.rejected_{spans,data_points,log_records} */
    char message[256];  /* the receiver's or the transport's words, for the summary */
};

struct gen_sender;
struct gen_conn;

struct gen_sender *gen_sender_new(const struct gen_sender_opts *o, struct error *err);
void gen_sender_free(struct gen_sender *s);
struct gen_conn *gen_conn_new(struct gen_sender *s, struct error *err);
void gen_conn_free(struct gen_conn *c);

/* Sends one encoded Export request of signal `sig` and waits for the answer. */
void gen_send(struct gen_conn *c, enum signal sig, const uint8_t *buf, size_t len,
              struct gen_result *r);

/* "OK", "UNAVAILABLE", ... for a gRPC status; "HTTP 503" style for HTTP is the caller's. */
const char *gen_grpc_status_name(int code);

#endif

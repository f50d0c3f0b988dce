/* wire_prune.h — for the span-index differential checks (unit test and fuzz target): the model's
 * expected output after drops. The index leaves out a scope whose items were all dropped, and a
 * resource whose scopes were all left out, as the processors' struct paths do; an originally
 * empty scope stays. The model packs its surviving items first; this removes the emptied
 * containers from those bytes, knowing each scope's item count before and after the drops (in
 * flattened resource-then-scope order). */
#ifndef LLMOTLP_WIRE_PRUNE_H
#define LLMOTLP_WIRE_PRUNE_H

#include <stdlib.h>

#include "core/arena.h"
#include "core/otlp.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define WIRE_PRUNE_LEVELS(REQ_T, RES_FIELD, SCOPE_FIELD, ITEM_N)                                  \
    do {                                                                                          \
        REQ_T *r_ = (REQ_T *)req;                                                                 \
        size_t flat_ = 0, wr_ = 0;                                                                \
        for (size_t i_ = 0; i_ < r_->n_##RES_FIELD; i_++) {                                       \
            __typeof__(r_->RES_FIELD[0]) res_ = r_->RES_FIELD[i_];                                \
            size_t ws_ = 0, had_ = res_->n_##SCOPE_FIELD;                                         \
            for (size_t s_ = 0; s_ < res_->n_##SCOPE_FIELD; s_++, flat_++) {                      \
                if (before[flat_] > 0 && after[flat_] == 0)                                       \
                    continue;                                                                     \
                res_->SCOPE_FIELD[ws_++] = res_->SCOPE_FIELD[s_];                                 \
            }                                                                                     \
            res_->n_##SCOPE_FIELD = ws_;                                                          \
            if (had_ > 0 && ws_ == 0)                                                             \
                continue;                                                                         \
            r_->RES_FIELD[wr_++] = res_;                                                          \
        }                                                                                         \
        r_->n_##RES_FIELD = wr_;                                                                  \
    } while (0)

/* Returns the pruned bytes (malloc'd; buf is freed) or NULL on a decode failure. */
static inline uint8_t *wire_prune_emptied(enum signal s, uint8_t *buf, size_t *len,
                                          const size_t *before, const size_t *after)
{
    struct arena *a = arena_new(*len * 4 + 1024);
    ProtobufCMessage *req =
        protobuf_c_message_unpack(otlp_request_descriptor(s), arena_allocator(a), *len, buf);
    free(buf);
    if (!req) {
        arena_free(a);
        return NULL;
    }
    if (s == SIGNAL_TRACES)
        WIRE_PRUNE_LEVELS(Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest,
                          resource_spans, scope_spans, n_spans);
    else
        WIRE_PRUNE_LEVELS(Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest,
                          resource_logs, scope_logs, n_log_records);
    *len = protobuf_c_message_get_packed_size(req);
    uint8_t *out = malloc(*len + 1);
    if (out)
        protobuf_c_message_pack(req, out);
    arena_free(a);
    return out;
}

#endif

/* grpc_common.h — process-wide gRPC core set-up shared by every gRPC component: gRPC's own log
 * lines are routed through core/log.h (under the name "grpc") before the library is initialised,
 * and abseil's lock-order checking, which Debian's abseil leaves on, is turned off.
 *
 * Thread-safety: both functions may be called from any thread; the log routing is installed once
 * per process. Each grpc_common_init() must be paired with one grpc_common_shutdown() (gRPC core
 * counts them; the library really shuts down at the last one). */
#ifndef LLMOTLP_GRPC_COMMON_H
#define LLMOTLP_GRPC_COMMON_H

/* Installs the log routing (first call only), then grpc_init(). */
void grpc_common_init(void);
/* grpc_shutdown(): drops one reference taken by grpc_common_init(). */
void grpc_common_shutdown(void);
/* Turns abseil's Mutex deadlock detection off (core/absl_mutex.cc); grpc_common_init() calls it
 * once, before gRPC core starts. */
#ifdef __cplusplus
extern "C" {
#endif
void grpc_common_mutex_checks_off(void);
#ifdef __cplusplus
}
#endif

#endif

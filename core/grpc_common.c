/* grpc_common.c — gRPC core's initialisation with its log routed through core/log.h.
 *
 * The one idea: the log function is installed with pthread_once before the first grpc_init(), so
 * whichever gRPC component starts first (a receiver, or an exporter in an exporter-only config),
 * gRPC never writes its own lines to stderr in its own format. */
#include "core/grpc_common.h"

#include <grpc/grpc.h>
#include <grpc/support/log.h>
#include <pthread.h>

#include "core/log.h"

static void grpc_common_log(gpr_log_func_args *a)
{
    /* gRPC's ERROR lines include things a peer did wrong (bad metadata, reset streams): worth a
     * warning, not an error of ours. */
    enum log_level lv = a->severity == GPR_LOG_SEVERITY_ERROR ? LOG_WARN
                        : a->severity == GPR_LOG_SEVERITY_INFO ? LOG_INFO : LOG_DEBUG;
    if (log_enabled(lv))
        log_write(lv, "grpc", "%s", a->message);
}

static pthread_once_t grpc_common_log_once = PTHREAD_ONCE_INIT;
static void grpc_common_log_install(void)
{
    grpc_common_mutex_checks_off();
    gpr_set_log_function(grpc_common_log);
}

void grpc_common_init(void)
{
    pthread_once(&grpc_common_log_once, grpc_common_log_install);
    grpc_init();
}

void grpc_common_shutdown(void) { grpc_shutdown(); }

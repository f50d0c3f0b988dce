/* absl_mutex.cc — turns off abseil's Mutex deadlock detection, which gRPC core's locks go through.
 *
 * The one idea: Debian builds abseil without NDEBUG, so every absl::Mutex that gRPC core takes
 * records its lock order in a global graph (GraphCycles) to report inversions: 4–5% of a relay's
 * CPU, spent on a debugging aid for abseil's own users. Release builds of abseil ship with it
 * off; setting the mode to kIgnore before gRPC starts gives the same behaviour here. */
#include "core/grpc_common.h"

#include <absl/synchronization/mutex.h>

extern "C" void grpc_common_mutex_checks_off(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

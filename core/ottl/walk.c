/* walk.c — visiting every item of a request (stub: being written). */
#include "core/ottl/ottl_internal.h"

long ottl_walk(ProtobufCMessage *req, enum ottl_context ctx, struct arena *arena, ottl_visit_fn fn, void *ud)
{
    (void)req; (void)ctx; (void)arena; (void)fn; (void)ud;
    return -1;
}

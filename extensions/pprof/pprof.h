/* pprof.h — the pprof extension (the Collector contrib's `pprof`): process diagnostics under
 * <endpoint>/debug/pprof/. llmotlp is a C program, so what Go's net/http/pprof serves as
 * profiles is served here as plain text where a C process has the same facts (heap totals, the
 * thread list, the command line) and as 501 where it has none (CPU profile, execution trace,
 * block and mutex profiles); never as Go's profile format. The factory is
 * pprof_extension_factory (registry.c). */
#ifndef LLMOTLP_PPROF_H
#define LLMOTLP_PPROF_H

#include <stdint.h>

/* The port an instance listens on once started (0 before start); for tests that configure
 * port 0. `ext` is the instance the factory created. */
uint16_t pprof_port(const void *ext);

#endif

/* health_check.h — the health_check extension (the Collector contrib's `health_check`): an HTTP
 * endpoint that answers 200 while every pipeline runs and 503 while the service starts or shuts
 * down. The factory is health_check_extension_factory (registry.c). */
#ifndef LLMOTLP_HEALTH_CHECK_H
#define LLMOTLP_HEALTH_CHECK_H

#include <stdint.h>

/* The port an instance listens on once started (0 before start); for tests that configure
 * port 0. `ext` is the instance the factory created. */
uint16_t health_check_port(const void *ext);

#endif

/* zpages.h — the zpages extension (the Collector's `zpages`): HTML pages about the running
 * service on <endpoint>/debug/: servicez, pipelinez, extensionz, featurez and tracez. The
 * factory is zpages_extension_factory (registry.c). */
#ifndef LLMOTLP_ZPAGES_H
#define LLMOTLP_ZPAGES_H

#include <stdint.h>

/* The port an instance listens on once started (0 before start); for tests that configure
 * port 0. `ext` is the instance the factory created. */
uint16_t zpages_port(const void *ext);

#endif

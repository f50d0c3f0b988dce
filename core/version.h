/* version.h — llmotlp's version, one definition for the CLI and the service's own telemetry
 * (service.version of its resource, the scope version of its metrics). */
#ifndef LLMOTLP_VERSION_H
#define LLMOTLP_VERSION_H

#define LLMOTLP_VERSION "0.1.0"

#endif

/* version.h — the one place the release number of llmotlp is written: `--version`, the start-up
 * log line, the zpages servicez page and the resource of the service's own telemetry
 * (service.version, and the scope version of its metrics). */
#ifndef LLMOTLP_VERSION_H
#define LLMOTLP_VERSION_H

#define LLMOTLP_VERSION "0.1.0"

#endif

/* version.h — the one place the release number of llmotlp is written: `--version`, the start-up
 * log line and the zpages extension's servicez page all print it. */
#ifndef LLMOTLP_VERSION_H
#define LLMOTLP_VERSION_H

#define LLMOTLP_VERSION "0.1.0"

#endif

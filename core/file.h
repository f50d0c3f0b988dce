/* file.h — reading a whole file into memory, bounded. Thread-safe; errors via struct error. */
#ifndef LLMOTLP_FILE_H
#define LLMOTLP_FILE_H

#include <stddef.h>

#include "core/error.h"

/* Reads a whole file into a malloc'd NUL-terminated buffer (the caller frees it); *len (if
 * non-NULL) gets its length. NULL with err ("cannot read <path>: <reason>", or "<path>: larger
 * than <max_bytes> bytes") on failure. */
char *file_read(const char *path, size_t max_bytes, size_t *len, struct error *err);

#endif

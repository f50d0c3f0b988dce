/* file_storage.h — the `file_storage` extension (the Collector contrib's `file_storage`): a
 * directory on local disk where components keep what must outlive the process. Today its one
 * user is the exporters' persistent sending queue (`sending_queue.storage`).
 *
 * The Collector's extension hands each component a key-value "client" backed by one bbolt file
 * named `<kind>_<type>_<name>[_<suffix>]`. Here a client is a directory of that name holding one
 * file per value, written atomically (temp file, optional fsync, rename), so a crash leaves
 * every value either whole or absent. Names are made safe as the Collector does: every
 * character other than [A-Za-z0-9._-] becomes `~` and its Unicode code point in 4+ hex digits
 * (`otlp/a/b` -> name `a~002Fb`).
 *
 * Thread-safety: the extension instance is read-only after start. A client may be used from
 * several threads at once as long as they touch different value names. */
#ifndef LLMOTLP_FILE_STORAGE_H
#define LLMOTLP_FILE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/error.h"

/* The extension instance (what file_storage_extension_factory.create returns). */
struct file_storage;

/* Where `directory` points when the config does not say (the Collector's is
 * /var/lib/otelcol/file_storage). */
#define FILE_STORAGE_DEFAULT_DIR "/var/lib/llmotlp/file_storage"

const char *file_storage_directory(const struct file_storage *fs);
bool file_storage_fsync(const struct file_storage *fs);

/* The client name of a component, as the Collector builds it: "<kind>_<type>_<name>" plus
 * "_<suffix>" when suffix is non-empty, sanitized. component_id is "type" or "type/name".
 * Writes into buf (truncating); returns buf. */
const char *file_storage_client_name(const char *kind, const char *component_id,
                                     const char *suffix, char *buf, size_t len);

/* Takes the exclusive lock of one component's clients (lock file "<kind>_<type>_<name>.lock" in
 * the directory), waiting up to the extension's `timeout`: two processes sharing a directory
 * must not both replay the same queue. Returns the lock's fd (released by
 * file_storage_unlock, or by the kernel when the process dies) or -1 with err. */
int file_storage_lock(const struct file_storage *fs, const char *kind, const char *component_id,
                      struct error *err);
void file_storage_unlock(int fd);

/* One client: a directory under the extension's. Creating it does no I/O; the directory is made
 * (mode 0750) by the first put. */
struct file_storage_client;
struct file_storage_client *file_storage_client_new(const struct file_storage *fs,
                                                    const char *kind, const char *component_id,
                                                    const char *suffix, struct error *err);
void file_storage_client_free(struct file_storage_client *c);
const char *file_storage_client_path(const struct file_storage_client *c);

/* Stores the concatenation of iov[0..n) under `name`, replacing any value of that name:
 * written to "<name>.tmp", fsync'd when the extension says so, renamed into place (and the
 * directory fsync'd). 0, or -1 with err (nothing is left behind under `name`). */
int file_storage_put(struct file_storage_client *c, const char *name, const struct iovec *iov,
                     int n, struct error *err);
/* Reads a whole value into a malloc'd buffer. 0, or -1 with err (err->code = ENOENT when
 * absent). */
int file_storage_get(struct file_storage_client *c, const char *name, uint8_t **data, size_t *len,
                     struct error *err);
/* Removes a value; an absent one is not an error. 0 or -1 with err. */
int file_storage_delete(struct file_storage_client *c, const char *name, struct error *err);
/* Renames a value to "<name>.corrupt", out of the way of every later list. 0 or -1 with err. */
int file_storage_set_aside(struct file_storage_client *c, const char *name, struct error *err);
/* Names of the stored values (malloc'd array of malloc'd strings, any order), skipping values
 * set aside; leftover temporary files of interrupted puts are removed on the way. A client
 * whose directory does not exist yet has none. *n_aside (optional) gets the names set aside
 * earlier, so a caller can stay clear of them. 0 or -1 with err. */
int file_storage_list(struct file_storage_client *c, char ***names, size_t *n,
                      char ***aside, size_t *n_aside, struct error *err);
void file_storage_names_free(char **names, size_t n);

#endif

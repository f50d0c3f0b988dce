/* resourcedetection.h — the detectors of the `resourcedetection` processor (env, system) and the
 * small resource they produce, shared by the processor (resourcedetection.c), the detectors
 * (detectors.c) and the unit tests.
 *
 * The one idea: detection yields a plain list of typed attributes (rd_resource), computed once
 * off the hot path; the processor turns it into OTLP values at merge time. Every parser of host
 * state (OTEL_RESOURCE_ATTRIBUTES, a hosts(5) line, os-release, /proc/cpuinfo) takes text, not a
 * path, so a test gives it the Collector's documented inputs and checks the answer by hand.
 *
 * Ownership: an rd_resource owns its strings; rd_resource_free releases them. Functions that
 * return char * return malloc'd strings the caller frees.
 * Thread-safety: no shared state; the detectors may run on any thread, one resource per call.
 * Errors: 0, or -1 with err (a malformed OTEL_RESOURCE_ATTRIBUTES, every hostname source
 * failing, out of memory). */
#ifndef LLMOTLP_RESOURCEDETECTION_H
#define LLMOTLP_RESOURCEDETECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum rd_type { RD_STR, RD_INT, RD_STRS };

struct rd_attr {
    char *key;
    enum rd_type type;
    char *s;          /* RD_STR */
    int64_t i;        /* RD_INT */
    char **list;      /* RD_STRS */
    size_t n;
};

struct rd_resource {
    struct rd_attr *v;
    size_t n, cap;
    char *schema_url; /* NULL = none */
};

void rd_resource_free(struct rd_resource *r);
/* Sets key: replaces the value in place when present and `replace`, else appends (the pdata
 * Map's PutStr order: first insertion keeps its place). Takes ownership of a->key and the value
 * (freed when not used). 0 or -1 on out of memory. */
int rd_resource_put(struct rd_resource *r, struct rd_attr *a, bool replace);
const struct rd_attr *rd_resource_get(const struct rd_resource *r, const char *key);
/* Keeps only the keys in `keep` (n of them); n == 0 keeps everything. Returns how many were
 * removed. */
size_t rd_resource_keep(struct rd_resource *r, char *const *keep, size_t n);
/* Merges `from` into `to` as the Collector's MergeResource does with override false (the first
 * detector to set a key wins); the schema URL is the first non-empty one. 0 or -1 (OOM). */
int rd_resource_merge_first(struct rd_resource *to, const struct rd_resource *from);

/* ---- env detector ---------------------------------------------------------------------------- */

/* Parses an OTEL_RESOURCE_ATTRIBUTES value as the Collector's env detector does: `k=v` pairs
 * separated by commas, spaces around keys and values ignored, keys and values of 1..256 and
 * 0..256 ASCII characters, values URL-query-unescaped (%XX, '+' as space); a later duplicate
 * replaces the value. Any text that is not part of a pair makes the whole value invalid. */
int rd_env_parse(const char *s, struct rd_resource *out, struct error *err);
/* The env detector: OTEL_RESOURCE_ATTRIBUTES, else the deprecated OTEL_RESOURCE (both trimmed);
 * neither set = an empty resource. allow (n_allow entries) filters the keys when has_allow. */
int rd_env_detect(struct rd_resource *out, bool has_allow, char *const *allow, size_t n_allow,
                  struct error *err);

/* ---- system detector ------------------------------------------------------------------------- */

enum rd_hostname_source { RD_HN_DNS, RD_HN_OS, RD_HN_CNAME, RD_HN_LOOKUP, RD_HN_COUNT };
extern const char *const rd_hostname_source_names[RD_HN_COUNT + 1];

/* The system detector's resource attributes, in the order the Collector emits them. */
enum rd_sys_attr {
    RD_HOST_NAME, RD_OS_TYPE, RD_OS_VERSION, RD_HOST_ID, RD_HOST_ARCH, RD_HOST_IP, RD_HOST_MAC,
    RD_OS_DESCRIPTION, RD_OS_NAME, RD_OS_BUILD_ID, RD_HOST_INTERFACE, RD_CPU_VENDOR_ID,
    RD_CPU_FAMILY, RD_CPU_MODEL_ID, RD_CPU_MODEL_NAME, RD_CPU_STEPPING, RD_CPU_CACHE_L2_SIZE,
    RD_SYS_ATTR_COUNT
};
struct rd_sys_attr_info {
    const char *name;
    bool enabled_by_default;   /* the Collector's metadata.yaml */
    const char *unsupported;   /* why enabling it is refused here; NULL = supported */
};
extern const struct rd_sys_attr_info rd_sys_attrs[RD_SYS_ATTR_COUNT];

struct rd_system_spec {
    enum rd_hostname_source sources[RD_HN_COUNT * 4];
    size_t n_sources;                  /* 0 = the default [dns, os] */
    bool enabled[RD_SYS_ATTR_COUNT];
};

int rd_system_detect(const struct rd_system_spec *spec, struct rd_resource *out,
                     const char *log_name, struct error *err);

/* Pieces of the system detector, for tests. */
/* The canonical name of a hosts(5) line when `host` is its canonical name or an alias (go-fqdn's
 * rules: '#' ends the line, the canonical name must be a valid host name); NULL otherwise. */
char *rd_hosts_line_canon(const char *line, const char *host);
/* The value of `key` in os-release text, unquoted and unescaped as the OTel Go SDK reads it
 * (last assignment wins); NULL when absent. */
char *rd_os_release_value(const char *text, const char *key);
/* "NAME VERSION" (VERSION_ID when no VERSION), else PRETTY_NAME, else NULL: the OTel Go SDK's
 * osRelease(). */
char *rd_os_release_describe(const char *text);
/* os.description from os-release text (may be NULL) and uname fields. */
char *rd_os_description(const char *os_release, const char *sysname, const char *nodename,
                        const char *release, const char *version, const char *machine);
/* BUILD_ID= of os-release text (quotes trimmed, as the Collector reads it), else `kernel`. */
char *rd_os_build_id(const char *os_release, const char *kernel);
/* The first processor of /proc/cpuinfo text, as gopsutil reads it on x86. */
struct rd_cpuinfo {
    char vendor_id[128], family[64], model[64], model_name[256];
    int64_t stepping, cache_size;
    bool found;
};
void rd_cpuinfo_parse(const char *text, struct rd_cpuinfo *out);
/* host.arch of this build, as the Collector maps Go's GOARCH (amd64, arm64, x86, arm32, ppc64,
 * s390x, riscv64, ...). */
const char *rd_host_arch(void);
/* A MAC address in the IEEE RA form the Collector writes (hyphens, upper case); "" for none. */
void rd_mac_format(const uint8_t *addr, size_t len, char *out, size_t cap);

#endif

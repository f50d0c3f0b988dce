/* file_storage.c — the `file_storage` extension: a directory on local disk, handed out to
 * components as named "clients" (one subdirectory each) of small files.
 *
 * The one idea: a value is one file, and a file only ever appears under its name by rename(2)
 * of a fully written temporary file, so whatever a crash (SIGKILL, power loss with fsync: true)
 * interrupts, a reader finds each value whole or not at all. The Collector keeps a client in a
 * bbolt file and needs compaction to give space back; a file per value is freed by unlink, so
 * `compaction` is accepted for compatibility, has nothing to do, and says so at validate and
 * start (no_effect: a warning at the key). */
#include "extensions/file_storage/file_storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/component.h"
#include "core/config.h"
#include "core/log.h"

/* ---- config ---------------------------------------------------------------------------------- */

struct file_storage_compaction {
    bool on_start;
    bool on_rebound;
    char *directory;
    int64_t max_transaction_size;
    int64_t rebound_needed_threshold_mib;
    int64_t rebound_trigger_threshold_mib;
    int64_t check_interval;
    bool cleanup_on_start;
};

struct file_storage_config {
    char *directory;
    int64_t timeout;
    bool fsync;
    bool create_directory;
    char *directory_permissions;
    bool recreate;
    struct file_storage_compaction compaction;
};

/* The Collector's keys, bound (and checked as it checks them) so that its configs load; the
 * whole section is no_effect, reported once at the `compaction` key. */
static const struct config_field compaction_fields[] = {
    {.name = "on_start", .type = CFG_BOOL,
     .offset = offsetof(struct file_storage_compaction, on_start), .def = "false",
     .doc = "compact when the extension starts"},
    {.name = "on_rebound", .type = CFG_BOOL,
     .offset = offsetof(struct file_storage_compaction, on_rebound), .def = "false",
     .doc = "compact when usage falls back after a peak"},
    {.name = "directory", .type = CFG_STRING,
     .offset = offsetof(struct file_storage_compaction, directory),
     .doc = "the Collector's scratch directory for compaction"},
    {.name = "max_transaction_size", .type = CFG_INT,
     .offset = offsetof(struct file_storage_compaction, max_transaction_size), .def = "65536",
     .doc = "items per compaction transaction"},
    {.name = "rebound_needed_threshold_mib", .type = CFG_INT,
     .offset = offsetof(struct file_storage_compaction, rebound_needed_threshold_mib),
     .def = "100", .doc = "size past which a rebound is watched for"},
    {.name = "rebound_trigger_threshold_mib", .type = CFG_INT,
     .offset = offsetof(struct file_storage_compaction, rebound_trigger_threshold_mib),
     .def = "10", .doc = "size under which a rebound compacts"},
    {.name = "check_interval", .type = CFG_DURATION,
     .offset = offsetof(struct file_storage_compaction, check_interval), .def = "5s",
     .doc = "how often on_rebound looks"},
    {.name = "cleanup_on_start", .type = CFG_BOOL,
     .offset = offsetof(struct file_storage_compaction, cleanup_on_start), .def = "false",
     .doc = "remove compaction leftovers at start"},
    {.name = NULL},
};

static const struct config_field file_storage_fields[] = {
    {.name = "directory", .type = CFG_STRING,
     .offset = offsetof(struct file_storage_config, directory),
     .def = FILE_STORAGE_DEFAULT_DIR,
     .doc = "where components keep their data; must exist unless create_directory is true"},
    {.name = "timeout", .type = CFG_DURATION,
     .offset = offsetof(struct file_storage_config, timeout), .def = "1s",
     .doc = "how long to wait for the lock of a component's data held by another process"},
    {.name = "fsync", .type = CFG_BOOL, .offset = offsetof(struct file_storage_config, fsync),
     .def = "false",
     .doc = "fsync every write (survives power loss, not only a crash of the process)"},
    {.name = "create_directory", .type = CFG_BOOL,
     .offset = offsetof(struct file_storage_config, create_directory), .def = "false",
     .doc = "create directory (and its parents) at start when missing"},
    {.name = "directory_permissions", .type = CFG_STRING,
     .offset = offsetof(struct file_storage_config, directory_permissions), .def = "0750",
     .doc = "octal mode of directories made by create_directory (minus the umask)"},
    {.name = "recreate", .type = CFG_BOOL, .offset = offsetof(struct file_storage_config, recreate),
     .def = "false",
     .doc = "the Collector's: rename a corrupt bbolt file aside and start empty (false: fail)",
     .no_effect = "a corrupt value is always renamed aside (<name>.corrupt) and the others are "
                  "kept, whether recreate is true or false; nothing ever fails to open"},
    {.name = "compaction", .type = CFG_SECTION,
     .offset = offsetof(struct file_storage_config, compaction), .sub = compaction_fields,
     .doc = "the Collector's bbolt compaction",
     .no_effect = "each value is a file of its own, whose space is freed as soon as it is "
                  "removed: there is nothing to compact"},
    {.name = NULL},
};

/* "0750" -> 0750; -1 when not octal or outside 0777. */
static long parse_mode(const char *s)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long m = strtol(s, &end, 8);
    if (errno || *end || m < 0 || (m & ~0777L))
        return -1;
    return m;
}

static int file_storage_validate(const void *cfgp, struct error *err)
{
    const struct file_storage_config *cfg = cfgp;
    if (!cfg->directory || !cfg->directory[0])
        return error_set(err, "directory must not be empty");
    if (cfg->timeout < 0)
        return error_set(err, "timeout must not be negative");
    if (cfg->compaction.max_transaction_size < 0)
        return error_set(err, "compaction.max_transaction_size must not be negative");
    if (cfg->compaction.on_rebound && cfg->compaction.check_interval <= 0)
        return error_set(err, "compaction.check_interval must be positive when on_rebound is set");
    if (cfg->create_directory && parse_mode(cfg->directory_permissions) < 0)
        return error_set(err, "directory_permissions must be an octal mode such as \"0750\" (got "
                              "\"%s\")",
                         cfg->directory_permissions ? cfg->directory_permissions : "");
    /* As the Collector: a missing directory is a config error unless it is to be created. */
    struct stat st;
    if (stat(cfg->directory, &st) != 0) {
        if (errno == ENOENT && cfg->create_directory)
            return 0;
        if (errno == ENOENT)
            return error_set(err, "directory %s does not exist; create it or set "
                                  "create_directory: true", cfg->directory);
        return error_set(err, "cannot access directory %s: %s", cfg->directory, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return error_set(err, "directory %s is not a directory", cfg->directory);
    return 0;
}

/* ---- the instance ---------------------------------------------------------------------------- */

struct file_storage {
    const struct file_storage_config *cfg;
    char *log_name;
};

const char *file_storage_directory(const struct file_storage *fs)
{
    return fs->cfg->directory;
}

bool file_storage_fsync(const struct file_storage *fs)
{
    return fs->cfg->fsync;
}

/* mkdir -p: every missing component of path, with mode. 0 or -1 (errno set). */
static int mkdir_p(const char *path, mode_t mode)
{
    char *p = strdup(path);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST)
            rc = -1;
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return rc;
}

static void *file_storage_create(const void *cfgp, const struct component_env *env,
                                 struct error *err)
{
    struct file_storage *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->log_name = strdup(env && env->log_name ? env->log_name
                                                            : "extension/file_storage"))) {
        free(fs);
        error_set(err, "out of memory");
        return NULL;
    }
    fs->cfg = cfgp; /* compaction: reported at load, as no_effect */
    return fs;
}

static int file_storage_start(void *self, struct error *err)
{
    struct file_storage *fs = self;
    const char *dir = fs->cfg->directory;
    if (fs->cfg->create_directory) {
        long mode = parse_mode(fs->cfg->directory_permissions);
        if (mkdir_p(dir, (mode_t)(mode < 0 ? 0750 : mode)) != 0)
            return error_set(err, "cannot create directory %s: %s", dir, strerror(errno));
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return error_set(err, "directory %s: %s%s", dir, strerror(errno),
                         errno == ENOENT ? "; create it or set create_directory: true" : "");
    if (!S_ISDIR(st.st_mode))
        return error_set(err, "directory %s is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return error_set(err, "directory %s is not writable: %s", dir, strerror(errno));
    log_info(fs->log_name, "storing in %s%s", dir, fs->cfg->fsync ? " (fsync on every write)" : "");
    return 0;
}

static void file_storage_destroy(void *self)
{
    struct file_storage *fs = self;
    if (!fs)
        return;
    free(fs->log_name);
    free(fs);
}

/* ---- names ----------------------------------------------------------------------------------- */

/* Next code point of UTF-8 text at *p (advancing it); an invalid byte is U+FFFD, as Go's range
 * over a string yields. */
static uint32_t utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    int n = c < 0x80               ? 0
            : (c & 0xE0) == 0xC0 ? 1
            : (c & 0xF0) == 0xE0 ? 2
            : (c & 0xF8) == 0xF0 ? 3
                                 : -1;
    if (n < 0) {
        *p = s + 1;
        return 0xFFFD;
    }
    uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *p = s + 1;
        return 0xFFFD;
    }
    *p = s + n + 1;
    return cp;
}

static bool safe_char(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

const char *file_storage_client_name(const char *kind, const char *component_id,
                                     const char *suffix, char *buf, size_t len)
{
    const char *slash = strchr(component_id, '/');
    int tlen = slash ? (int)(slash - component_id) : (int)strlen(component_id);
    char raw[2048];
    if (suffix && suffix[0])
        snprintf(raw, sizeof raw, "%s_%.*s_%s_%s", kind, tlen, component_id,
                 slash ? slash + 1 : "", suffix);
    else
        snprintf(raw, sizeof raw, "%s_%.*s_%s", kind, tlen, component_id, slash ? slash + 1 : "");
    size_t n = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)raw; *p && n + 1 < len;) {
        uint32_t c = utf8_next(&p);
        int w = safe_char(c) ? snprintf(buf + n, len - n, "%c", (char)c)
                             : snprintf(buf + n, len - n, "~%04" PRIX32, c);
        if (w < 0 || (size_t)w >= len - n) {
            buf[n] = '\0';
            break;
        }
        n += (size_t)w;
    }
    return buf;
}

/* ---- lock ------------------------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int file_storage_lock(const struct file_storage *fs, const char *kind, const char *component_id,
                      struct error *err)
{
    char name[1024], path[4096];
    file_storage_client_name(kind, component_id, NULL, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s.lock", fs->cfg->directory, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return error_set(err, "cannot open lock file %s: %s", path, strerror(errno));
    int64_t until = clock_now_ns() + fs->cfg->timeout;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        int e = errno;
        if (e != EWOULDBLOCK && e != EINTR) {
            close(fd);
            return error_set(err, "cannot lock %s: %s", path, strerror(e));
        }
        if (clock_now_ns() >= until) {
            close(fd);
            return error_set(err, "%s is locked by another process (waited %" PRId64 "ms): two "
                                  "instances must not share one storage directory for the "
                                  "same component", path, fs->cfg->timeout / 1000000);
        }
        sleep_ms(10);
    }
}

void file_storage_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the only descriptor releases the flock */
}

/* ---- clients --------------------------------------------------------------------------------- */

struct file_storage_client {
    char *path;
    bool fsync;
};

struct file_storage_client *file_storage_client_new(const struct file_storage *fs,
                                                    const char *kind, const char *component_id,
                                                    const char *suffix, struct error *err)
{
    char name[1024];
    file_storage_client_name(kind, component_id, suffix, name, sizeof name);
    struct file_storage_client *c = calloc(1, sizeof *c);
    if (!c || asprintf(&c->path, "%s/%s", fs->cfg->directory, name) < 0) {
        free(c);
        error_set(err, "out of memory");
        return NULL;
    }
    c->fsync = fs->cfg->fsync;
    return c;
}

void file_storage_client_free(struct file_storage_client *c)
{
    if (!c)
        return;
    free(c->path);
    free(c);
}

const char *file_storage_client_path(const struct file_storage_client *c)
{
    return c->path;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const struct iovec *iov, int n)
{
    for (int i = 0; i < n; i++) {
        const uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            ssize_t w = write(fd, p, left);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -1;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    return 0;
}

int file_storage_put(struct file_storage_client *c, const char *name, const struct iovec *iov,
                     int n, struct error *err)
{
    char tmp[4096], dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", c->path, name);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", c->path, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 && errno == ENOENT) {
        /* first value of this client: its directory is made on demand */
        if (mkdir(c->path, 0750) != 0 && errno != EEXIST)
            return error_set(err, "cannot create %s: %s", c->path, strerror(errno));
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    }
    if (fd < 0)
        return error_set(err, "cannot create %s: %s", tmp, strerror(errno));
    const char *step = "write";
    int rc = write_all(fd, iov, n);
    if (rc == 0 && c->fsync) {
        step = "fsync";
        rc = fdatasync(fd);
    }
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        step = "close";
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, dst) != 0) {
        step = "rename";
        rc = -1;
        e = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        return error_set(err, "%s %s: %s", step, tmp, strerror(e));
    }
    /* the rename itself must reach the disk too, or a power cut may bring back the old name */
    if (c->fsync && fsync_dir(c->path) != 0)
        return error_set(err, "fsync %s: %s", c->path, strerror(errno));
    return 0;
}

int file_storage_get(struct file_storage_client *c, const char *name, uint8_t **data, size_t *len,
                     struct error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->path, name);
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        error_set(err, "cannot open %s: %s", path, strerror(e));
        err->code = e;
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, "cannot stat %s: %s", path, strerror(e));
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        close(fd);
        return error_set(err, "out of memory reading %s (%zu bytes)", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            free(buf);
            return error_set(err, "cannot read %s: %s", path, r < 0 ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = size;
    return 0;
}

int file_storage_delete(struct file_storage_client *c, const char *name, struct error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->path, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return error_set(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

int file_storage_set_aside(struct file_storage_client *c, const char *name, struct error *err)
{
    char from[4096], to[4096];
    snprintf(from, sizeof from, "%s/%s", c->path, name);
    snprintf(to, sizeof to, "%s/%s.corrupt", c->path, name);
    if (rename(from, to) != 0)
        return error_set(err, "cannot rename %s to %s: %s", from, to, strerror(errno));
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int names_push(char ***v, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        char **nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    if (!((*v)[*n] = strdup(name)))
        return -1;
    (*n)++;
    return 0;
}

int file_storage_list(struct file_storage_client *c, char ***names, size_t *n, char ***aside,
                      size_t *n_aside, struct error *err)
{
    *names = NULL;
    *n = 0;
    if (aside) {
        *aside = NULL;
        *n_aside = 0;
    }
    DIR *d = opendir(c->path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return error_set(err, "cannot list %s: %s", c->path, strerror(errno));
    }
    size_t cap = 0, cap_aside = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        if (e->d_type == DT_DIR)
            continue;
        if (ends_with(e->d_name, ".tmp")) {
            /* a put that never reached its rename: it was never acknowledged */
            unlinkat(dirfd(d), e->d_name, 0);
        } else if (ends_with(e->d_name, ".corrupt")) {
            if (aside && names_push(aside, n_aside, &cap_aside, e->d_name) != 0)
                rc = error_set(err, "out of memory");
        } else if (names_push(names, n, &cap, e->d_name) != 0) {
            rc = error_set(err, "out of memory");
        }
    }
    closedir(d);
    if (rc != 0) {
        file_storage_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        if (aside) {
            file_storage_names_free(*aside, *n_aside);
            *aside = NULL;
            *n_aside = 0;
        }
    }
    return rc;
}

void file_storage_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

const struct component_factory file_storage_extension_factory = {
    .type = "file_storage",
    .kind = COMPONENT_EXTENSION,
    .doc = "local directory where exporters keep their sending queue across restarts "
           "(sending_queue.storage)",
    .fields = file_storage_fields,
    .config_size = sizeof(struct file_storage_config),
    .validate = file_storage_validate,
    .create = file_storage_create,
    .start = file_storage_start,
    .destroy = file_storage_destroy,
};

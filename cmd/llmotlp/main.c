/* main.c — the llmotlp command line, shaped like otelcol's: run a config, `validate` one,
 * `print-config` it, list the `components` compiled in and `describe` their settings, list the
 * `featuregate`s. Config comes only from --config sources (file, env:, yaml:), as the
 * Collector's: with none, nothing starts.
 *
 * The one idea for signals: SIGINT and SIGTERM are blocked before anything can start a thread
 * (gRPC starts its own at init), so every thread inherits the mask and the main thread alone
 * receives them with sigwait(); shutdown then runs as ordinary code, not in a signal handler.
 * A second signal during shutdown is taken by a watcher thread and ends the process at once. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/component.h"
#include "core/config.h"
#include "core/config_print.h"
#include "core/config_source.h"
#include "core/featuregate.h"
#include "core/log.h"
#include "core/service.h"
#include "core/version.h"
#include "cmd/llmotlp/gen_cmd.h"
#include "cmd/llmotlp/pricing_cmd.h"

#define MAIN_LOG "main"
#define MAX_ARGS 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: llmotlp --config URI... [--set KEY=VALUE]... [--feature-gates LIST]\n"
            "                                                 run the service\n"
            "       llmotlp validate --config URI... [--set ...] [--feature-gates ...]\n"
            "                                                 check a config\n"
            "       llmotlp print-config --config URI... [--mode redacted|unredacted]\n"
            "               [--format yaml|json] [--validate=false]\n"
            "                                                 print the resolved config\n"
            "       llmotlp components [--describe TYPE]     list components\n"
            "       llmotlp describe TYPE                    a component's settings\n"
            "       llmotlp featuregate [ID]                 list feature gates\n"
            "       llmotlp pricing COMMAND                  the pricing store (--help)\n"
            "       llmotlp gen [FLAGS]                      send LLM gateway traffic (--help)\n"
            "       llmotlp --help | --version\n"
            "\n"
            "  --config URI     a config source, at least one; several merge in order (maps key\n"
            "                   by key, lists replaced): PATH or file:PATH, env:VAR (the YAML in\n"
            "                   a variable), yaml:a::b: value (an inline fragment)\n"
            "  --set KEY=VALUE  override one setting, e.g. --set exporters::otlp::endpoint=h:4317\n"
            "  --feature-gates  comma list of gate ids: 'id' or '+id' enables, '-id' disables\n"
            "  print-config     --mode redacted (default) masks secrets as [REDACTED];\n"
            "                   --validate=false prints a config that does not validate\n"
            "\n"
            "environment: LLMOTLP_SHUTDOWN_TIMEOUT (default 10s) bounds the graceful shutdown.\n");
}

struct args {
    const char *command; /* NULL (run), "validate", "print-config", "components", "describe",
                            "featuregate" */
    const char *configs[MAX_ARGS];
    size_t n_configs;
    const char *sets[MAX_ARGS];
    size_t n_sets;
    const char *gates[MAX_ARGS];
    size_t n_gates;
    const char *describe;  /* describe TYPE, or featuregate ID */
    const char *mode;      /* print-config */
    const char *format;    /* print-config */
    bool validate;         /* print-config */
};

/* Matches "--name VALUE" and "--name=VALUE"; advances *i past what it consumed. */
static int take_value(int argc, char **argv, int *i, const char *name, const char **value,
                      int *missing)
{
    size_t nl = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, nl) != 0)
        return 0;
    if (a[nl] == '=') {
        *value = a + nl + 1;
        return 1;
    }
    if (a[nl] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        *missing = 1;
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

static bool is_command(const char *arg)
{
    static const char *const commands[] = {"validate", "components", "describe", "print-config",
                                           "print-initial-config", "featuregate", NULL};
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(arg, commands[i]) == 0)
            return true;
    return false;
}

/* 0 ok, 1 --help/--version handled, 2 usage error */
static int parse_args(int argc, char **argv, struct args *a)
{
    a->mode = "redacted";
    a->format = "yaml";
    a->validate = true;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        int missing = 0;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--version") == 0 || strcmp(arg, "-v") == 0) {
            printf("llmotlp version %s\n", LLMOTLP_VERSION);
            return 1;
        }
        bool print = a->command && strcmp(a->command, "print-config") == 0;
        if (take_value(argc, argv, &i, "--config", &v, &missing)) {
            if (missing || a->n_configs == MAX_ARGS)
                goto bad;
            a->configs[a->n_configs++] = v;
        } else if (take_value(argc, argv, &i, "--set", &v, &missing)) {
            if (missing || a->n_sets == MAX_ARGS)
                goto bad;
            a->sets[a->n_sets++] = v;
        } else if (take_value(argc, argv, &i, "--feature-gates", &v, &missing)) {
            if (missing || a->n_gates == MAX_ARGS)
                goto bad;
            a->gates[a->n_gates++] = v;
        } else if (take_value(argc, argv, &i, "--describe", &v, &missing)) {
            if (missing)
                goto bad;
            if (!a->command)
                a->command = "components";
            a->describe = v;
        } else if (print && take_value(argc, argv, &i, "--mode", &v, &missing)) {
            if (missing)
                goto bad;
            a->mode = v;
        } else if (print && take_value(argc, argv, &i, "--format", &v, &missing)) {
            if (missing)
                goto bad;
            a->format = v;
        } else if (print && (strcmp(arg, "--validate") == 0 ||
                             strncmp(arg, "--validate=", 11) == 0)) {
            /* a boolean flag, as Go's: bare means true, a value only with '=' */
            bool b = true;
            if (arg[10] == '=' && config_parse_bool(arg + 11, &b) != 0) {
                fprintf(stderr, "llmotlp: invalid argument \"%s\" for --validate: expected true "
                                "or false\n", arg + 11);
                goto bad;
            }
            a->validate = b;
        } else if (arg[0] == '-') {
            fprintf(stderr, "llmotlp: unknown flag '%s'\n", arg);
            goto bad;
        } else if (!a->command && is_command(arg)) {
            a->command = strcmp(arg, "print-initial-config") == 0 ? "print-config" : arg;
        } else if (a->command && !a->describe && (strcmp(a->command, "describe") == 0 ||
                                                  strcmp(a->command, "featuregate") == 0)) {
            a->describe = arg;
        } else {
            fprintf(stderr, "llmotlp: unexpected argument '%s'\n", arg);
            goto bad;
        }
        continue;
    bad:
        if (missing)
            fprintf(stderr, "llmotlp: %s needs a value\n", arg);
        usage(stderr);
        return 2;
    }
    if (a->command && strcmp(a->command, "describe") == 0 && !a->describe) {
        fprintf(stderr, "llmotlp: describe needs a component type\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static void print_signals(unsigned mask)
{
    int first = 1;
    for (int s = 0; s < SIGNAL_COUNT; s++)
        if (mask & (1u << s)) {
            printf("%s%s", first ? "" : ", ", signal_name((enum signal)s));
            first = 0;
        }
    if (first)
        printf("none");
}

static int cmd_components(const char *describe)
{
    if (!describe) {
        for (int k = 0; k < COMPONENT_KIND_COUNT; k++) {
            printf("%s:\n", component_kind_section((enum component_kind)k));
            int any = 0;
            for (size_t i = 0; component_factories[i]; i++) {
                const struct component_factory *f = component_factories[i];
                if (f->kind != (enum component_kind)k)
                    continue;
                printf("  %-16s %s\n", f->type, f->doc ? f->doc : "");
                any = 1;
            }
            if (!any)
                printf("  (none)\n");
        }
        return 0;
    }
    int found = 0;
    for (size_t i = 0; component_factories[i]; i++) {
        const struct component_factory *f = component_factories[i];
        if (strcmp(f->type, describe) != 0)
            continue;
        if (found)
            printf("\n");
        found = 1;
        printf("kind:    %s\ntype:    %s\ndoc:     %s\n", component_kind_name(f->kind), f->type,
               f->doc ? f->doc : "");
        if (f->kind == COMPONENT_CONNECTOR) {
            printf("input:   ");
            print_signals(f->signals);
            printf("\noutput:  ");
            print_signals(f->out_signals);
            printf("\n");
            unsigned any = 0;
            for (int in = 0; in < SIGNAL_COUNT; in++)
                any |= f->routes[in];
            if (any) {
                printf("routes:  ");
                int first = 1;
                for (int in = 0; in < SIGNAL_COUNT; in++) {
                    if (!f->routes[in] || !(f->signals & (1u << in)))
                        continue;
                    printf("%s%s -> ", first ? "" : "; ", signal_name((enum signal)in));
                    print_signals(f->routes[in] & f->out_signals);
                    first = 0;
                }
                printf("\n");
            }
        } else {
            printf("signals: ");
            print_signals(f->signals);
            printf("\n");
        }
        printf("config:\n");
        fflush(stdout);
        if (f->fields && f->fields[0].name)
            config_describe(f->fields, stdout, 2);
        else
            printf("  (no settings)\n");
    }
    if (!found) {
        fprintf(stderr, "llmotlp: no component of type '%s'; run `llmotlp components`\n",
                describe);
        return 1;
    }
    return 0;
}

/* The Collector refuses to run or validate without a config flag; so do we (no implicit
 * ./config.yaml, which would make the same command behave differently by directory). */
static bool have_config(const struct args *a)
{
    if (a->n_configs > 0)
        return true;
    fprintf(stderr, "llmotlp: at least one config flag must be provided (--config URI)\n");
    usage(stderr);
    return false;
}

static struct service *load(const struct args *a, struct error *err)
{
    return service_load(a->configs, a->n_configs, a->sets, a->n_sets, err);
}

static void warn_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "llmotlp: warning: %s\n", msg);
}

static int cmd_featuregate(const char *id)
{
    if (id) {
        const struct featuregate *g = featuregate_find(id);
        if (!g) {
            fprintf(stderr, "llmotlp: feature \"%s\" not found\n", id);
            return 1;
        }
        printf("Feature: %s\nEnabled: %s\nStage: %s\nDescription: %s\nFrom Version: %s\n", g->id,
               featuregate_enabled(g->id) ? "true" : "false", featuregate_stage_name(g->stage),
               g->description, g->from_version ? g->from_version : "");
        if (g->to_version)
            printf("To Version: %s\n", g->to_version);
        return 0;
    }
    size_t w = strlen("ID");
    for (size_t i = 0; i < featuregate_count(); i++)
        if (strlen(featuregate_at(i)->id) > w)
            w = strlen(featuregate_at(i)->id);
    printf("%-*s  %-7s  %-10s  %s\n", (int)w, "ID", "Enabled", "Stage", "Description");
    for (size_t i = 0; i < featuregate_count(); i++) {
        const struct featuregate *g = featuregate_at(i);
        printf("%-*s  %-7s  %-10s  %s\n", (int)w, g->id,
               featuregate_enabled(g->id) ? "true" : "false", featuregate_stage_name(g->stage),
               g->description);
    }
    return 0;
}

static int cmd_print_config(const struct args *a)
{
    if (!featuregate_enabled(FEATUREGATE_PRINT_CONFIG)) {
        fprintf(stderr, "llmotlp: print-config is currently experimental, use the "
                        "otelcol.printInitialConfig feature gate to enable this command\n");
        return 1;
    }
    bool redact;
    if (strcasecmp(a->mode, "redacted") == 0) {
        redact = true;
    } else if (strcasecmp(a->mode, "unredacted") == 0) {
        redact = false;
    } else {
        fprintf(stderr, "llmotlp: invalid mode \"%s\": modes are: redacted, unredacted\n", a->mode);
        return 1;
    }
    bool json = strcasecmp(a->format, "json") == 0;
    if (!json && strcasecmp(a->format, "yaml") != 0) {
        fprintf(stderr, "llmotlp: unrecognized print format: %s\n", a->format);
        return 1;
    }
    if (!have_config(a))
        return 1;
    struct error err = {0};
    if (a->validate) {
        /* Validation first, as the Collector's: an invalid config is not printed. */
        struct service *s = load(a, &err);
        if (!s) {
            fprintf(stderr, "llmotlp: invalid configuration: %s\n", err.msg);
            return 1;
        }
        service_free(s);
    }
    /* Warnings were logged by the validation above; without it, say them here. */
    struct cnode *root = config_source_resolve(a->configs, a->n_configs, a->sets, a->n_sets,
                                               a->validate ? NULL : warn_stderr, NULL, &err);
    if (!root) {
        fprintf(stderr, "llmotlp: %s\n", err.msg);
        return 1;
    }
    if (redact)
        config_print_redact(root);
    int rc = json ? config_print_json(root, stdout, &err) : config_print_yaml(root, stdout, &err);
    cnode_free(root);
    if (rc != 0) {
        fprintf(stderr, "llmotlp: %s\n", err.msg);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_validate(const struct args *a)
{
    if (!have_config(a))
        return 1;
    struct error err = {0};
    struct service *s = load(a, &err);
    if (!s) {
        fprintf(stderr, "llmotlp: invalid config: %s\n", err.msg);
        return 1;
    }
    printf("config OK");
    size_t nw = service_warning_count(s);
    if (nw)
        printf(" (%zu warning%s)", nw, nw == 1 ? "" : "s");
    printf("\n");
    for (size_t i = 0; i < nw; i++)
        printf("warning: %s\n", service_warning(s, i));
    char buf[2048];
    for (size_t i = 0; i < service_pipeline_count(s); i++)
        printf("  %s\n", service_pipeline_describe(s, i, buf, sizeof buf));
    service_free(s);
    return 0;
}

static sigset_t stop_signals;

/* A second SIGINT/SIGTERM while the graceful shutdown runs: leave now. */
static void *second_signal_watch(void *arg)
{
    (void)arg;
    int sig;
    if (sigwait(&stop_signals, &sig) == 0) {
        log_error(MAIN_LOG, "second signal (%s) during shutdown: exiting now", strsignal(sig));
        _exit(1);
    }
    return NULL;
}

static int cmd_run(const struct args *a)
{
    if (!have_config(a))
        return 1;
    struct error err = {0};
    struct service *s = load(a, &err);
    if (!s) {
        fprintf(stderr, "llmotlp: invalid config: %s\n", err.msg);
        return 1;
    }
    if (service_start(s, &err) != 0) {
        fprintf(stderr, "llmotlp: cannot start: %s\n", err.msg);
        service_free(s);
        return 1;
    }
    char line[4096], buf[2048];
    size_t n = (size_t)snprintf(line, sizeof line, "llmotlp %s started; pipelines: ",
                                LLMOTLP_VERSION);
    for (size_t i = 0; i < service_pipeline_count(s) && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i ? "; " : "",
                              service_pipeline_describe(s, i, buf, sizeof buf));
    log_info(MAIN_LOG, "%s", line);

    int sig = 0;
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    log_info(MAIN_LOG, "%s received, shutting down", strsignal(sig));
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, second_signal_watch, NULL) == 0)
        pthread_detach(watcher);
    int64_t timeout = service_shutdown_timeout_ns(s);
    service_shutdown(s, clock_now_ns() + timeout);
    service_free(s);
    log_info(MAIN_LOG, "stopped");
    return 0;
}

/* The memory one request frees is what the next one needs. glibc gives it back to the OS as soon
 * as the free top of a heap passes 128 KiB (and mmaps, then unmaps, every buffer above its
 * moving threshold), so each request faulted its pages in again: 6 to 10 page faults per
 * 100-span request, a third of a relay's CPU on a virtual machine. Freed memory now stays mapped
 * up to 32 MiB per malloc arena and buffers below 16 MiB come from the heaps. memory_limiter
 * restores glibc's defaults, since it wants RSS to follow what is held; GLIBC_TUNABLES that
 * name malloc settings win over both. */
static void malloc_policy(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc."))
        return;
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "pricing") == 0)
        return pricing_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "gen") == 0)
        return gen_main(argc - 1, argv + 1);
    /* Before any thread exists, so that all of them inherit the mask. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* A peer closing a socket must be an error code, not the end of the process. */
    signal(SIGPIPE, SIG_IGN);

    struct args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == 1)
        return 0;
    if (rc == 2)
        return 2;
    for (size_t i = 0; i < a.n_gates; i++) {
        struct error err = {0};
        if (featuregate_apply(a.gates[i], warn_stderr, NULL, &err) != 0) {
            fprintf(stderr, "llmotlp: %s\n", err.msg);
            return 1;
        }
    }
    if (a.command && strcmp(a.command, "validate") == 0)
        return cmd_validate(&a);
    if (a.command && strcmp(a.command, "print-config") == 0)
        return cmd_print_config(&a);
    if (a.command && strcmp(a.command, "featuregate") == 0)
        return cmd_featuregate(a.describe);
    if (a.command && (strcmp(a.command, "components") == 0 || strcmp(a.command, "describe") == 0))
        return cmd_components(a.describe);
    malloc_policy();
    return cmd_run(&a);
}

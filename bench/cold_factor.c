/* cold_factor.c — what this machine charges a piece of work for running alone: the same
 * in-process work (validate + protobuf-c unpack + free of one 100-span request) timed back to
 * back, then once every 1/RATE seconds with the thread asleep in between.
 * The one idea: the timed window holds no syscall, no lock and no other thread (thread CPU clock
 * read through the vDSO around the work only), so whatever a request costs more at a low rate
 * here is the machine's (caches, TLB and branch predictors lost while the CPU idled or ran
 * someone else), not the service's design; bench/lowrate.sh's "x saturated" cannot be expected
 * to fall below this factor on the same machine.
 *
 * usage: cold_factor [--spans 100] [--rates "25 300"] [--seconds 10] [--seed 1] */
#include <string.h>
#include <time.h>

#include "bench/bench_common.h"
#include "core/error.h"
#include "core/otlp.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked

#define POOL 16

struct item {
    uint8_t *data;
    size_t len;
};

/* The work: what a decode-based relay does to every request before anything else. Returns
 * thread-CPU seconds spent. */
static double work(const struct item *it, unsigned spans)
{
    double t0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
    struct otlp_scan_result res;
    struct error err;
    if (otlp_scan(SIGNAL_TRACES, it->data, it->len, &res, &err) != 0 || res.items != spans) {
        fprintf(stderr, "cold_factor: scan failed or miscounted\n");
        exit(1);
    }
    void *r = REQ_UNPACK(NULL, it->len, it->data);
    if (!r) {
        fprintf(stderr, "cold_factor: unpack failed\n");
        exit(1);
    }
    REQ_FREE(r, NULL);
    return bench_clock(CLOCK_THREAD_CPUTIME_ID) - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of the per-item times: one descheduling inside a window must not decide the figure. */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    unsigned spans = 100;
    double seconds = 10;
    uint64_t seed = 1;
    const char *rates = "25 300";
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            spans = (unsigned)bench_atol("--spans", v, 1, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 3600);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--rates")))
            rates = v;
        else {
            fprintf(stderr, "usage: cold_factor [--spans N] [--rates \"25 300\"] [--seconds S] "
                            "[--seed N]\n");
            return 2;
        }
    }
    struct item pool[POOL];
    for (unsigned i = 0; i < POOL; i++)
        pool[i].data = bench_request_build(&seed, spans, &pool[i].len);

    /* Back to back: as many items as fit in `seconds`, at most 200k. */
    size_t cap = 200000, n = 0;
    double *t = malloc(cap * sizeof *t);
    if (!t)
        return 1;
    double end = bench_now() + seconds;
    while (n < cap && bench_now() < end) {
        t[n] = work(&pool[n % POOL], spans);
        n++;
    }
    double hot = median(t, n);
    printf("%u spans/request, thread CPU per request (median)\n", spans);
    printf("%-12s %10s %10s %12s\n", "rate", "requests", "us", "x hot");
    printf("%-12s %10zu %10.1f %12.2f\n", "back-to-back", n, hot * 1e6, 1.0);

    char buf[256];
    snprintf(buf, sizeof buf, "%s", rates);
    for (char *save = NULL, *tok = strtok_r(buf, " ,", &save); tok;
         tok = strtok_r(NULL, " ,", &save)) {
        long rate = bench_atol("--rates", tok, 1, 100000);
        long period_ns = 1000000000L / rate;
        size_t m = (size_t)(seconds * (double)rate);
        if (m > cap)
            m = cap;
        if (m == 0)
            m = 1;
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        for (size_t k = 0; k < m; k++) {
            next.tv_nsec += period_ns;
            while (next.tv_nsec >= 1000000000L) {
                next.tv_nsec -= 1000000000L;
                next.tv_sec++;
            }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
            t[k] = work(&pool[k % POOL], spans);
        }
        double cold = median(t, m);
        printf("%-12s %10zu %10.1f %12.2f\n", tok, m, cold * 1e6, cold / hot);
    }
    free(t);
    for (unsigned i = 0; i < POOL; i++)
        free(pool[i].data);
    return 0;
}

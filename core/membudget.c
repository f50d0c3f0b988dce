/* membudget.c — the process-wide admission budget (see membudget.h): one atomic counter of
 * bytes held, compared with the smallest registered limit by a compare-and-swap, so concurrent
 * receivers and queues can never admit more than the limit between them. */
#include "core/membudget.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MB_MAX_LIMITS 64

struct membudget {
    _Atomic uint64_t used;
    _Atomic uint64_t peak;
    _Atomic uint64_t limit;       /* effective: min of limits[], 0 = unlimited */
    _Atomic int closers;          /* holders keeping the budget closed */
    pthread_mutex_t mu;           /* guards limits[] and n */
    uint64_t limits[MB_MAX_LIMITS];
    int n;
};

static struct membudget process_budget = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct membudget *membudget_process(void) { return &process_budget; }

struct membudget *membudget_new(void)
{
    struct membudget *b = calloc(1, sizeof *b);
    if (b)
        pthread_mutex_init(&b->mu, NULL);
    return b;
}

void membudget_free(struct membudget *b)
{
    if (!b || b == &process_budget)
        return;
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void note_peak(struct membudget *b, uint64_t now)
{
    uint64_t p = atomic_load_explicit(&b->peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(&b->peak, &p, now))
        ;
}

bool membudget_try_acquire(struct membudget *b, uint64_t n)
{
    if (n == 0)
        return true;
    uint64_t limit = atomic_load(&b->limit);
    if (limit && atomic_load(&b->closers) > 0)
        return false;
    uint64_t cur = atomic_load(&b->used);
    for (;;) {
        if (limit && (n > limit || cur > limit - n))
            return false;
        if (atomic_compare_exchange_weak(&b->used, &cur, cur + n))
            break;
    }
    note_peak(b, cur + n);
    return true;
}

void membudget_acquire(struct membudget *b, uint64_t n)
{
    note_peak(b, atomic_fetch_add(&b->used, n) + n);
}

void membudget_release(struct membudget *b, uint64_t n)
{
    /* Never below zero, even if a caller releases more than it holds (a bug, but not a reason
     * to close the budget for ever through an underflow). */
    uint64_t cur = atomic_load(&b->used);
    while (!atomic_compare_exchange_weak(&b->used, &cur, cur >= n ? cur - n : 0))
        ;
}

uint64_t membudget_used(const struct membudget *b) { return atomic_load(&((struct membudget *)b)->used); }
uint64_t membudget_peak(const struct membudget *b) { return atomic_load(&((struct membudget *)b)->peak); }
void membudget_reset_peak(struct membudget *b) { atomic_store(&b->peak, atomic_load(&b->used)); }
uint64_t membudget_limit(const struct membudget *b) { return atomic_load(&((struct membudget *)b)->limit); }

static void recompute_locked(struct membudget *b)
{
    uint64_t m = 0;
    for (int i = 0; i < b->n; i++)
        if (m == 0 || b->limits[i] < m)
            m = b->limits[i];
    atomic_store(&b->limit, m);
}

int membudget_limit_add(struct membudget *b, uint64_t limit)
{
    if (limit == 0)
        return 0;
    pthread_mutex_lock(&b->mu);
    if (b->n == MB_MAX_LIMITS) {
        pthread_mutex_unlock(&b->mu);
        return -1;
    }
    b->limits[b->n++] = limit;
    recompute_locked(b);
    pthread_mutex_unlock(&b->mu);
    return 0;
}

void membudget_limit_remove(struct membudget *b, uint64_t limit)
{
    if (limit == 0)
        return;
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < b->n; i++)
        if (b->limits[i] == limit) {
            b->limits[i] = b->limits[--b->n];
            break;
        }
    recompute_locked(b);
    pthread_mutex_unlock(&b->mu);
}

void membudget_close(struct membudget *b, bool closed)
{
    if (closed)
        atomic_fetch_add(&b->closers, 1);
    else if (atomic_fetch_sub(&b->closers, 1) <= 0)
        atomic_fetch_add(&b->closers, 1); /* unpaired open: stay at zero */
}

bool membudget_closed(const struct membudget *b)
{
    return atomic_load(&((struct membudget *)b)->closers) > 0;
}

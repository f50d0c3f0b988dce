/* fanout.c — hands one batch to several consumers and combines their answers (see fanout.h).
 * The extra reference held during the loop is what keeps consumers from editing a batch that
 * the next consumer has yet to see. */
#include "core/fanout.h"

#include <stdlib.h>
#include <string.h>

struct fanout {
    struct consumer base;      /* first member: a struct consumer * is a struct fanout * */
    size_t n;
    struct consumer **items;
};

static enum consume_status fanout_consume(struct consumer *self, struct batch *b)
{
    struct fanout *f = (struct fanout *)self;
    if (f->n == 1)
        return consumer_send(f->items[0], b);
    bool retry = false, reject = false;
    batch_ref(b);
    for (size_t i = 0; i < f->n; i++) {
        enum consume_status st = consumer_send(f->items[i], b);
        if (st == CONSUME_RETRY)
            retry = true;
        else if (st == CONSUME_REJECT)
            reject = true;
    }
    batch_unref(b);
    if (retry)
        return CONSUME_RETRY;
    return reject ? CONSUME_REJECT : CONSUME_OK;
}

struct fanout *fanout_new(struct consumer *const *consumers, size_t n)
{
    if (n == 0)
        return NULL;
    struct fanout *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->items = malloc(n * sizeof *f->items);
    if (!f->items) {
        free(f);
        return NULL;
    }
    memcpy(f->items, consumers, n * sizeof *f->items);
    f->n = n;
    f->base.consume = fanout_consume;
    return f;
}

void fanout_free(struct fanout *f)
{
    if (!f)
        return;
    free(f->items);
    free(f);
}

struct consumer *fanout_consumer(struct fanout *f)
{
    return &f->base;
}

size_t fanout_count(const struct fanout *f)
{
    return f->n;
}

/* batch.h: what a training loop asks of its data: a batch of inputs and targets for given samples.
 *
 * A batch_source is a callback that fills a batch of inputs and targets for given sample
 * indices. That keeps images as uint8 until the moment a batch needs them (io/data.h) and
 * lets a task add noise on the fly. A source's fill may be called from several threads at
 * once, each time for other samples and other rows of x and y, so it must not change
 * shared state.
 */
#ifndef AE_BATCH_H
#define AE_BATCH_H

#include <stddef.h>

typedef struct {
    size_t count;          /* samples */
    size_t x_size;         /* floats per input sample */
    size_t y_size;         /* floats per target sample */
    /* Fills x (n, x_size) and y (n, y_size) for samples index[0..n). Returns AE_OK or an error code. */
    int (*fill)(void *ctx, const size_t *index, int n, float *x, float *y);
    void *ctx;
    /* Optional (NULL: none): asks the memory system for samples index[0..n) ahead of their fill.
     * train_fit calls it with the next batch before it works on the current one, so that the
     * shuffled images are in the caches when their turn comes. It must not change any state. */
    void (*prefetch)(void *ctx, const size_t *index, int n);
} batch_source;

#endif

/* vae_fast.c: the VAE's batch filled on its threads, the fast twin of vae.c's vae_fill_batch.
 *
 * Shape legend: B batch, D = channels · side² the model's image values.
 *
 * A shuffled batch's images lie anywhere in the training set (47 MB for Fashion-MNIST's), and a
 * training step works through more data than the caches keep, so the images the last step asked
 * for ahead of time (vae.c's prefetch_batch) are mostly gone again when the batch is filled: on
 * the 2-core machine of bench/README.md, filling the dense VAE's 128 images took about 80 µs a step
 * on one thread, waiting for memory, while the other thread of a two-thread VAE had nothing to do.
 * Here each of the model's lanes fills its share of the images: the same floats, in the same places.
 */
#include "fast/fast.h"
#include "fast/threads.h"
#include "vae.h"

typedef struct {
    const vae *v;
    float *x;                       /* (n, D) */
    const idx_array *images;
    const size_t *index;            /* (n) or NULL: images 0 .. n−1 */
    int n;
} fill_job;

static void fill_lane(void *opaque, int lane, int lanes)
{
    const fill_job *job = opaque;
    size_t first, end;
    pool_share((size_t)job->n, 1, lane, lanes, &first, &end);
    if (end <= first) return;
    const size_t *index = job->index ? job->index + first : NULL;
    if (!index) {                   /* images first .. end − 1 themselves */
        idx_array part = *job->images;
        part.data += first * part.item_size;
        part.count -= first;
        vae_fill_batch(job->v, job->x + first * job->v->x_size, &part, NULL, (int)(end - first));
        return;
    }
    vae_fill_batch(job->v, job->x + first * job->v->x_size, job->images, index, (int)(end - first));
}

void fast_vae_fill_batch(vae *v, float *x, const idx_array *images, const size_t *index, int n)
{
    fill_job job = { v, x, images, index, n };
    if (model_on_threads(v->encoder)) model_run_lanes(v->encoder, fill_lane, &job);
    else vae_fill_batch(v, x, images, index, n);
}

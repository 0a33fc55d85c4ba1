/* threads.h: a model's batches shared by several threads, the fast path's twin of model_forward,
 * model_backward and the training step (fast/train_fast.c).
 *
 * A batch can be split in lanes, one per thread: lane k of T takes samples [k·B/T, (k+1)·B/T)
 * (pool_share). Samples are independent until their gradients are summed, so the lanes run
 * the whole model at once, each writing its own rows of the activation buffers, with a
 * workspace and a gradient block of its own. fast_model_backward then adds the lanes'
 * gradients into m->grads, lane 0 first: the same seed and the same number of threads give
 * the same numbers, bit for bit; another number of threads adds the samples' gradients in
 * another order, which changes the last bits (and so, over many steps, the trained weights a
 * little). The matrix products inside the lanes should run on one thread each: blas_set_threads(1).
 *
 * The plain library (--plain) runs on one thread: a program refuses --plain with --threads N > 1.
 */
#ifndef AE_FAST_THREADS_H
#define AE_FAST_THREADS_H

#include <stddef.h>

#include "model.h"
#include "optim.h"
#include "fast/pool.h"

/* 1..POOL_MAX_THREADS, before or after model_build; AE_EINVAL, AE_ENOMEM. */
int model_set_threads(model *m, int threads);
int model_get_threads(const model *m);
/* m on the threads of `from` (its pool shared, not copied): two models run one after the
 * other, as a VAE's encoder and decoder, keep two threads busy instead of starting four that
 * would compete for the processors. Never run both in the lanes at once. AE_ENOMEM. */
int model_share_threads(model *m, const model *from);

/* Elastic steps. An all-dense model gives the same numbers on its threads and alone (the units
 * split below; on the portable path, where a CBLAS sgemm may block a share of the units otherwise
 * than the whole, "alone" runs the lanes' products share by share: model_units_in_turn), so each
 * training step may run on its threads or on the calling thread alone,
 * whichever is faster at the moment (elastic.h): model_threads_step(m) at the start of a step
 * times the steps and chooses, for m and every model that shares its threads (a VAE's encoder
 * and decoder); it returns 1 when this step runs on the threads. model_threads_pause(m): the time
 * until the next step is not a step's (an evaluation pass). A model split by rows (one with
 * convolutions: its numbers depend on the split) chooses too, but "alone" means its lanes' tasks
 * one after the other on the calling thread (model_run_lanes and the fast_model_* functions below
 * do so): each lane's share is computed the same way wherever it runs, so the same bits.
 * model_threads_step returns 0 on one thread.
 * model_on_threads(m): whether m's calls go to its lanes now (the fast_model_* functions below
 * ask it; always, for a model split by rows). model_threads_elastic(m): the choices so far (NULL
 * for a model that does not choose). */
int model_threads_step(model *m);
void model_threads_pause(model *m);
int model_on_threads(const model *m);
const struct elastic *model_threads_elastic(const model *m);
/* way 1: every step on the threads, 0: alone, -1: choose (the default); a no-op for a model that
 * does not choose. For benches and tests. */
void model_threads_pin(model *m, int way);

/* The twins of model_forward and model_backward: the same on one thread, the batch split in lanes on several. */
int fast_model_forward(model *m, const float *x, int batch, const float **y);
int fast_model_backward(model *m, const float *d_y, int batch);
/* The twin of model_zero_grad, and an optimizer's step (optimizer_begin_step and the update)
 * on the model's parameters: each lane clears or updates its share (for the units split, the
 * parameters it owns), the same numbers as on one thread. */
void fast_model_zero_grad(model *m);
void fast_model_optimizer_step(model *m, optimizer *opt);

/* The pieces those two are made of, for a caller that runs its own work in the lanes as well
 * (fast_train_fit fills the batch and computes the loss there):
 *   model_lanes_ready(m): the lanes' blocks for the model as built (call before model_run_lanes);
 *   model_run_lanes(m, task, ctx): task(ctx, lane, threads) on every lane at once (a model split
 *     by rows whose elastic way is "alone" now: lane by lane on the calling thread, so its tasks
 *     must not wait for each other);
 *   model_lane_forward: rows [first, first + count) of x (B, in_size) through the model, with
 *     lane's workspace; *y is the output of the whole batch (B, out_size), these rows filled.
 *     It does not record the batch for model_backward.
 *   model_lane_backward: the same rows backwards from d_y (B, out_size), adding ∂L/∂params into
 *     lane's gradient block (m->grads itself with one thread);
 *   model_gather_grads: grads[first, end) = (grads, if accumulate, else 0) + every lane's block,
 *     in lane order, and those blocks back to zero (nothing to do with one thread).
 * Rows of different lanes must not overlap; ranges of gather_grads neither. */
int model_lanes_ready(model *m);
void model_run_lanes(model *m, pool_task task, void *ctx);
int model_lane_forward(model *m, const float *x, int first, int count, int lane, const float **y);
int model_lane_backward(model *m, const float *x, const float *d_y, int first, int count, int lane);
void model_gather_grads(model *m, size_t first, size_t end, int accumulate);
/* Inside a task of model_run_lanes: waits until every lane has arrived (pool_barrier). */
void model_lanes_barrier(model *m);

/* An all-dense model (every layer with parameters dense) on several threads splits each layer's
 * units instead of the batch: lane k owns a share of every layer's units (its rows of W, entries
 * of b and columns of the activations) for the whole batch, so its parameters and their gradients
 * never leave its core; the lanes only wait for each other between layers (pool_barrier). Each
 * unit's sums, and each column of an input gradient, add the same terms in the same order as one
 * thread: the same numbers, bit for bit, on any number of threads.
 * fast_train_fit, fast_model_forward and fast_model_backward do so when model_units_split says 1.
 * Called from a task of model_run_lanes, by every lane at once:
 *   model_units_forward: x (B, in_size), all of it (each lane may pass its own copy), through
 *     the model; *y (B, out_size) holds this lane's columns of the output (model_units_columns);
 *   model_units_backward: ∂L/∂y in this lane's columns of d_y (B, out_size) back through the
 *     model, adding ∂L/∂params into this lane's parameters in m->grads (and, when requested,
 *     writing m->d_input); each lane computes its columns of every layer's input gradient
 *     (of m->d_input, its share of the rows);
 *   model_units_params: the parameter ranges [first, end) this lane owns (2 per dense layer,
 *     at most max), for zeroing its gradients and running the optimizer on them. */
#define MODEL_UNITS_MAX_DENSE 32   /* dense layers at most, for the units split */
int model_units_split(const model *m);
int model_units_forward(model *m, const float *x, int batch, int lane, const float **y);
int model_units_backward(model *m, const float *x, const float *d_y, int batch, int lane);
/* The same, with this lane's gradients written, not added to (its parameters' ranges need no
 * clearing first): the same numbers (a weight gradient's product with β = 0, gemm.h). *settled
 * (or NULL) says whether this lane may update its parameters at once: 1 when the lanes met in a
 * barrier during the pass (so every lane had run its forward pass and scored its output columns
 * before the call: their results are in) and this lane read no other lane's parameters after it
 * (each lane sums a wide layer's input gradient over its own rows of W); 0 when the lanes must
 * meet first (model_lanes_barrier): below a narrow layer a lane reads every lane's rows of W. */
int model_units_backward_fresh(model *m, const float *x, const float *d_y, int batch, int lane, int *settled);
int model_units_params(const model *m, int lane, size_t *first, size_t *end, int max);
/* 1 when layer layer_index's input gradient, when wanted, is summed from the lanes' partial sums (a wide layer:
 * each lane sums over its own rows of W, and the lanes add the sums in one thread's order; threads.c). */
int model_units_partial_sums(const model *m, int layer_index);
/* The output columns [first, end) that lane owns in the units split. */
void model_units_columns(const model *m, int lane, size_t *first, size_t *end);

/* The units split on the calling thread alone, for the portable path's elastic steps: every
 * lane's share of a layer, one lane after the other, before the next layer, with the very calls
 * the lanes make (so the same bits: a CBLAS sgemm's blocking may depend on a product's width, but
 * the same call gives the same floats). model_units_in_turn(m): 1 when m's steps alone run so
 * (an all-dense model on several threads without AVX-512); fast_model_forward_here and the
 * fast_model_backward_* functions then call these. fresh: the gradients written, not added to. */
int model_units_in_turn(const model *m);
int model_units_forward_in_turn(model *m, const float *x, int batch, const float **y);
int model_units_backward_in_turn(model *m, const float *x, const float *d_y, int batch, int fresh);

#endif

/* model_fast.c: the walks through a model's layers, the fast twins of model.c's
 * model_forward_rows and model_backward_rows (and of model_forward and model_backward, on one thread).
 *
 * The plain walks run a layer's fused activation as passes of their own over the layer's output:
 * forward, f(pre) after the layer wrote pre; backward, clearing d_pre, adding f'(pre) ⊙ d_out
 * into it, then (inside the layer's backward) summing it over samples and pixels for the bias
 * gradient, and clearing the layer's input gradient for the layer to add into. A convolution's
 * output is the largest tensor of a convolutional model (model B's last layers: 32 samples of
 * 16 x 28 x 28 floats, 1.6 MB, more than the L2 cache), so here
 *   - forward, a convolution with a ReLU writes max(0, pre) where pre would go, and pre is not
 *     kept (fast_conv_layer_forward_relu with pre = out): ReLU's gradient needs only where pre is
 *     positive, which is where the output is (a NaN or a zero gives 0 in both), so backward reads
 *     the output instead. Model B's last Conv2DTranspose writes 1.6 MB less a batch of 32;
 *   - backward, a convolution's activation gradient and bias gradient are one pass, plane by plane
 *     (fast_conv_activation_backward), a dense layer's row by row, each row added to the bias
 *     gradient while in the L1 cache; the layer's backward is then told the bias gradient is done;
 *   - a convolution writes its input gradient instead of adding it to a cleared one
 *     (fast_conv_layer_backward_set); and when the layer below is a convolution with its ReLU
 *     in place and this one's input-gradient pass is one of conv_direct.c's kernels, it writes
 *     it through that ReLU straight into the layer below's d_pre, as each block is stored (the
 *     layer below then sums only its bias gradient, and its d_out is not written: a pass over
 *     three tensors saved a layer, reading d_out and the output and writing d_pre).
 *   - a model whose every layer is a convolution on conv_direct.c's kernels walks its rows a few
 *     samples at a time (walk_chunk: model B 4, whose last two layers' input and output fill
 *     256 KB, a quarter of the L2 cache), so that what a layer writes is still in the cache when
 *     the next one reads it (the largest, 16 x 28 x 28 floats a sample, ~0.8 MB for the 16
 *     samples of one of two threads): forward, every layer for the first few samples, then the
 *     next few; backward likewise the gradients that flow down, each bias gradient's running sums
 *     and the weight gradients of the layers that sum theirs over as many samples at a time
 *     (direct_weight_chunk); then over all the rows, the bias gradients from their sums and the
 *     other layers' weight gradients, whose sums a split into chunks would change.
 * Every other step is the plain walk's, and so are the outputs and gradients, bit for bit
 * (tests/test_fast.c).
 */
#include "fast/fast.h"
#include "fast/vector.h"
#include "error.h"

#include <string.h>

static int is_conv(const layer *l)
{
    return l->spec.kind == LAYER_CONV2D || l->spec.kind == LAYER_CONV2D_TRANSPOSE;
}

/* a convolution with a ReLU: its ReLU written where pre would go, pre not kept (see the top) */
static int relu_in_place(const layer *l)
{
    return is_conv(l) && l->spec.act == ACT_RELU;
}

/* ------------------------------------------------------------- samples a few at a time */

enum { WALK_MAX_CHANNELS = 16 };   /* conv_direct.c's kernels: at most 16 channels a side */
typedef float bias_sums[WALK_MAX_CHANNELS][8];   /* a layer's running sums of its bias gradient */

static int forced_chunk;   /* fast_model_walk_chunk_force */

void fast_model_walk_chunk_force(int samples)
{
    forced_chunk = samples > 0 ? samples : 0;
}

/* The samples a walk takes at a time: every layer a convolution (or a view) on conv_direct.c's
 * kernels, which compute each sample's values on their own whatever else is in the call, then the
 * fewest that any of them sums its weight gradient over at a time (the chunk of samples whose
 * input and output fill 256 KB, a quarter of the L2 cache: model B's last two layers, 4); else
 * every sample at once (0). */
static int walk_chunk(const model *m)
{
    int chunk = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        if (l->view) continue;
        const int c = is_conv(l) && l->geom.out_c <= WALK_MAX_CHANNELS ? fast_conv_layer_weight_chunk(l) : 0;
        if (c <= 0) return 0;
        if (chunk == 0 || c < chunk) chunk = c;
    }
    return forced_chunk && chunk ? forced_chunk : chunk;
}

int fast_model_walk_chunk(const model *m, int count)
{
    const int chunk = walk_chunk(m);
    return chunk > 0 && chunk < count ? chunk : count;
}

static void forward_walk(model *m, const float *x, int first, int count, float *work)
{
    for (int i = 0; i < m->n_layers; i++) {
        layer *l = &m->layers[i];
        if (l->view) continue;
        const float *in = model_layer_input(m, i, x) + (size_t)first * l->in_size;   /* (count, in_size) */
        float *out = l->out + (size_t)first * l->out_size;                           /* (count, out_size) */
        if (!layer_has_fused_activation(l)) {
            layer_forward(l, out, in, work, count);
            continue;
        }
        if (relu_in_place(l)) {
            fast_conv_layer_forward_relu(l, out, out, in, work, count);
            continue;
        }
        float *linear = l->pre + (size_t)first * l->out_size;   /* kept apart for backward */
        if (l->spec.kind == LAYER_DENSE && l->spec.act == ACT_RELU) {   /* the ReLU written as the product is stored */
            fast_dense_layer_forward_relu(l, linear, out, in, count);
            continue;
        }
        layer_forward(l, linear, in, work, count);
        activation_forward(l->spec.act, out, linear, (size_t)count * l->out_size);
    }
}

void fast_model_forward_rows(model *m, const float *x, int first, int count, float *work)
{
    const int chunk = fast_model_walk_chunk(m, count);
    for (int f = first; f < first + count; f += chunk)
        forward_walk(m, x, f, first + count - f < chunk ? first + count - f : chunk, work);
}

int fast_model_forward_here(model *m, const float *x, int batch, const float **y)
{
    int rc = model_check_batch(m, batch, "model_forward");
    if (rc != AE_OK) return rc;
    if (model_units_in_turn(m)) {                   /* the portable path's units split, alone */
        const float *out;
        rc = model_units_forward_in_turn(m, x, batch, &out);
        if (rc != AE_OK) return rc;
    } else {
        fast_model_forward_rows(m, x, 0, batch, m->work);
    }
    model_record_forward(m, x, batch, y);
    return AE_OK;
}

/* d_pre (count, out_size) from d_out through the layer's fused activation; the bias gradient
 * too when it can (then *d_bias is set to NULL: nothing left for the layer's backward to add) */
static void activation_backward_rows(const layer *l, float *d_pre, float **d_bias, const float *d_out,
                                     const float *pre, const float *out, int count)
{
    if (is_conv(l)) {
        const int channels = l->geom.out_c;
        const size_t pixels = (size_t)l->geom.out_h * l->geom.out_w;
        if (fast_conv_activation_backward(l->spec.act, d_pre, *d_bias, d_out, pre, out, count, channels, pixels)) {
            *d_bias = NULL;
            return;
        }
    }
    if (l->spec.kind == LAYER_DENSE && *d_bias) {   /* row by row, each added to d_b while in the L1 cache */
        const size_t units = l->out_size;
        for (int b = 0; b < count; b++) {
            const size_t at = (size_t)b * units;
            if (l->spec.act == ACT_RELU) {   /* the three steps below in one pass */
                fast_relu_backward_set(d_pre + at, *d_bias, d_out + at, pre + at, units);
                continue;
            }
            if (l->spec.act == ACT_SIGMOID) {   /* so for a sigmoid, from its output */
                fast_sigmoid_backward_set(d_pre + at, *d_bias, d_out + at, out + at, units);
                continue;
            }
            memset(d_pre + at, 0, units * sizeof *d_pre);
            activation_backward(l->spec.act, d_pre + at, d_out + at, pre + at, out + at, units);
            vec_add_to(*d_bias, d_pre + at, units);   /* fast_dense_backward's sum, in its order */
        }
        *d_bias = NULL;
        return;
    }
    const size_t n = (size_t)count * l->out_size;
    memset(d_pre, 0, n * sizeof *d_pre);
    activation_backward(l->spec.act, d_pre, d_out, pre, out, n);
}

/* Whether layer i writes its input gradient through the ReLU of the layer right below it, straight
 * into that layer's d_pre (fast_conv_layer_backward_set with a gate): both convolutions, the one
 * below with its ReLU in place, and layer i's input-gradient pass one of conv_direct.c's kernels,
 * which apply the gate as they store. The layer below then has only its bias gradient left. */
static int writes_d_pre_below(const model *m, int i)
{
    if (i == 0 || !is_conv(&m->layers[i]) || !fast_conv_layer_gates(&m->layers[i])) return 0;
    const layer *below = &m->layers[i - 1];
    return !below->view && relu_in_place(below) && below->d_pre;
}

/* What one walk down the layers computes: everything, the rows in one go (WALK_ALL); or, the rows
 * in chunks, chunk by chunk the gradients that flow down (d_pre, d_in), the running sums of the
 * bias gradients (fast_conv_bias_sums) and the weight gradients that the layer sums over as many
 * samples at a time or a divisor of it (the same floats: see direct_weight_chunk) (WALK_DOWN);
 * then, over all the rows, the bias gradients from their sums and the other weight gradients,
 * whose sums a split into chunks would change (WALK_PARAMS). */
typedef enum { WALK_ALL, WALK_DOWN, WALK_PARAMS } walk_part;

/* whether layer l's weight gradient is summed chunk by chunk in a walk of `chunk` samples at a time */
static int weights_by_chunk(const layer *l, int chunk)
{
    const int c = is_conv(l) ? fast_conv_layer_weight_chunk(l) : 0;
    return c > 0 && chunk % c == 0;
}

/* sums: one per layer (WALK_DOWN, WALK_PARAMS), or NULL (WALK_ALL). fresh (WALK_ALL only): `grads` is
 * written, not added to, whatever it held: a dense layer's weight gradient is its product (β = 0,
 * the bits of β = 1 over zeros: fast_dense_backward_beta), every other gradient cleared before the
 * walk adds into it, and the layers below where the walk stops cleared: model_zero_grad and the walk
 * in one, without a pass over the dense weights' gradients to clear them. */
static void backward_walk(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                          float *work, walk_part part, int chunk, bias_sums *sums, int fresh)
{
    const float *d_out = d_y + (size_t)first * model_output_size(m);   /* (count, out_size) of the current layer */
    int d_pre_written = 0;   /* the layer above wrote this layer's d_pre (writes_d_pre_below) */
    int written = m->n_layers;   /* fresh: the layers from here up have their gradients in hand */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer *l = &m->layers[i];
        if (l->view) continue;   /* its input's gradient is the same memory */
        layer_rows r = model_layer_rows(m, i, x, first, grads);
        if (!r.d_in && !r.d_weight) break;   /* nothing below needs anything */
        const int conv = is_conv(l);   /* writes its input gradient: nothing to clear */
        const int dense = l->spec.kind == LAYER_DENSE;   /* its products write theirs (β = 0) */
        if (fresh) {
            if (dense && r.d_weight) {
                if (r.d_bias) memset(r.d_bias, 0, l->n_bias * sizeof *r.d_bias);
            } else {
                memset(grads + l->param_offset, 0, (l->n_weight + l->n_bias) * sizeof *grads);
            }
            written = i;
        }
        float *d_in = r.d_in;   /* where the input gradient goes (below, through its ReLU, when d_pre_written) */
        float *d_bias = r.d_bias;   /* the layer's bias gradient (WALK_ALL), summed here (the other two) */
        if (part != WALK_ALL) {
            if ((part == WALK_DOWN) != weights_by_chunk(l, chunk)) r.d_weight = NULL;
            r.d_bias = NULL;
        }

        const float *d_linear = d_out;
        if (d_pre_written) {
            /* d_out is this layer's d_pre already: the layer's backward sums its bias gradient over
             * it (add_bias_grad, fast_conv_bias_backward: the order of fast_conv_activation_backward's sums) */
        } else if (layer_has_fused_activation(l)) {
            float *d_pre = l->d_pre + (size_t)first * l->out_size;
            const float *pre = relu_in_place(l) ? r.out : l->pre + (size_t)first * l->out_size;
            if (part != WALK_PARAMS) activation_backward_rows(l, d_pre, &r.d_bias, d_out, pre, r.out, count);
            d_linear = d_pre;
        }
        if (part == WALK_DOWN && d_bias)   /* this chunk's d_linear, still in the cache */
            fast_conv_bias_sums(sums[i], d_linear, count, l->geom.out_c, (size_t)l->geom.out_h * l->geom.out_w);
        if (part == WALK_PARAMS && d_bias) fast_conv_bias_sums_total(d_bias, (const float(*)[8])sums[i], l->geom.out_c);

        const float *gate = NULL;
        d_pre_written = d_in && writes_d_pre_below(m, i);
        if (d_pre_written) {   /* the layer below's d_pre, through its ReLU, instead of its d_out */
            const layer *below = &m->layers[i - 1];
            d_in = below->d_pre + (size_t)first * below->out_size;
            gate = below->out + (size_t)first * below->out_size;
        }
        float *write_in = part == WALK_PARAMS ? NULL : d_in;   /* WALK_PARAMS: written chunk by chunk already */
        if (write_in && !conv && !dense)   /* layers add into it */
            memset(write_in, 0, (size_t)count * l->in_size * sizeof *write_in);
        if (conv) fast_conv_layer_backward_set(l, write_in, r.d_weight, r.d_bias, d_linear, r.in, gate, work, count);
        else if (dense)   /* the input gradient written (β = 0: the bits of β = 1 over a cleared d_in) */
            fast_dense_backward_beta(write_in, 0.0f, r.d_weight, fresh ? 0.0f : 1.0f, r.d_bias, d_linear, r.in,
                                     l->weight, count, (int)l->in_size, l->spec.units);
        else layer_backward(l, write_in, r.d_weight, r.d_bias, d_linear, r.in, r.out, work, count);
        if (!d_in) break;   /* the first layer with parameters, and no input gradient wanted */
        d_out = d_in;
    }
    for (int i = 0; fresh && i < written; i++)   /* below where the walk stopped: no gradient, cleared */
        if (m->layers[i].n_weight + m->layers[i].n_bias)
            memset(grads + m->layers[i].param_offset, 0, (m->layers[i].n_weight + m->layers[i].n_bias) * sizeof *grads);
}

/* fresh: `grads` written (backward_walk), else added to */
static void backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                          float *work, int fresh)
{
    const int chunk = fast_model_walk_chunk(m, count);
    if (chunk >= count) {
        backward_walk(m, x, d_y, first, count, grads, work, WALK_ALL, 0, NULL, fresh);
        return;
    }
    if (fresh) memset(grads, 0, m->n_params * sizeof *grads);   /* the walks in chunks add into them */
    bias_sums sums[m->n_layers];   /* 512 bytes a layer: layers of at most 16 channels (walk_chunk) */
    memset(sums, 0, sizeof sums);
    for (int f = first; f < first + count; f += chunk)
        backward_walk(m, x, d_y, f, first + count - f < chunk ? first + count - f : chunk, grads, work, WALK_DOWN,
                      chunk, sums, 0);
    backward_walk(m, x, d_y, first, count, grads, work, WALK_PARAMS, chunk, sums, 0);
}

void fast_model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                              float *work)
{
    backward_rows(m, x, d_y, first, count, grads, work, 0);
}

int fast_model_backward_here(model *m, const float *d_y, int batch)
{
    int rc = model_check_backward(m, batch);
    if (rc != AE_OK) return rc;
    if (model_units_in_turn(m)) return model_units_backward_in_turn(m, m->last_input, d_y, batch, 0);
    backward_rows(m, m->last_input, d_y, 0, batch, m->grads, m->work, 0);
    return AE_OK;
}

int fast_model_backward_fresh(model *m, const float *d_y, int batch)
{
    int rc = model_check_backward(m, batch);
    if (rc != AE_OK) return rc;
    if (model_units_in_turn(m)) return model_units_backward_in_turn(m, m->last_input, d_y, batch, 1);
    backward_rows(m, m->last_input, d_y, 0, batch, m->grads, m->work, 1);
    return AE_OK;
}

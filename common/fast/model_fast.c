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

void fast_model_forward_rows(model *m, const float *x, int first, int count, float *work)
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
        layer_forward(l, linear, in, work, count);
        activation_forward(l->spec.act, out, linear, (size_t)count * l->out_size);
    }
}

int fast_model_forward_here(model *m, const float *x, int batch, const float **y)
{
    int rc = model_check_batch(m, batch, "model_forward");
    if (rc != AE_OK) return rc;
    fast_model_forward_rows(m, x, 0, batch, m->work);
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

void fast_model_backward_rows(model *m, const float *x, const float *d_y, int first, int count, float *grads,
                              float *work)
{
    const float *d_out = d_y + (size_t)first * model_output_size(m);   /* (count, out_size) of the current layer */
    int d_pre_written = 0;   /* the layer above wrote this layer's d_pre (writes_d_pre_below) */
    for (int i = m->n_layers - 1; i >= 0; i--) {
        layer *l = &m->layers[i];
        if (l->view) continue;   /* its input's gradient is the same memory */
        layer_rows r = model_layer_rows(m, i, x, first, grads);
        if (!r.d_in && !r.d_weight) break;   /* nothing below needs anything */
        const int conv = is_conv(l);   /* writes its input gradient: nothing to clear */
        if (r.d_in && !conv) memset(r.d_in, 0, (size_t)count * l->in_size * sizeof *r.d_in);   /* layers add into it */

        const float *d_linear = d_out;
        if (d_pre_written) {   /* d_out is this layer's d_pre already: its bias gradient is what is left */
            if (r.d_bias)
                fast_conv_bias_backward(r.d_bias, d_out, count, l->geom.out_c, (size_t)l->geom.out_h * l->geom.out_w);
            r.d_bias = NULL;
        } else if (layer_has_fused_activation(l)) {
            float *d_pre = l->d_pre + (size_t)first * l->out_size;
            const float *pre = relu_in_place(l) ? r.out : l->pre + (size_t)first * l->out_size;
            activation_backward_rows(l, d_pre, &r.d_bias, d_out, pre, r.out, count);
            d_linear = d_pre;
        }
        const float *gate = NULL;
        d_pre_written = r.d_in && writes_d_pre_below(m, i);
        if (d_pre_written) {   /* the layer below's d_pre, through its ReLU, instead of its d_out */
            const layer *below = &m->layers[i - 1];
            r.d_in = below->d_pre + (size_t)first * below->out_size;
            gate = below->out + (size_t)first * below->out_size;
        }
        if (conv) fast_conv_layer_backward_set(l, r.d_in, r.d_weight, r.d_bias, d_linear, r.in, gate, work, count);
        else layer_backward(l, r.d_in, r.d_weight, r.d_bias, d_linear, r.in, r.out, work, count);
        if (!r.d_in) break;   /* the first layer with parameters, and no input gradient wanted */
        d_out = r.d_in;
    }
}

int fast_model_backward_here(model *m, const float *d_y, int batch)
{
    int rc = model_check_backward(m, batch);
    if (rc != AE_OK) return rc;
    fast_model_backward_rows(m, m->last_input, d_y, 0, batch, m->grads, m->work);
    return AE_OK;
}

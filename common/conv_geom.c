/* conv_geom.c: the sizes of a convolution and of a transposed convolution (see layers.h).
 *
 * Keras' padding modes, one axis at a time (i input size, k kernel, s stride, p padding):
 *
 *   padding            conv2d output              conv2d_transpose output
 *   valid              floor((i − k)/s) + 1       i·s + max(k − s, 0)
 *   same               ceil(i/s)                  i·s
 *   explicit p (, a)   floor((i + 2p − k)/s) + 1  s(i − 1) + k − 2p + a
 */
#include "layers.h"
#include "error.h"


static const char *padding_name(padding_mode mode)
{
    switch (mode) {
    case PAD_VALID: return "valid";
    case PAD_SAME: return "same";
    case PAD_EXPLICIT: return "explicit";
    }
    return "unknown";
}

/* The checks both geometries share: positive sizes, a stride of at least 1, a known padding mode. */
static int check_conv_args(const char *layer, int in_c, int in_h, int in_w, int out_c,
                           int k_h, int k_w, int stride, padding_mode mode, int padding)
{
    if (in_c <= 0 || in_h <= 0 || in_w <= 0)
        return AE_ERROR(AE_EINVAL, "%s: the input shape (%d, %d, %d) must be positive in every dimension",
                        layer, in_c, in_h, in_w);
    if (out_c <= 0)
        return AE_ERROR(AE_EINVAL, "%s: the number of filters must be positive, not %d", layer, out_c);
    if (k_h <= 0 || k_w <= 0)
        return AE_ERROR(AE_EINVAL, "%s: the kernel size %dx%d must be positive", layer, k_h, k_w);
    if (stride < 1)
        return AE_ERROR(AE_EINVAL, "%s: the stride must be at least 1, not %d", layer, stride);
    if (mode != PAD_VALID && mode != PAD_SAME && mode != PAD_EXPLICIT)
        return AE_ERROR(AE_EINVAL, "%s: unknown padding mode %d", layer, (int)mode);
    if (mode == PAD_EXPLICIT && padding < 0)
        return AE_ERROR(AE_EINVAL, "%s: the padding must be 0 or more, not %d", layer, padding);
    if (mode != PAD_EXPLICIT && padding != 0)
        return AE_ERROR(AE_EINVAL, "%s: a padding of %d applies to PAD_EXPLICIT only; pass 0 with '%s'",
                        layer, padding, padding_name(mode));
    const int sides[] = { in_c, in_h, in_w, out_c, k_h, k_w, stride, padding };
    const char *names[] = { "input channels", "input height", "input width", "filters", "kernel height",
                            "kernel width", "stride", "padding" };
    for (int i = 0; i < 8; i++)
        if (sides[i] > AE_MAX_SIDE)
            return AE_ERROR(AE_EINVAL, "%s: %s %d is above the largest this library takes (%d)", layer, names[i],
                            sides[i], AE_MAX_SIDE);
    return AE_OK;
}

/* AE_OK when both output sides lie in [1, AE_MAX_SIDE]; the sizes were worked out in 64 bits from
 * sides of at most AE_MAX_SIDE, so they are the true ones. */
static int check_output(const char *layer, long long out_h, long long out_w)
{
    if (out_h > AE_MAX_SIDE || out_w > AE_MAX_SIDE)
        return AE_ERROR(AE_EINVAL, "%s: the output would be %lldx%lld, above the largest side this library takes "
                        "(%d); use a smaller stride or input", layer, out_h, out_w, AE_MAX_SIDE);
    return AE_OK;
}

/* One axis of a conv2d: out = floor((in + pad_total − k)/s) + 1; sets *out and *pad_front.
 * Every argument is at most AE_MAX_SIDE (check_conv_args), so no sum or product here overflows. */
static void conv_axis(int in, int k, int stride, padding_mode mode, int padding, long long *out, int *pad_front)
{
    switch (mode) {
    case PAD_SAME: {
        long long n = (in + stride - 1) / stride;                 /* ceil(in/s) */
        long long pad_total = (n - 1) * stride + k - in;
        if (pad_total < 0) pad_total = 0;
        *out = n;
        *pad_front = (int)(pad_total / 2);                        /* the odd extra row goes to the back */
        break;
    }
    case PAD_EXPLICIT:
        *out = in + 2LL * padding >= k ? (in + 2LL * padding - k) / stride + 1 : 0;
        *pad_front = padding;
        break;
    default:                                                      /* PAD_VALID */
        *out = in >= k ? (in - k) / stride + 1 : 0;
        *pad_front = 0;
        break;
    }
}

int conv2d_geom(conv_geom *g, int in_c, int in_h, int in_w, int out_c,
                int k_h, int k_w, int stride, padding_mode mode, int padding)
{
    int rc = check_conv_args("conv2d", in_c, in_h, in_w, out_c, k_h, k_w, stride, mode, padding);
    if (rc != AE_OK) return rc;
    conv_geom r = { .in_c = in_c, .in_h = in_h, .in_w = in_w, .out_c = out_c,
                    .k_h = k_h, .k_w = k_w, .stride = stride };
    long long out_h, out_w;
    conv_axis(in_h, k_h, stride, mode, padding, &out_h, &r.pad_top);
    conv_axis(in_w, k_w, stride, mode, padding, &out_w, &r.pad_left);
    if ((rc = check_output("conv2d", out_h, out_w)) != AE_OK) return rc;
    r.out_h = (int)out_h;
    r.out_w = (int)out_w;
    if (r.out_h <= 0 || r.out_w <= 0)
        return AE_ERROR(AE_EINVAL, "conv2d: a %dx%d kernel with '%s' padding %d leaves no output "
                        "from a %dx%d input; use a smaller kernel or more padding",
                        k_h, k_w, padding_name(mode), padding, in_h, in_w);
    *g = r;
    return AE_OK;
}

/* One axis of a conv2d_transpose; sets *out and *crop_front (rows cropped from the front). */
static void conv_transpose_axis(int in, int k, int stride, padding_mode mode, int padding,
                                int output_padding, long long *out, int *crop_front)
{
    int overlap = k > stride ? k - stride : 0;                    /* max(k − s, 0) */
    switch (mode) {
    case PAD_SAME:
        *out = (long long)in * stride;
        *crop_front = overlap / 2;
        break;
    case PAD_EXPLICIT:
        *out = (long long)stride * (in - 1) + k - 2LL * padding + output_padding;
        *crop_front = padding;
        break;
    default:                                                      /* PAD_VALID */
        *out = (long long)in * stride + overlap;
        *crop_front = 0;
        break;
    }
}

int conv2d_transpose_geom(conv_geom *g, int in_c, int in_h, int in_w, int out_c,
                          int k_h, int k_w, int stride, padding_mode mode, int padding,
                          int output_padding)
{
    int rc = check_conv_args("conv2d_transpose", in_c, in_h, in_w, out_c, k_h, k_w, stride, mode, padding);
    if (rc != AE_OK) return rc;
    if (output_padding < 0 || output_padding >= stride)
        return AE_ERROR(AE_EINVAL, "conv2d_transpose: the output padding must lie in [0, stride) = [0, %d), "
                        "not %d", stride, output_padding);
    if (mode != PAD_EXPLICIT && output_padding != 0)
        return AE_ERROR(AE_EINVAL, "conv2d_transpose: an output padding of %d applies to PAD_EXPLICIT only; "
                        "pass 0 with '%s'", output_padding, padding_name(mode));
    conv_geom r = { .in_c = in_c, .in_h = in_h, .in_w = in_w, .out_c = out_c,
                    .k_h = k_h, .k_w = k_w, .stride = stride };
    long long out_h, out_w;
    conv_transpose_axis(in_h, k_h, stride, mode, padding, output_padding, &out_h, &r.pad_top);
    conv_transpose_axis(in_w, k_w, stride, mode, padding, output_padding, &out_w, &r.pad_left);
    if ((rc = check_output("conv2d_transpose", out_h, out_w)) != AE_OK) return rc;
    r.out_h = (int)out_h;
    r.out_w = (int)out_w;
    if (r.out_h <= 0 || r.out_w <= 0)
        return AE_ERROR(AE_EINVAL, "conv2d_transpose: a padding of %d crops everything from a %dx%d "
                        "input with a %dx%d kernel and stride %d (output %dx%d); use less padding",
                        padding, in_h, in_w, k_h, k_w, stride, r.out_h, r.out_w);
    *g = r;
    return AE_OK;
}

/* conv_taps.c: conv2d and conv2d_transpose as a few large matrix products, the fast twins of
 * common/conv2d.c and common/conv2d_transpose.c.
 *
 * Shape legend
 *   B  batch            C  input channels    OC output channels
 *   H, W   input height and width            OH, OW output height and width
 *   KH, KW kernel rows and columns
 *   nb the samples of one chunk of the batch (see "Chunks" below)
 *
 * How the convolutions work (details at "convolutions by taps")
 *   A convolution is a sum of matrix products, one per kernel tap (kh, kw):
 *     out (OC, pixels) = Σ_{kh,kw} W[:, :, kh, kw] (OC, C) · (in shifted by (kh, kw)) (C, pixels).
 *   The padded input is stored so that every shift is a plain pointer offset
 *   (split into s² phase images when the stride s is above 1), and the side with
 *   fewer channels is copied once per tap, so that each pass is one gemm (one
 *   per phase) for a whole chunk of samples: the classic im2col when the input has fewer channels, its
 *   mirror image on the output side when the output has fewer (a decoder's last
 *   layer: 16 channels in, 1 out). The backward passes and the transposed
 *   convolution use the same three products. When the image side has many
 *   channels (16 or more) and the grid side at least as many, nothing is copied:
 *   one gemm per tap reads the phases at the tap's offset, or adds into them.
 *
 * Chunks
 *   The batch goes through in chunks of samples small enough that a chunk's
 *   copies stay inside the L2 cache; the workspace holds one chunk.
 *
 * 3×3 kernels with few channels (model B's layers) do not come here: with AVX-512 the public
 * functions at the end hand them to conv_direct.c, which computes them in place (direct_sides).
 */
#include "fast/conv_direct.h"
#include "fast/cpu.h"
#include "fast/fast.h"
#include "fast/gemm.h"
#include "fast/vector.h"

#include <string.h>

/* Both convolutions link two sides:
 *   the image side, which the kernel window slides over (R channels, IH x IW), and
 *   the grid side, one value per window position (M channels, GH x GW),
 * through image row gy·s − pt + kh for grid row gy and kernel row kh (columns alike).
 *   conv2d:           image = its input,  grid = its output, weight (OC, C, KH, KW) = (M, R, KH, KW)
 *   conv2d_transpose: image = its output, grid = its input,  weight (C, OC, KH, KW) = (M, R, KH, KW)
 *
 * Layouts. The padded image is split into s² phase images: phase (py, px) holds rows
 * ≡ py and columns ≡ px (mod s), Hq x Wq pixels per sample. The nb samples of a chunk
 * are interleaved by rows: row i of every sample, one after the other (nb·Wq positions),
 * then row i + 1: position i·nb·Wq + b·Wq + j. Grid values are stored "wide", the same
 * way with rows of the same width Wq, GH rows. Then kernel tap (kh, kw) links grid
 * position n with position n + (kh div s)·nb·Wq + (kw div s) of phase (kh mod s, kw mod s):
 * a plain offset, the same for every pixel and every sample of a chunk. The wide
 * positions of the columns past GW are computed and dropped, or held at zero; the rows
 * past GH, which the taps read but which are no grid rows, are no wide positions at all
 * (so they cost nothing, once per chunk).
 *
 * Three products cover all six passes (forward, input gradient, weight gradient of both layers):
 *   gather   grid[m, n]             = Σ_{k,r} W[m, r, k] · image_k[r, n + off_k]   conv2d forward
 *   scatter  image_k[r, n + off_k] += Σ_m   W[m, r, k] · grid[m, n]                conv2d_transpose forward
 *   weight   dW[m, r, k]           += Σ_n   grid[m, n] · image_k[r, n + off_k]
 * Each is one gemm after the side with fewer channels is laid out once per tap:
 *   - image side (R <= M): patches[(k, r), n] = image_k[r, n + off_k], the classic im2col;
 *   - grid side (M < R):   shifted[(k, m), n'] = grid[m, n' − off_k], its mirror image.
 * The copies are whole rows (memcpy, saxpy) thanks to the layouts above. */
typedef struct {
    int grid_c, grid_h, grid_w;     /* M, GH, GW */
    int img_c, img_h, img_w;        /* R, IH, IW */
    int k_h, k_w, stride, pad_top, pad_left;
    int phase_h, phase_w;           /* Hq, Wq: each phase image is Hq x Wq per sample */
    int slack;                      /* zeros after each phase row: a tap's column offset may run this far past it */
    int shift_grid;                 /* 1: lay out the grid side per tap; 0: the image side (im2col) */
    int direct;                     /* image side with many channels: the products read the phases in place */
} tap_plan;

/* From this many image channels on, the image side is not copied per tap: each tap's product
 * reads its phase at the tap's offset (a matrix with row stride nb·Hq·Wq + slack), and its
 * results go straight into the grid or the phases. Each product then sums over R, not KH·KW·R,
 * which costs little once R fills a few of the gemm kernel's steps. */
#define DIRECT_MIN_CHANNELS 16

static tap_plan make_plan(int grid_c, int grid_h, int grid_w, int img_c, int img_h, int img_w,
                          const conv_geom *g)
{
    tap_plan t = { grid_c, grid_h, grid_w, img_c, img_h, img_w,
                   g->k_h, g->k_w, g->stride, g->pad_top, g->pad_left, 0, 0, 0, grid_c < img_c,
                   grid_c >= img_c && img_c >= DIRECT_MIN_CHANNELS };
    const int s = g->stride;
    /* the padded image holds every image pixel and every pixel a window reads */
    int padded_h = img_h + g->pad_top, padded_w = img_w + g->pad_left;
    if ((grid_h - 1) * s + g->k_h > padded_h) padded_h = (grid_h - 1) * s + g->k_h;
    if ((grid_w - 1) * s + g->k_w > padded_w) padded_w = (grid_w - 1) * s + g->k_w;
    t.phase_h = (padded_h + s - 1) / s;
    t.phase_w = (padded_w + s - 1) / s;
    t.slack = (g->k_w - 1) / s;     /* the rows (KH − 1) div s past the last grid row are phase rows */
    return t;
}

static tap_plan taps_conv2d_plan(const conv_geom *g)
{
    return make_plan(g->out_c, g->out_h, g->out_w, g->in_c, g->in_h, g->in_w, g);
}

static tap_plan taps_conv2d_transpose_plan(const conv_geom *g)
{
    return make_plan(g->in_c, g->in_h, g->in_w, g->out_c, g->out_h, g->out_w, g);
}

static int plan_phases(const tap_plan *t) { return t->stride * t->stride; }
static int plan_taps(const tap_plan *t) { return t->k_h * t->k_w; }
static size_t plan_cells(const tap_plan *t) { return (size_t)t->phase_h * t->phase_w; }     /* Hq·Wq */
static size_t plan_weights(const tap_plan *t) { return (size_t)plan_taps(t) * t->grid_c * t->img_c; }
/* One row of every sample of a chunk; the wide positions of nb samples (GH such rows), and a
 * phase row (Hq such rows and the slack). */
static size_t chunk_row(const tap_plan *t, int nb) { return (size_t)nb * t->phase_w; }
static size_t wide_len(const tap_plan *t, int nb) { return (size_t)t->grid_h * chunk_row(t, nb); }
static size_t phase_len(const tap_plan *t, int nb) { return (size_t)t->phase_h * chunk_row(t, nb) + (size_t)t->slack; }

/* Taps are numbered phase by phase, so that the taps of one phase are neighbours:
 * phase (py, px) holds the taps kh ≡ py, kw ≡ px (mod s). */
static int phase_tap_count(const tap_plan *t, int py, int px)
{
    const int s = t->stride;
    const int rows = py < t->k_h ? (t->k_h - py + s - 1) / s : 0;
    const int cols = px < t->k_w ? (t->k_w - px + s - 1) / s : 0;
    return rows * cols;
}

/* The tap's offset into its phase: (kh div s)·nb·Wq + (kw div s). */
static size_t tap_offset(const tap_plan *t, int kh, int kw, int nb)
{
    return (size_t)(kh / t->stride) * chunk_row(t, nb) + (size_t)(kw / t->stride);
}

/* The stack of per-tap rows: (KH·KW·R, GH·nb·Wq) patches or (KH·KW·M, nb·Hq·Wq + slack) shifted rows;
 * none when the products read the phases in place. */
static size_t stack_len(const tap_plan *t, int nb)
{
    if (t->direct) return 0;
    return t->shift_grid ? (size_t)plan_taps(t) * t->grid_c * phase_len(t, nb)
                         : (size_t)plan_taps(t) * t->img_c * wide_len(t, nb);
}

/* The wide grid transposed, (GH·nb·Wq, M): the weight gradient's products read it when the
 * phases are read in place (then they are plain products, gemm's fastest kind). */
static size_t wide_t_len(const tap_plan *t, int nb)
{
    return t->direct ? (size_t)t->grid_c * wide_len(t, nb) : 0;
}

/* The largest block (floats) of phases, wide grid and stack built at once: 256 Ki floats = 1 MiB, inside L2. */
#define CONV_BLOCK_FLOATS ((size_t)1 << 18)

/* Samples per chunk: as many as fit in one block, at least 1, at most the batch. */
static int plan_chunk(const tap_plan *t, int batch)
{
    const size_t per_sample = (size_t)plan_phases(t) * t->img_c * plan_cells(t)
                              + (size_t)t->grid_c * wide_len(t, 1) + stack_len(t, 1) + wide_t_len(t, 1);
    size_t n = CONV_BLOCK_FLOATS / per_sample;
    if (n < 1) n = 1;
    if (n > (size_t)batch) n = (size_t)batch;
    return (int)n;
}

/* Where the workspace's parts start. */
typedef struct {
    float *taps;         /* (KH·KW·M·R) the weights in the order the products want */
    float *d_taps;       /* (KH·KW·M·R) their gradient (grad_index) */
    float *phases;       /* (s², R, nb·Hq·Wq + slack) */
    float *wide;         /* (M, GH·nb·Wq) */
    float *stack;        /* stack_len(nb) */
    float *wide_t;       /* wide_t_len(nb): (GH·nb·Wq, M) */
} tap_work;

static tap_work split_work(float *work, const tap_plan *t, int chunk)
{
    tap_work w;
    w.taps = work;
    w.d_taps = w.taps + plan_weights(t);
    w.phases = w.d_taps + plan_weights(t);
    w.wide = w.phases + (size_t)plan_phases(t) * t->img_c * phase_len(t, chunk);
    w.stack = w.wide + (size_t)t->grid_c * wide_len(t, chunk);
    w.wide_t = w.stack + stack_len(t, chunk);
    return w;
}

static size_t plan_workspace(const tap_plan *t, int batch)
{
    if (batch <= 0) return 0;
    const int nb = plan_chunk(t, batch);
    return 2 * plan_weights(t) + (size_t)plan_phases(t) * t->img_c * phase_len(t, nb)
           + (size_t)t->grid_c * wide_len(t, nb) + stack_len(t, nb) + wide_t_len(t, nb);
}

/* Where weight[m, r, kh, kw] sits among the packed taps (j = the tap's number, phase by phase):
 * shifted grid: (taps, M, R), so that each phase's taps form one (count·M, R) matrix;
 * patches:      (M, taps, R), one (M, KH·KW·R) matrix whose columns match the patch rows. */
static size_t packed_index(const tap_plan *t, int j, int m, int r)
{
    return t->shift_grid ? ((size_t)j * t->grid_c + m) * t->img_c + r
                         : ((size_t)m * plan_taps(t) + j) * t->img_c + r;
}

/* Where the gradient of weight[m, r, kh, kw] sits among the packed gradients: as the taps, except
 * when the phases are read in place: (taps, R, M), each tap's block the product of phase and wide_t. */
static size_t grad_index(const tap_plan *t, int j, int m, int r)
{
    return t->direct ? ((size_t)j * t->img_c + r) * t->grid_c + m : packed_index(t, j, m, r);
}

/* The kernel row and column of tap number j (numbered phase by phase). */
static void tap_position(const tap_plan *t, int j, int *kh, int *kw)
{
    const int s = t->stride;
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++) {
            const int count = phase_tap_count(t, py, px), cols = (t->k_w - px + s - 1) / s;
            if (j < count) {
                *kh = py + (j / cols) * s;
                *kw = px + (j % cols) * s;
                return;
            }
            j -= count;
        }
}

/* packed = weight (M, R, KH, KW) in the packed order */
static void pack_taps(float *packed, const float *weight, const tap_plan *t)
{
    for (int j = 0; j < plan_taps(t); j++) {
        int kh, kw;
        tap_position(t, j, &kh, &kw);
        for (int m = 0; m < t->grid_c; m++)
            for (int r = 0; r < t->img_c; r++)
                packed[packed_index(t, j, m, r)] = weight[(((size_t)m * t->img_c + r) * t->k_h + kh) * t->k_w + kw];
    }
}

/* d_weight (M, R, KH, KW) += the packed gradient */
static void unpack_add_taps(float *d_weight, const float *packed, const tap_plan *t)
{
    for (int j = 0; j < plan_taps(t); j++) {
        int kh, kw;
        tap_position(t, j, &kh, &kw);
        for (int m = 0; m < t->grid_c; m++)
            for (int r = 0; r < t->img_c; r++)
                d_weight[(((size_t)m * t->img_c + r) * t->k_h + kh) * t->k_w + kw] += packed[grad_index(t, j, m, r)];
    }
}

/* Pixel (y, x) of the image sits in phase ((y+pt) mod s, (x+pl) mod s), at row (y+pt) div s and
 * column (x+pl) div s. The two functions below walk the image once, row by row; within a row the
 * pixels x0, x0 + s, x0 + 2s, ... share one phase row. The counters step without divisions. */

/* phases = img, 0 in the padding and the slack */
static void image_to_phases(float *restrict phases,       /* (s², R, nb·Hq·Wq + slack) */
                            const float *restrict img,    /* (nb, R, IH, IW) */
                            int nb, const tap_plan *t)
{
    const int s = t->stride, iw = t->img_w;
    const size_t wq = (size_t)t->phase_w, across = chunk_row(t, nb);
    const size_t row_len = phase_len(t, nb), plane = (size_t)t->img_h * iw;
    const size_t phase_size = (size_t)t->img_c * row_len;       /* from phase (py, px) to (py, px+1) */
    memset(phases, 0, (size_t)plan_phases(t) * phase_size * sizeof *phases);
    for (int b = 0; b < nb; b++)
        for (int r = 0; r < t->img_c; r++) {
            const float *line = img + ((size_t)b * t->img_c + r) * plane;
            int py = t->pad_top % s, i = t->pad_top / s;           /* for y = 0 */
            for (int y = 0; y < t->img_h; y++, line += iw) {
                float *phase_row = phases + (size_t)py * s * phase_size + (size_t)r * row_len
                                   + (size_t)i * across + b * wq;   /* phase (py, 0), row i */
                if (s == 1) {
                    memcpy(phase_row + t->pad_left, line, (size_t)iw * sizeof *line);
                } else if (s == 2) {                 /* the common case: even and odd pixels, one pass */
                    float *even = phase_row + (size_t)(t->pad_left % 2) * phase_size + t->pad_left / 2;
                    float *odd = phase_row + (size_t)(1 - t->pad_left % 2) * phase_size + (t->pad_left + 1) / 2;
                    int k = 0;
                    for (; 2 * k + 1 < iw; k++) {
                        even[k] = line[2 * k];
                        odd[k] = line[2 * k + 1];
                    }
                    if (2 * k < iw) even[k] = line[2 * k];
                } else {
                    int px = t->pad_left % s, j0 = t->pad_left / s;  /* for x = 0 */
                    for (int x0 = 0; x0 < s && x0 < iw; x0++) {
                        float *p = phase_row + (size_t)px * phase_size + j0;
                        for (int x = x0; x < iw; x += s) *p++ = line[x];
                        if (++px == s) { px = 0; j0++; }
                    }
                }
                if (++py == s) { py = 0; i++; }
            }
        }
}

/* img (+)= phases (+ bias[r]): every image pixel from its place in the phases; `accumulate` adds */
static void phases_to_image(float *restrict img,            /* (nb, R, IH, IW) */
                            const float *restrict phases,   /* (s², R, nb·Hq·Wq + slack) */
                            const float *bias,              /* (R) or NULL */
                            int accumulate, int nb, const tap_plan *t)
{
    const int s = t->stride, iw = t->img_w;
    const size_t wq = (size_t)t->phase_w, across = chunk_row(t, nb);
    const size_t row_len = phase_len(t, nb), plane = (size_t)t->img_h * iw;
    const size_t phase_size = (size_t)t->img_c * row_len;
    for (int b = 0; b < nb; b++)
        for (int r = 0; r < t->img_c; r++) {
            float *line = img + ((size_t)b * t->img_c + r) * plane;
            const float add = bias && !accumulate ? bias[r] : 0.0f;
            int py = t->pad_top % s, i = t->pad_top / s;
            for (int y = 0; y < t->img_h; y++, line += iw) {
                const float *phase_row = phases + (size_t)py * s * phase_size + (size_t)r * row_len
                                         + (size_t)i * across + b * wq;
                if (s == 1) {
                    const float *p = phase_row + t->pad_left;
                    if (accumulate) vec_add_to(line, p, (size_t)iw);
                    else vec_copy_add(line, p, (size_t)iw, add);
                } else if (s == 2) {
                    const float *even = phase_row + (size_t)(t->pad_left % 2) * phase_size + t->pad_left / 2;
                    const float *odd = phase_row + (size_t)(1 - t->pad_left % 2) * phase_size + (t->pad_left + 1) / 2;
                    int k = 0;
                    if (accumulate) {
                        for (; 2 * k + 1 < iw; k++) {
                            line[2 * k] += even[k];
                            line[2 * k + 1] += odd[k];
                        }
                        if (2 * k < iw) line[2 * k] += even[k];
                    } else {
                        for (; 2 * k + 1 < iw; k++) {
                            line[2 * k] = even[k] + add;
                            line[2 * k + 1] = odd[k] + add;
                        }
                        if (2 * k < iw) line[2 * k] = even[k] + add;
                    }
                } else {
                    int px = t->pad_left % s, j0 = t->pad_left / s;
                    for (int x0 = 0; x0 < s && x0 < iw; x0++) {
                        const float *p = phase_row + (size_t)px * phase_size + j0;
                        if (accumulate)
                            for (int x = x0; x < iw; x += s) line[x] += *p++;
                        else
                            for (int x = x0; x < iw; x += s) line[x] = *p++ + add;
                        if (++px == s) { px = 0; j0++; }
                    }
                }
                if (++py == s) { py = 0; i++; }
            }
        }
}

/* wide[m, gy·nb·Wq + b·Wq + gx] = grid[b, m, gy, gx], 0 at the wide positions outside the grid */
static void grid_to_wide(float *restrict wide,         /* (M, GH·nb·Wq) */
                         const float *restrict grid,   /* (nb, M, GH, GW) */
                         int nb, const tap_plan *t)
{
    const size_t plane = (size_t)t->grid_h * t->grid_w, wq = (size_t)t->phase_w, across = chunk_row(t, nb);
    for (int m = 0; m < t->grid_c; m++)
        for (int b = 0; b < nb; b++) {
            float *dst = wide + (size_t)m * wide_len(t, nb) + b * wq;
            const float *src = grid + ((size_t)b * t->grid_c + m) * plane;
            for (int gy = 0; gy < t->grid_h; gy++) {
                memcpy(dst + gy * across, src + (size_t)gy * t->grid_w, (size_t)t->grid_w * sizeof *dst);
                memset(dst + gy * across + t->grid_w, 0, (wq - t->grid_w) * sizeof *dst);
            }
        }
}

/* grid[b, m, gy, gx] (+)= wide[m, gy·nb·Wq + b·Wq + gx] (+ bias[m]); `accumulate` adds instead of writing */
static void wide_to_grid(float *restrict grid,         /* (nb, M, GH, GW) */
                         const float *restrict wide,   /* (M, GH·nb·Wq) */
                         const float *bias,            /* (M) or NULL */
                         int accumulate, int nb, const tap_plan *t)
{
    const size_t plane = (size_t)t->grid_h * t->grid_w, wq = (size_t)t->phase_w, across = chunk_row(t, nb);
    for (int b = 0; b < nb; b++)
        for (int m = 0; m < t->grid_c; m++) {
            float *dst = grid + ((size_t)b * t->grid_c + m) * plane;
            const float *src = wide + (size_t)m * wide_len(t, nb) + b * wq;
            const float add = bias && !accumulate ? bias[m] : 0.0f;
            for (int gy = 0; gy < t->grid_h; gy++) {
                float *d = dst + (size_t)gy * t->grid_w;
                const float *w = src + gy * across;
                if (accumulate) vec_add_to(d, w, (size_t)t->grid_w);
                else vec_copy_add(d, w, (size_t)t->grid_w, add);
            }
        }
}

/* The patches (image side per tap), or the way back:
 *   forward: patches[(j, r), n] = phase_k[r, n + off_k]         (im2col)
 *   back:    phase_k[r, n + off_k] += patches[(j, r), n]        (col2im; phases zeroed first) */
static void move_patches(float *patches,      /* (KH·KW·R, GH·nb·Wq) */
                         float *phases,       /* (s², R, nb·Hq·Wq + slack) */
                         int back, int nb, const tap_plan *t)
{
    const int s = t->stride, n = (int)wide_len(t, nb);
    const size_t row_len = phase_len(t, nb);
    float *row = patches;
    if (back) memset(phases, 0, (size_t)plan_phases(t) * t->img_c * row_len * sizeof *phases);
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++)
            for (int kh = py; kh < t->k_h; kh += s)
                for (int kw = px; kw < t->k_w; kw += s)
                    for (int r = 0; r < t->img_c; r++, row += n) {
                        float *src = phases + ((size_t)(py * s + px) * t->img_c + r) * row_len
                                     + tap_offset(t, kh, kw, nb);
                        if (back) vec_add_to(src, row, (size_t)n);
                        else memcpy(row, src, (size_t)n * sizeof *row);
                    }
}

/* The shifted grid rows (grid side per tap), or the way back:
 *   forward: shifted[(j, m), n'] = wide[m, n' − off_k], 0 where n' − off_k falls outside
 *   back:    wide[m, n] = Σ_k shifted[(j, m), n + off_k]          (the gather's last step) */
static void move_shifted(float *shifted,      /* (KH·KW·M, nb·Hq·Wq + slack) */
                         float *wide,         /* (M, GH·nb·Wq) */
                         int back, int nb, const tap_plan *t)
{
    const int s = t->stride, n = (int)wide_len(t, nb);
    const size_t row_len = phase_len(t, nb);
    float *row = shifted;
    int first = 1;
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++)
            for (int kh = py; kh < t->k_h; kh += s)
                for (int kw = px; kw < t->k_w; kw += s, first = 0)
                    for (int m = 0; m < t->grid_c; m++, row += row_len) {
                        const size_t off = tap_offset(t, kh, kw, nb);
                        float *w = wide + (size_t)m * n;
                        if (!back) {
                            memset(row, 0, off * sizeof *row);
                            memcpy(row + off, w, (size_t)n * sizeof *row);
                            memset(row + off + n, 0, (row_len - off - (size_t)n) * sizeof *row);
                        } else if (first) {
                            memcpy(w, row + off, (size_t)n * sizeof *w);
                        } else {
                            vec_add_to(w, row + off, (size_t)n);
                        }
                    }
}

/* Tap j's phase image at its offset: the (R, GH·nb·Wq) matrix phase_k[r, n + off_k], row stride
 * nb·Hq·Wq + slack, that the direct products read and write in place. */
static float *tap_phase(float *phases, int kh, int kw, int nb, const tap_plan *t)
{
    const int s = t->stride;
    return phases + (size_t)((kh % s) * s + kw % s) * t->img_c * phase_len(t, nb) + tap_offset(t, kh, kw, nb);
}

/* gather: wide[m, n] = Σ_{k,r} W[m, r, k] · phase_k[r, n + off_k].
 * `patches_ready`: the stack already holds these phases' patches (taps_weight_grad built them). */
static void taps_gather(const tap_work *w, int patches_ready, int nb, const tap_plan *t)
{
    const int m = t->grid_c, r = t->img_c, s = t->stride;
    const int n = (int)wide_len(t, nb), row_len = (int)phase_len(t, nb);
    if (t->direct) {                       /* one product per tap, summed into wide */
        for (int j = 0; j < plan_taps(t); j++) {
            int kh, kw;
            tap_position(t, j, &kh, &kw);
            gemm(GEMM_PLAIN, GEMM_PLAIN, m, n, r, w->taps + (size_t)j * r, plan_taps(t) * r,
                 tap_phase(w->phases, kh, kw, nb, t), row_len, j == 0 ? 0.0f : 1.0f, w->wide, n);
        }
        return;
    }
    if (!t->shift_grid) {
        if (!patches_ready) move_patches(w->stack, w->phases, 0, nb, t);
        gemm(GEMM_PLAIN, GEMM_PLAIN, m, n, plan_taps(t) * r,
             w->taps, plan_taps(t) * r, w->stack, n, 0.0f, w->wide, n);
        return;
    }
    /* per phase: (count·M, L) = W_phase (count·M, R) · phase (R, L), then the shifted rows summed */
    int j = 0;
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++) {
            const int count = phase_tap_count(t, py, px);
            if (count == 0) continue;
            gemm(GEMM_PLAIN, GEMM_PLAIN, count * m, row_len, r,
                 w->taps + (size_t)j * m * r, r,
                 w->phases + (size_t)(py * s + px) * r * row_len, row_len,
                 0.0f, w->stack + (size_t)j * m * row_len, row_len);
            j += count;
        }
    move_shifted(w->stack, w->wide, 1, nb, t);
}

/* scatter: phase_k[r, n + off_k] = Σ over taps and m of W[m, r, k] · wide[m, n] (the phases are overwritten).
 * `shifted_ready`: the stack already holds this wide grid's shifted rows (taps_weight_grad built them). */
static void taps_scatter(const tap_work *w, int shifted_ready, int nb, const tap_plan *t)
{
    const int m = t->grid_c, r = t->img_c, s = t->stride;
    const int n = (int)wide_len(t, nb), row_len = (int)phase_len(t, nb);
    if (t->direct) {                       /* one product per tap, added into its phase at its offset */
        for (int py = 0; py < s; py++)
            for (int px = 0; px < s; px++) {
                float *phase = w->phases + (size_t)(py * s + px) * r * row_len;
                if (phase_tap_count(t, py, px) == 0) {
                    memset(phase, 0, (size_t)r * row_len * sizeof *phase);
                    continue;
                }
                for (int c = 0; c < r; c++)    /* the first tap (offset 0) writes the rest of each row */
                    memset(phase + (size_t)c * row_len + n, 0, (size_t)(row_len - n) * sizeof *phase);
            }
        for (int j = 0; j < plan_taps(t); j++) {
            int kh, kw;
            tap_position(t, j, &kh, &kw);
            const int first = kh < s && kw < s;
            gemm(GEMM_TRANSPOSED, GEMM_PLAIN, r, n, m, w->taps + (size_t)j * r, plan_taps(t) * r, w->wide, n,
                 first ? 0.0f : 1.0f, tap_phase(w->phases, kh, kw, nb, t), row_len);
        }
        return;
    }
    if (!t->shift_grid) {
        gemm(GEMM_TRANSPOSED, GEMM_PLAIN, plan_taps(t) * r, n, m,
             w->taps, plan_taps(t) * r, w->wide, n, 0.0f, w->stack, n);
        move_patches(w->stack, w->phases, 1, nb, t);
        return;
    }
    if (!shifted_ready) move_shifted(w->stack, w->wide, 0, nb, t);
    int j = 0;
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++) {
            const int count = phase_tap_count(t, py, px);
            float *phase = w->phases + (size_t)(py * s + px) * r * row_len;
            if (count == 0) {                      /* a kernel smaller than the stride leaves gaps */
                memset(phase, 0, (size_t)r * row_len * sizeof *phase);
                continue;
            }
            gemm(GEMM_TRANSPOSED, GEMM_PLAIN, r, row_len, count * m,
                 w->taps + (size_t)j * m * r, r,
                 w->stack + (size_t)j * m * row_len, row_len, 0.0f, phase, row_len);
            j += count;
        }
}

/* weight: dW[m, r, k] += Σ_n wide[m, n] · phase_k[r, n + off_k] */
static void taps_weight_grad(const tap_work *w, int nb, const tap_plan *t)
{
    const int m = t->grid_c, r = t->img_c, s = t->stride;
    const int n = (int)wide_len(t, nb), row_len = (int)phase_len(t, nb);
    if (t->direct) {                       /* dW_kᵀ (R, M) += phase_k (R, n) · wideᵀ (n, M) */
        vec_transpose(w->wide_t, (size_t)m, w->wide, (size_t)n, (size_t)m, (size_t)n);
        for (int j = 0; j < plan_taps(t); j++) {
            int kh, kw;
            tap_position(t, j, &kh, &kw);
            gemm(GEMM_PLAIN, GEMM_PLAIN, r, m, n, tap_phase(w->phases, kh, kw, nb, t), row_len, w->wide_t, m,
                 1.0f, w->d_taps + (size_t)j * r * m, m);
        }
        return;
    }
    if (!t->shift_grid) {
        move_patches(w->stack, w->phases, 0, nb, t);
        gemm(GEMM_PLAIN, GEMM_TRANSPOSED, m, plan_taps(t) * r, n,
             w->wide, n, w->stack, n, 1.0f, w->d_taps, plan_taps(t) * r);
        return;
    }
    move_shifted(w->stack, w->wide, 0, nb, t);
    int j = 0;
    for (int py = 0; py < s; py++)
        for (int px = 0; px < s; px++) {
            const int count = phase_tap_count(t, py, px);
            if (count == 0) continue;
            gemm(GEMM_PLAIN, GEMM_TRANSPOSED, count * m, r, row_len,
                 w->stack + (size_t)j * m * row_len, row_len,
                 w->phases + (size_t)(py * s + px) * r * row_len, row_len,
                 1.0f, w->d_taps + (size_t)j * m * r, r);
            j += count;
        }
}

/* part[u] += plane[p + u] for every block of eight pixels, part[0] += the last pixels: one
 * channel plane of one sample into its eight running sums (no chain of dependent adds) */
static inline void add_plane_parts(float *restrict part, const float *restrict plane, size_t pixels)
{
    float sum[8];   /* in registers: part is not re-read at every pixel */
    memcpy(sum, part, sizeof sum);
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8)
        for (int u = 0; u < 8; u++) sum[u] += plane[p + u];
    for (; p < pixels; p++) sum[0] += plane[p];
    memcpy(part, sum, sizeof sum);
}

/* A channel's eight running sums, added in pairs */
static float parts_total(const float part[8])
{
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

#ifdef AE_AVX512_BUILD
#include <immintrin.h>

/* add_plane_parts on four channels side by side: each channel's eight sums one vector, its own
 * chain of adds in the same order (blocks of eight pixels, then the last pixels into sum 0), the
 * four chains at once instead of one after the other (an add waits for the one before it) */
static AVX512 void add_plane_parts_x4(float (*part)[8], const float *plane, size_t plane_stride, size_t pixels)
{
    /* four named sums, not an array: GCC kept an array of them on the stack, and every add then
     * waited for the store of the one before it */
    __m256 s0 = _mm256_loadu_ps(part[0]), s1 = _mm256_loadu_ps(part[1]);
    __m256 s2 = _mm256_loadu_ps(part[2]), s3 = _mm256_loadu_ps(part[3]);
    const float *q0 = plane, *q1 = plane + plane_stride, *q2 = plane + 2 * plane_stride, *q3 = plane + 3 * plane_stride;
    size_t p = 0;
    for (; p + 8 <= pixels; p += 8) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(q0 + p));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(q1 + p));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(q2 + p));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(q3 + p));
    }
    _mm256_storeu_ps(part[0], s0);
    _mm256_storeu_ps(part[1], s1);
    _mm256_storeu_ps(part[2], s2);
    _mm256_storeu_ps(part[3], s3);
    for (; p < pixels; p++)
        for (int k = 0; k < 4; k++) part[k][0] += plane[k * plane_stride + p];
}
#endif

/* sums[c] += the planes of d_out[., c, .] (channels of samples `sample` floats apart), sample by
 * sample: each channel's eight running sums */
static void add_bias_sums(float (*sums)[8],       /* (channels, 8) */
                          const float *d_out,     /* (B, ., P): its first channel, then the next `channels` */
                          int batch, int channels, size_t pixels, size_t sample)
{
    int c = 0;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512())
        for (; c + 4 <= channels; c += 4)
            for (int b = 0; b < batch; b++)
                add_plane_parts_x4(sums + c, d_out + (size_t)b * sample + (size_t)c * pixels, pixels, pixels);
#endif
    for (; c < channels; c++)
        for (int b = 0; b < batch; b++)
            add_plane_parts(sums[c], d_out + (size_t)b * sample + (size_t)c * pixels, pixels);
}

/* d_bias[c] += Σ_{b,p} d_out[b, c, p] */
static void add_bias_grad(float *d_bias,          /* (channels) */
                          const float *d_out,     /* (B, channels, P) */
                          int batch, int channels, size_t pixels)
{
    float part[4][8];
    for (int c0 = 0; c0 < channels; c0 += 4) {   /* four channels' sums at a time */
        const int n = channels - c0 < 4 ? channels - c0 : 4;
        memset(part, 0, sizeof part);
        add_bias_sums(part, d_out + (size_t)c0 * pixels, batch, n, pixels, (size_t)channels * pixels);
        for (int k = 0; k < n; k++) d_bias[c0 + k] += parts_total(part[k]);
    }
}

#ifdef AE_AVX512_BUILD

/* One channel plane of one sample: d = 0 + f'(·) ⊙ d_out, 16 pixels at a time, with exactly the
 * float operations of clearing d and running relu_backward or sigmoid_backward (vector.c) on it;
 * and d added into part[8] in add_plane_parts' order (eight pixels at a time into the eight
 * sums, then the last pixels one by one into part[0]) while it is still in registers. */
static AVX512 void activation_plane_avx512(activation act, float *d, const float *d_out, const float *pre,
                                           const float *out, size_t pixels, float *part)
{
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    __m256 sum = _mm256_loadu_ps(part);
    for (size_t p = 0; p < pixels; p += 16) {
        const size_t left = pixels - p < 16 ? pixels - p : 16;
        const __mmask16 in = (__mmask16)((1u << left) - 1u);
        __m512 g;
        if (act == ACT_RELU) {
            const __mmask16 positive = _mm512_mask_cmp_ps_mask(in, _mm512_maskz_loadu_ps(in, pre + p), zero, _CMP_GT_OQ);
            g = _mm512_maskz_loadu_ps(positive, d_out + p);
        } else {   /* ACT_SIGMOID: d_out · f · (1 − f) */
            const __m512 f = _mm512_maskz_loadu_ps(in, out + p);
            g = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(in, d_out + p), f), _mm512_sub_ps(one, f));
        }
        const __m512 v = _mm512_add_ps(zero, g);
        _mm512_mask_storeu_ps(d + p, in, v);
        if (left >= 8) sum = _mm256_add_ps(sum, _mm512_castps512_ps256(v));
        if (left == 16) sum = _mm256_add_ps(sum, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
        if (left < 16) {   /* the last pixels of the plane: the ones past the last block of eight, one by one */
            _mm256_storeu_ps(part, sum);
            for (size_t q = p + (left >= 8 ? 8 : 0); q < pixels; q++) part[0] += d[q];
            return;
        }
    }
    _mm256_storeu_ps(part, sum);
}
#endif

int fast_conv_activation_backward(activation act, float *d_pre, float *d_bias, const float *d_out,
                                  const float *pre, const float *out, int batch, int channels, size_t pixels)
{
    float part[CONV_FUSED_MAX_CHANNELS][8];
    if (channels > CONV_FUSED_MAX_CHANNELS) return 0;
    memset(part, 0, (size_t)channels * sizeof part[0]);
    const size_t sample = (size_t)channels * pixels;
#ifdef AE_AVX512_BUILD
    if (cpu_has_avx512() && (act == ACT_RELU || act == ACT_SIGMOID)) {   /* one pass, plane by plane */
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++) {
                const size_t at = (size_t)b * sample + (size_t)c * pixels;
                activation_plane_avx512(act, d_pre + at, d_out + at, pre + at, out + at, pixels, part[c]);
            }
        if (d_bias)
            for (int c = 0; c < channels; c++) d_bias[c] += parts_total(part[c]);
        return 1;
    }
#endif
    for (int b = 0; b < batch; b++) {   /* one sample at a time: it stays in the cache between the two steps */
        const size_t at = (size_t)b * sample;
        memset(d_pre + at, 0, sample * sizeof *d_pre);
        activation_backward(act, d_pre + at, d_out + at, pre + at, out + at, sample);
        if (d_bias)   /* for each channel, the samples in order: add_bias_grad's sums */
            for (int c = 0; c < channels; c++) add_plane_parts(part[c], d_pre + at + (size_t)c * pixels, pixels);
    }
    if (d_bias)
        for (int c = 0; c < channels; c++) d_bias[c] += parts_total(part[c]);
    return 1;
}

/* ---------------------------------------------- the two passes, both layers */

/* Forward: conv2d gathers its input image into its output grid; conv2d_transpose scatters its
 * input grid into its output image. out (+ bias) = the pass over in, chunk by chunk; relu (or
 * NULL) = max(0, out) of each chunk right after it, while the chunk is in the L2 cache. */
static void taps_forward(float *out, const float *in, const float *weight, const float *bias, float *relu,
                         float *work, const tap_plan *t, int batch, int scatter)
{
    const int chunk = plan_chunk(t, batch);
    const tap_work w = split_work(work, t, chunk);
    const size_t image_size = (size_t)t->img_c * t->img_h * t->img_w;
    const size_t grid_size = (size_t)t->grid_c * t->grid_h * t->grid_w;
    pack_taps(w.taps, weight, t);
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        const int nb = batch - b0 < chunk ? batch - b0 : chunk;
        if (scatter) {                                            /* grid in, image out */
            grid_to_wide(w.wide, in + b0 * grid_size, nb, t);
            taps_scatter(&w, 0, nb, t);
            phases_to_image(out + b0 * image_size, w.phases, bias, 0, nb, t);
            if (relu) fast_relu_forward(relu + b0 * image_size, out + b0 * image_size, nb * image_size);
        } else {                                                  /* image in, grid out */
            image_to_phases(w.phases, in + b0 * image_size, nb, t);
            taps_gather(&w, 0, nb, t);
            wide_to_grid(out + b0 * grid_size, w.wide, bias, 0, nb, t);
            if (relu) fast_relu_forward(relu + b0 * grid_size, out + b0 * grid_size, nb * grid_size);
        }
    }
}

/* Backward of either layer, in terms of its two sides: image and grid hold the values the
 * weight gradient pairs (for conv2d its input and d_out, for conv2d_transpose d_out and its
 * input); the input gradient is d_image (conv2d: scattered back from the grid) or d_grid
 * (conv2d_transpose: gathered from the image), the other NULL. */
static void taps_backward(float *d_image, float *d_grid, float *d_weight, float *d_bias, const float *d_out,
                          const float *image, const float *grid, const float *weight, float *work,
                          const conv_geom *g, const tap_plan *t, int batch, int add_in)
{
    const int chunk = plan_chunk(t, batch);
    const tap_work w = split_work(work, t, chunk);
    const size_t image_size = (size_t)t->img_c * t->img_h * t->img_w;
    const size_t grid_size = (size_t)t->grid_c * t->grid_h * t->grid_w;
    if (d_bias) add_bias_grad(d_bias, d_out, batch, g->out_c, (size_t)g->out_h * g->out_w);
    if (!d_weight && !d_image && !d_grid) return;
    if (d_image || d_grid) pack_taps(w.taps, weight, t);
    if (d_weight) memset(w.d_taps, 0, plan_weights(t) * sizeof *w.d_taps);
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        const int nb = batch - b0 < chunk ? batch - b0 : chunk;
        if (d_weight || d_image) grid_to_wide(w.wide, grid + b0 * grid_size, nb, t);
        if (d_weight || d_grid) image_to_phases(w.phases, image + b0 * image_size, nb, t);
        if (d_weight) taps_weight_grad(&w, nb, t);
        if (d_image) {
            taps_scatter(&w, d_weight != NULL, nb, t);
            phases_to_image(d_image + b0 * image_size, w.phases, NULL, add_in, nb, t);
        }
        if (d_grid) {
            taps_gather(&w, d_weight != NULL, nb, t);
            wide_to_grid(d_grid + b0 * grid_size, w.wide, NULL, add_in, nb, t);
        }
    }
    if (d_weight) unpack_add_taps(d_weight, w.d_taps, t);
}

/* The sides of a plan, as conv_direct.c takes them; its kernels run instead of the products when
 * they fit (3×3, stride 1 or 2, at most 16 channels a side, rows of at most 31). */
static int direct_sides(conv_sides *d, const tap_plan *t)
{
    *d = (conv_sides){ t->grid_c, t->grid_h, t->grid_w, t->img_c, t->img_h, t->img_w,
                       t->k_h, t->k_w, t->stride, t->pad_top, t->pad_left };
    return direct_fits(d);
}

/* taps_forward and taps_backward, or conv_direct.c's kernels when they fit: the same passes in
 * terms of the two sides (forward: the grid gathered from the image, or the image scattered from
 * the grid; backward: the weight gradient, then the input gradient on whichever side is the input) */
static void conv_forward(float *out, const float *in, const float *weight, const float *bias, float *relu,
                         float *work, const tap_plan *t, int batch, int scatter)
{
    conv_sides d;
    if (!direct_sides(&d, t)) taps_forward(out, in, weight, bias, relu, work, t, batch, scatter);
    else if (scatter) direct_scatter(out, in, weight, bias, 0, relu, NULL, &d, batch);
    else direct_gather(out, in, weight, bias, 0, relu, NULL, &d, batch);
}

/* d = 0 + (gate > 0 ? d : 0): ReLU's backward in place, as fast_conv_activation_backward computes it */
static void gate_in_place(float *d, const float *gate, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = 0.0f + (gate[i] > 0.0f ? d[i] : 0.0f);
}

/* gate (the shape of the input gradient, or NULL): the input gradient written through ReLU's
 * backward, with gate the output of the ReLU below (conv_direct.h); the direct kernels do it as
 * they store, the products in a pass after */
static void conv_backward(float *d_image, float *d_grid, float *d_weight, float *d_bias, const float *d_out,
                          const float *image, const float *grid, const float *weight, const float *gate,
                          float *work, const conv_geom *g, const tap_plan *t, int batch, int add_in)
{
    conv_sides d;
    if (!direct_sides(&d, t)) {
        taps_backward(d_image, d_grid, d_weight, d_bias, d_out, image, grid, weight, work, g, t, batch, add_in);
        if (gate && d_image) gate_in_place(d_image, gate, (size_t)batch * t->img_c * t->img_h * t->img_w);
        if (gate && d_grid) gate_in_place(d_grid, gate, (size_t)batch * t->grid_c * t->grid_h * t->grid_w);
        return;
    }
    if (d_bias) add_bias_grad(d_bias, d_out, batch, g->out_c, (size_t)g->out_h * g->out_w);
    if (d_weight) direct_weight_grad(d_weight, grid, image, &d, batch);
    if (d_image) direct_scatter(d_image, grid, weight, NULL, add_in, NULL, gate, &d, batch);
    if (d_grid) direct_gather(d_grid, image, weight, NULL, add_in, NULL, gate, &d, batch);
}

/* -------------------------------------------------------------- conv2d */

size_t fast_conv2d_workspace_floats(const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_plan(g);
    return plan_workspace(&t, batch);
}

/* out = Σ_taps W_tap · shifted(in) + b: the image is the input, the grid the output */
void fast_conv2d_forward(float *out,            /* (B, OC, OH, OW) */
                         const float *in,       /* (B, C, H, W) */
                         const float *weight,   /* (OC, C, KH, KW) */
                         const float *bias,     /* (OC) or NULL */
                         float *work,           /* (fast_conv2d_workspace_floats(g, B)) */
                         const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_plan(g);
    conv_forward(out, in, weight, bias, NULL, work, &t, batch, 0);
}

/* d_W_tap += d_out · shifted(in)ᵀ,  d_in += Σ_taps shifted back (W_tapᵀ · d_out),  d_b += Σ d_out */
void fast_conv2d_backward(float *d_in,           /* (B, C, H, W) or NULL */
                          float *d_weight,       /* (OC, C, KH, KW) or NULL */
                          float *d_bias,         /* (OC) or NULL */
                          const float *d_out,    /* (B, OC, OH, OW) */
                          const float *in,       /* (B, C, H, W) */
                          const float *weight,   /* (OC, C, KH, KW) */
                          float *work,           /* (fast_conv2d_workspace_floats(g, B)) */
                          const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_plan(g);
    conv_backward(d_in, NULL, d_weight, d_bias, d_out, in, d_out, weight, NULL, work, g, &t, batch, 1);
}

/* ---------------------------------------------------- conv2d_transpose */

size_t fast_conv2d_transpose_workspace_floats(const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_transpose_plan(g);
    return plan_workspace(&t, batch);
}

/* out = Σ_taps shifted back (W_tapᵀ · in) + b: the grid is the input, the image the output */
void fast_conv2d_transpose_forward(float *out,            /* (B, OC, OH, OW) */
                                   const float *in,       /* (B, C, H, W) */
                                   const float *weight,   /* (C, OC, KH, KW) */
                                   const float *bias,     /* (OC) or NULL */
                                   float *work,           /* (fast_conv2d_transpose_workspace_floats(g, B)) */
                                   const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_transpose_plan(g);
    conv_forward(out, in, weight, bias, NULL, work, &t, batch, 1);
}

/* d_W_tap += in · shifted(d_out)ᵀ,  d_in += Σ_taps W_tap · shifted(d_out),  d_b += Σ d_out */
void fast_conv2d_transpose_backward(float *d_in,           /* (B, C, H, W) or NULL */
                                    float *d_weight,       /* (C, OC, KH, KW) or NULL */
                                    float *d_bias,         /* (OC) or NULL */
                                    const float *d_out,    /* (B, OC, OH, OW) */
                                    const float *in,       /* (B, C, H, W) */
                                    const float *weight,   /* (C, OC, KH, KW) */
                                    float *work,           /* (fast_conv2d_transpose_workspace_floats(g, B)) */
                                    const conv_geom *g, int batch)
{
    const tap_plan t = taps_conv2d_transpose_plan(g);
    conv_backward(NULL, d_in, d_weight, d_bias, d_out, d_out, in, weight, NULL, work, g, &t, batch, 1);
}

/* ------------------------------------------------ as rows of the layer table */

size_t fast_conv2d_layer_workspace(const layer *l, int batch)
{
    return fast_conv2d_workspace_floats(&l->geom, batch);
}

void fast_conv2d_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    fast_conv2d_forward(out, in, l->weight, l->bias, work, &l->geom, batch);
}

void fast_conv2d_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                const float *d_out, const float *in, const float *out, float *work, int batch)
{
    (void)out;
    fast_conv2d_backward(d_in, d_weight, d_bias, d_out, in, l->weight, work, &l->geom, batch);
}

size_t fast_conv2d_transpose_layer_workspace(const layer *l, int batch)
{
    return fast_conv2d_transpose_workspace_floats(&l->geom, batch);
}

void fast_conv2d_transpose_layer_forward(const layer *l, float *out, const float *in, float *work, int batch)
{
    fast_conv2d_transpose_forward(out, in, l->weight, l->bias, work, &l->geom, batch);
}

void fast_conv2d_transpose_layer_backward(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                          const float *d_out, const float *in, const float *out, float *work,
                                          int batch)
{
    (void)out;
    fast_conv2d_transpose_backward(d_in, d_weight, d_bias, d_out, in, l->weight, work, &l->geom, batch);
}

/* The table's fast backward of a convolution with d_in (or NULL) written instead of added to: the
 * same floats as clearing it first (each value is 0 + its sum either way; the direct kernels start
 * their sums from zero, the products' results land as x + 0); through ReLU's backward when gate
 * is not NULL */
void fast_conv_layer_backward_set(const layer *l, float *d_in, float *d_weight, float *d_bias,
                                  const float *d_out, const float *in, const float *gate, float *work, int batch)
{
    if (l->spec.kind == LAYER_CONV2D_TRANSPOSE) {
        const tap_plan t = taps_conv2d_transpose_plan(&l->geom);
        conv_backward(NULL, d_in, d_weight, d_bias, d_out, d_out, in, l->weight, gate, work, &l->geom, &t, batch, 0);
    } else {
        const tap_plan t = taps_conv2d_plan(&l->geom);
        conv_backward(d_in, NULL, d_weight, d_bias, d_out, in, d_out, l->weight, gate, work, &l->geom, &t, batch, 0);
    }
}

/* the direct kernels' chunk is at least 1 sample: a layer has one exactly when its passes are theirs */
int fast_conv_layer_gates(const layer *l) { return fast_conv_layer_weight_chunk(l) > 0; }

int fast_conv_layer_weight_chunk(const layer *l)
{
    const int scatter = l->spec.kind == LAYER_CONV2D_TRANSPOSE;
    if (!scatter && l->spec.kind != LAYER_CONV2D) return 0;
    const tap_plan t = scatter ? taps_conv2d_transpose_plan(&l->geom) : taps_conv2d_plan(&l->geom);
    conv_sides d;
    return direct_sides(&d, &t) ? direct_weight_chunk(&d) : 0;
}

void fast_conv_bias_backward(float *d_bias, const float *d_pre, int batch, int channels, size_t pixels)
{
    add_bias_grad(d_bias, d_pre, batch, channels, pixels);
}

void fast_conv_bias_sums(float (*sums)[8], const float *d_pre, int batch, int channels, size_t pixels)
{
    add_bias_sums(sums, d_pre, batch, channels, pixels, (size_t)channels * pixels);
}

void fast_conv_bias_sums_total(float *d_bias, const float (*sums)[8], int channels)
{
    for (int c = 0; c < channels; c++) d_bias[c] += parts_total(sums[c]);
}

/* The table's fast forward of a convolution, its output (the linear part, kept for backward) in
 * pre, with out = max(0, pre) written as each block of pre is (the direct kernels) or each chunk
 * of samples (the products): the same floats as fast_relu_forward after it, without a pass of
 * its own over the largest tensor */
void fast_conv_layer_forward_relu(const layer *l, float *pre, float *out, const float *in, float *work, int batch)
{
    const int scatter = l->spec.kind == LAYER_CONV2D_TRANSPOSE;
    const tap_plan t = scatter ? taps_conv2d_transpose_plan(&l->geom) : taps_conv2d_plan(&l->geom);
    conv_forward(pre, in, l->weight, l->bias, out, work, &t, batch, scatter);
}

/* threads.c: a model's batches shared by several threads (see threads.h).
 *
 * Shape legend: B batch; shapes are per sample, a layer's buffers hold B samples one after the other.
 */
#include "fast/threads.h"
#include "error.h"
#include "tensor.h"
#include "fast/cpu.h"
#include "fast/fast.h"
#include "fast/gemm.h"
#include "fast/vector.h"

#include <stdlib.h>
#include <string.h>

/* What several threads need beside the model's own buffers. */
struct model_lanes {
    pool *pool;                 /* the threads; lane 0 is the caller's */
    int planned_batch;          /* the max_batch the blocks below were made for; 0: not yet */
    float *grads;               /* (threads, n_params padded to 16) each lane's gradients; zero between batches */
    float *work;                /* (threads − 1, work_floats padded) the workspaces of lanes 1.. */
    float *partials;            /* units split: the partial sums of wide layers' input gradients (input_grad_partials) */
    float *linear;              /* units split: each lane's own blocks of some layers' linear outputs (linear_block) */
};

/* 1 when every layer with parameters is dense (at most MODEL_UNITS_MAX_DENSE of them, at least
 * one): the model can split its units over the lanes (see model_units_split). */
static int all_dense(const model *m)
{
    int dense = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        if (l->view || l->spec.kind == LAYER_ACTIVATION) continue;
        if (l->spec.kind != LAYER_DENSE) return 0;
        dense++;
    }
    return dense > 0 && dense <= MODEL_UNITS_MAX_DENSE;   /* the lanes' lists of parameter ranges are this long */
}

#define PAGE_FLOATS 1024                 /* 4 KiB: each lane's blocks of linear outputs begin on a page */

static size_t partial_floats(const model *m);
static size_t linear_floats(const model *m, int lanes, int layers);

static void free_blocks(struct model_lanes *lanes)
{
    free(lanes->grads);
    free(lanes->work);
    free(lanes->partials);
    free(lanes->linear);
    lanes->grads = lanes->work = lanes->partials = lanes->linear = NULL;
    lanes->planned_batch = 0;
}

static void lanes_free(struct model_lanes *lanes)
{
    if (!lanes) return;
    free_blocks(lanes);
    pool_free(lanes->pool);
    free(lanes);
}

/* Each lane's gradient block and the workspaces of lanes 1.. (the batch split), for the model as built. */
int model_lanes_ready(model *m)
{
    struct model_lanes *lanes = m->lanes;
    if (m->threads == 1 || m->max_batch == 0 || lanes->planned_batch == m->max_batch) return AE_OK;
    free_blocks(lanes);
    const size_t threads = (size_t)m->threads;
    lanes->grads = floats_alloc(threads * floats_padded(m->n_params));
    lanes->work = m->work_floats ? floats_alloc((threads - 1) * floats_padded(m->work_floats)) : NULL;
    const size_t partials = partial_floats(m), linear = linear_floats(m, m->threads, m->n_layers);
    lanes->partials = partials ? floats_alloc(partials) : NULL;
    lanes->linear = linear ? aligned_alloc(PAGE_FLOATS * sizeof(float), linear * sizeof(float)) : NULL;
    if (!lanes->grads || (m->work_floats && !lanes->work) || (partials && !lanes->partials) ||
        (linear && !lanes->linear)) {
        free_blocks(lanes);
        return AE_ERROR(AE_ENOMEM, "out of memory for %d threads' gradients and workspaces", m->threads);
    }
    lanes->planned_batch = m->max_batch;
    return AE_OK;
}

/* Gives m the lanes (NULL for one thread) in place of its own, and their blocks; on failure m is
 * back on one thread, which needs nothing more. */
static int install_lanes(model *m, struct model_lanes *lanes, int threads)
{
    if (m->lanes) m->free_lanes(m->lanes);
    m->lanes = lanes;
    m->free_lanes = lanes_free;
    m->threads = threads;
    int rc = model_lanes_ready(m);
    if (rc != AE_OK) {
        lanes_free(m->lanes);
        m->lanes = NULL;
        m->threads = 1;
    }
    return rc;
}

int model_set_threads(model *m, int threads)
{
    if (threads < 1 || threads > POOL_MAX_THREADS)
        return AE_ERROR(AE_EINVAL, "a model runs on 1 to %d threads, not %d", POOL_MAX_THREADS, threads);
    if (threads == m->threads) return AE_OK;
    struct model_lanes *lanes = NULL;
    if (threads > 1) {
        lanes = calloc(1, sizeof *lanes);
        if (!lanes) return AE_ERROR(AE_ENOMEM, "out of memory for %d threads", threads);
        if (!(lanes->pool = pool_alloc(threads))) {
            free(lanes);
            return error_code();
        }
    }
    return install_lanes(m, lanes, threads);
}

int model_share_threads(model *m, const model *from)
{
    if (from->threads == 1) return model_set_threads(m, 1);
    struct model_lanes *lanes = calloc(1, sizeof *lanes);
    if (!lanes) return AE_ERROR(AE_ENOMEM, "out of memory for %d threads", from->threads);
    lanes->pool = pool_retain(from->lanes->pool);
    return install_lanes(m, lanes, from->threads);
}

int model_get_threads(const model *m) { return m->threads; }

/* ------------------------------------------------ elastic steps */

/* An all-dense model's steps may run alone: they give the same bits. With the library's own
 * AVX-512 kernels every product element is summed the same way wherever it lies in the matrix, so
 * the whole batch's products are the lanes' shares put together. A CBLAS sgemm (the portable path)
 * may block a share of the units differently from the whole, so there "alone" runs the lanes'
 * own products, share by share, one after the other (model_units_in_turn). */
static int elastic_model(const model *m) { return all_dense(m); }

/* A model split by rows (one with convolutions) cannot run a step alone: its numbers depend on the
 * split. But its lanes' tasks may run one after the other on the calling thread, each lane its
 * share of the rows with its own gradient block and workspace: the same floats, bit for bit,
 * wherever a lane runs (none of those tasks waits for another lane). So its steps choose between
 * the two ways as an all-dense model's do, and when "alone" wins its lanes run in turn. */
static int in_turn_model(const model *m) { return m->threads > 1 && !all_dense(m); }

/* 1 when m's steps choose their way (elastic.h) */
static int chooses(const model *m) { return elastic_model(m) || in_turn_model(m); }

int model_threads_step(model *m)
{
    if (m->threads == 1) return 0;
    return chooses(m) ? pool_step(m->lanes->pool) : 1;
}

void model_threads_pause(model *m)
{
    if (m->threads > 1) pool_pause(m->lanes->pool);
}

int model_on_threads(const model *m)
{
    return m->threads > 1 && (!elastic_model(m) || pool_on_threads(m->lanes->pool));
}

const struct elastic *model_threads_elastic(const model *m)
{
    return m->threads > 1 && chooses(m) ? pool_elastic(m->lanes->pool) : NULL;
}

void model_threads_pin(model *m, int way)
{
    if (m->threads > 1 && chooses(m)) pool_pin(m->lanes->pool, way);
}

/* task on every lane: on the threads, or for a model split by rows whose way is "alone" now, lane
 * by lane on this thread (in_turn_model) */
void model_run_lanes(model *m, pool_task task, void *ctx)
{
    if (in_turn_model(m) && !pool_on_threads(m->lanes->pool)) {
        for (int lane = 0; lane < m->threads; lane++) task(ctx, lane, m->threads);
        return;
    }
    pool_run(m->threads > 1 ? m->lanes->pool : NULL, task, ctx);
}

/* Lane k's gradient block and workspace (lane 0's workspace is m->work). */
static float *lane_grads(const model *m, int lane)
{
    return m->threads == 1 ? m->grads : m->lanes->grads + (size_t)lane * floats_padded(m->n_params);
}

static float *lane_work(const model *m, int lane)
{
    return lane == 0 || !m->lanes->work ? m->work : m->lanes->work + (size_t)(lane - 1) * floats_padded(m->work_floats);
}

/* The checks every way of running a batch in lanes shares. */
static int check_rows(const model *m, int first, int count, int lane, const char *what)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "%s before model_build", what);
    if (first < 0 || count < 0 || first + count > m->max_batch)
        return AE_ERROR(AE_ESTATE, "%s: rows %d to %d do not fit a model built for batches of 1 to %d",
                        what, first, first + count, m->max_batch);
    if (lane < 0 || lane >= m->threads)
        return AE_ERROR(AE_EINVAL, "%s: lane %d of a model with %d threads", what, lane, m->threads);
    return AE_OK;
}

/* What fast_model_forward and fast_model_backward hand to their lanes. */
typedef struct {
    model *m;
    const float *x, *d_y;       /* (B, in_size), (B, out_size) */
    int batch;
} batch_job;

static void forward_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share((size_t)job->batch, 1, lane, lanes, &first, &end);
    if (end > first) fast_model_forward_rows(job->m, job->x, (int)first, (int)(end - first), lane_work(job->m, lane));
}

static void backward_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share((size_t)job->batch, 1, lane, lanes, &first, &end);
    if (end > first)
        fast_model_backward_rows(job->m, job->x, job->d_y, (int)first, (int)(end - first), lane_grads(job->m, lane),
                                 lane_work(job->m, lane));
}

static void gather_lane(void *opaque, int lane, int lanes)
{
    batch_job *job = opaque;
    size_t first, end;
    pool_share(job->m->n_params, 16, lane, lanes, &first, &end);
    model_gather_grads(job->m, first, end, 1);
}

/* An all-dense model: every lane its units of every layer (model_units_forward, _backward) */
static void units_forward_lane(void *opaque, int lane, int lanes)
{
    (void)lanes;
    batch_job *job = opaque;
    const float *y;
    model_units_forward(job->m, job->x, job->batch, lane, &y);   /* checked by the caller */
}

static void units_backward_lane(void *opaque, int lane, int lanes)
{
    (void)lanes;
    batch_job *job = opaque;
    model_units_backward(job->m, job->x, job->d_y, job->batch, lane);
}

int fast_model_forward(model *m, const float *x, int batch, const float **y)
{
    if (!model_on_threads(m)) return fast_model_forward_here(m, x, batch, y);
    int rc = model_check_batch(m, batch, "model_forward");
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;
    batch_job job = { m, x, NULL, batch };
    model_run_lanes(m, model_units_split(m) ? units_forward_lane : forward_lane, &job);
    model_record_forward(m, x, batch, y);
    return AE_OK;
}

int fast_model_backward(model *m, const float *d_y, int batch)
{
    if (!model_on_threads(m)) return fast_model_backward_here(m, d_y, batch);
    int rc = model_check_backward(m, batch);
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;
    batch_job job = { m, m->last_input, d_y, batch };
    if (model_units_split(m)) {            /* each lane adds into its own rows of m->grads */
        model_run_lanes(m, units_backward_lane, &job);
        return AE_OK;
    }
    model_run_lanes(m, backward_lane, &job);
    model_run_lanes(m, gather_lane, &job);   /* grads += each lane's block, lane by lane */
    return AE_OK;
}

/* The parameter ranges [first, end) a lane updates and clears: for the units split the ones it
 * owns (its rows of W, entries of b), else its share of all of them; count returned. */
static int lane_params(const model *m, int lane, int lanes, size_t *first, size_t *end)
{
    if (model_units_split(m)) return model_units_params(m, lane, first, end, 2 * MODEL_UNITS_MAX_DENSE);
    pool_share(m->n_params, 16, lane, lanes, first, end);
    return 1;
}

typedef struct {
    model *m;
    optimizer *opt;             /* NULL: clear the gradients */
} params_job;

static void params_lane(void *opaque, int lane, int lanes)
{
    params_job *job = opaque;
    size_t first[2 * MODEL_UNITS_MAX_DENSE], end[2 * MODEL_UNITS_MAX_DENSE];
    const int ranges = lane_params(job->m, lane, lanes, first, end);
    for (int r = 0; r < ranges; r++) {
        if (job->opt)
            fast_optimizer_update_range(job->opt, job->m->params, job->m->grads, first[r], end[r]);
        else if (end[r] > first[r])
            memset(job->m->grads + first[r], 0, (end[r] - first[r]) * sizeof *job->m->grads);
    }
}

void fast_model_zero_grad(model *m)
{
    if (!model_on_threads(m) || !m->grads || model_lanes_ready(m) != AE_OK) {
        model_zero_grad(m);
        return;
    }
    params_job job = { m, NULL };
    model_run_lanes(m, params_lane, &job);
}

void fast_model_optimizer_step(model *m, optimizer *opt)
{
    if (!model_on_threads(m) || model_lanes_ready(m) != AE_OK) {
        fast_optimizer_step(opt, m->params, m->grads);
        return;
    }
    optimizer_begin_step(opt);
    params_job job = { m, opt };
    model_run_lanes(m, params_lane, &job);
}

void model_lanes_barrier(model *m)
{
    if (m->threads > 1) pool_barrier(m->lanes->pool);
}

int model_lane_forward(model *m, const float *x, int first, int count, int lane, const float **y)
{
    int rc = check_rows(m, first, count, lane, "model_lane_forward");
    if (rc != AE_OK) return rc;
    if (count > 0) fast_model_forward_rows(m, x, first, count, lane_work(m, lane));
    *y = model_layer_input(m, m->n_layers, x);
    return AE_OK;
}

int model_lane_backward(model *m, const float *x, const float *d_y, int first, int count, int lane)
{
    int rc = check_rows(m, first, count, lane, "model_lane_backward");
    if (rc != AE_OK) return rc;
    if (count > 0) fast_model_backward_rows(m, x, d_y, first, count, lane_grads(m, lane), lane_work(m, lane));
    return AE_OK;
}

/* ------------------------------------------------ dense models: units split */

/* A model whose layers with parameters are all dense can split its work the other way round:
 * each lane owns a share of every dense layer's units (its rows of W, its entries of b, its
 * columns of the activations) for the whole batch. The parameters and their gradients then
 * stay on their lane's core; only activations cross between cores, a few kilobytes a layer.
 * Between dense layers the lanes wait for each other (pool_barrier): a layer reads all of its
 * input. Each unit's sums run over the whole batch in order, so the numbers do not depend on
 * the number of threads at all, apart from the loss's sum (train.h). */

int model_units_split(const model *m)
{
    return m->threads > 1 && m->max_batch > 0 && all_dense(m);
}

/* The units [first, end) of a layer's output that a lane owns: shares in multiples of 16 floats,
 * a cache line, so that no line of an activation row (its rows are whole lines: model.c) is
 * written by two lanes. Both lanes sweep the same rows at the same moment (the bias copied in,
 * the product stored, the activation applied), and a line that two cores write in turn travels
 * between them at every row: with shares in multiples of 4, 400 units split 200 + 200 and every
 * row's line 12 was shared, and the dense VAE's step on 2 threads took 2 to 8 % longer than with
 * 192 + 208 (tests/test_threads.c keeps the shares whole lines). */
static void unit_share(size_t units, int lane, int lanes, size_t *first, size_t *end)
{
    pool_share(units, 16, lane, lanes, first, end);
}

/* dst[c] += Σ_b rows[b·stride + c] for c < n: a bias gradient from a block of columns */
static void add_columns(float *restrict dst, const float *restrict rows, size_t stride, int batch, size_t n)
{
    for (int b = 0; b < batch; b++) {
        const float *row = rows + (size_t)b * stride;
        size_t c = 0;
        for (; c + 16 <= n; c += 16)          /* blocks of a known length: GCC vectorizes them at -O2 */
            for (int j = 0; j < 16; j++) dst[c + j] += row[c + j];
        for (; c < n; c++) dst[c] += row[c];
    }
}

/* ------------------------------------------- a wide layer's input gradient from partial sums
 *
 * Backwards, each lane computes its columns of a layer's input gradient, ∂L/∂in = d_linear · W,
 * summed over all of the layer's units. Read that way, every lane reads every row of W, and half of
 * them (on two lanes) are rows the other core's Adam step writes: each such cache line then travels
 * between the cores twice a step, and a core that writes a line the other has read waits for the
 * other's copy to be dropped (about 20 ns a line on the 2-core machine of bench/README.md, against
 * 4 for a line of its own). For model A's 784 × 64 W that was about 25 µs a step on each lane in a
 * test program; the dense VAE's 784 × 400 W is six times as large.
 *
 * So for a wide layer each lane sums over the units it owns, with its own rows of W only, and the
 * lanes then add up those partial sums, each for its own columns, in the order one thread's product
 * adds them: gemm sums K in blocks of GEMM_K_BLOCK (gemm.h), C = s_0, then C + s_1, ... So lane 0,
 * whose units come first, gives the sum of its blocks (from zero, as the whole product begins), and
 * every later lane one sum per block, which the lanes add in order: the same bits as one thread,
 * provided each lane's units begin where a block does. Each partial sum is stored by the columns'
 * owner: lane k's columns of a block, (B, its columns), one after the other. */

/* The partial sums of layer l's input gradient: lane 0's one, then one per block of each later
 * lane's units; 0 when l is not wide enough (GEMM_K_BLOCK units a lane) or a lane's units do not
 * begin on a block. */
/* Blocks of GEMM_K_BLOCK in lane's units of layer l */
static size_t lane_blocks(const model *m, const layer *l, int lane)
{
    size_t u0, u1;
    unit_share(l->out_size, lane, m->threads, &u0, &u1);
    return (u1 - u0 + GEMM_K_BLOCK - 1) / GEMM_K_BLOCK;
}

static int partial_sums(const model *m, const layer *l)
{
    const int lanes = m->threads;
    if (lanes < 2 || l->spec.kind != LAYER_DENSE || l->out_size < (size_t)lanes * GEMM_K_BLOCK) return 0;
    int count = 1;
    for (int lane = 1; lane < lanes; lane++) {
        size_t u0, u1;
        unit_share(l->out_size, lane, lanes, &u0, &u1);
        if (u0 % GEMM_K_BLOCK != 0) return 0;
        count += (int)lane_blocks(m, l, lane);
    }
    return count;
}

/* Floats for the partial sums of the widest such layer: (sums, max_batch, in_size) */
static size_t partial_floats(const model *m)
{
    if (!model_units_split(m)) return 0;
    size_t most = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        if (l->view) continue;
        const size_t n = (size_t)partial_sums(m, l) * (size_t)m->max_batch * l->in_size;
        if (n > most) most = n;
    }
    return most;
}

/* The partial sums layer l's input gradient is summed from now, 0 for none: on the AVX-512 path only,
 * whose blocking gemm.h states (cpu_force_portable may turn it off between two steps) */
static int sums_now(const model *m, const layer *l)
{
    return m->lanes->partials && cpu_has_avx512() ? partial_sums(m, l) : 0;
}

int model_units_partial_sums(const model *m, int layer_index)
{
    if (layer_index < 0 || layer_index >= m->n_layers || !model_units_split(m)) return 0;
    return sums_now(m, &m->layers[layer_index]) > 0;
}

/* Lane's partial sums of ∂L/∂in (B, n_in) = d_linear · W over its own units (d_linear's columns
 * and W's rows that this lane owns), each split by the columns' owners. mine: d_linear's column of
 * the lane's first unit, rows `stride` apart. */
static void input_grad_partials(model *m, const layer *l, const float *mine, size_t stride, int batch, int lane)
{
    const int lanes = m->threads;
    const size_t n_out = l->out_size, n_in = l->in_size, plane = (size_t)batch * n_in;
    size_t u0, u1;
    unit_share(n_out, lane, lanes, &u0, &u1);
    size_t first = lane > 0;                 /* this lane's first partial sum: after lane 0's one */
    for (int before = 1; before < lane; before++) first += lane_blocks(m, l, before);
    float *sum = m->lanes->partials + first * plane;
    /* every lane has units: a wide layer has GEMM_K_BLOCK of them a lane (partial_sums) */
    for (size_t k0 = u0, k1; k0 < u1; k0 = k1, sum += plane) {
        k1 = lane == 0 ? u1 : (u1 - k0 < GEMM_K_BLOCK ? u1 : k0 + GEMM_K_BLOCK);
        for (int to = 0; to < lanes; to++) {
            size_t c0, c1;
            unit_share(n_in, to, lanes, &c0, &c1);
            if (c1 == c0) continue;
            float *part = sum + c0 * (size_t)batch;   /* (B, c1 − c0): lane `to`'s columns */
            /* lane 0's sum begins from zero, as the whole product into a cleared ∂L/∂in does */
            if (lane == 0) memset(part, 0, (size_t)batch * (c1 - c0) * sizeof *part);
            gemm(GEMM_PLAIN, GEMM_PLAIN, batch, (int)(c1 - c0), (int)(k1 - k0), mine + (k0 - u0), (int)stride,
                 l->weight + k0 * n_in + c0, (int)n_in, lane == 0 ? 1.0f : 0.0f, part, (int)(c1 - c0));
        }
    }
}

/* ------------------------------------------- each lane's own block of a linear output
 *
 * In the units split every lane writes its columns of each row of a layer's activations. No cache
 * line holds two lanes' columns (unit_share), yet a lane sweeping its columns row after row makes the
 * core's prefetchers fetch the lines that follow, the other lane's columns of the same or the next
 * row: the other lane's next write to them then waits for that copy to be dropped. A pass over a
 * 32 × 784 activation by column halves took 12 to 24 µs a lane, against 3 to 5 when each lane's half
 * lay in memory of its own, and 7 to 11 for the whole on one thread. So where only its own lane ever reads
 * them, a layer's linear output and its gradient (pre and d_pre: a layer with a fused activation
 * whose input gradient comes from partial sums or is not wanted) live in blocks of the lane's own,
 * (B, its units) each, a page apart from every other lane's (prefetchers stop at a page's end). The
 * activation, which the layer above reads whole, stays in its rows. */
static size_t round_page(size_t n) { return (n + PAGE_FLOATS - 1) / PAGE_FLOATS * PAGE_FLOATS; }

static int first_dense_layer(const model *m)
{
    int i = 0;
    while (m->layers[i].view || m->layers[i].spec.kind != LAYER_DENSE) i++;
    return i;
}

/* 1 when nobody wants layer i's input gradient: the first dense layer of a model that passes none back */
static int no_input_grad(const model *m, int i) { return i == first_dense_layer(m) && !m->want_input_grad; }

/* 1 when layer i has blocks of its own in each lane: a dense layer with a fused activation whose
 * input gradient is not wanted or may come from partial sums */
static int has_blocks(const model *m, int i)
{
    const layer *l = &m->layers[i];
    if (l->view || l->spec.kind != LAYER_DENSE || !layer_has_fused_activation(l)) return 0;
    return partial_sums(m, l) > 0 || no_input_grad(m, i);
}

/* 1 when layer i's linear output and its gradient live in the lanes' own blocks now: when its input
 * gradient is not wanted, or comes from partial sums (else every lane reads every column of it) */
static int own_linear(const model *m, int i)
{
    return m->lanes->linear && has_blocks(m, i) && (no_input_grad(m, i) || sums_now(m, &m->layers[i]) > 0);
}

/* Floats of the blocks of lanes 0 .. lanes−1 for layers 0 .. layers−1 (the whole lanes' part before
 * `lanes` when layers = n_layers): pre then d_pre, (max_batch, the lane's units) each, page-rounded */
static size_t linear_floats(const model *m, int lanes, int layers)
{
    if (!model_units_split(m)) return 0;
    size_t n = 0;
    for (int lane = 0; lane < lanes; lane++)
        for (int i = 0; i < (lane == lanes - 1 ? layers : m->n_layers); i++) {
            if (!has_blocks(m, i)) continue;
            size_t u0, u1;
            unit_share(m->layers[i].out_size, lane, m->threads, &u0, &u1);
            n += 2 * round_page((size_t)m->max_batch * (u1 - u0));
        }
    return n;
}

/* Lane's block of layer i's linear output (B, its units); its gradient's follows (linear_grad_block) */
static float *linear_block(const model *m, int i, int lane)
{
    return m->lanes->linear + linear_floats(m, lane + 1, i);
}

static float *linear_grad_block(const model *m, int i, int lane)
{
    size_t u0, u1;
    unit_share(m->layers[i].out_size, lane, m->threads, &u0, &u1);
    return linear_block(m, i, lane) + round_page((size_t)m->max_batch * (u1 - u0));
}

/* After every lane's input_grad_partials: ∂L/∂in's columns [c0, c1) (B, n_in) = the sums, in order. */
static void input_grad_from_partials(const model *m, const layer *l, float *d_in, int batch, int sums,
                                     size_t c0, size_t c1)
{
    const size_t n_in = l->in_size, plane = (size_t)batch * n_in, cols = c1 - c0;
    const float *mine = m->lanes->partials + c0 * (size_t)batch;   /* (sums, B, cols), planes apart */
    for (int b = 0; b < batch; b++) {
        float *row = d_in + (size_t)b * n_in + c0;
        memcpy(row, mine + (size_t)b * cols, cols * sizeof *row);
        for (int k = 1; k < sums; k++) vec_add_to(row, mine + k * plane + (size_t)b * cols, cols);
    }
}

static int check_units(const model *m, int batch, int lane, const char *what)
{
    if (!model_units_split(m))
        return AE_ERROR(AE_ESTATE, "%s: the model is not an all-dense model on several threads", what);
    if (batch < 1 || batch > m->max_batch)
        return AE_ERROR(AE_ESTATE, "%s: a batch of %d does not fit a model built for batches of 1 to %d",
                        what, batch, m->max_batch);
    if (lane < 0 || lane >= m->threads)
        return AE_ERROR(AE_EINVAL, "%s: lane %d of a model with %d threads", what, lane, m->threads);
    return AE_OK;
}

/* Layer i (not a view) forward for lane's units: its columns of the output, from all of the input */
static void forward_share(model *m, int i, const float *x, int batch, int lane)
{
    layer *l = &m->layers[i];
    const float *in = model_layer_input(m, i, x);                  /* (B, in_size), all of it */
    const size_t n_out = l->out_size;
    size_t u0, u1;
    unit_share(n_out, lane, m->threads, &u0, &u1);
    const size_t units = u1 - u0;
    if (l->spec.kind == LAYER_DENSE) {
        /* the linear output's columns u0..u1: in its rows, or in this lane's own block (B, units) */
        const int own = own_linear(m, i);
        const size_t stride = own ? units : n_out;
        float *linear = own ? linear_block(m, i, lane) : (layer_has_fused_activation(l) ? l->pre : l->out) + u0;
        if (units > 0) {
            /* out[:, u0..u1) = in · W[u0..u1)ᵀ + b[u0..u1), a ReLU written as it is stored */
            const int relu = layer_has_fused_activation(l) && l->spec.act == ACT_RELU;
            gemm_bias_relu(GEMM_PLAIN, GEMM_TRANSPOSED, batch, (int)units, (int)l->in_size, in, (int)l->in_size,
                           l->weight + u0 * l->in_size, (int)l->in_size, l->bias + u0, linear, (int)stride,
                           relu ? l->out + u0 : NULL, (int)n_out);
            if (layer_has_fused_activation(l) && !relu)
                for (int b = 0; b < batch; b++)
                    activation_forward(l->spec.act, l->out + (size_t)b * n_out + u0, linear + (size_t)b * stride,
                                       units);
        }
    } else {                                                 /* an activation: the same columns */
        for (int b = 0; b < batch && units > 0; b++)
            activation_forward(l->spec.act, l->out + (size_t)b * n_out + u0, in + (size_t)b * n_out + u0, units);
    }
}

int model_units_forward(model *m, const float *x, int batch, int lane, const float **y)
{
    int rc = check_units(m, batch, lane, "model_units_forward");
    if (rc != AE_OK) return rc;
    for (int i = 0; i < m->n_layers; i++) {
        if (m->layers[i].view) continue;
        if (m->layers[i].spec.kind == LAYER_DENSE && model_layer_input(m, i, x) != x)
            pool_barrier(m->lanes->pool);                    /* the layer below, every lane's columns */
        forward_share(m, i, x, batch, lane);
    }
    *y = model_layer_input(m, m->n_layers, x);
    return AE_OK;
}

/* An activation layer i's backward pass for lane's columns: d_in from d_out */
static void activation_share(model *m, int i, const float *x, const float *d_out, float *d_in, int batch, int lane)
{
    const layer *l = &m->layers[i];
    const float *in = model_layer_input(m, i, x);
    const size_t n_out = l->out_size;
    size_t u0, u1;
    unit_share(n_out, lane, m->threads, &u0, &u1);
    const size_t units = u1 - u0;
    for (int b = 0; b < batch && units > 0; b++) {
        const size_t at = (size_t)b * n_out + u0;
        memset(d_in + at, 0, units * sizeof *d_in);
        activation_backward(l->spec.act, d_in + at, d_out + at, in + at, l->out + at, units);
    }
}

/* A dense layer i's gradients for lane's units: the fused activation's, d_W's rows and d_b's
 * entries. Returns d_linear, the gradient of the linear output that the input gradient reads by
 * all of its columns (d_out, or the layer's d_pre; NULL when it lives in the lanes' own blocks),
 * and sets *mine to this lane's columns of it, rows *stride apart. fresh: the gradients written,
 * not added to. */
static const float *grads_share(model *m, int i, const float *x, const float *d_out, int batch, int lane, int fresh,
                                const float **mine_out, size_t *stride_out)
{
    layer *l = &m->layers[i];
    const layer_spec *s = &l->spec;
    const float *in = model_layer_input(m, i, x);                  /* (B, in_size) */
    const size_t n_out = l->out_size, n_in = l->in_size;
    size_t u0, u1;
    unit_share(n_out, lane, m->threads, &u0, &u1);
    const size_t units = u1 - u0;
    /* d_linear's columns u0..u1 (mine, rows `stride` apart): d_out's, or the fused activation's
     * gradient, in its rows or in this lane's own block (as the forward pass left pre) */
    const float *d_linear = d_out;
    const float *mine = d_out + u0;
    size_t stride = n_out;
    int bias_summed = 0;                                     /* the bias gradient added with the activation's */
    if (layer_has_fused_activation(l)) {
        const int own = own_linear(m, i);
        float *d_pre = own ? linear_grad_block(m, i, lane) : l->d_pre + u0;
        const float *pre = own ? linear_block(m, i, lane) : l->pre + u0;
        stride = own ? units : n_out;
        /* a ReLU's or a sigmoid's gradient written, and its rows added to the bias gradient on the
         * way (in add_columns' order) */
        bias_summed = s->act == ACT_RELU || s->act == ACT_SIGMOID;
        if (fresh && units > 0) memset(l->d_bias + u0, 0, units * sizeof *l->d_bias);
        for (int b = 0; b < batch && units > 0; b++) {
            const size_t at = (size_t)b * n_out + u0, row = (size_t)b * stride;
            if (s->act == ACT_RELU) {
                fast_relu_backward_set(d_pre + row, l->d_bias + u0, d_out + at, pre + row, units);
                continue;
            }
            if (s->act == ACT_SIGMOID) {
                fast_sigmoid_backward_set(d_pre + row, l->d_bias + u0, d_out + at, l->out + at, units);
                continue;
            }
            memset(d_pre + row, 0, units * sizeof *d_pre);
            activation_backward(s->act, d_pre + row, d_out + at, pre + row, l->out + at, units);
        }
        d_linear = own ? NULL : l->d_pre;                    /* NULL: no lane reads another's columns */
        mine = d_pre;
    }
    if (units > 0) {
        /* d_W[u0..u1) += d_linear[:, u0..u1)ᵀ · in,  d_b[u0..u1) += Σ_b d_linear[b, u0..u1); fresh: d_W
         * written (β = 0: the bits of β = 1 over zeros, gemm.h) and d_b cleared above */
        if (fresh && !layer_has_fused_activation(l)) memset(l->d_bias + u0, 0, units * sizeof *l->d_bias);
        gemm(GEMM_TRANSPOSED, GEMM_PLAIN, (int)units, (int)n_in, batch, mine, (int)stride, in, (int)n_in,
             fresh ? 0.0f : 1.0f, l->d_weight + u0 * n_in, (int)n_in);
        if (!bias_summed) add_columns(l->d_bias + u0, mine, stride, batch, units);
    }
    *mine_out = mine;
    *stride_out = stride;
    return d_linear;
}

/* A dense layer i's input gradient d_in = d_linear · W, lane's share of it, from every lane's
 * columns of d_linear (all in by now), without partial sums */
static void input_grad_share(model *m, int i, const float *d_linear, float *d_in, int batch, int lane)
{
    const layer *l = &m->layers[i];
    const size_t n_out = l->out_size, n_in = l->in_size;
    if (i == 0) {
        /* the model's input gradient, which no layer below reads by columns: each lane its share
         * of the rows, all columns (a narrow input, the VAE decoder's 20, would leave a lane
         * without columns of 16 floats). Each row's values are summed as in the whole product, and
         * β = 0 gives the bits of a cleared d_in with β = 1: a sum begun from +0 is never −0. */
        size_t r0, r1;
        pool_share((size_t)batch, 1, lane, m->threads, &r0, &r1);
        if (r1 > r0)
            gemm(GEMM_PLAIN, GEMM_PLAIN, (int)(r1 - r0), (int)n_in, (int)n_out, d_linear + r0 * n_out, (int)n_out,
                 l->weight, (int)n_in, 0.0f, d_in + r0 * n_in, (int)n_in);
        return;
    }
    size_t c0, c1;
    unit_share(n_in, lane, m->threads, &c0, &c1);
    if (c1 > c0) {
        for (int b = 0; b < batch; b++) memset(d_in + (size_t)b * n_in + c0, 0, (c1 - c0) * sizeof *d_in);
        gemm(GEMM_PLAIN, GEMM_PLAIN, batch, (int)(c1 - c0), (int)n_out, d_linear, (int)n_out, l->weight + c0,
             (int)n_in, 1.0f, d_in + c0, (int)n_in);
    }
}

/* fresh: this lane's gradients written, not added to (model_units_backward_fresh); *settled (or
 * NULL): 1 when the lanes met in a barrier during the pass and this lane read no other lane's
 * parameters after the last one (model_units_backward_fresh) */
static int units_backward(model *m, const float *x, const float *d_y, int batch, int lane, int fresh, int *settled)
{
    int met = 0;                                             /* a barrier passed, no other lane's W read since */
    if (settled) *settled = 0;
    int rc = check_units(m, batch, lane, fresh ? "model_units_backward_fresh" : "model_units_backward");
    if (rc != AE_OK) return rc;
    const int last = m->want_input_grad ? 0 : first_dense_layer(m);   /* the lowest layer whose input gradient is wanted */
    const float *d_out = d_y;                                /* (B, out_size): this lane's columns */
    int partials_read = 0;                                   /* the partial sums hold a layer's, read by every lane */
    for (int i = m->n_layers - 1; i >= last; i--) {
        layer *l = &m->layers[i];
        if (l->view) continue;                               /* its input's gradient is the same memory */
        float *d_in = i == 0 ? m->d_input : m->layers[i - 1].d_out;   /* (B, in_size) of the layer below */
        if (l->spec.kind == LAYER_ACTIVATION) {              /* element-wise: this lane's columns only */
            activation_share(m, i, x, d_out, d_in, batch, lane);
            d_out = d_in;
            continue;
        }
        const float *mine;
        size_t stride;
        const float *d_linear = grads_share(m, i, x, d_out, batch, lane, fresh, &mine, &stride);
        if (no_input_grad(m, i)) break;
        /* ∂L/∂in = d_linear · W: each lane its own columns of ∂L/∂in (the units it owns in the layer
         * below), summed over all of this layer's units, in the order one thread sums them (so the
         * same on any number of threads). Every lane's columns of d_linear must be in first, unless
         * they are the caller's d_y. Below a narrow layer (Task 4's bottlenecks) a lane then reads
         * rows of W that another core's Adam step has just written; summing each lane's own rows'
         * part instead was faster on 2 threads (model A 0.29 s an epoch against 0.34) but made the
         * numbers depend on the number of threads, which elastic steps (model_threads_step) cannot
         * allow. */
        const int sums = sums_now(m, l);
        if (sums) {                                          /* a wide layer: see input_grad_partials */
            size_t c0, c1;
            unit_share(l->in_size, lane, m->threads, &c0, &c1);
            if (partials_read) pool_barrier(m->lanes->pool);   /* every lane done with an upper layer's sums */
            partials_read = 1;
            input_grad_partials(m, l, mine, stride, batch, lane);   /* its own rows of W only */
            pool_barrier(m->lanes->pool);
            met = 1;
            if (c1 > c0) input_grad_from_partials(m, l, d_in, batch, sums, c0, c1);
            d_out = d_in;
            continue;
        }
        if (d_linear != d_y) pool_barrier(m->lanes->pool);
        met = 0;                                             /* every lane's rows of W read below */
        input_grad_share(m, i, d_linear, d_in, batch, lane);
        d_out = d_in;
    }
    if (settled) *settled = met;
    return AE_OK;
}

/* ------------------------------------------------ the units split in turn, on one thread */

int model_units_in_turn(const model *m)
{
    return model_units_split(m) && !cpu_has_avx512();   /* several threads: m->lanes and its pool are there */
}

int model_units_forward_in_turn(model *m, const float *x, int batch, const float **y)
{
    int rc = check_units(m, batch, 0, "model_units_forward_in_turn");
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;
    for (int i = 0; i < m->n_layers; i++) {                  /* a layer's every share before the next layer */
        if (m->layers[i].view) continue;
        for (int lane = 0; lane < m->threads; lane++) forward_share(m, i, x, batch, lane);
    }
    *y = model_layer_input(m, m->n_layers, x);
    return AE_OK;
}

int model_units_backward_in_turn(model *m, const float *x, const float *d_y, int batch, int fresh)
{
    int rc = check_units(m, batch, 0, "model_units_backward_in_turn");
    if (rc == AE_OK) rc = model_lanes_ready(m);
    if (rc != AE_OK) return rc;
    const int last = m->want_input_grad ? 0 : first_dense_layer(m);
    const float *d_out = d_y;
    for (int i = m->n_layers - 1; i >= last; i--) {
        layer *l = &m->layers[i];
        if (l->view) continue;
        float *d_in = i == 0 ? m->d_input : m->layers[i - 1].d_out;
        if (l->spec.kind == LAYER_ACTIVATION) {
            for (int lane = 0; lane < m->threads; lane++) activation_share(m, i, x, d_out, d_in, batch, lane);
            d_out = d_in;
            continue;
        }
        const float *d_linear = NULL, *mine;
        size_t stride;
        for (int lane = 0; lane < m->threads; lane++)       /* the same d_linear for every lane */
            d_linear = grads_share(m, i, x, d_out, batch, lane, fresh, &mine, &stride);
        if (no_input_grad(m, i)) break;
        if (sums_now(m, l))
            return AE_ERROR(AE_ESTATE, "model_units_backward_in_turn: layer %d sums partial products (the AVX-512 path)", i);
        for (int lane = 0; lane < m->threads; lane++) input_grad_share(m, i, d_linear, d_in, batch, lane);
        d_out = d_in;
    }
    return AE_OK;
}

int model_units_backward(model *m, const float *x, const float *d_y, int batch, int lane)
{
    return units_backward(m, x, d_y, batch, lane, 0, NULL);
}

int model_units_backward_fresh(model *m, const float *x, const float *d_y, int batch, int lane, int *settled)
{
    return units_backward(m, x, d_y, batch, lane, 1, settled);
}

void model_units_columns(const model *m, int lane, size_t *first, size_t *end)
{
    unit_share(model_output_size(m), lane, m->threads, first, end);
}

int model_units_params(const model *m, int lane, size_t *first, size_t *end, int max)
{
    int n = 0;
    for (int i = 0; i < m->n_layers && n + 2 <= max; i++) {
        const layer *l = &m->layers[i];
        if (l->view || l->spec.kind != LAYER_DENSE) continue;
        size_t u0, u1;
        unit_share(l->out_size, lane, m->threads, &u0, &u1);
        first[n] = l->param_offset + u0 * l->in_size;        /* rows u0..u1 of W */
        end[n++] = l->param_offset + u1 * l->in_size;
        first[n] = l->param_offset + l->n_weight + u0;       /* entries u0..u1 of b */
        end[n++] = l->param_offset + l->n_weight + u1;
    }
    return n;
}

/* grads[i] = (grads[i] or 0) + lane 0's [i] + lane 1's [i] + ..., each lane's [i] then 0 */
void model_gather_grads(model *m, size_t first, size_t end, int accumulate)
{
    if (m->threads == 1 || !m->lanes->grads) return;   /* one thread: backward adds into grads itself */
    if (end > m->n_params) end = m->n_params;
    if (first >= end) return;
    float *restrict grads = m->grads;
    const size_t stride = floats_padded(m->n_params);
    if (!accumulate) memset(grads + first, 0, (end - first) * sizeof *grads);
    for (int lane = 0; lane < m->threads; lane++) {
        float *restrict block = m->lanes->grads + (size_t)lane * stride;
        vec_add_and_clear(grads + first, block + first, end - first);
    }
}

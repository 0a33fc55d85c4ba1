/* conv_direct.c: 3×3 convolutions with few channels (at most 16 a side, rows of at most 31
 * values: the layers of model B and of Task 4's denoisers), computed where the values lie.
 *
 * With so few channels, conv_taps.c's matrix products are small (8 or 16 rows, a sum over 8 or
 * 16 terms) and most of their time goes into laying the images out for them. Here nothing is
 * laid out: each pass walks the rows of its destination, 16 columns to a vector, and adds up
 * every term of a block of destination rows and channels in registers (16 vectors of sums)
 * before storing them once. A source row is loaded as two vectors (columns 0-15 and 16-31), and
 * each kernel column's view of it is one permute of those 32 values, which also takes the stride
 * and the padding (columns outside the row read as zero). The three passes (conv_direct.h):
 *   gather   the destination is the grid: a grid row's column gx reads image column gx·s − pl + kw;
 *   scatter  the destination is the image; with stride 2 a vector holds the even columns or the
 *            odd ones (each kernel column feeds one of the two), interleaved when stored, and on
 *            rows of at most 16 values each half of it a row (rows y and y + 2: with 7 even
 *            columns a row, a vector of one row would leave 9 of its 16 lanes idle);
 *   weight   the sums over the batch of grid row × permuted image row, one vector per tap, added
 *            across the lanes at the end.
 * The sums run over the same terms as the plain loops, in another order: the results differ from
 * them in the last bits (tests/test_fast.c compares the two). The choices below (block shapes,
 * loop orders) are the ones that measured fastest on the layers of model B, each against the
 * others in the same run.
 */
#include "fast/conv_direct.h"
#include "fast/cpu.h"

#include <stddef.h>

/* AE_NO_DIRECT_CONV leaves the kernels out (the fuzzing build, where they are no parser's and
 * would only take minutes to compile with its sanitizers) */
#if defined(AE_AVX512_BUILD) && !defined(AE_NO_DIRECT_CONV)
#include <immintrin.h>

#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* MAX_ROW: a row of at most 31 values leaves lane 31 of its two loaded vectors zero, which every
 * lane that reads nothing (padding) takes */
enum { K = 3, MAX_CHANNELS = 16, MAX_ROW = 31, MAX_SUMS = 16, ZERO_LANE = 31 };

int direct_fits(const conv_sides *t)
{
    return cpu_has_avx512() && t->k_h == K && t->k_w == K && (t->stride == 1 || t->stride == 2) &&
           t->grid_c <= MAX_CHANNELS && t->img_c <= MAX_CHANNELS && t->grid_w <= MAX_ROW && t->img_w <= MAX_ROW;
}

/* The first n of 16 lanes (none for n <= 0). */
static __mmask16 first_lanes(int n)
{
    return n <= 0 ? (__mmask16)0 : n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

/* How a destination row's vectors read a source row of up to 32 values; or, with rows of at most
 * 8 values (a 7 x 7 grid), how one vector holds two destination rows side by side and reads two
 * source rows, one loaded vector each. */
typedef struct {
    int slots;                  /* vectors per destination row: 1 or 2 */
    int interleave;             /* 1: slot 0 holds the even columns, slot 1 the odd ones (scatter, stride 2) */
    int paired;                 /* 1: two destination rows a vector (lanes 0 .. w − 1, then w .. 2w − 1; in a
                                 * stride-2 scatter rows y and y + 2, lanes 0-7 and 8-15 of each slot) */
    __mmask16 load[2];          /* the source row's columns 0-15 and 16-31, or (paired) each row's */
    __m512i from[2][K];         /* slot v, kernel column kw: the value each lane reads, 0-30, or ZERO_LANE */
} lane_map;

/* lane l of slot v holds destination column col(v, l) (of the second row of the pair when
 * second[l]); it reads source column src(col, kw) (of the second loaded vector), or nothing when
 * that is -1 */
static AVX512 void map_set(lane_map *map, int v, int kw, const int dest_col[16], const int second[16], int dest_w,
                           const conv_sides *t, int gather)
{
    int from[16];
    for (int l = 0; l < 16; l++) {
        const int col = dest_col[l];
        int src = -1;
        if (col >= 0 && col < dest_w) {
            if (gather) {                                   /* grid column → image column */
                const int ix = col * t->stride - t->pad_left + kw;
                if (ix >= 0 && ix < t->img_w) src = ix;
            } else {                                        /* image column ← grid column */
                const int num = col + t->pad_left - kw;
                if (num >= 0 && num % t->stride == 0 && num / t->stride < t->grid_w) src = num / t->stride;
            }
        }
        from[l] = src < 0 ? ZERO_LANE : src + 16 * second[l];
    }
    map->from[v][kw] = _mm512_loadu_si512(from);
}

static AVX512 lane_map make_map(const conv_sides *t, int gather)
{
    lane_map map = { 0 };
    const int dest_w = gather ? t->grid_w : t->img_w, src_w = gather ? t->img_w : t->grid_w;
    map.interleave = !gather && t->stride == 2;
    /* two rows a vector: each fits in 8 lanes (in a stride-2 scatter, each of its even and odd
     * columns), and a source row in one vector with its lane 15 zero */
    map.paired = (map.interleave ? dest_w <= 16 : dest_w <= 8) && src_w <= 15;
    map.slots = map.interleave ? 2 : map.paired ? 1 : (dest_w + 15) / 16;
    map.load[0] = first_lanes(src_w);
    map.load[1] = map.paired ? first_lanes(src_w) : first_lanes(src_w - 16);
    for (int v = 0; v < map.slots; v++) {
        int col[16], second[16];
        /* stride-2 scatter: slot 0 holds the columns ix with ix + pl even (kernel columns 0 and 2 reach them) */
        const int parity = (((t->pad_left + v) % 2) + 2) % 2;
        for (int l = 0; l < 16; l++) {
            second[l] = map.paired && l >= dest_w;
            col[l] = map.interleave ? (map.paired ? 2 * (l % 8) + parity : 2 * l + parity)
                                    : map.paired ? (l < 2 * dest_w ? l % dest_w : -1) : 16 * v + l;
            if (map.interleave && map.paired) second[l] = l >= 8;
        }
        for (int kw = 0; kw < K; kw++) map_set(&map, v, kw, col, second, dest_w, t, gather);
    }
    return map;
}

/* --------------------------------------------------------- gather and scatter */

typedef struct {
    float *dst;                 /* (B, dst_c, dst_h, dst_w) */
    const float *src;           /* (B, src_c, src_h, src_w) */
    const float *weight;        /* (M, R, 3, 3) */
    const float *bias;          /* (dst_c) or NULL */
    int add;                    /* add into dst instead of writing it */
    float *relu;                /* (B, dst_c, dst_h, dst_w) or NULL: max(0, dst) written here too */
    const float *gate;          /* (B, dst_c, dst_h, dst_w) or NULL: dst written as 0 + (gate > 0 ? dst : 0) */
    int src_c, src_h, src_w, dst_c, dst_h, dst_w;
    int pad_top, even_slot, batch;
    lane_map map;
} pass;

/* a source row outside the source: zeros */
static const float zero_row[MAX_ROW] __attribute__((aligned(64)));

/* Whether kernel column kw feeds slot v: always, except in a scatter with stride 2, where slot 0
 * holds the columns that kernel columns 0 and 2 reach and slot 1 those that column 1 reaches. */
#define FEEDS(GATHER, S, v, kw) ((GATHER) || (S) == 1 || ((v) == 0) == ((kw) % 2 == 0))

/* A block of sums: destination rows y0 + j·RS (j < YB) of channels d0 .. d0 + DB − 1, NS vectors
 * a row, kept in registers while every source channel and row that feeds them passes. The rows
 * are consecutive (RS = 1), except in a scatter with stride 2, which takes every other row
 * (RS = 2: rows of one parity, which the same kernel rows reach), and with paired rows (P = 2),
 * where vector j holds rows y0 + 2j and y0 + 2j + 1 (in a stride-2 scatter, RS = 4: rows y0 + 4j
 * and y0 + 4j + 2, lanes 0-7 and 8-15 of each slot) and reads the source rows of both (the second
 * S rows further in a gather, 1 in a scatter) as if it were row 2j. DB, YB, NS, the stride S, the
 * direction and the block's phase PH are constants, so that which source row feeds which sum
 * through which kernel row is worked out when compiling, and the loops unroll into straight runs
 * of multiply-adds. Source row i of the block (i = 0, 1, ..) is row `first` + i, and feeds
 *   gather:  destination row j through kernel row kh when i = j·P·S + kh;
 *   scatter: destination row j through kernel row kh when i = back + j·P + (PH − kh)/S and S
 *            divides PH − kh, where PH = (y0 + pt) mod S (the rows y0 + pt = sy·S + kh).
 * A weight is a scalar that every lane multiplies: it is broadcast into a register, which costs
 * about as much as two multiply-adds on this kind of core, so each broadcast serves several:
 *   one destination channel (DB = 1): the channel's 9 weights of a source channel stay in
 *   registers for the whole block, and the rows pass in order, each loaded and permuted once;
 *   several (DB > 1): kernel row by kernel row, the YB source rows it links to the block are
 *   loaded and permuted, and each weight serves YB·NS multiply-adds (or YB in a stride-2
 *   scatter, where each kernel column feeds one of the two vectors). */
static ALWAYS_INLINE int block_source_row(int j, int kh, const int S, const int GATHER, const int PH, const int P)
{
    if (GATHER) return j * P * S + kh;
    if ((PH - kh) % S) return -1;                                 /* no link */
    return (K - 1) / S + j * P + (PH - kh) / S;
}

/* whether source row i of a block feeds any of its rows (a constant when compiling) */
static ALWAYS_INLINE int row_used(int i, const int YB, const int S, const int GATHER, const int PH, const int P)
{
    for (int j = 0; j < YB; j++)
        for (int kh = 0; kh < K; kh++)
            if (block_source_row(j, kh, S, GATHER, PH, P) == i) return 1;
    return 0;
}

/* Source row sy of a plane as two vectors: its columns 0-15 and 16-31, or (paired) the row and
 * the row `next` rows further; rows outside the source read as zeros. */
static ALWAYS_INLINE AVX512 void load_source(__m512 *r0, __m512 *r1, const float *plane, int sy, int next, int h, int w,
                                            const lane_map *m, const int P)
{
    const float *row = sy >= 0 && sy < h ? plane + (size_t)sy * w : zero_row;
    const float *row2 = P == 1 ? row + 16 : sy + next >= 0 && sy + next < h ? plane + (size_t)(sy + next) * w : zero_row;
    *r0 = _mm512_maskz_loadu_ps(m->load[0], row);
    *r1 = _mm512_maskz_loadu_ps(m->load[1], row2);
}

/* ReLU's backward on a block about to be stored: 0 + (gate > 0 ? o : 0), lane by lane, the floats
 * fast_conv_activation_backward would compute from o once stored (a NaN or a zero in gate gives 0) */
static ALWAYS_INLINE AVX512 __m512 gated(__m512 o, const float *gate, __mmask16 m)
{
    const __m512 zero = _mm512_setzero_ps();
    const __mmask16 positive = _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, gate), zero, _CMP_GT_OQ);
    return _mm512_add_ps(zero, _mm512_maskz_mov_ps(positive, o));
}

static ALWAYS_INLINE AVX512 void pass_block(const pass *p, const float *packed, int b, int d0, int y0,
                                           const int DB, const int YB, const int NS, const int S, const int GATHER,
                                           const int PH, const int P)
{
    const int pt = p->pad_top, RS = !GATHER && S == 2 ? 2 * P : P, next = GATHER ? S : 1;
    const int back = GATHER ? 0 : (K - 1) / S;                    /* source rows before (y0 + pt − PH)/S */
    const int rows = GATHER ? (YB - 1) * P * S + K : back + (YB - 1) * P + 1;
    const int first = GATHER ? y0 * S - pt : (y0 + pt - PH) / S - back;
    __m512 acc[MAX_SUMS];
#pragma GCC unroll 16
    for (int i = 0; i < DB * YB * NS; i++)
        acc[i] = p->bias ? _mm512_set1_ps(p->bias[d0 + i / (YB * NS)]) : _mm512_setzero_ps();

    for (int c = 0; c < p->src_c; c++) {
        const float *plane = p->src + ((size_t)b * p->src_c + c) * p->src_h * p->src_w;
        const float *w_c = packed + ((size_t)(d0 / DB) * p->src_c + c) * K * K * DB;
        if (DB == 1) {
            __m512 w[K * K];
#pragma GCC unroll 9
            for (int k = 0; k < K * K; k++) w[k] = _mm512_set1_ps(w_c[k]);
#pragma GCC unroll 40
            for (int i = 0; i < rows; i++) {
                if (!row_used(i, YB, S, GATHER, PH, P)) continue;
                __m512 r0, r1, x[2][K];
                load_source(&r0, &r1, plane, first + i, next, p->src_h, p->src_w, &p->map, P);
#pragma GCC unroll 2
                for (int v = 0; v < NS; v++)
#pragma GCC unroll 3
                    for (int kw = 0; kw < K; kw++)
                        if (FEEDS(GATHER, S, v, kw)) x[v][kw] = _mm512_permutex2var_ps(r0, p->map.from[v][kw], r1);
#pragma GCC unroll 16
                for (int j = 0; j < YB; j++)
#pragma GCC unroll 3
                    for (int kh = 0; kh < K; kh++) {
                        if (block_source_row(j, kh, S, GATHER, PH, P) != i) continue;
#pragma GCC unroll 3
                        for (int kw = 0; kw < K; kw++)
#pragma GCC unroll 2
                            for (int v = 0; v < NS; v++)
                                if (FEEDS(GATHER, S, v, kw))
                                    acc[j * NS + v] = _mm512_fmadd_ps(w[kh * K + kw], x[v][kw], acc[j * NS + v]);
                    }
            }
        } else {
#pragma GCC unroll 3
            for (int kh = 0; kh < K; kh++) {
                __m512 x[MAX_SUMS / 4][2][K];                     /* YB·NS <= 4 */
#pragma GCC unroll 4
                for (int j = 0; j < YB; j++) {
                    const int i = block_source_row(j, kh, S, GATHER, PH, P);
                    if (i < 0) continue;
                    __m512 r0, r1;
                    load_source(&r0, &r1, plane, first + i, next, p->src_h, p->src_w, &p->map, P);
                    __asm__("" : "+v"(r0), "+v"(r1));             /* loaded here, not kept from another kh */
#pragma GCC unroll 2
                    for (int v = 0; v < NS; v++)
#pragma GCC unroll 3
                        for (int kw = 0; kw < K; kw++)
                            if (FEEDS(GATHER, S, v, kw))
                                x[j][v][kw] = _mm512_permutex2var_ps(r0, p->map.from[v][kw], r1);
                }
#pragma GCC unroll 3
                for (int kw = 0; kw < K; kw++)
#pragma GCC unroll 8
                    for (int dd = 0; dd < DB; dd++) {
                        const __m512 w = _mm512_set1_ps(w_c[(kh * K + kw) * DB + dd]);
#pragma GCC unroll 4
                        for (int j = 0; j < YB; j++) {
                            if (block_source_row(j, kh, S, GATHER, PH, P) < 0) continue;
#pragma GCC unroll 2
                            for (int v = 0; v < NS; v++)
                                if (FEEDS(GATHER, S, v, kw))
                                    acc[(dd * YB + j) * NS + v] =
                                        _mm512_fmadd_ps(w, x[j][v][kw], acc[(dd * YB + j) * NS + v]);
                        }
                    }
            }
        }
    }

    /* interleaving the even and odd columns: lane l of the first store takes even lane l/2 or odd lane l/2 */
    const __m512i even_odd_lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i even_odd_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const int interleave = !GATHER && S == 2;
#pragma GCC unroll 8
    for (int dd = 0; dd < DB; dd++)
#pragma GCC unroll 16
        for (int j = 0; j < YB; j++) {
            const int y = y0 + j * RS;
            if (interleave && P == 2) {                     /* rows y and y + 2, each from its half of the slots */
                const __m512 even = p->even_slot ? acc[(dd * YB + j) * NS + 1] : acc[(dd * YB + j) * NS];
                const __m512 odd = p->even_slot ? acc[(dd * YB + j) * NS] : acc[(dd * YB + j) * NS + 1];
                const __m512 rows[2] = { _mm512_permutex2var_ps(even, even_odd_lo, odd),
                                         _mm512_permutex2var_ps(even, even_odd_hi, odd) };
                const __mmask16 m = first_lanes(p->dst_w);
#pragma GCC unroll 2
                for (int u = 0; u < 2; u++) {
                    const int yu = y + 2 * u;
                    if (yu < 0 || yu >= p->dst_h) continue;
                    const size_t at = (((size_t)b * p->dst_c + d0 + dd) * p->dst_h + yu) * p->dst_w;
                    __m512 o = rows[u];
                    if (p->add) o = _mm512_add_ps(_mm512_maskz_loadu_ps(m, p->dst + at), o);
                    if (p->gate) o = gated(o, p->gate + at, m);
                    if (p->relu != p->dst) _mm512_mask_storeu_ps(p->dst + at, m, o);
                    if (p->relu) _mm512_mask_storeu_ps(p->relu + at, m, _mm512_max_ps(o, _mm512_setzero_ps()));
                }
                continue;
            }
            if (y < 0 || y >= p->dst_h) continue;
            const size_t at = (((size_t)b * p->dst_c + d0 + dd) * p->dst_h + y) * p->dst_w;
            float *row = p->dst + at;
            if (P == 2) {                                   /* rows y and y + 1, side by side in memory too */
                const __mmask16 m = first_lanes(p->dst_w * (y + 1 < p->dst_h ? 2 : 1));
                __m512 o = acc[dd * YB + j];
                if (p->add) o = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row), o);
                if (p->gate) o = gated(o, p->gate + at, m);
                if (p->relu != p->dst) _mm512_mask_storeu_ps(row, m, o);   /* else only f(o), in its place */
                if (p->relu) _mm512_mask_storeu_ps(p->relu + at, m, _mm512_max_ps(o, _mm512_setzero_ps()));
                continue;
            }
            const __m512 a0 = acc[(dd * YB + j) * NS], a1 = acc[(dd * YB + j) * NS + NS - 1];
            __m512 out[2];
            if (interleave) {
                const __m512 even = p->even_slot ? a1 : a0, odd = p->even_slot ? a0 : a1;
                out[0] = _mm512_permutex2var_ps(even, even_odd_lo, odd);
                out[1] = _mm512_permutex2var_ps(even, even_odd_hi, odd);
            } else {
                out[0] = a0;
                out[1] = a1;
            }
#pragma GCC unroll 2
            for (int u = 0; u < 2; u++) {
                if (u == 1 && !interleave && NS == 1) break;
                const __mmask16 m = first_lanes(p->dst_w - 16 * u);
                __m512 o = out[u];
                if (p->add) o = _mm512_add_ps(_mm512_maskz_loadu_ps(m, row + 16 * u), o);
                if (p->gate) o = gated(o, p->gate + at + 16 * u, m);
                if (p->relu != p->dst) _mm512_mask_storeu_ps(row + 16 * u, m, o);
                if (p->relu) _mm512_mask_storeu_ps(p->relu + at + 16 * u, m, _mm512_max_ps(o, _mm512_setzero_ps()));
            }
        }
}

static ALWAYS_INLINE AVX512 void pass_run(const pass *p, const int DB, const int YB, const int NS, const int S,
                                          const int GATHER, const int P)
{
    /* a stride-2 scatter's blocks start where (y0 + pt) is even: at row 0 or −1 */
    const int start = GATHER ? 0 : -(((p->pad_top % S) + S) % S);
    /* packed[d0 / DB][src channel][kh][kw][dd]: the weights one source channel sends to a block of
     * DB destination channels, at offsets known when compiling */
    float packed[MAX_CHANNELS * K * K * MAX_CHANNELS];
    const int R = GATHER ? p->src_c : p->dst_c;
    for (int d = 0; d < p->dst_c; d++)
        for (int c = 0; c < p->src_c; c++)
            for (int k = 0; k < K * K; k++) {
                const int m = GATHER ? d : c, r = GATHER ? c : d;
                packed[(((size_t)(d / DB) * p->src_c + c) * K * K + k) * DB + d % DB] =
                    p->weight[((size_t)m * R + r) * K * K + k];
            }
    for (int b = 0; b < p->batch; b++)
        for (int d0 = 0; d0 < p->dst_c; d0 += DB)
            for (int y0 = start; y0 < p->dst_h; y0 += GATHER || S == 1 ? YB * P : YB * S * P) {
                if (GATHER || S == 1) {
                    pass_block(p, packed, b, d0, y0, DB, YB, NS, S, GATHER, 0, P);
                } else {                            /* rows y0, y0 + 2, ..; then y0 + 1, y0 + 3, .. */
                    pass_block(p, packed, b, d0, y0, DB, YB, NS, S, GATHER, 0, P);
                    pass_block(p, packed, b, d0, y0 + 1, DB, YB, NS, S, GATHER, 1, P);
                }
            }
}

/* one copy of the kernel for each direction, stride and shape of its block of sums (channels ×
 * rows × vectors): one channel with its weights in registers, or several with YB·NS = 2 or 4 uses
 * of each broadcast weight; a stride-2 scatter takes its rows in pairs (even and odd); rows of at
 * most 8 values two to a vector (P = 2), or in a stride-2 scatter rows of at most 16 */
#define PASS_SHAPE(NAME, DB, YB, NS, S, GATHER, P)                                                           \
    static AVX512 void NAME##_##DB##_##YB##_##NS##_s##S##_p##P(const pass *p) { pass_run(p, DB, YB, NS, S, GATHER, P); }
PASS_SHAPE(gather, 1, 16, 1, 1, 1, 1) PASS_SHAPE(gather, 8, 2, 1, 1, 1, 1) PASS_SHAPE(gather, 1, 6, 2, 1, 1, 1)
PASS_SHAPE(gather, 8, 1, 2, 1, 1, 1) PASS_SHAPE(gather, 1, 16, 1, 2, 1, 1) PASS_SHAPE(gather, 8, 2, 1, 2, 1, 1)
PASS_SHAPE(gather, 1, 6, 2, 2, 1, 1) PASS_SHAPE(gather, 8, 1, 2, 2, 1, 1)
PASS_SHAPE(gather, 1, 4, 1, 1, 1, 2) PASS_SHAPE(gather, 8, 2, 1, 1, 1, 2)
PASS_SHAPE(gather, 1, 4, 1, 2, 1, 2) PASS_SHAPE(gather, 8, 2, 1, 2, 1, 2)
PASS_SHAPE(scatter, 1, 16, 1, 1, 0, 1) PASS_SHAPE(scatter, 8, 2, 1, 1, 0, 1) PASS_SHAPE(scatter, 1, 6, 2, 1, 0, 1)
PASS_SHAPE(scatter, 8, 1, 2, 1, 0, 1) PASS_SHAPE(scatter, 1, 6, 2, 2, 0, 1) PASS_SHAPE(scatter, 4, 2, 2, 2, 0, 1)
PASS_SHAPE(scatter, 1, 4, 1, 1, 0, 2) PASS_SHAPE(scatter, 8, 2, 1, 1, 0, 2)
PASS_SHAPE(scatter, 1, 4, 2, 2, 0, 2) PASS_SHAPE(scatter, 4, 2, 2, 2, 0, 2)

static AVX512 void run_pass(float *dst, const float *src, const float *weight, const float *bias, int add,
                            float *relu, const float *gate, const conv_sides *t, int batch, int gather)
{
    pass p = { 0 };
    const int M = t->grid_c, R = t->img_c, s = t->stride;
    p.dst = dst;
    p.src = src;
    p.weight = weight;
    p.bias = bias;
    p.add = add;
    p.relu = relu;
    p.gate = gate;
    p.pad_top = t->pad_top;
    p.even_slot = ((t->pad_left % 2) + 2) % 2;    /* a scatter with stride 2: the slot of the even columns */
    p.batch = batch;
    p.src_c = gather ? R : M;
    p.src_h = gather ? t->img_h : t->grid_h;
    p.src_w = gather ? t->img_w : t->grid_w;
    p.dst_c = gather ? M : R;
    p.dst_h = gather ? t->grid_h : t->img_h;
    p.dst_w = gather ? t->grid_w : t->img_w;
    p.map = make_map(t, gather);

    /* the copy for this direction, stride and row layout (paired, one or two vectors a row), in its
     * form for a multiple of `multiple` destination channels (blocks of 8, or 4) or for any number
     * (one channel at a time); a stride-2 scatter always takes its rows as even and odd slots */
    typedef struct { int multiple; void (*any)(const pass *), (*blocks)(const pass *); } pass_kernels;
    static const pass_kernels kernels[2][2][3] = {   /* [gather][s − 1][layout] */
        { { { 8, scatter_1_4_1_s1_p2, scatter_8_2_1_s1_p2 },
            { 8, scatter_1_16_1_s1_p1, scatter_8_2_1_s1_p1 },
            { 8, scatter_1_6_2_s1_p1, scatter_8_1_2_s1_p1 } },
          { { 4, scatter_1_4_2_s2_p2, scatter_4_2_2_s2_p2 }, { 0, NULL, NULL }, { 4, scatter_1_6_2_s2_p1, scatter_4_2_2_s2_p1 } } },
        { { { 8, gather_1_4_1_s1_p2, gather_8_2_1_s1_p2 },
            { 8, gather_1_16_1_s1_p1, gather_8_2_1_s1_p1 },
            { 8, gather_1_6_2_s1_p1, gather_8_1_2_s1_p1 } },
          { { 8, gather_1_4_1_s2_p2, gather_8_2_1_s2_p2 },
            { 8, gather_1_16_1_s2_p1, gather_8_2_1_s2_p1 },
            { 8, gather_1_6_2_s2_p1, gather_8_1_2_s2_p1 } } },
    };
    const int layout = p.map.paired ? 0 : p.map.slots;   /* a stride-2 scatter: 2 slots, paired on rows of at most 16 */
    const pass_kernels *k = &kernels[gather][s - 1][layout];
    (p.dst_c % k->multiple == 0 ? k->blocks : k->any)(&p);
}

void direct_gather(float *grid, const float *image, const float *weight, const float *bias, int add,
                   float *relu, const float *gate, const conv_sides *t, int batch)
{
    run_pass(grid, image, weight, bias, add, relu, gate, t, batch, 1);
}

void direct_scatter(float *image, const float *grid, const float *weight, const float *bias, int add,
                    float *relu, const float *gate, const conv_sides *t, int batch)
{
    run_pass(image, grid, weight, bias, add, relu, gate, t, batch, 0);
}

/* ---------------------------------------------------------------- weight gradient */

/* d_weight[m0 + mm, r] += the lanes of each tap's vector of sums */
static ALWAYS_INLINE AVX512 void weight_add_sums(float *d_weight, const __m512 *acc, int R, int m0, int r, const int MB)
{
#pragma GCC unroll 2
    for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 9
        for (int k = 0; k < K * K; k++)
            d_weight[((size_t)(m0 + mm) * R + r) * K * K + k] += _mm512_reduce_add_ps(acc[mm * K * K + k]);
}

/* d_weight of grid channels m0 .. m0 + MB − 1 and image channel r, from samples b0 .. b0 + nb − 1:
 * one vector of sums per tap. Each image row's three views (one per kernel column) are permuted
 * once and serve every grid row it meets: gy = (iy + pt − kh)/S when S divides it. The two
 * loops below compute the same and are written out twice on purpose: each is the one that
 * measured faster for its stride (by about a fifth, on the layers of model B): with S = 1 the rows
 * in groups of S (where kernel row q of a group meets grid row (iy0 + pt)/S − (kh − q)/S), with
 * S = 2 row by row. (Their shared steps moved into inline helpers cost the stride-2 loop another
 * tenth, measured the same way.) */
static ALWAYS_INLINE AVX512 void weight_pair(float *d_weight, const float *grid, const float *image,
                                             const conv_sides *t, const lane_map *map, int b0, int nb, int m0, int r,
                                             const int MB, const int NV, const int S)
{
    const int M = t->grid_c, R = t->img_c, GH = t->grid_h, GW = t->grid_w, IH = t->img_h, IW = t->img_w;
    const int pt = t->pad_top, start = -(((pt % S) + S) % S);
    __m512 acc[2 * K * K];
#pragma GCC unroll 18
    for (int i = 0; i < MB * K * K; i++) acc[i] = _mm512_setzero_ps();
    const __mmask16 grid_lanes[2] = { first_lanes(GW), first_lanes(GW - 16) };
    for (int b = b0; b < b0 + nb; b++) {
        const float *img = image + ((size_t)b * R + r) * IH * IW;
        const float *grd = grid + ((size_t)b * M + m0) * GH * GW;
        if (S == 1) {
            for (int iy0 = start; iy0 < IH; iy0 += S) {
                const int base = (iy0 + pt) / S;
#pragma GCC unroll 2
                for (int q = 0; q < S; q++) {
                    const int iy = iy0 + q;
                    if (iy < 0 || iy >= IH) continue;
                    const float *row = img + (size_t)iy * IW;
                    const __m512 r0 = _mm512_maskz_loadu_ps(map->load[0], row);
                    const __m512 r1 = _mm512_maskz_loadu_ps(map->load[1], row + 16);
                    __m512 x[2][K];
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++)
#pragma GCC unroll 3
                        for (int kw = 0; kw < K; kw++) x[v][kw] = _mm512_permutex2var_ps(r0, map->from[v][kw], r1);
#pragma GCC unroll 3
                    for (int kh = 0; kh < K; kh++) {
                        if ((q - kh) % S) continue;
                        const int gy = base + (q - kh) / S;
                        if (gy < 0 || gy >= GH) continue;
#pragma GCC unroll 2
                        for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 2
                            for (int v = 0; v < NV; v++) {
                                const __m512 g = _mm512_maskz_loadu_ps(grid_lanes[v], grd + ((size_t)mm * GH + gy) * GW + 16 * v);
#pragma GCC unroll 3
                                for (int kw = 0; kw < K; kw++)
                                    acc[(mm * K + kh) * K + kw] = _mm512_fmadd_ps(g, x[v][kw], acc[(mm * K + kh) * K + kw]);
                            }
                    }
                }
            }
        } else {
            for (int iy = 0; iy < IH; iy++) {
                const float *row = img + (size_t)iy * IW;
                const __m512 r0 = _mm512_maskz_loadu_ps(map->load[0], row);
                const __m512 r1 = _mm512_maskz_loadu_ps(map->load[1], row + 16);
                __m512 x[2][K];
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++)
#pragma GCC unroll 3
                    for (int kw = 0; kw < K; kw++) x[v][kw] = _mm512_permutex2var_ps(r0, map->from[v][kw], r1);
#pragma GCC unroll 3
                for (int kh = 0; kh < K; kh++) {
                    const int num = iy + pt - kh;                           /* = gy·S */
                    if (num < 0 || num % S != 0 || num / S >= GH) continue;
                    const int gy = num / S;
#pragma GCC unroll 2
                    for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 2
                        for (int v = 0; v < NV; v++) {
                            const __m512 g = _mm512_maskz_loadu_ps(grid_lanes[v], grd + ((size_t)mm * GH + gy) * GW + 16 * v);
#pragma GCC unroll 3
                            for (int kw = 0; kw < K; kw++)
                                acc[(mm * K + kh) * K + kw] = _mm512_fmadd_ps(g, x[v][kw], acc[(mm * K + kh) * K + kw]);
                        }
                }
            }
        }
    }
    weight_add_sums(d_weight, acc, R, m0, r, MB);
}

/* The same with two grid rows a vector (rows of at most 8 values, map->paired): grid rows 2q and
 * 2q + 1 loaded as one vector (they lie side by side), against the image rows each meets through
 * kernel row kh, 2q·S − pt + kh and S rows further, permuted together. */
static ALWAYS_INLINE AVX512 void weight_paired(float *d_weight, const float *grid, const float *image,
                                               const conv_sides *t, const lane_map *map, int b0, int nb, int m0,
                                               int r, const int MB, const int S)
{
    const int M = t->grid_c, R = t->img_c, GH = t->grid_h, GW = t->grid_w, IH = t->img_h, IW = t->img_w;
    const int pt = t->pad_top;
    __m512 acc[2 * K * K];
#pragma GCC unroll 18
    for (int i = 0; i < MB * K * K; i++) acc[i] = _mm512_setzero_ps();
    for (int b = b0; b < b0 + nb; b++) {
        const float *img = image + ((size_t)b * R + r) * IH * IW;
        const float *grd = grid + ((size_t)b * M + m0) * GH * GW;
        for (int gy = 0; gy < GH; gy += 2) {
            const __mmask16 lanes = first_lanes(GW * (gy + 1 < GH ? 2 : 1));
            __m512 g[2];
#pragma GCC unroll 2
            for (int mm = 0; mm < MB; mm++) g[mm] = _mm512_maskz_loadu_ps(lanes, grd + ((size_t)mm * GH + gy) * GW);
#pragma GCC unroll 3
            for (int kh = 0; kh < K; kh++) {
                __m512 r0, r1, x[K];
                load_source(&r0, &r1, img, gy * S - pt + kh, S, IH, IW, map, 2);
#pragma GCC unroll 3
                for (int kw = 0; kw < K; kw++) x[kw] = _mm512_permutex2var_ps(r0, map->from[0][kw], r1);
#pragma GCC unroll 2
                for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 3
                    for (int kw = 0; kw < K; kw++)
                        acc[(mm * K + kh) * K + kw] = _mm512_fmadd_ps(g[mm], x[kw], acc[(mm * K + kh) * K + kw]);
            }
        }
    }
    weight_add_sums(d_weight, acc, R, m0, r, MB);
}

/* The batch in chunks of samples that fit in the L2 cache together (every channel pair reads the
 * whole chunk), each chunk's sums added to d_weight in turn. */
enum { WEIGHT_CHUNK_FLOATS = 1 << 16 };

int direct_weight_chunk(const conv_sides *t)
{
    const size_t sample = (size_t)t->img_c * t->img_h * t->img_w + (size_t)t->grid_c * t->grid_h * t->grid_w;
    return sample >= WEIGHT_CHUNK_FLOATS ? 1 : (int)(WEIGHT_CHUNK_FLOATS / sample);
}

static ALWAYS_INLINE AVX512 void weight_run(float *d_weight, const float *grid, const float *image,
                                            const conv_sides *t, const lane_map *map, int batch, const int MB,
                                            const int NV, const int S)
{
    const int chunk = direct_weight_chunk(t);
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        const int nb = batch - b0 < chunk ? batch - b0 : chunk;
        for (int m0 = 0; m0 < t->grid_c; m0 += MB)
            for (int r = 0; r < t->img_c; r++) {
                if (NV == 0) weight_paired(d_weight, grid, image, t, map, b0, nb, m0, r, MB, S);
                else weight_pair(d_weight, grid, image, t, map, b0, nb, m0, r, MB, NV, S);
            }
    }
}

#define WEIGHT_SHAPE(MB, NV, S)                                                                               \
    static AVX512 void weight_##MB##_##NV##_s##S(float *d_weight, const float *grid, const float *image,     \
                                                 const conv_sides *t, const lane_map *map, int batch)         \
    {                                                                                                         \
        weight_run(d_weight, grid, image, t, map, batch, MB, NV, S);                                         \
    }
WEIGHT_SHAPE(1, 1, 1) WEIGHT_SHAPE(2, 1, 1) WEIGHT_SHAPE(1, 2, 1) WEIGHT_SHAPE(2, 2, 1)
WEIGHT_SHAPE(1, 1, 2) WEIGHT_SHAPE(2, 1, 2) WEIGHT_SHAPE(1, 2, 2) WEIGHT_SHAPE(2, 2, 2)
WEIGHT_SHAPE(1, 0, 1) WEIGHT_SHAPE(2, 0, 1) WEIGHT_SHAPE(1, 0, 2) WEIGHT_SHAPE(2, 0, 2)     /* NV = 0: paired rows */

AVX512 void direct_weight_grad(float *d_weight, const float *grid, const float *image, const conv_sides *t,
                               int batch)
{
    typedef void shape_fn(float *, const float *, const float *, const conv_sides *, const lane_map *, int);
    static shape_fn *const shapes[2][3][2] = {      /* [stride − 1][vectors a row, 0: two rows a vector][pairs of m] */
        { { weight_1_0_s1, weight_2_0_s1 }, { weight_1_1_s1, weight_2_1_s1 }, { weight_1_2_s1, weight_2_2_s1 } },
        { { weight_1_0_s2, weight_2_0_s2 }, { weight_1_1_s2, weight_2_1_s2 }, { weight_1_2_s2, weight_2_2_s2 } },
    };
    const lane_map map = make_map(t, 1);
    shapes[t->stride - 1][map.paired ? 0 : map.slots][t->grid_c % 2 == 0](d_weight, grid, image, t, &map, batch);
}

#else /* no AVX-512 intrinsics (or AE_NO_DIRECT_CONV): conv_taps.c's products do everything */

int direct_fits(const conv_sides *t)
{
    (void)t;
    return 0;
}

void direct_gather(float *grid, const float *image, const float *weight, const float *bias, int add,
                   float *relu, const float *gate, const conv_sides *t, int batch)
{
    (void)grid, (void)image, (void)weight, (void)bias, (void)add, (void)relu, (void)gate, (void)t, (void)batch;
}

void direct_scatter(float *image, const float *grid, const float *weight, const float *bias, int add,
                    float *relu, const float *gate, const conv_sides *t, int batch)
{
    (void)image, (void)grid, (void)weight, (void)bias, (void)add, (void)relu, (void)gate, (void)t, (void)batch;
}

void direct_weight_grad(float *d_weight, const float *grid, const float *image, const conv_sides *t, int batch)
{
    (void)d_weight, (void)grid, (void)image, (void)t, (void)batch;
}

int direct_weight_chunk(const conv_sides *t)
{
    (void)t;
    return 1;
}

#endif

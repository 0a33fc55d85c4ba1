/* ae_reference.c: a dense autoencoder, the plain way (see ae_reference.h).
 *
 * Shape legend: B batch, D = 784 pixels, IN/OUT a layer's sizes; arrays are row-major.
 */
#include "ae_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 32
#define LR 1e-3
#define BETA1 0.9
#define BETA2 0.999
#define EPSILON 1e-7

long ref_dense_params(const ref_dense *layers, int n)
{
    long total = 0;
    int in = REF_PIXELS;
    for (int l = 0; l < n; l++) {
        total += (long)in * layers[l].units + layers[l].units;   /* W (OUT, IN) and b (OUT) */
        in = layers[l].units;
    }
    return total;
}

long ref_conv_layer_params(int kernel, int in_channels, int out_channels)
{
    return ((long)kernel * kernel * in_channels + 1) * out_channels;
}

/* ------------------------------------------------------------------ random numbers */
/* xorshift64*: the same stream on every machine, seeded through splitmix64 */
typedef struct { unsigned long long s; } ref_rng;

static void rng_seed(ref_rng *r, unsigned long seed)
{
    unsigned long long z = seed + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    r->s = (z ^ (z >> 31)) | 1;
}

static double rng_uniform(ref_rng *r)   /* U[0, 1) */
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------------ the network */
typedef struct {
    int n_layers;
    int in[REF_MAX_LAYERS], out[REF_MAX_LAYERS];
    ref_activation act[REF_MAX_LAYERS];
    size_t n_params;
    double *params, *grads, *m, *v;              /* (n_params) each; W then b, layer after layer */
    double *w[REF_MAX_LAYERS], *b[REF_MAX_LAYERS];
    double *gw[REF_MAX_LAYERS], *gb[REF_MAX_LAYERS];
    double *a[REF_MAX_LAYERS + 1];               /* a[0] (B, 784) the input, a[l+1] (B, OUT_l) layer l's output */
    double *delta[REF_MAX_LAYERS];               /* (B, OUT_l): ∂loss/∂(pre-activation) of layer l */
    long step;
} net;

static void net_free(net *nn)
{
    free(nn->params);
    free(nn->grads);
    free(nn->m);
    free(nn->v);
    for (int l = 0; l <= nn->n_layers; l++) free(nn->a[l]);
    for (int l = 0; l < nn->n_layers; l++) free(nn->delta[l]);
}

static int net_init(net *nn, const ref_dense *layers, int n, ref_rng *rng)
{
    memset(nn, 0, sizeof *nn);
    nn->n_layers = n;
    int in = REF_PIXELS;
    for (int l = 0; l < n; l++) {
        nn->in[l] = in;
        nn->out[l] = layers[l].units;
        nn->act[l] = layers[l].activation;
        nn->n_params += (size_t)in * layers[l].units + (size_t)layers[l].units;
        in = layers[l].units;
    }
    nn->params = calloc(nn->n_params, sizeof(double));
    nn->grads = calloc(nn->n_params, sizeof(double));
    nn->m = calloc(nn->n_params, sizeof(double));
    nn->v = calloc(nn->n_params, sizeof(double));
    nn->a[0] = malloc((size_t)BATCH * REF_PIXELS * sizeof(double));
    int ok = nn->params && nn->grads && nn->m && nn->v && nn->a[0];
    size_t at = 0;
    for (int l = 0; l < n && ok; l++) {
        nn->w[l] = nn->params + at;
        nn->gw[l] = nn->grads + at;
        at += (size_t)nn->in[l] * nn->out[l];
        nn->b[l] = nn->params + at;
        nn->gb[l] = nn->grads + at;
        at += (size_t)nn->out[l];
        nn->a[l + 1] = malloc((size_t)BATCH * nn->out[l] * sizeof(double));
        nn->delta[l] = malloc((size_t)BATCH * nn->out[l] * sizeof(double));
        ok = nn->a[l + 1] && nn->delta[l];
        /* Glorot uniform: U(−r, r), r = √(6 / (IN + OUT)); biases stay 0 */
        double r = sqrt(6.0 / (nn->in[l] + nn->out[l]));
        for (size_t i = 0; ok && i < (size_t)nn->in[l] * nn->out[l]; i++) nn->w[l][i] = (2.0 * rng_uniform(rng) - 1.0) * r;
    }
    if (!ok) net_free(nn);
    return ok;
}

static double activate(ref_activation act, double x)
{
    if (act == REF_RELU) return x > 0.0 ? x : 0.0;     /* max(0, x) */
    if (act == REF_SIGMOID) return 1.0 / (1.0 + exp(-x));   /* 1/(1 + e^−x) */
    return x;
}

/* a[l+1] = act(W a[l] + b) for the first `batch` rows */
static void forward(net *nn, int batch)
{
    for (int l = 0; l < nn->n_layers; l++) {
        int in = nn->in[l], out = nn->out[l];
        for (int s = 0; s < batch; s++) {
            const double *x = nn->a[l] + (size_t)s * in;
            double *y = nn->a[l + 1] + (size_t)s * out;
            for (int o = 0; o < out; o++) {
                const double *wrow = nn->w[l] + (size_t)o * in;
                double sum = nn->b[l][o];
                for (int i = 0; i < in; i++) sum += wrow[i] * x[i];
                y[o] = activate(nn->act[l], sum);
            }
        }
    }
}

/* MSE = (1/(B·D)) Σ (y − t)²; fills the gradients of it. Returns the loss. */
static double backward(net *nn, int batch, const double *target)
{
    int last = nn->n_layers - 1, d = REF_PIXELS;
    double loss = 0.0, scale = 2.0 / ((double)batch * d);
    memset(nn->grads, 0, nn->n_params * sizeof(double));
    for (int s = 0; s < batch; s++)
        for (int j = 0; j < d; j++) {
            double y = nn->a[last + 1][(size_t)s * d + j], diff = y - target[(size_t)s * d + j];
            loss += diff * diff;
            nn->delta[last][(size_t)s * d + j] = scale * diff;     /* ∂loss/∂y */
        }
    for (int l = last; l >= 0; l--) {
        int in = nn->in[l], out = nn->out[l];
        /* through the activation: ∂y/∂z = y(1 − y) for sigmoid, [z > 0] for relu */
        for (size_t i = 0; i < (size_t)batch * out; i++) {
            double y = nn->a[l + 1][i];
            if (nn->act[l] == REF_SIGMOID) nn->delta[l][i] *= y * (1.0 - y);
            else if (nn->act[l] == REF_RELU && y <= 0.0) nn->delta[l][i] = 0.0;
        }
        for (int s = 0; s < batch; s++) {
            const double *x = nn->a[l] + (size_t)s * in, *dz = nn->delta[l] + (size_t)s * out;
            for (int o = 0; o < out; o++) {
                double g = dz[o];
                nn->gb[l][o] += g;                                 /* ∂/∂b = δ */
                if (g == 0.0) continue;
                double *gw = nn->gw[l] + (size_t)o * in;
                for (int i = 0; i < in; i++) gw[i] += g * x[i];    /* ∂/∂W = δ xᵀ */
            }
        }
        if (l > 0) {
            /* δ of the layer below, before its activation: Wᵀ δ */
            double *below = nn->delta[l - 1];
            memset(below, 0, (size_t)batch * in * sizeof(double));
            for (int s = 0; s < batch; s++) {
                const double *dz = nn->delta[l] + (size_t)s * out;
                double *dx = below + (size_t)s * in;
                for (int o = 0; o < out; o++) {
                    double g = dz[o];
                    if (g == 0.0) continue;
                    const double *wrow = nn->w[l] + (size_t)o * in;
                    for (int i = 0; i < in; i++) dx[i] += g * wrow[i];
                }
            }
        }
    }
    return loss / ((double)batch * d);
}

/* Adam as Keras: p −= lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + ε) */
static void adam(net *nn)
{
    nn->step++;
    double step = LR * sqrt(1.0 - pow(BETA2, (double)nn->step)) / (1.0 - pow(BETA1, (double)nn->step));
    for (size_t i = 0; i < nn->n_params; i++) {
        double g = nn->grads[i];
        nn->m[i] = BETA1 * nn->m[i] + (1.0 - BETA1) * g;
        nn->v[i] = BETA2 * nn->v[i] + (1.0 - BETA2) * g * g;
        nn->params[i] -= step * nn->m[i] / (sqrt(nn->v[i]) + EPSILON);
    }
}

static double evaluate(net *nn, const double *images, size_t n)
{
    double sum = 0.0;
    for (size_t start = 0; start < n; start += BATCH) {
        int batch = (int)(n - start < BATCH ? n - start : BATCH);
        memcpy(nn->a[0], images + start * REF_PIXELS, (size_t)batch * REF_PIXELS * sizeof(double));
        forward(nn, batch);
        const double *y = nn->a[nn->n_layers];
        for (size_t i = 0; i < (size_t)batch * REF_PIXELS; i++) {
            double diff = y[i] - images[start * REF_PIXELS + i];
            sum += diff * diff;
        }
    }
    return sum / ((double)n * REF_PIXELS);
}

double ref_train_autoencoder(const ref_dense *layers, int n_layers, const double *train, size_t n_train,
                             const double *val, size_t n_val, int epochs, unsigned long seed,
                             double *train_loss)
{
    ref_rng rng;
    rng_seed(&rng, seed);
    net nn;
    size_t *order = malloc(n_train * sizeof *order);
    double *target = malloc((size_t)BATCH * REF_PIXELS * sizeof *target);
    if (!order || !target || n_layers > REF_MAX_LAYERS || !net_init(&nn, layers, n_layers, &rng)) {
        free(order);
        free(target);
        return NAN;
    }
    for (size_t i = 0; i < n_train; i++) order[i] = i;
    double epoch_loss = NAN;
    for (int e = 0; e < epochs; e++) {
        for (size_t i = n_train - 1; i > 0; i--) {     /* Fisher–Yates */
            size_t j = (size_t)(rng_uniform(&rng) * (double)(i + 1));
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double weighted = 0.0;
        for (size_t start = 0; start < n_train; start += BATCH) {
            int batch = (int)(n_train - start < BATCH ? n_train - start : BATCH);
            for (int s = 0; s < batch; s++) {
                const double *image = train + order[start + s] * REF_PIXELS;
                memcpy(nn.a[0] + (size_t)s * REF_PIXELS, image, REF_PIXELS * sizeof(double));
                memcpy(target + (size_t)s * REF_PIXELS, image, REF_PIXELS * sizeof(double));
            }
            forward(&nn, batch);
            weighted += backward(&nn, batch, target) * batch;
            adam(&nn);
        }
        epoch_loss = weighted / (double)n_train;
    }
    double val_mse = evaluate(&nn, val, n_val);
    if (train_loss) *train_loss = epoch_loss;
    net_free(&nn);
    free(order);
    free(target);
    return val_mse;
}

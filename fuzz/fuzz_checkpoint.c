/* fuzz_checkpoint.c: any bytes as a checkpoint of a small conv model: checkpoint_load refuses
 * (and leaves the model as it was) or loads, never crashes.
 *
 *   fuzz_checkpoint --write-seed FILE   writes a valid checkpoint of that model (the seed corpus) */
#include "fuzz_util.h"
#include "checkpoint.h"
#include "error.h"
#include "model.h"

#include <gsl/gsl_rng.h>
#include <string.h>

/* (1, 8, 8) → Conv2D(2, 3, s2, same, relu) → Conv2DTranspose(1, 3, s2, same, sigmoid) → Flatten →
 * Dense(4): every kind of parameter shape the checkpoint holds. */
static model *small_model(void)
{
    const int shape[3] = { 1, 8, 8 };
    model *m = model_alloc(3, shape);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!m || !rng) abort();
    gsl_rng_set(rng, 1);
    model_add(m, layer_conv2d(2, 3, 2, PAD_SAME, ACT_RELU));
    model_add(m, layer_conv2d_transpose(1, 3, 2, PAD_SAME, ACT_SIGMOID));
    model_add(m, layer_flatten());
    model_add(m, layer_dense(4, ACT_NONE));
    if (model_build(m, 1, rng) != AE_OK) abort();
    gsl_rng_free(rng);
    return m;
}

static model *fuzzed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzzed = small_model();
    for (int i = 1; i + 1 < *argc; i++)
        if (strcmp((*argv)[i], "--write-seed") == 0) exit(checkpoint_save(fuzzed, (*argv)[i + 1]) == AE_OK ? 0 : 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = model_param_count(fuzzed);
    float first = n ? fuzzed->params[0] : 0.0f;
    if (checkpoint_load(fuzzed, fuzz_input_file(data, size)) != AE_OK && n && fuzzed->params[0] != first)
        abort();   /* a refused checkpoint must leave the model untouched */
    return 0;
}

/* ae_models.h: the autoencoders of Task 4, written layer by layer in C as the course writes them
 * in Keras, the parser of layer specs (the program's --layers option, which builds a model with
 * the same calls), and the data each task trains on.
 *
 * A spec is a comma-separated list of layers, each a kind and its fields separated by ':'
 *
 *     flatten,dense:64:relu,dense:784:sigmoid,reshape:1x28x28        (model A)
 *
 *   dense:UNITS[:ACT]                    Dense(UNITS), out = act(in · Wᵀ + b)
 *   conv:FILTERS:KERNEL[:sN][:PAD][:ACT] Conv2D(FILTERS, KERNEL×KERNEL, stride N, padding PAD)
 *   tconv:FILTERS:KERNEL[:sN][:PAD][:ACT] Conv2DTranspose, the same fields
 *   up                                   UpSampling2D (nearest neighbour, 2×)
 *   pool                                 MaxPooling2D (2×2, stride 2)
 *   flatten                              (C, H, W) → (C·H·W)
 *   reshape:DIMS                         e.g. 1x28x28 (28x28 means one channel: 1x28x28)
 *   act:ACT                              an activation on its own
 *
 * ACT is relu, sigmoid, tanh or linear (the default); PAD is same (the default, Keras'
 * 'same') or valid; the stride sN defaults to s1. Options after KERNEL come in any order.
 *
 * A spec's layers are added with model_add, as a built-in model's are, so a user's own model
 * and models A–D are built the same way. A spec that starts with dense takes the image flat,
 * (784); any other spec, and every built-in model, takes it as (1, 28, 28). Either way the
 * model must give back 784 values.
 */
#ifndef AE_MODELS_H
#define AE_MODELS_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#include "io/data.h"
#include "loss.h"
#include "model.h"
#include "train.h"

#define AE_SPEC_MAX_LAYERS 32
#define AE_SPEC_ITEM_MAX 64          /* characters of one item, with its terminating zero */
#define AE_SPEC_MAX 1024             /* characters of a whole spec */
#define AE_IMAGE_SIDE 28
#define AE_IMAGE_PIXELS 784

typedef enum { AE_TASK_RECONSTRUCTION, AE_TASK_DENOISING, AE_TASK_ANOMALY } ae_task;

const char *ae_task_name(ae_task task);   /* "reconstruction", "denoising", "anomaly" */

/* ------------------------------------------------------------ --layers */

/* A parsed spec: the layers, and each item's text for messages about it. */
typedef struct {
    int n_layers;
    layer_spec layers[AE_SPEC_MAX_LAYERS];
    char items[AE_SPEC_MAX_LAYERS][AE_SPEC_ITEM_MAX];
} ae_layer_list;

/* Parses a spec. AE_EINVAL with a message that points at the bad part, for example
 * "item 2 'dense:12x:relu': '12x' is not a number of units"; *out is then incomplete. */
int ae_layers_parse(const char *text, ae_layer_list *out);

/* A model (not yet built) with the layers of list: input (784) when the first layer is
 * dense, (1, 28, 28) otherwise. AE_EINVAL when a layer does not fit its input (the message
 * names the item) or when the model does not end with 784 values per image. */
int ae_model_from_layers(model **out, const ae_layer_list *list);

/* -------------------------------------------------------------- models */

#define AE_BUILTIN_MODELS 4          /* A, B, C, D */
#define AE_MODEL_NAME_MAX 16

/* One model of the comparison: its name, what it is, its layers and its loss. */
typedef struct {
    char name[AE_MODEL_NAME_MAX];    /* "A" .. "D", or "custom" for --layers */
    const char *summary;             /* one line for a person */
    int (*build)(model *m);          /* a built-in model's layers, added in C (NULL for --layers) */
    char spec[AE_SPEC_MAX];          /* its layers as a --layers spec (the built-ins' written out from them) */
    loss_spec loss;                  /* what training minimises (mean over pixels and images) */
} ae_recipe;

/* Built-in model `index` (0..3 for A..D) of a task. The anomaly task uses the
 * reconstruction models. AE_EINVAL for an index outside 0..3. */
int ae_recipe_builtin(ae_recipe *r, ae_task task, int index);
/* A --layers model named "custom", trained with loss (LOSS_MSE or LOSS_BCE). AE_EINVAL when
 * the spec is longer than AE_SPEC_MAX − 1 characters or the loss is another one. */
int ae_recipe_custom(ae_recipe *r, const char *spec, loss_kind loss);

/* The layers of m in the --layers syntax ("flatten,dense:64:relu,..."); AE_EINVAL when they do
 * not fit len characters. */
int ae_model_spec_text(char *buf, size_t len, const model *m);

/* The model of r (a built-in's layers, or r->spec parsed), checked, and built for batches up to
 * max_batch with Glorot-uniform weights from rng. BCE also needs a sigmoid at the end (AE_EINVAL
 * otherwise): its loss is only defined for outputs in (0, 1). */
int ae_model_create(model **out, const ae_recipe *r, int max_batch, gsl_rng *rng);

/* Runs m over n images: out (n, 784) = m(x (n, 784)), in batches of m->max_batch. */
int ae_reconstruct(model *m, const float *x, int n, float *out);

/* --------------------------------------------------------------- data */

#define AE_DEFAULT_NOISE 0.2         /* the tutorial's noise_factor */

/* The training and validation data of a task:
 *   reconstruction  train: training images → themselves; val: the test images
 *   denoising       inputs with Gaussian noise of std noise_factor, clipped to [0,1]; targets clean;
 *                   the test images get noise from another seed than the training images
 *   anomaly         train: training images of normal_class only; val: test images of that class
 * The sources point into this struct and into fm: neither may move or be freed while in use. */
typedef struct {
    image_source_ctx train_ctx, val_ctx;
    batch_source train, val;
    size_t *train_subset, *val_subset;   /* anomaly: indices of normal_class's images (n_subset each) */
} ae_sources;

/* The denoising task's noisy input (io/data.h's image_corrupt_fn): x (n) becomes
 * clip(x + factor·noise, 0, 1) in place, noise (n) being N(0, 1) draws, as the tutorial's
 * x + noise_factor·N(0, 1), clipped to [0, 1]. */
void ae_corrupt(float *x, const float *noise, size_t n, float factor);

/* AE_EINVAL for a normal class outside 0..9 (anomaly) or a noise factor outside [0, 1];
 * AE_EDOM when a split holds no image of the normal class. */
int ae_sources_init(ae_sources *s, ae_task task, const fashion_mnist *fm, int normal_class,
                    double noise_factor, unsigned long seed);
void ae_sources_free(ae_sources *s);   /* safe on a zeroed struct */

#endif

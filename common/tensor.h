/* tensor.h: a shape and a flat block of float32, row-major.
 *
 * Conventions (written once, in common/README.md): images are (N, C, H, W);
 * a dense layer's activations are (N, F). A tensor either owns its data
 * (tensor_alloc) or is a view of someone else's (tensor_view): views are how
 * a model's single parameter block is split into weights and biases.
 */
#ifndef AE_TENSOR_H
#define AE_TENSOR_H

#include <stddef.h>

#define TENSOR_MAX_DIMS 4

typedef struct {
    int ndim;                       /* 1..TENSOR_MAX_DIMS */
    int shape[TENSOR_MAX_DIMS];     /* unused trailing entries are 1 */
    size_t size;                    /* product of shape */
    float *data;                    /* (size) */
    int owns_data;                  /* 1: tensor_free releases data */
} tensor;

/* Allocates a zero-filled tensor of the given shape; NULL (with error_message) on a bad shape or no memory. */
tensor *tensor_alloc(int ndim, const int *shape);
/* A tensor that points at data it does not own. */
tensor tensor_view(float *data, int ndim, const int *shape);
void tensor_free(tensor *t);                       /* NULL is a no-op */

size_t shape_size(int ndim, const int *shape);     /* product; 0 if any entry is <= 0 */
/* Changes the shape in place; AE_EBADLEN if the size would change. */
int tensor_reshape(tensor *t, int ndim, const int *shape);
void tensor_fill(tensor *t, float value);
/* Floats rounded up to a whole 64-byte cache line, so that blocks laid one after the other all start aligned. */
size_t floats_padded(size_t floats);
/* A zeroed block of floats_padded(floats) floats aligned to 64 bytes (free() it), or NULL. */
float *floats_alloc(size_t floats);

/* Writes "(2, 1, 28, 28)" into buf. */
const char *shape_format(char *buf, size_t len, int ndim, const int *shape);

#endif

/* tensor.c: allocation, views and shapes (see tensor.h). */
#include "tensor.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t shape_size(int ndim, const int *shape)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0) return 0;
        n *= (size_t)shape[d];
    }
    return n;
}

static int check_shape(int ndim, const int *shape)
{
    if (ndim < 1 || ndim > TENSOR_MAX_DIMS)
        return AE_ERROR(AE_EINVAL, "a tensor has 1 to %d dimensions, not %d", TENSOR_MAX_DIMS, ndim);
    if (shape_size(ndim, shape) == 0)
        return AE_ERROR(AE_EINVAL, "every dimension of a tensor must be positive");
    return AE_OK;
}

static void set_shape(tensor *t, int ndim, const int *shape)
{
    t->ndim = ndim;
    for (int d = 0; d < TENSOR_MAX_DIMS; d++) t->shape[d] = d < ndim ? shape[d] : 1;
    t->size = shape_size(ndim, shape);
}

tensor *tensor_alloc(int ndim, const int *shape)
{
    if (check_shape(ndim, shape) != AE_OK) return NULL;
    tensor *t = malloc(sizeof *t);
    if (!t) { AE_ERROR(AE_ENOMEM, "out of memory for a tensor header"); return NULL; }
    set_shape(t, ndim, shape);
    t->data = calloc(t->size, sizeof(float));
    if (!t->data) {
        free(t);
        AE_ERROR(AE_ENOMEM, "out of memory for a tensor of %zu floats", shape_size(ndim, shape));
        return NULL;
    }
    t->owns_data = 1;
    return t;
}

tensor tensor_view(float *data, int ndim, const int *shape)
{
    tensor t;
    memset(&t, 0, sizeof t);
    if (ndim >= 1 && ndim <= TENSOR_MAX_DIMS) set_shape(&t, ndim, shape);
    t.data = data;
    t.owns_data = 0;
    return t;
}

void tensor_free(tensor *t)
{
    if (!t) return;
    if (t->owns_data) free(t->data);
    free(t);
}

int tensor_reshape(tensor *t, int ndim, const int *shape)
{
    int rc = check_shape(ndim, shape);
    if (rc != AE_OK) return rc;
    if (shape_size(ndim, shape) != t->size)
        return AE_ERROR(AE_EBADLEN, "cannot reshape %zu values into a shape of %zu",
                        t->size, shape_size(ndim, shape));
    set_shape(t, ndim, shape);
    return AE_OK;
}

void tensor_fill(tensor *t, float value)
{
    for (size_t i = 0; i < t->size; i++) t->data[i] = value;
}

const char *shape_format(char *buf, size_t len, int ndim, const int *shape)
{
    size_t used = 0;
    if (len == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, len, "(");
    for (int d = 0; d < ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, d ? ", %d" : "%d", shape[d]);
    if (used < len) snprintf(buf + used, len - used, ")");
    return buf;
}

size_t floats_padded(size_t floats)
{
    return (floats + 15) / 16 * 16;
}

float *floats_alloc(size_t floats)
{
    size_t bytes = floats_padded(floats ? floats : 1) * sizeof(float);
    float *p = aligned_alloc(64, bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

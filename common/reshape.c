/* reshape.c: Flatten and Reshape, the layers that only rename their input's shape.
 *
 * A tensor is one flat block of floats (common/README.md), so (C, H, W) and (C·H·W) are the
 * same memory: both layers are views, with no forward or backward to run.
 */
#include "layer.h"
#include "error.h"
#include "tensor.h"

layer_spec layer_flatten(void) { return layer_spec_of(LAYER_FLATTEN, ACT_NONE); }

layer_spec layer_reshape(int ndim, const int *shape)
{
    layer_spec s = layer_spec_of(LAYER_RESHAPE, ACT_NONE);
    s.shape_ndim = ndim;
    for (int d = 0; d < ndim && d < 3; d++) s.shape[d] = shape[d];
    return s;
}

/* (C, H, W) → (C·H·W) */
int flatten_plan(layer *l, int number)
{
    (void)number;
    layer_set_output(l, 1, (int)l->in_size, 1, 1);
    l->view = 1;
    return AE_OK;
}

/* any shape → the spec's shape of the same size */
int reshape_plan(layer *l, int number)
{
    const layer_spec *s = &l->spec;
    int ndim = s->shape_ndim;
    if (ndim != 1 && ndim != 3)
        return AE_ERROR(AE_EINVAL, "layer %d (Reshape): the target shape is (F) or (C, H, W), not %d-dimensional",
                        number, ndim);
    size_t size = shape_size(ndim, s->shape);
    char in_text[64], target[64];
    shape_format(in_text, sizeof in_text, l->in_ndim, l->in_shape);
    shape_format(target, sizeof target, ndim, s->shape);
    if (size != l->in_size)
        return AE_ERROR(AE_EINVAL, "layer %d (Reshape) cannot turn %s (%zu values) into %s (%zu values)",
                        number, in_text, l->in_size, target, size);
    layer_set_output(l, ndim, s->shape[0], s->shape[1], s->shape[2]);
    l->view = 1;
    return AE_OK;
}

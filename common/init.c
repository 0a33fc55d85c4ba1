/* init.c: Keras' default initialisers (see init.h). */
#include "init.h"

#include <math.h>
#include <string.h>

/* w ~ U(−l, l), l = sqrt(6 / (fan_in + fan_out)): keeps the activations' variance roughly constant across layers */
void glorot_uniform(float *w, size_t n, int fan_in, int fan_out, gsl_rng *rng)
{
    double limit = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * gsl_rng_uniform(rng) - 1.0) * limit);
}

void zeros_init(float *w, size_t n)
{
    memset(w, 0, n * sizeof *w);
}

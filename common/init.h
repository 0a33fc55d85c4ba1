/* init.h: weight initialisation as Keras does it, drawn from a seeded GSL generator. */
#ifndef AE_INIT_H
#define AE_INIT_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

/* Glorot (Xavier) uniform: w ~ U(−l, l), l = sqrt(6 / (fan_in + fan_out)).
 * Dense: fan_in = IN, fan_out = OUT. Convolutions: fan_in = C·KH·KW, fan_out = OC·KH·KW. */
void glorot_uniform(float *w, size_t n, int fan_in, int fan_out, gsl_rng *rng);
void zeros_init(float *w, size_t n);

#endif

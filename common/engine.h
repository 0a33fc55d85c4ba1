/* engine.h: which code runs: the plain loops of common/, or their fast twins in common/fast/.
 *
 * Every function of common/ that has a fast twin keeps its name and signature there with
 * "fast_" in front:
 *
 *     dense_forward     (common/dense.c: two loops, the definition)
 *     fast_dense_forward (common/fast/dense_gemm.c: a matrix product with AVX-512 kernels)
 *
 * Both compute the same thing; the tests check every twin against its plain function
 * (tests/test_fast.c). By default the fast twins run. With engine_set_plain(1), which every
 * program that trains sets for --plain, exactly the plain code of common/ runs, on one thread.
 *
 * A model picks each layer's twin itself (layer.h, the operations table). A caller that
 * calls a function with a twin directly writes
 *
 *     ENGINE(dense_forward)(out, in, weight, bias, batch, in_features, out_features);
 *
 * which is fast_dense_forward by default and dense_forward under --plain.
 */
#ifndef AE_ENGINE_H
#define AE_ENGINE_H

/* 1: the plain code only (--plain); 0: the fast twins where there are some (the default). */
void engine_set_plain(int plain);
int engine_plain(void);
/* "plain" or "fast". */
const char *engine_name(void);

/* The twin of fn that the engine picks; the fast twins' declarations are in fast/fast.h. */
#define ENGINE(fn) (engine_plain() ? (fn) : (fast_##fn))

#endif

/* task1_plan.c: how week05-task1 is graded, every expected value from contractive_reference.c.
 *
 * The short run (1 epoch on 200 sample images, seed 5) is too short for its errors to mean
 * anything, so only what is exact after any training is an item: the code sizes the sheet fixes,
 * the parameter counts of the architectures (Σ IN·OUT + OUT, computed here), and the AE's KL
 * term, which is 0 because an AE has none. The penalties themselves are graded by the harness,
 * which calls the submission's functions on random inputs:
 *   row norms and the L1 penalty to 1e-6 relative (float sums of a few hundred terms);
 *   ‖J‖²_F and the gradients to 1e-5 relative (float against a double reference that builds
 *   every Jacobian entry; a wrong slope or a missing factor 2 is off by 10 % or more).
 */
#include "contractive_reference.h"
#include "grade_lib.h"

int main(void)
{
    const int undercomplete[] = { 784, 64, 784 }, bottleneck[] = { 784, 2, 784 };
    /* the dense AE of part (b), latent 20: encoder 784 → 400 → 2·20 (μ and log σ², the AE uses μ),
     * decoder 20 → 400 → 784 */
    const int encoder[] = { 784, 400, 40 }, decoder[] = { 20, 400, 784 };
    const long p_under = ref_dense_stack_params(undercomplete, 3), p_bottle = ref_dense_stack_params(bottleneck, 3);
    const long p_ae = ref_dense_stack_params(encoder, 3) + ref_dense_stack_params(decoder, 3);

    plan_exercise("week05-task1", "Task 1: autoencoders and VAEs compared");
    plan_requires("week05-task1/Makefile week05-task1/main.c week05-task1/t1_kinds.h");
    plan_run("short", 1, 0, 600, "--epochs 1 --limit 200 --data @SAMPLE@ --seed 5 --quiet",
             "runs a short seeded run on the bundled sample (--epochs 1 --limit 200) and writes results.tsv");
    plan_num("short", 1, "kind_bottleneck_code", 2, 0, "the bottleneck autoencoder has a code of 2 units");
    plan_num("short", 1, "kind_bottleneck_params", (double)p_bottle, 0,
             "the bottleneck autoencoder 784-2-784 has %ld,%03ld parameters", p_bottle / 1000, p_bottle % 1000);
    plan_num("short", 1, "kind_undercomplete_params", (double)p_under, 0,
             "the undercomplete autoencoder 784-64-784 has %ld,%03ld parameters", p_under / 1000, p_under % 1000);
    plan_band("short", 1, "kind_overcomplete_code", 785, 1e9, "the overcomplete autoencoder's code is wider than 784");
    plan_num("short", 1, "ae_latent20_params", (double)p_ae, 0,
             "the AE/VAE of part (b), encoder 784-400-40 (μ, log σ²), decoder 20-400-784, has %ld,%03ld parameters", p_ae / 1000, p_ae % 1000);
    plan_num("short", 1, "ae_latent20_test_kl", 0, 0, "the AE has no KL term: its test KL is 0");
    plan_band("short", 1, "vae_latent20_test_kl", 0, 1e9, "the VAE's test KL term is >= 0");
    plan_run("bad_option", 1, 2, 30, "--no-such-option", "refuses an unknown option with exit status 2");

    plan_harness(1, 60, "the submission's t1_kinds functions link against the reference tests");
    plan_question("Task 1a: the contractive penalty");
    static const plan_fn_row functions[] = {
        { 1, "row_sq",
          "t1_weight_row_sq_norms: Σ_i W_ji² of a random 7x13 weight, to 1e-6 relative", NULL },
        { 2, "contractive_sigmoid",
          "t1_contractive_forward, sigmoid: ‖J‖²_F of 5 random samples (13 inputs, 7 units) and their sum, to 1e-5 relative", NULL },
        { 2, "contractive_relu",
          "t1_contractive_forward, ReLU: the same, some units off, to 1e-5 relative", NULL },
        { 1, "contractive_tanh",
          "t1_contractive_forward, tanh: the same, to 1e-5 relative", NULL },
        { 2, "contractive_grad_sigmoid",
          "t1_contractive_backward, sigmoid: adds scale·∂/∂h and scale·∂/∂W to random gradients, to 1e-5 relative", NULL },
        { 1, "contractive_grad_relu",
          "t1_contractive_backward, ReLU: nothing through h, scale·2 Σ_b [a_bj > 0] W_ji into W, to 1e-5 relative", NULL },
        { 1, "contractive_grad_tanh",
          "t1_contractive_backward, tanh: both gradients, to 1e-5 relative", NULL },
        { 1, "sparsity_forward",
          "t1_sparsity_l1_forward: ‖h‖₁ of 40 codes of both signs and some zeros, to 1e-6 relative", "Task 1a: the sparsity penalty" },
        { 1, "noise",
          "t1_corrupt: the denoising kind's input clip(x + 0.2·noise, 0, 1) on 6 pixels, some clipped at 0 and 1",
          "Task 1a: the denoising autoencoder's input" },
        { 1, "sparsity_backward",
          "t1_sparsity_l1_backward: adds scale·sign(h), nothing at h = 0", "Task 1a: the sparsity penalty" },
    };
    PLAN_FNS(functions);
    return 0;
}

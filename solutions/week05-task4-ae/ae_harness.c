/* ae_harness.c: the submission's anomaly threshold (ae_anomaly.h) and the denoising task's noisy
 * input (ae_models.h) against the reference rules. One verdict per item of ae_plan.c, by key. */
#include <math.h>
#include <stdio.h>

#include "ae_anomaly.h"
#include "ae_models.h"
#include "grade_lib.h"

#define TOL 1e-12

int main(void)
{
    char e[128], g[128];

    /* the tutorial's rule: threshold = mean + one (population) standard deviation of the training errors */
    const double errors[6] = { 0.012, 0.020, 0.0155, 0.031, 0.009, 0.0175 };
    double sum = 0.0, squares = 0.0;
    for (int i = 0; i < 6; i++) sum += errors[i];
    const double mean = sum / 6.0;
    for (int i = 0; i < 6; i++) squares += (errors[i] - mean) * (errors[i] - mean);
    const double std = sqrt(squares / 6.0), sample_std = sqrt(squares / 5.0);
    double got_mean = NAN, got_std = NAN, got_threshold = NAN;
    anomaly_threshold(errors, 6, &got_mean, &got_std, &got_threshold);
    const char *note = NULL;
    if (close_enough(mean + sample_std, got_threshold, 1e-9)) note = "the sample standard deviation (n − 1), where np.std divides by n";
    else if (close_enough(mean + std * std, got_threshold, 1e-9)) note = "the variance added where the standard deviation belongs";
    else if (close_enough(mean, got_threshold, 1e-9)) note = "the mean alone: the standard deviation is missing";
    verdict_note("threshold", close_enough(mean + std, got_threshold, TOL) && close_enough(mean, got_mean, TOL) &&
                                  close_enough(std, got_std, TOL),
                 format_double(e, sizeof e, mean + std), format_double(g, sizeof g, got_threshold), note);

    /* the noisy input: clip(x + factor·noise, 0, 1), pixel by pixel */
    float x[6] = { 0.0f, 0.25f, 0.5f, 0.9f, 1.0f, 0.3f };
    const float noise[6] = { -0.5f, 1.2f, 0.3f, 2.0f, -0.4f, -3.0f }, factor = 0.2f;
    float want[6];
    int bad = 0;
    for (int i = 0; i < 6; i++) {
        float v = x[i] + factor * noise[i];
        want[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    ae_corrupt(x, noise, 6, factor);
    for (int i = 0; i < 6; i++) bad += !(fabsf(x[i] - want[i]) <= 1e-6f);
    snprintf(e, sizeof e, "%.4g,%.4g,%.4g,%.4g,%.4g,%.4g", want[0], want[1], want[2], want[3], want[4], want[5]);
    snprintf(g, sizeof g, "%.4g,%.4g,%.4g,%.4g,%.4g,%.4g", x[0], x[1], x[2], x[3], x[4], x[5]);
    verdict("noise", bad == 0, e, g);
    return 0;
}

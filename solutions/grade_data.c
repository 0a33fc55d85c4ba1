/* grade_data.c: reading the sample and the input-blind baselines (see grade_data.h). */
#include "grade_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#define CLIP 1e-7

static unsigned long be32(const unsigned char *b)
{
    return (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3];
}

double *grade_load_images(const char *path, size_t *count)
{
    gzFile f = gzopen(path, "rb");   /* reads plain files too */
    if (!f) return NULL;
    unsigned char header[16];
    double *images = NULL;
    unsigned char *bytes = NULL;
    if (gzread(f, header, 16) != 16 || be32(header) != 0x803) goto fail;   /* magic: unsigned bytes, 3 dimensions */
    size_t n = be32(header + 4), rows = be32(header + 8), cols = be32(header + 12);
    if (rows * cols != GRADE_PIXELS || n == 0 || n > 100000) goto fail;
    bytes = malloc(n * GRADE_PIXELS);
    images = malloc(n * GRADE_PIXELS * sizeof *images);
    if (!bytes || !images) goto fail;
    if (gzread(f, bytes, (unsigned)(n * GRADE_PIXELS)) != (int)(n * GRADE_PIXELS)) goto fail;
    for (size_t i = 0; i < n * GRADE_PIXELS; i++) images[i] = bytes[i] / 255.0;
    free(bytes);
    gzclose(f);
    *count = n;
    return images;
fail:
    free(bytes);
    free(images);
    gzclose(f);
    return NULL;
}

int grade_load_sample(const char *folder, double **train, size_t *n_train, double **test, size_t *n_test)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", folder);
    *train = grade_load_images(path, n_train);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", folder);
    *test = grade_load_images(path, n_test);
    if (*train && *test) return 0;
    fprintf(stderr, "cannot read the sample images in %s\n", folder);
    free(*train);
    free(*test);
    *train = *test = NULL;
    return -1;
}

static void pixel_means(double *mean, const double *train, size_t n_train)
{
    for (int j = 0; j < GRADE_PIXELS; j++) mean[j] = 0.0;
    for (size_t s = 0; s < n_train; s++)
        for (int j = 0; j < GRADE_PIXELS; j++) mean[j] += train[s * GRADE_PIXELS + j] / (double)n_train;
}

static double clip(double p)
{
    return p < CLIP ? CLIP : p > 1.0 - CLIP ? 1.0 - CLIP : p;
}

double grade_mean_image_mse(const double *train, size_t n_train, const double *val, size_t n_val)
{
    double mean[GRADE_PIXELS], sum = 0.0;
    pixel_means(mean, train, n_train);
    for (size_t s = 0; s < n_val; s++)
        for (int j = 0; j < GRADE_PIXELS; j++) {
            double diff = val[s * GRADE_PIXELS + j] - mean[j];
            sum += diff * diff;                                  /* (x − mean)² */
        }
    return sum / ((double)n_val * GRADE_PIXELS);
}

double grade_mean_image_log_likelihood(const double *train, size_t n_train, const double *val, size_t n_val)
{
    double mean[GRADE_PIXELS], sum = 0.0;
    pixel_means(mean, train, n_train);
    for (size_t s = 0; s < n_val; s++)
        for (int j = 0; j < GRADE_PIXELS; j++) {
            double x = val[s * GRADE_PIXELS + j], p = clip(mean[j]);
            sum += x * log(p) + (1.0 - x) * log(1.0 - p);         /* x ln p + (1 − x) ln(1 − p) */
        }
    return sum / (double)n_val;
}

double grade_best_log_likelihood(const double *val, size_t n_val)
{
    double sum = 0.0;
    for (size_t s = 0; s < n_val; s++)
        for (int j = 0; j < GRADE_PIXELS; j++) {
            double x = val[s * GRADE_PIXELS + j], p = clip(x);
            sum += x * log(p) + (1.0 - x) * log(1.0 - p);         /* maximal at p = x */
        }
    return sum / (double)n_val;
}

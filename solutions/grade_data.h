/* grade_data.h: the bundled Fashion-MNIST sample as the references read it, and the two
 * input-blind baselines the training items are judged against. Written apart from common/data.c. */
#ifndef GRADE_DATA_H
#define GRADE_DATA_H

#include <stddef.h>

#define GRADE_PIXELS 784

/* Images in [0, 1] (pixel / 255) from an IDX file, gzip-compressed or not; NULL when the file
 * cannot be read. *count receives the number of images. Free with free(). images (N, 784) */
double *grade_load_images(const char *path, size_t *count);

/* The sample folder's training and test images (train-images-idx3-ubyte.gz and
 * t10k-images-idx3-ubyte.gz), both or neither: 0, or −1 when either cannot be read (nothing
 * is left allocated, and stderr says which folder). Free both with free(). train (n_train, 784), test (n_test, 784) */
int grade_load_sample(const char *folder, double **train, size_t *n_train, double **test, size_t *n_test);

/* The MSE on val of predicting every pixel by its mean over train: the best a model that
 * ignores its input can do. train (n_train, 784), val (n_val, 784) */
double grade_mean_image_mse(const double *train, size_t n_train, const double *val, size_t n_val);

/* The same prediction as Bernoulli probabilities: the mean over val of
 * Σ_pixels [x ln p + (1 − x) ln(1 − p)], p the training mean clipped to [1e-7, 1 − 1e-7].
 * A VAE whose encoder ignores its input (q = the prior, KL 0) and whose decoder outputs p
 * has this ELBO. */
double grade_mean_image_log_likelihood(const double *train, size_t n_train, const double *val, size_t n_val);

/* The largest Bernoulli log-likelihood any decoder can give val's grey levels: p = x itself
 * (clipped likewise), so Σ [x ln x + (1 − x) ln(1 − x)], averaged over val; every ELBO lies below. */
double grade_best_log_likelihood(const double *val, size_t n_val);

#endif

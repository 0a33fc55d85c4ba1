/* ae_anomaly.h: anomaly detection with an autoencoder, the tutorial's recipe.
 *
 * An autoencoder trained on one class only (the "normal" one) reconstructs images of that
 * class well and images of other classes badly. The reconstruction error of an image,
 * here its mean absolute error over the 784 pixels as in the tutorial,
 *
 *     e(x) = (1/784) Σ_p |x̂_p − x_p|,
 *
 * then decides: an image is called normal when e(x) < threshold, anomalous otherwise, with
 *
 *     threshold = mean + 1 · std of e over the training images (all of the normal class),
 *
 * std being the population standard deviation (numpy's np.std). The normal class is the
 * positive one:
 *
 *                           called normal   called anomalous
 *     truly normal          TP              FN
 *     truly anomalous       FP              TN
 *
 *     accuracy  = (TP + TN) / (TP + FP + TN + FN)
 *     precision = TP / (TP + FP)   how many of the images called normal are normal
 *     recall    = TP / (TP + FN)   how many of the normal images are called normal
 */
#ifndef AE_ANOMALY_H
#define AE_ANOMALY_H

#include <stddef.h>

#include "model.h"
#include "train.h"

typedef struct {
    long tp, fp, tn, fn;
} anomaly_confusion;

typedef struct {
    double accuracy, precision, recall;   /* NaN when the denominator is 0 (0/0 is no rate) */
    double f1;                            /* 2PR / (P + R); NaN when P or R is NaN, 0 when both are 0 */
} anomaly_metrics;

/* errors (n): the mean absolute error of each image, pred and target (n, pixels). */
void reconstruction_errors(double *errors, const float *pred, const float *target, size_t n, size_t pixels);

/* Runs m over every sample of src and writes errors (src->count), each the mean absolute
 * error between m(input) and the target. */
int source_errors(double *errors, model *m, const batch_source *src);

/* mean, population std and threshold = mean + std of errors (n). AE_EINVAL when n is 0,
 * AE_ENUMERIC when an error is NaN or infinite. */
int anomaly_threshold(const double *errors, size_t n, double *mean, double *std, double *threshold);

/* Counts each image: called normal when errors[i] < threshold; truly normal when is_normal[i]. */
void anomaly_confusion_count(anomaly_confusion *cm, const double *errors, const int *is_normal, size_t n,
                             double threshold);

/* The rates of a confusion matrix. AE_EINVAL for a negative count or an empty matrix. */
int anomaly_metrics_compute(anomaly_metrics *out, const anomaly_confusion *cm);

#endif

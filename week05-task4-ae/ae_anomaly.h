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
 *
 * The ROC curve shows every threshold at once, with the same positive class. Raising the
 * threshold from below the smallest error to above the largest calls more and more images
 * normal; each threshold gives one point
 *
 *     FPR = FP / (FP + TN)   the share of the anomalous images called normal      (x)
 *     TPR = TP / (TP + FN)   the share of the normal images called normal (recall) (y)
 *
 * from (0, 0), nothing called normal, to (1, 1), everything. Only the distinct errors matter: the
 * curve steps up for a normal image, right for an anomalous one, and diagonally for a group of
 * tied errors holding both (no threshold separates them). The area under it is
 *
 *     AUC = P(e_normal < e_anomalous) + ½ P(e_normal = e_anomalous)
 *
 * over all pairs of one normal and one anomalous image (the Mann–Whitney statistic): 1 when every
 * normal image is rebuilt better than every anomaly, ½ for a coin, 0 when the order is reversed.
 * It does not depend on the threshold; the threshold rule is one point of the curve.
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

/* One point of the ROC curve: every image whose error is at most `error` is called normal. */
typedef struct {
    double error;   /* the largest error called normal; -inf at the first point (none called normal) */
    double fpr;     /* FP / (FP + TN): the share of the anomalous images called normal */
    double tpr;     /* TP / (TP + FN): the share of the normal images called normal */
} anomaly_roc_point;

typedef struct {
    anomaly_roc_point *points;   /* (n_points): (0, 0), then one per distinct error, the last (1, 1) */
    size_t n_points;
    long n_normal, n_anomalous;
    double auc;                  /* the trapezoids under the points: the Mann–Whitney probability */
} anomaly_roc;

/* The ROC curve and its AUC of errors (n) and is_normal (n) (nonzero: truly normal); allocates
 * roc->points (anomaly_roc_free). AE_EINVAL when there is no normal or no anomalous image (a rate
 * would be 0/0), AE_ENUMERIC for an error that is NaN or infinite (no threshold can rank it; the
 * threshold rule refuses such training errors too), AE_ENOMEM. On an error roc holds nothing to free. */
int anomaly_roc_compute(anomaly_roc *roc, const double *errors, const int *is_normal, size_t n);
void anomaly_roc_free(anomaly_roc *roc);   /* a zeroed or freed roc is fine */

/* The point (FPR, TPR) of a confusion matrix, where its threshold sits on the ROC curve.
 * AE_EINVAL when it counts no normal or no anomalous image, or a negative count. */
int anomaly_operating_point(const anomaly_confusion *cm, double *fpr, double *tpr);

#endif

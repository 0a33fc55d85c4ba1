/* ae_anomaly.c: reconstruction errors, the threshold, the confusion matrix's rates and the ROC curve
 * (see ae_anomaly.h). */
#include "ae_anomaly.h"
#include "engine.h"
#include "error.h"
#include "fast/fast.h"

#include <math.h>
#include <stdlib.h>

void reconstruction_errors(double *errors, const float *pred, const float *target, size_t n, size_t pixels)
{
    for (size_t i = 0; i < n; i++) {
        const float *p = pred + i * pixels, *t = target + i * pixels;
        double sum = 0.0;
        for (size_t k = 0; k < pixels; k++) sum += fabs((double)p[k] - (double)t[k]);   /* Σ |x̂ − x| */
        errors[i] = sum / (double)pixels;
    }
}

int source_errors(double *errors, model *m, const batch_source *src)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "source_errors before model_build");
    if (src->x_size != m->in_size || src->y_size != model_output_size(m))
        return AE_ERROR(AE_EBADLEN, "the source has %zu inputs and %zu targets per sample; the model takes %zu "
                        "and gives %zu", src->x_size, src->y_size, m->in_size, model_output_size(m));
    int batch = m->max_batch;
    size_t *index = malloc((size_t)batch * sizeof *index);
    float *x = malloc((size_t)batch * (src->x_size + src->y_size) * sizeof *x);
    int rc = index && x ? AE_OK : AE_ERROR(AE_ENOMEM, "out of memory for a batch of %d", batch);
    float *y = x + (size_t)batch * src->x_size;
    for (size_t start = 0; start < src->count && rc == AE_OK; start += (size_t)batch) {
        int n = src->count - start < (size_t)batch ? (int)(src->count - start) : batch;
        for (int k = 0; k < n; k++) index[k] = start + (size_t)k;
        const float *pred;
        rc = src->fill(src->ctx, index, n, x, y);
        if (rc == AE_OK) rc = ENGINE(model_forward)(m, x, n, &pred);
        if (rc == AE_OK) reconstruction_errors(errors + start, pred, y, (size_t)n, src->y_size);
    }
    free(index);
    free(x);
    return rc;
}

int anomaly_threshold(const double *errors, size_t n, double *mean, double *std, double *threshold)
{
    if (n == 0) return AE_ERROR(AE_EINVAL, "a threshold needs at least one training error");
    /* BEGIN SOLUTION: Task 4 (anomaly): the threshold */
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(errors[i]))
            return AE_ERROR(AE_ENUMERIC, "reconstruction error %zu is %g", i, errors[i]);
        sum += errors[i];
    }
    double mu = sum / (double)n, squares = 0.0;
    for (size_t i = 0; i < n; i++) squares += (errors[i] - mu) * (errors[i] - mu);   /* two passes: no cancellation */
    double sigma = sqrt(squares / (double)n);                                       /* population std, as np.std */
    *mean = mu;
    *std = sigma;
    *threshold = mu + sigma;
    return AE_OK;
    /* END SOLUTION */
}

void anomaly_confusion_count(anomaly_confusion *cm, const double *errors, const int *is_normal, size_t n,
                             double threshold)
{
    cm->tp = cm->fp = cm->tn = cm->fn = 0;
    for (size_t i = 0; i < n; i++) {
        int called_normal = errors[i] < threshold;   /* NaN compares false: called anomalous */
        if (is_normal[i] && called_normal) cm->tp++;
        else if (is_normal[i]) cm->fn++;
        else if (called_normal) cm->fp++;
        else cm->tn++;
    }
}

/* a / b, NaN for 0 / 0 */
static double rate(long a, long b)
{
    return b > 0 ? (double)a / (double)b : NAN;
}

int anomaly_metrics_compute(anomaly_metrics *out, const anomaly_confusion *cm)
{
    if (cm->tp < 0 || cm->fp < 0 || cm->tn < 0 || cm->fn < 0)
        return AE_ERROR(AE_EINVAL, "a confusion matrix holds counts, not TP %ld, FP %ld, TN %ld, FN %ld",
                        cm->tp, cm->fp, cm->tn, cm->fn);
    long total = cm->tp + cm->fp + cm->tn + cm->fn;
    if (total == 0) return AE_ERROR(AE_EINVAL, "the confusion matrix is empty: no image was counted");
    out->accuracy = rate(cm->tp + cm->tn, total);
    out->precision = rate(cm->tp, cm->tp + cm->fp);
    out->recall = rate(cm->tp, cm->tp + cm->fn);
    double p = out->precision, r = out->recall;
    if (isnan(p) || isnan(r)) out->f1 = NAN;
    else out->f1 = p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;   /* harmonic mean of precision and recall */
    return AE_OK;
}

/* ------------------------------------------------------------------ ROC */

typedef struct {
    double error;
    int normal;
} scored_image;

static int by_error(const void *a, const void *b)
{
    double x = ((const scored_image *)a)->error, y = ((const scored_image *)b)->error;
    return (x > y) - (x < y);
}

int anomaly_roc_compute(anomaly_roc *roc, const double *errors, const int *is_normal, size_t n)
{
    *roc = (anomaly_roc){ 0 };
    long n_normal = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(errors[i]))
            return AE_ERROR(AE_ENUMERIC, "reconstruction error %zu is %g: a ROC curve needs a number for every "
                            "image", i, errors[i]);
        n_normal += is_normal[i] != 0;
    }
    long n_anomalous = (long)n - n_normal;
    if (n_normal == 0 || n_anomalous == 0)
        return AE_ERROR(AE_EINVAL, "a ROC curve needs normal and anomalous images; these %zu images hold %ld normal "
                        "and %ld anomalous", n, n_normal, n_anomalous);
    scored_image *sorted = malloc(n * sizeof *sorted);
    anomaly_roc_point *points = malloc((n + 1) * sizeof *points);
    if (!sorted || !points) {
        free(sorted);
        free(points);
        return AE_ERROR(AE_ENOMEM, "out of memory for the ROC curve of %zu images", n);
    }
    for (size_t i = 0; i < n; i++) sorted[i] = (scored_image){ errors[i], is_normal[i] != 0 };
    qsort(sorted, n, sizeof *sorted, by_error);

    /* the threshold rises past one distinct error at a time: its images become "called normal" */
    long tp = 0, fp = 0;
    double twice_area = 0.0;   /* Σ Δfp·(tp_before + tp_after), in counts: exact below 2^53 */
    size_t n_points = 0;
    points[n_points++] = (anomaly_roc_point){ -INFINITY, 0.0, 0.0 };
    for (size_t i = 0; i < n;) {
        long tp_before = tp, fp_before = fp;
        size_t j = i;
        for (; j < n && sorted[j].error == sorted[i].error; j++) {   /* a group of tied errors moves as one */
            if (sorted[j].normal) tp++;
            else fp++;
        }
        twice_area += (double)(fp - fp_before) * (double)(tp_before + tp);   /* a trapezoid */
        points[n_points++] = (anomaly_roc_point){ sorted[i].error, (double)fp / (double)n_anomalous,
                                                  (double)tp / (double)n_normal };
        i = j;
    }
    free(sorted);
    roc->points = points;
    roc->n_points = n_points;
    roc->n_normal = n_normal;
    roc->n_anomalous = n_anomalous;
    roc->auc = twice_area / (2.0 * (double)n_normal * (double)n_anomalous);
    return AE_OK;
}

void anomaly_roc_free(anomaly_roc *roc)
{
    free(roc->points);
    *roc = (anomaly_roc){ 0 };
}

int anomaly_operating_point(const anomaly_confusion *cm, double *fpr, double *tpr)
{
    if (cm->tp < 0 || cm->fp < 0 || cm->tn < 0 || cm->fn < 0)
        return AE_ERROR(AE_EINVAL, "a confusion matrix holds counts, not TP %ld, FP %ld, TN %ld, FN %ld",
                        cm->tp, cm->fp, cm->tn, cm->fn);
    if (cm->tp + cm->fn == 0 || cm->fp + cm->tn == 0)
        return AE_ERROR(AE_EINVAL, "an operating point needs normal and anomalous images; the matrix counts %ld "
                        "normal and %ld anomalous", cm->tp + cm->fn, cm->fp + cm->tn);
    *fpr = (double)cm->fp / (double)(cm->fp + cm->tn);
    *tpr = (double)cm->tp / (double)(cm->tp + cm->fn);
    return AE_OK;
}

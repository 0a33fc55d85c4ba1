/* ae_figures.h: the four kinds of figure week05-task4-ae draws, each a NAME.dat of plain
 * columns and a NAME.gp gnuplot script in the output folder (written atomically); the
 * caller renders them with plot_render().
 */
#ifndef AE_FIGURES_H
#define AE_FIGURES_H

#include <stddef.h>

#include "ae_anomaly.h"
#include "loss.h"

/* One model's loss per epoch. */
typedef struct {
    const char *name;           /* "A" */
    loss_kind loss;             /* the loss trained on: MSE and BCE curves go in separate panels */
    int epochs;
    const double *train_loss;   /* (epochs) */
    const double *val_loss;     /* (epochs) */
} figure_curves;

/* Training (solid) and validation (dashed) loss against the epoch for n_models models, one
 * colour per model, on a log axis that holds every finite loss. Each loss gets a panel of its
 * own, stacked over the same epochs: MSE and BCE are different units. */
int figure_loss_curves(const char *dir, const char *name, const char *title,
                       const figure_curves *models, int n_models);

/* n_rows rows of n_cols images (28 x 28, values in [0,1]): rows[r] (n_cols, 784) named
 * row_labels[r] at the left; column_labels (n_cols) above the first row; bottom_labels
 * (n_cols, may be NULL) below the last row. */
int figure_image_rows(const char *dir, const char *name, const char *title,
                      const float *const *rows, const char *const *row_labels, int n_rows, int n_cols,
                      const char *const *column_labels, const char *const *bottom_labels);

/* Histograms of errors (n) of the normal images (is_normal[i]) and of the others, each as
 * the share of its own group per bin, with the threshold drawn as a vertical line. */
int figure_error_histogram(const char *dir, const char *name, const char *title,
                           const double *errors, const int *is_normal, size_t n, double threshold,
                           const char *normal_label, const char *anomalous_label);

/* One model's ROC curve and where its threshold rule sits on it. */
typedef struct {
    const char *name;                       /* "A" */
    const anomaly_roc *roc;
    double operating_fpr, operating_tpr;    /* the threshold rule's point (anomaly_operating_point) */
} figure_roc;

/* The ROC curves of n_models models: the share of the anomalous images called normal (x) against
 * the share of the normal images called normal (y), the diagonal of a detector that guesses, each
 * model's threshold-rule point marked, its AUC in the key. */
int figure_roc_curves(const char *dir, const char *name, const char *title, const figure_roc *models,
                      int n_models);

#endif

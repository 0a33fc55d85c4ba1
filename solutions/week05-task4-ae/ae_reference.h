/* ae_reference.h: the reference solution of week05-task4-ae, written apart from the exercise.
 *
 * A dense autoencoder in plain double-precision loops, trained the way the sheet asks
 * (the TensorFlow tutorial's setup, Keras' defaults):
 *   - layers y = act(W x + b), W (OUT, IN) Glorot-uniform, b zero;
 *   - loss: MSE, the mean of (y − t)² over every pixel of the batch;
 *   - Adam with lr 1e-3, β1 0.9, β2 0.999, ε 1e-7; batches of 32, reshuffled every epoch.
 * It trains models A (784 → 64 → 784) and C (784 → 128 → 64 → 784) on the bundled sample to
 * set their bands, and counts parameters the way Keras does, for the convolutional model B too.
 *
 * Shape legend: N images, B batch, D = 784 pixels, IN/OUT a layer's sizes.
 */
#ifndef AE_REFERENCE_H
#define AE_REFERENCE_H

#include <stddef.h>

#define REF_PIXELS 784
#define REF_MAX_LAYERS 6

typedef enum { REF_RELU, REF_SIGMOID, REF_LINEAR } ref_activation;

typedef struct {
    int units;                  /* OUT */
    ref_activation activation;
} ref_dense;

/* Σ (IN·OUT + OUT) over the layers, from 784 inputs. layers (n) */
long ref_dense_params(const ref_dense *layers, int n);
/* (KH·KW·C_in + 1)·C_out, a convolution's or a transposed convolution's parameters */
long ref_conv_layer_params(int kernel, int in_channels, int out_channels);

/* Trains a dense autoencoder with the layers given on train (n_train, 784) for `epochs`
 * epochs from the seed, and returns the MSE on val (n_val, 784) after the last epoch;
 * *train_loss (may be NULL) receives the last epoch's mean batch loss. NaN when out of memory. */
double ref_train_autoencoder(const ref_dense *layers, int n_layers, const double *train, size_t n_train,
                             const double *val, size_t n_val, int epochs, unsigned long seed,
                             double *train_loss);

#endif

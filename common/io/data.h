/* data.h: IDX files (the MNIST family's format) and Fashion-MNIST.
 *
 * An IDX file is a big-endian header, magic 0x0000 TT NN (TT = 0x08 for
 * unsigned bytes, NN = the number of dimensions), NN 32-bit sizes, then the
 * data. idx_load reads it raw or gzip-compressed (zlib) and checks all of it.
 *
 * Images stay uint8, 47 MB for the training set; they become float only a
 * batch at a time (images_to_float), never as a whole float copy.
 */
#ifndef AE_DATA_H
#define AE_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define IDX_MAX_DIMS 4

typedef struct {
    int ndim;                     /* 1 for labels, 3 for images */
    int dims[IDX_MAX_DIMS];       /* (N) or (N, rows, cols) */
    size_t count;                 /* dims[0] */
    size_t item_size;             /* bytes per item: 1 for a label, rows·cols for an image */
    uint8_t *data;                /* (count, item_size) */
} idx_array;

/* Loads path (".gz" or raw, detected from the content). AE_ENOENT if it is missing;
 * AE_EFORMAT, naming the file and the problem, for a wrong magic, an element type
 * other than unsigned byte, an empty file, dimensions of zero, a body shorter or longer
 * than the header says, or a corrupt gzip stream. */
int idx_load(idx_array *out, const char *path);
/* Writes an array as a gzip-compressed IDX file (atomically). */
int idx_save_gz(const idx_array *a, const char *path);
void idx_free(idx_array *a);      /* frees data; safe on a zeroed struct */

/* Keeps only the first n items (no copy). */
void idx_truncate(idx_array *a, size_t n);

typedef struct {
    idx_array images;             /* (N, 28, 28) uint8 */
    idx_array labels;             /* (N) uint8, 0..9 */
} image_split;

typedef struct fashion_mnist {
    image_split train, test;
    char dir[4096];               /* the folder it was read from */
    int is_sample;                /* 1: the small sample shipped in data/sample */
} fashion_mnist;

#define FASHION_CLASSES 10
#define FASHION_PIXELS 784
const char *fashion_class_name(int label);   /* "T-shirt/top", "Trouser", ... "Ankle boot" */
/* index[k] = the first image of the k-th class present in labels, in class order: the images a
 * figure shows one per class. Returns how many (fewer than FASHION_CLASSES when a class is missing). */
int fashion_first_of_each_class(size_t index[FASHION_CLASSES], const idx_array *labels);

/* Where Debian's package dataset-fashion-mnist puts the four files. */
#define FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

/* Where the data is: data_opt (--data) if given, else $FASHION_MNIST_DIR, else
 * data/fashion-mnist under the current folder, else the repository's data/fashion-mnist,
 * else FASHION_SYSTEM_DIR ($FASHION_MNIST_SYSTEM_DIR instead when set; empty: none),
 * else the sample in the repository's data/sample. A folder
 * given explicitly (option or variable) must hold the four files, or AE_ENOENT with a
 * message that says to run `make data`. *is_sample tells whether the sample was chosen. */
int fashion_mnist_locate(char *dir, size_t len, const char *data_opt, int *is_sample);
/* Loads the four files from dir, checks that images and labels agree in count and labels
 * are in 0..9, and keeps the first `limit` samples of each split (0 = all). */
int fashion_mnist_load(fashion_mnist *fm, const char *dir, size_t limit);
void fashion_mnist_free(fashion_mnist *fm);

/* x (n) = bytes (n) / 255 */
void bytes_to_unit(float *x, const uint8_t *bytes, size_t n);
/* x (n, pixels) = images[index[i]] / 255; index NULL means images 0..n-1. */
void images_to_float(float *x, const idx_array *images, const size_t *index, int n);

/* The noisy input of a denoising autoencoder: x (n) becomes clip(x + factor·noise, 0, 1) in place,
 * noise (n) being N(0, 1) draws. An exercise can bring its own (image_source_ctx.corrupt). */
typedef void (*image_corrupt_fn)(float *x, const float *noise, size_t n, float factor);
void image_corrupt(float *x, const float *noise, size_t n, float factor);

/* A batch_source over an image split for autoencoders: the input is the image, with
 * Gaussian noise of std noise_factor added and clipped to [0,1] when noise_factor > 0
 * (the noise of sample i depends only on noise_seed and i, so it is the same every
 * epoch, as with the tutorial's noisy copy of the data); the target is the clean image.
 * With a subset the noise follows the image: sample k is noised like image subset[k].
 * fill refuses (AE_EDOM) a sample index past the end. */
typedef struct {
    const idx_array *images;
    const size_t *subset;         /* optional: sample k of the source is image subset[k] (one class, say) */
    size_t n_subset;              /* count when subset is given */
    double noise_factor;          /* 0: no noise */
    unsigned long noise_seed;
    image_corrupt_fn corrupt;     /* optional: how the noise is put on an image; NULL: image_corrupt */
} image_source_ctx;
batch_source image_batch_source(image_source_ctx *ctx);

#endif

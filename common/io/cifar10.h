/* cifar10.h: CIFAR-10, binary version (Krizhevsky 2009).
 *
 * The archive cifar-10-binary.tar.gz unpacks to cifar-10-batches-bin/, which holds
 * data_batch_1.bin ... data_batch_5.bin (training) and test_batch.bin (test). A file is
 * records of 3073 bytes and nothing else, no header:
 *
 *     label (1 byte, 0..9) | red (32 x 32) | green (32 x 32) | blue (32 x 32)
 *
 * each colour plane row-major, so an image is already (3, 32, 32): C, H, W, the layout of
 * every image in this repository. The official files hold 10000 records each (30730000
 * bytes); fewer are accepted (the tests write small ones), more are not.
 *
 * Images stay uint8 in idx_arrays (data.h), so idx_truncate and images_to_float work on
 * them as on Fashion-MNIST's: images_to_float gives (n, 3072) floats in [0, 1], CHW order.
 */
#ifndef AE_CIFAR10_H
#define AE_CIFAR10_H

#include <stddef.h>
#include <stdint.h>

#include "io/data.h"

#define CIFAR10_SIDE 32
#define CIFAR10_CHANNELS 3
#define CIFAR10_PIXELS 3072                     /* bytes per image: 3 x 32 x 32 */
#define CIFAR10_RECORD (1 + CIFAR10_PIXELS)     /* bytes per record: the label, then the image */
#define CIFAR10_CLASSES 10
#define CIFAR10_BATCH_MAX 10000                 /* records in an official file; more is refused */

typedef struct cifar10 {
    image_split train;            /* images (N, 3, 32, 32) uint8, labels (N) uint8: the five batches in order */
    image_split test;             /* images (M, 3, 32, 32) uint8, labels (M) uint8: test_batch.bin */
    char dir[4096];               /* the folder it was read from */
} cifar10;

/* "airplane", "automobile", ... "truck" (batches.meta.txt's order); "(no such class)" outside 0..9. */
const char *cifar10_class_name(int label);

/* Where the data is: data_opt (a program's --data-cifar10) if given, else $CIFAR10_DIR, else
 * data/cifar-10-batches-bin under the current folder, else the repository's
 * data/cifar-10-batches-bin. The first folder holding the six files is copied into dir and
 * *found = 1. A folder given explicitly (option or variable) that is missing or lacks a file:
 * AE_ENOENT naming what is missing and how to get it. Nothing found implicitly: AE_OK with
 * *found = 0 (dir = ""), and the caller leaves CIFAR-10 out and says so; but when neither
 * implicit folder is complete and one of them exists, AE_ENOENT naming the file it lacks. */
int cifar10_locate(char *dir, size_t len, const char *data_opt, int *found);

/* One batch file already in memory, bytes (n), named `name` in messages: images become
 * (N, 3, 32, 32) with item_size 3072, labels (N) with item_size 1, N = n / 3073. AE_EFORMAT,
 * naming the file and the numbers, for no bytes, a size that is not a whole number of
 * records (a whole number of CIFAR-100's 3074-byte ones is said so), more than 10000
 * records, or a label above 9; AE_ENOMEM. On failure both arrays are left zeroed. */
int cifar10_parse(idx_array *images, idx_array *labels, const uint8_t *bytes, size_t n, const char *name);

/* Loads the five training batches, in order, then the test batch from dir, checked as
 * cifar10_parse checks one (every file's size before any is read), and keeps the first
 * `limit` images of each split (0 = all). AE_ENOENT naming a missing file; on any failure
 * *out is left zeroed, nothing allocated. */
int cifar10_load(cifar10 *out, const char *dir, size_t limit);
void cifar10_free(cifar10 *c);    /* frees all; safe on NULL, on a zeroed struct, and twice */

#endif

/* make_sample.c: builds the small Fashion-MNIST sample shipped in data/sample.
 *
 *     make_sample SOURCE_DIR OUTPUT_DIR
 *
 * Keeps the first 60 training and the first 20 test images of every class, in the
 * order they have in the full files, and writes them (with their labels) under the
 * four standard names as gzip-compressed IDX files. The same source gives the same
 * bytes every time. Run it through scripts/make-sample.sh (`make sample`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/data.h"
#include "error.h"
#include "io/fileio.h"

#define TRAIN_PER_CLASS 60
#define TEST_PER_CLASS 20

/* out = the first per_class items of each class of split, in file order. */
static int pick_per_class(image_split *out, const image_split *split, int per_class)
{
    size_t wanted = (size_t)per_class * FASHION_CLASSES;
    size_t pixels = split->images.item_size;
    memset(out, 0, sizeof *out);
    out->images = split->images;
    out->labels = split->labels;
    out->images.data = malloc(wanted * pixels);
    out->labels.data = malloc(wanted);
    if (!out->images.data || !out->labels.data)
        return AE_ERROR(AE_ENOMEM, "no memory for %zu images", wanted);

    int taken[FASHION_CLASSES] = {0};
    size_t kept = 0;
    for (size_t i = 0; i < split->labels.count && kept < wanted; i++) {
        int label = split->labels.data[i];
        if (taken[label] == per_class) continue;
        taken[label]++;
        memcpy(out->images.data + kept * pixels, split->images.data + i * pixels, pixels);
        out->labels.data[kept] = (uint8_t)label;
        kept++;
    }
    if (kept < wanted)
        return AE_ERROR(AE_EBADLEN, "only %zu of the %zu images wanted: some class has fewer than %d",
                        kept, wanted, per_class);
    out->images.count = out->labels.count = kept;
    out->images.dims[0] = out->labels.dims[0] = (int)kept;
    return AE_OK;
}

static int save_split(const image_split *split, const char *dir, const char *images_name,
                      const char *labels_name)
{
    char path[AE_PATH_MAX];
    int status = path_join(path, sizeof path, dir, images_name);
    if (status == AE_OK) status = idx_save_gz(&split->images, path);
    if (status == AE_OK) status = path_join(path, sizeof path, dir, labels_name);
    if (status == AE_OK) status = idx_save_gz(&split->labels, path);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_sample SOURCE_DIR OUTPUT_DIR\n"
                        "  SOURCE_DIR  a folder with the four full Fashion-MNIST files\n"
                        "  OUTPUT_DIR  where the sample goes (data/sample)\n");
        return 2;
    }
    fashion_mnist full;
    image_split train = {0}, test = {0};
    int status = fashion_mnist_load(&full, argv[1], 0);
    if (status == AE_OK) status = pick_per_class(&train, &full.train, TRAIN_PER_CLASS);
    if (status == AE_OK) status = pick_per_class(&test, &full.test, TEST_PER_CLASS);
    if (status == AE_OK) status = mkdir_p(argv[2]);
    if (status == AE_OK)
        status = save_split(&train, argv[2], "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
    if (status == AE_OK)
        status = save_split(&test, argv[2], "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
    if (status == AE_OK)
        printf("make_sample: %zu training and %zu test images (%d and %d per class) from %s into %s\n",
               train.images.count, test.images.count, TRAIN_PER_CLASS, TEST_PER_CLASS, argv[1], argv[2]);
    else
        fprintf(stderr, "make_sample: %s\n", error_message());
    idx_free(&train.images);
    idx_free(&train.labels);
    idx_free(&test.images);
    idx_free(&test.labels);
    fashion_mnist_free(&full);
    return status == AE_OK ? 0 : 1;
}

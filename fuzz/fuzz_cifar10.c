/* fuzz_cifar10.c: any bytes as a CIFAR-10 batch: cifar10_parse refuses them or splits them into
 * labels and images, never crashes; and cifar10_load, given a folder whose six files are all
 * these bytes (links to the input file), agrees with it: refused alike, or the same records
 * five times in the training split and once in the test split. */
#include "fuzz_util.h"
#include "error.h"
#include "io/cifar10.h"

#include <limits.h>
#include <string.h>

static const char *const FILES[6] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
    "test_batch.bin",
};
static char folder[PATH_MAX];

static void remove_folder(void)
{
    char link[PATH_MAX + 32];
    for (int f = 0; f < 6; f++) {
        snprintf(link, sizeof link, "%s/%s", folder, FILES[f]);
        unlink(link);
    }
    rmdir(folder);
}

/* A folder (made once) whose six batch files are links to the input file. */
static const char *folder_of_links(const char *input)
{
    if (folder[0]) return folder;
    char target[PATH_MAX], link[PATH_MAX + 32];
    const char *tmp = getenv("TMPDIR");
    snprintf(folder, sizeof folder, "%.200s/fuzz-cifar10-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(folder) || !realpath(input, target)) abort();
    atexit(remove_folder);
    for (int f = 0; f < 6; f++) {
        snprintf(link, sizeof link, "%s/%s", folder, FILES[f]);
        if (symlink(target, link) != 0) abort();
    }
    return folder;
}

/* images (count, 3072) and labels (count) from image `at` are the records of data. */
static void check_records(const idx_array *images, const idx_array *labels, size_t at, const uint8_t *data,
                          size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const uint8_t *record = data + i * CIFAR10_RECORD;
        if (labels->data[at + i] != record[0] || record[0] >= CIFAR10_CLASSES) abort();
        if (memcmp(images->data + (at + i) * CIFAR10_PIXELS, record + 1, CIFAR10_PIXELS) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    idx_array images, labels;
    int parsed = cifar10_parse(&images, &labels, data, size, "fuzz-input");
    size_t count = size / CIFAR10_RECORD;
    if (parsed == AE_OK) {
        if (size % CIFAR10_RECORD != 0 || count == 0 || count > CIFAR10_BATCH_MAX) abort();
        if (images.count != count || labels.count != count || images.item_size != CIFAR10_PIXELS) abort();
        if (images.ndim != 4 || images.dims[0] != (int)count || images.dims[1] != 3 || images.dims[3] != 32) abort();
        check_records(&images, &labels, 0, data, count);
    } else if (images.data || labels.data) {
        abort();   /* refused, yet something left allocated */
    }

    cifar10 c;
    int loaded = cifar10_load(&c, folder_of_links(fuzz_input_file(data, size)), 0);
    if ((loaded == AE_OK) != (parsed == AE_OK)) abort();
    if (loaded == AE_OK) {
        if (c.train.images.count != 5 * count || c.test.images.count != count) abort();
        for (size_t f = 0; f < 5; f++) check_records(&c.train.images, &c.train.labels, f * count, data, count);
        check_records(&c.test.images, &c.test.labels, 0, data, count);
        cifar10_free(&c);
    } else if (c.train.images.data || c.train.labels.data || c.test.images.data || c.test.labels.data) {
        abort();
    }
    idx_free(&images);
    idx_free(&labels);
    return 0;
}

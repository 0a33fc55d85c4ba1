/* cifar10.c: CIFAR-10's binary batches (see cifar10.h).
 *
 * Shapes: N = records of a file, P = 3·32·32 = 3072 pixel bytes per image, R = 1 + P = 3073
 * bytes per record. A file (N, R) is split into labels (N) and images (N, P) = (N, 3, 32, 32).
 */
#include "io/cifar10.h"
#include "error.h"
#include "io/fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* CIFAR-100's binary records: a coarse and a fine label before the same 3072 pixels. */
#define CIFAR100_RECORD (2 + CIFAR10_PIXELS)

#define TRAIN_FILES 5
#define ALL_FILES (TRAIN_FILES + 1)

/* The training batches in their order, then the test batch. */
static const char *const CIFAR10_FILES[ALL_FILES] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
    "test_batch.bin",
};

static const char *const HINT_DOWNLOAD =
    "download the binary version from the CIFAR-10 page (https://www.cs.toronto.edu/~kriz/cifar.html, "
    "cifar-10-binary.tar.gz), unpack it, and point --data-cifar10 or CIFAR10_DIR at the folder with "
    "data_batch_1.bin";
static const char *const HINT_UNPACK = "unpack cifar-10-binary.tar.gz again (the binary version, not the Python "
                                       "or MATLAB one)";

static const char *const CIFAR10_NAMES[CIFAR10_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

const char *cifar10_class_name(int label)
{
    return label >= 0 && label < CIFAR10_CLASSES ? CIFAR10_NAMES[label] : "(no such class)";
}

/* ---- one batch ---- */

/* *records = n / R when n bytes are whole records, 1 to CIFAR10_BATCH_MAX of them; else AE_EFORMAT
 * saying what the size is instead. Checked before anything is allocated or read. */
static int check_size(const char *name, size_t n, size_t *records)
{
    *records = 0;
    if (n == 0)
        return AE_ERROR(AE_EFORMAT, "%s: empty file (0 bytes); a CIFAR-10 batch is records of %d bytes "
                        "(10000 of them in the official files); %s", name, CIFAR10_RECORD, HINT_UNPACK);
    size_t whole = n / CIFAR10_RECORD, over = n % CIFAR10_RECORD;
    if (over != 0 && n % CIFAR100_RECORD == 0)
        return AE_ERROR(AE_EFORMAT, "%s: %zu bytes is not a whole number of %d-byte records (%zu records and "
                        "%zu bytes over), but exactly %zu records of %d bytes: the layout of CIFAR-100's binary "
                        "version (two label bytes per image), not CIFAR-10's; %s", name, n, CIFAR10_RECORD, whole,
                        over, n / CIFAR100_RECORD, CIFAR100_RECORD, HINT_DOWNLOAD);
    if (over != 0)
        return AE_ERROR(AE_EFORMAT, "%s: %zu bytes is not a whole number of %d-byte records (1 label + %d "
                        "pixels): %zu records and %zu bytes over; the file is truncated, or in another "
                        "format (the Python version's files are pickles); %s", name, n, CIFAR10_RECORD,
                        CIFAR10_PIXELS, whole, over, HINT_UNPACK);
    if (whole > CIFAR10_BATCH_MAX)
        return AE_ERROR(AE_EFORMAT, "%s: %zu records of %d bytes (%zu bytes), more than the %d a CIFAR-10 batch "
                        "holds: another file, or another format (CIFAR-100's binary records are %d bytes, the "
                        "Python version's files are pickles); %s", name, whole, CIFAR10_RECORD, n,
                        CIFAR10_BATCH_MAX, CIFAR100_RECORD, HINT_UNPACK);
    *records = whole;
    return AE_OK;
}

/* Splits records (N, R) into labels (N) and images (N, P), checking each label. */
static int split_records(uint8_t *images, uint8_t *labels, const uint8_t *bytes, size_t records, const char *name)
{
    for (size_t i = 0; i < records; i++) {
        const uint8_t *record = bytes + i * CIFAR10_RECORD;
        if (record[0] >= CIFAR10_CLASSES)
            return AE_ERROR(AE_EFORMAT, "%s: record %zu (of %zu, counted from 0) has label %u; CIFAR-10's "
                            "labels are 0..%d; %s", name, i, records, record[0], CIFAR10_CLASSES - 1, HINT_UNPACK);
        labels[i] = record[0];
        memcpy(images + i * CIFAR10_PIXELS, record + 1, CIFAR10_PIXELS);
    }
    return AE_OK;
}

/* images (count, 3, 32, 32) and labels (count), allocated, contents undefined; on failure
 * both zeroed and nothing allocated. */
static int alloc_arrays(idx_array *images, idx_array *labels, size_t count, const char *name)
{
    memset(images, 0, sizeof *images);
    memset(labels, 0, sizeof *labels);
    if (count == 0 || count > INT_MAX || count > SIZE_MAX / CIFAR10_PIXELS)
        return AE_ERROR(AE_EBADLEN, "%s: %zu images cannot be held (1 to %d)", name, count, INT_MAX);
    images->data = malloc(count * CIFAR10_PIXELS);
    labels->data = malloc(count);
    if (!images->data || !labels->data) {
        idx_free(images);
        idx_free(labels);
        return AE_ERROR(AE_ENOMEM, "%s: no memory for %zu images of %d bytes", name, count, CIFAR10_PIXELS);
    }
    *images = (idx_array){ .ndim = 4, .dims = { (int)count, CIFAR10_CHANNELS, CIFAR10_SIDE, CIFAR10_SIDE },
                           .count = count, .item_size = CIFAR10_PIXELS, .data = images->data };
    *labels = (idx_array){ .ndim = 1, .dims = { (int)count }, .count = count, .item_size = 1, .data = labels->data };
    return AE_OK;
}

int cifar10_parse(idx_array *images, idx_array *labels, const uint8_t *bytes, size_t n, const char *name)
{
    memset(images, 0, sizeof *images);
    memset(labels, 0, sizeof *labels);
    size_t records;
    int status = check_size(name, n, &records);
    if (status == AE_OK) status = alloc_arrays(images, labels, records, name);
    if (status == AE_OK) status = split_records(images->data, labels->data, bytes, records, name);
    if (status != AE_OK) {
        idx_free(images);
        idx_free(labels);
    }
    return status;
}

/* ---- the folder ---- */

/* One of the six files: where it is, and how many records its size says it holds. */
typedef struct {
    char path[AE_PATH_MAX];
    size_t bytes, records;
} batch_file;

/* Finds dir/name and checks its size (check_size); AE_ENOENT, said as "dir: name is missing there",
 * when it is not there. Nothing of it is read. */
static int batch_file_check(batch_file *file, const char *dir, const char *name)
{
    int status = path_join(file->path, sizeof file->path, dir, name);
    if (status != AE_OK) return status;
    struct stat st;
    if (stat(file->path, &st) != 0) {
        if (errno == ENOENT)
            return AE_ERROR(AE_ENOENT, "%s: %s is missing there; %s", dir, name, HINT_DOWNLOAD);
        return AE_ERROR(AE_EIO, "%s: cannot read: %s", file->path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return AE_ERROR(AE_EFORMAT, "%s: not a regular file; %s", file->path, HINT_UNPACK);
    if ((uint64_t)st.st_size != (size_t)st.st_size)   /* a 32-bit size_t and a file above 4 GB */
        return AE_ERROR(AE_EFORMAT, "%s: %lld bytes, far more than a CIFAR-10 batch", file->path,
                        (long long)st.st_size);
    file->bytes = (size_t)st.st_size;
    return check_size(file->path, file->bytes, &file->records);
}

/* Reads exactly n bytes of path into buf: the size batch_file_check saw, or AE_EFORMAT. */
static int read_whole(const char *path, uint8_t *buf, size_t n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return AE_ERROR(errno == ENOENT ? AE_ENOENT : AE_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(buf, 1, n, fp);
    int more = got == n && fgetc(fp) != EOF;
    int failed = ferror(fp);
    fclose(fp);
    if (failed) return AE_ERROR(AE_EIO, "%s: reading failed", path);
    if (got < n || more)
        return AE_ERROR(AE_EFORMAT, "%s: the file changed while it was read (%zu bytes when checked, %s now)",
                        path, n, more ? "more" : "fewer");
    return AE_OK;
}

/* The checked files (n_files), one after the other, into one split: one allocation for the split,
 * one buffer the size of the largest file. */
static int load_split(image_split *split, const batch_file *files, int n_files, const char *dir)
{
    size_t total = 0, largest = 0;
    for (int f = 0; f < n_files; f++) {
        total += files[f].records;                    /* at most 5 · 10000: no overflow */
        if (files[f].bytes > largest) largest = files[f].bytes;
    }
    int status = alloc_arrays(&split->images, &split->labels, total, dir);
    if (status != AE_OK) return status;
    uint8_t *buffer = malloc(largest);
    if (!buffer) return AE_ERROR(AE_ENOMEM, "%s: no memory for %zu bytes", dir, largest);
    size_t done = 0;
    for (int f = 0; f < n_files && status == AE_OK; f++) {
        status = read_whole(files[f].path, buffer, files[f].bytes);
        if (status == AE_OK)
            status = split_records(split->images.data + done * CIFAR10_PIXELS, split->labels.data + done, buffer,
                                   files[f].records, files[f].path);
        done += files[f].records;
    }
    free(buffer);
    return status;
}

int cifar10_load(cifar10 *out, const char *dir, size_t limit)
{
    memset(out, 0, sizeof *out);
    if (strlen(dir) >= sizeof out->dir)
        return AE_ERROR(AE_EINVAL, "%s: folder name too long", dir);
    if (!folder_exists(dir))
        return AE_ERROR(AE_ENOENT, "%s: no such folder; %s", dir, HINT_DOWNLOAD);
    /* all six sizes first: a missing test batch is said at once, not after 150 MB of training batches */
    batch_file files[ALL_FILES];
    for (int f = 0; f < ALL_FILES; f++) {
        int status = batch_file_check(&files[f], dir, CIFAR10_FILES[f]);
        if (status != AE_OK) return status;
    }
    int status = load_split(&out->train, files, TRAIN_FILES, dir);
    if (status == AE_OK) status = load_split(&out->test, files + TRAIN_FILES, 1, dir);
    if (status != AE_OK) {
        cifar10_free(out);
        return status;
    }
    strcpy(out->dir, dir);
    if (limit > 0) {
        idx_truncate(&out->train.images, limit);
        idx_truncate(&out->train.labels, limit);
        idx_truncate(&out->test.images, limit);
        idx_truncate(&out->test.labels, limit);
    }
    return AE_OK;
}

void cifar10_free(cifar10 *c)
{
    if (!c) return;
    idx_free(&c->train.images);
    idx_free(&c->train.labels);
    idx_free(&c->test.images);
    idx_free(&c->test.labels);
    c->dir[0] = '\0';
}

/* ---- where it is ---- */

/* The first of the six files missing from dir, or NULL when all are there. */
static const char *first_missing_file(const char *dir)
{
    char path[AE_PATH_MAX];
    for (int f = 0; f < ALL_FILES; f++)
        if (path_join(path, sizeof path, dir, CIFAR10_FILES[f]) != AE_OK || !file_exists(path))
            return CIFAR10_FILES[f];
    return NULL;
}

static int choose_folder(char *dir, size_t len, const char *chosen, int *found)
{
    if (strlen(chosen) >= len)
        return AE_ERROR(AE_EINVAL, "%s: folder name too long (%zu bytes at most)", chosen, len ? len - 1 : 0);
    strcpy(dir, chosen);
    *found = 1;
    return AE_OK;
}

/* A folder the user named (how = "--data-cifar10" or "CIFAR10_DIR") must hold the six files. */
static int explicit_folder(char *dir, size_t len, const char *folder, const char *how, int *found)
{
    if (!folder_exists(folder))
        return AE_ERROR(AE_ENOENT, "%s %s: no such folder; %s", how, folder, HINT_DOWNLOAD);
    const char *missing = first_missing_file(folder);
    if (missing)
        return AE_ERROR(AE_ENOENT, "%s %s: %s is missing there; %s", how, folder, missing, HINT_DOWNLOAD);
    return choose_folder(dir, len, folder, found);
}

int cifar10_locate(char *dir, size_t len, const char *data_opt, int *found)
{
    *found = 0;
    if (len > 0) dir[0] = '\0';
    if (data_opt && data_opt[0]) return explicit_folder(dir, len, data_opt, "--data-cifar10", found);
    const char *env = getenv("CIFAR10_DIR");
    if (env && env[0]) return explicit_folder(dir, len, env, "CIFAR10_DIR", found);

    const char *const fallbacks[] = { "data/cifar-10-batches-bin", AE_ROOT "/data/cifar-10-batches-bin" };
    const char *incomplete = NULL, *lacking = NULL;
    for (size_t k = 0; k < sizeof fallbacks / sizeof fallbacks[0]; k++) {
        if (!folder_exists(fallbacks[k])) continue;
        const char *missing = first_missing_file(fallbacks[k]);
        if (!missing) return choose_folder(dir, len, fallbacks[k], found);
        if (!incomplete) {
            incomplete = fallbacks[k];
            lacking = missing;
        }
    }
    /* a folder where the data was meant to be, half there, is not passed over in silence */
    if (incomplete)
        return AE_ERROR(AE_ENOENT, "%s: %s is missing there; %s", incomplete, lacking, HINT_DOWNLOAD);
    return AE_OK;   /* none: *found = 0, the caller leaves CIFAR-10 out */
}

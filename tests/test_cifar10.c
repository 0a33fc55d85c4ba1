/* test_cifar10.c: CIFAR-10's binary batches: reading a folder, every check, finding the folder.
 *
 * Batch files are written here record by record (a label byte, then 3072 pixel bytes), so the
 * reader is checked against files made without it: 3 records in each training batch, 2 in
 * the test batch, labels and pixels from a formula of (file, record, byte).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/cifar10.h"
#include "error.h"
#include "io/fileio.h"
#include "testutil.h"

#define PLANE (CIFAR10_SIDE * CIFAR10_SIDE)   /* 1024 bytes: one colour of one image */
#define TRAIN_RECORDS 3                       /* per training batch */
#define TEST_RECORDS 2

static const char *const FILES[6] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
    "test_batch.bin",
};

/* The label of record r of file f (f = 5: the test batch): every class 0..9 occurs. */
static uint8_t pattern_label(int f, size_t r)
{
    return (uint8_t)((f * 3 + r * 7 + 2) % 10);
}

/* Pixel byte p (0..3071, CHW) of record r of file f: varied, every value 0..255 occurs. */
static uint8_t pattern_pixel(int f, size_t r, size_t p)
{
    return (uint8_t)(((size_t)f * 7 + r) * 131u + p * 37u + 11u);
}

/* Records records of file f's pattern, as the file holds them (records, 3073); free it. */
static uint8_t *pattern_records(int f, size_t records)
{
    uint8_t *bytes = malloc(records * CIFAR10_RECORD);
    ck_assert_ptr_nonnull(bytes);
    for (size_t r = 0; r < records; r++) {
        uint8_t *record = bytes + r * CIFAR10_RECORD;
        record[0] = pattern_label(f, r);
        for (size_t p = 0; p < CIFAR10_PIXELS; p++) record[1 + p] = pattern_pixel(f, r, p);
    }
    return bytes;
}

static void tmp_path(char *out, size_t len, const char *dir, const char *name)
{
    ck_assert_int_eq(path_join(out, len, dir, name), AE_OK);
}

/* Writes exactly len bytes to dir/name. */
static void write_file(const char *dir, const char *name, const void *bytes, size_t len)
{
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, dir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(bytes, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

/* File f of the pattern, with `records` records, as dir/FILES[f]. */
static void write_batch(const char *dir, int f, size_t records)
{
    uint8_t *bytes = pattern_records(f, records);
    write_file(dir, FILES[f], bytes, records * CIFAR10_RECORD);
    free(bytes);
}

/* A complete folder tmp/name: 3 records in each training batch, 2 in the test batch. */
static void write_folder(char *dir, size_t len, const char *tmp, const char *name)
{
    tmp_path(dir, len, tmp, name);
    ck_assert_int_eq(mkdir_p(dir), AE_OK);
    for (int f = 0; f < 6; f++) write_batch(dir, f, f < 5 ? TRAIN_RECORDS : TEST_RECORDS);
}

static void remove_file(const char *dir, const char *name)
{
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, dir, name);
    ck_assert_int_eq(remove(path), 0);
}

static void check_zeroed(const cifar10 *c)
{
    ck_assert_ptr_null(c->train.images.data);
    ck_assert_ptr_null(c->train.labels.data);
    ck_assert_ptr_null(c->test.images.data);
    ck_assert_ptr_null(c->test.labels.data);
    ck_assert_uint_eq(c->train.images.count, 0);
}

/* cifar10_load(dir) gives code, and its message says each of the needles (NULL ends them). */
static void expect_load_refused(const char *dir, int code, const char *const *needles)
{
    cifar10 c;
    int status = cifar10_load(&c, dir, 0);
    ck_assert_msg(status == code, "%s: expected %s, got %s (%s)", dir, error_name(code), error_name(status),
                  error_message());
    check_zeroed(&c);
    for (int k = 0; needles[k]; k++)
        ck_assert_msg(strstr(error_message(), needles[k]), "message lacks '%s': %s", needles[k], error_message());
}

/* ---- Core ---- */

/* images (count, 3, 32, 32) and labels (count) hold records first.. of file f's pattern, from image `at`. */
static void check_pattern(const image_split *split, size_t at, int f, size_t first, size_t count)
{
    for (size_t r = first; r < first + count; r++, at++) {
        ck_assert_uint_eq(split->labels.data[at], pattern_label(f, r));
        for (size_t p = 0; p < CIFAR10_PIXELS; p++)
            ck_assert_uint_eq(split->images.data[at * CIFAR10_PIXELS + p], pattern_pixel(f, r, p));
    }
}

static void check_shape(const image_split *split, size_t count)
{
    const idx_array *im = &split->images, *lb = &split->labels;
    ck_assert_int_eq(im->ndim, 4);
    ck_assert_int_eq(im->dims[0], (int)count);
    ck_assert_int_eq(im->dims[1], CIFAR10_CHANNELS);
    ck_assert_int_eq(im->dims[2], CIFAR10_SIDE);
    ck_assert_int_eq(im->dims[3], CIFAR10_SIDE);
    ck_assert_uint_eq(im->count, count);
    ck_assert_uint_eq(im->item_size, CIFAR10_PIXELS);
    ck_assert_int_eq(lb->ndim, 1);
    ck_assert_int_eq(lb->dims[0], (int)count);
    ck_assert_uint_eq(lb->count, count);
    ck_assert_uint_eq(lb->item_size, 1);
}

START_TEST(loads_the_six_batches_in_order)
{
    char dir[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), "cifar-10-batches-bin");
    cifar10 c;
    ck_assert_int_eq(cifar10_load(&c, dir, 0), AE_OK);
    ck_assert_str_eq(c.dir, dir);
    check_shape(&c.train, 5 * TRAIN_RECORDS);
    check_shape(&c.test, TEST_RECORDS);
    for (int f = 0; f < 5; f++) check_pattern(&c.train, (size_t)f * TRAIN_RECORDS, f, 0, TRAIN_RECORDS);
    check_pattern(&c.test, 0, 5, 0, TEST_RECORDS);
    cifar10_free(&c);
    check_zeroed(&c);
    cifar10_free(&c);   /* twice: a zeroed struct is fine */
    cifar10_free(NULL);
}
END_TEST

/* One record by hand: a few marked bytes land at (channel, row, col) of the image, CHW. */
START_TEST(pixels_land_at_channel_row_col)
{
    static uint8_t record[CIFAR10_RECORD];
    memset(record, 0, sizeof record);
    record[0] = 7;                                           /* horse */
    record[1 + 0 * PLANE + 0 * CIFAR10_SIDE + 31] = 11;      /* red, row 0, col 31 */
    record[1 + 1 * PLANE + 31 * CIFAR10_SIDE + 0] = 22;      /* green, row 31, col 0 */
    record[1 + 2 * PLANE + 5 * CIFAR10_SIDE + 7] = 233;      /* blue, row 5, col 7 */

    idx_array images, labels;
    ck_assert_int_eq(cifar10_parse(&images, &labels, record, sizeof record, "hand-made"), AE_OK);
    ck_assert_uint_eq(images.count, 1);
    ck_assert_uint_eq(labels.data[0], 7);
    ck_assert_str_eq(cifar10_class_name(labels.data[0]), "horse");
    const uint8_t *image = images.data;                      /* (3, 32, 32) */
    ck_assert_uint_eq(image[(0 * CIFAR10_SIDE + 0) * CIFAR10_SIDE + 31], 11);
    ck_assert_uint_eq(image[(1 * CIFAR10_SIDE + 31) * CIFAR10_SIDE + 0], 22);
    ck_assert_uint_eq(image[(2 * CIFAR10_SIDE + 5) * CIFAR10_SIDE + 7], 233);
    unsigned sum = 0;
    for (size_t p = 0; p < CIFAR10_PIXELS; p++) sum += image[p];
    ck_assert_uint_eq(sum, 11 + 22 + 233);                   /* nothing else moved in */

    /* images_to_float keeps the order: blue (5, 7) is x[2·1024 + 5·32 + 7] */
    static float x[CIFAR10_PIXELS];
    images_to_float(x, &images, NULL, 1);
    ck_assert_double_eq_tol(x[2 * PLANE + 5 * CIFAR10_SIDE + 7], 233.0 / 255.0, 1e-7);
    ck_assert_double_eq_tol(x[2 * PLANE + 5 * CIFAR10_SIDE + 8], 0.0, 1e-7);
    idx_free(&images);
    idx_free(&labels);

    /* the same record second in a test batch through the files: test image 1 */
    char dir[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), "marked");
    uint8_t *bytes = pattern_records(5, 2);
    memcpy(bytes + CIFAR10_RECORD, record, sizeof record);
    write_file(dir, "test_batch.bin", bytes, 2 * CIFAR10_RECORD);
    free(bytes);
    cifar10 c;
    ck_assert_int_eq(cifar10_load(&c, dir, 0), AE_OK);
    ck_assert_uint_eq(c.test.labels.data[1], 7);
    ck_assert_uint_eq(c.test.images.data[CIFAR10_PIXELS + 2 * PLANE + 5 * CIFAR10_SIDE + 7], 233);
    ck_assert_uint_eq(c.test.images.data[CIFAR10_PIXELS + 1 * PLANE + 31 * CIFAR10_SIDE + 0], 22);
    check_pattern(&c.test, 0, 5, 0, 1);
    cifar10_free(&c);
}
END_TEST

START_TEST(limit_keeps_the_first_of_each_split)
{
    char dir[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), "limited");
    cifar10 c;
    /* 4: all of batch 1 and the first record of batch 2; the test batch has only 2 */
    ck_assert_int_eq(cifar10_load(&c, dir, 4), AE_OK);
    check_shape(&c.train, 4);
    check_shape(&c.test, TEST_RECORDS);
    check_pattern(&c.train, 0, 0, 0, TRAIN_RECORDS);
    check_pattern(&c.train, TRAIN_RECORDS, 1, 0, 1);
    check_pattern(&c.test, 0, 5, 0, TEST_RECORDS);
    cifar10_free(&c);

    ck_assert_int_eq(cifar10_load(&c, dir, 1), AE_OK);
    check_shape(&c.train, 1);
    check_shape(&c.test, 1);
    check_pattern(&c.test, 0, 5, 0, 1);
    cifar10_free(&c);
}
END_TEST

START_TEST(class_names)
{
    const char *expected[CIFAR10_CLASSES] = {
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    };
    for (int c = 0; c < CIFAR10_CLASSES; c++) ck_assert_str_eq(cifar10_class_name(c), expected[c]);
    ck_assert_str_eq(cifar10_class_name(10), "(no such class)");
    ck_assert_str_eq(cifar10_class_name(-1), "(no such class)");
}
END_TEST

/* The largest batch there may be, 10000 records, in memory (calloc: all airplanes, all black). */
START_TEST(parse_takes_a_full_batch)
{
    size_t n = (size_t)CIFAR10_BATCH_MAX * CIFAR10_RECORD;
    uint8_t *bytes = calloc(n, 1);
    ck_assert_ptr_nonnull(bytes);
    bytes[(CIFAR10_BATCH_MAX - 1) * (size_t)CIFAR10_RECORD] = 9;              /* the last label */
    bytes[(CIFAR10_BATCH_MAX - 1) * (size_t)CIFAR10_RECORD + CIFAR10_PIXELS] = 200;   /* its last pixel */
    idx_array images, labels;
    ck_assert_int_eq(cifar10_parse(&images, &labels, bytes, n, "full"), AE_OK);
    ck_assert_uint_eq(images.count, CIFAR10_BATCH_MAX);
    ck_assert_uint_eq(labels.count, CIFAR10_BATCH_MAX);
    ck_assert_uint_eq(labels.data[CIFAR10_BATCH_MAX - 1], 9);
    ck_assert_uint_eq(images.data[(size_t)CIFAR10_BATCH_MAX * CIFAR10_PIXELS - 1], 200);
    idx_free(&images);
    idx_free(&labels);
    free(bytes);
}
END_TEST

/* ---- Limits ---- */

/* A batch that is wrong in one way, given to cifar10_parse. */
typedef struct {
    const char *what;            /* for the failure message */
    size_t n;                    /* its size in bytes */
    size_t bad_label_at;         /* a record whose label becomes bad_label (when bad_label > 0) */
    int bad_label;
    const char *needle;          /* the message must say this, besides the name */
} bad_batch;

static const bad_batch BAD_BATCHES[] = {
    {"empty", 0, 0, 0, "empty file (0 bytes)"},
    {"one byte", 1, 0, 0, "1 bytes is not a whole number of 3073-byte records (1 label + 3072 pixels): "
                          "0 records and 1 bytes over"},
    {"a record and a half", 3073 + 1536, 0, 0, "4609 bytes is not a whole number of 3073-byte records"},
    {"two records and 100 bytes", 2 * 3073 + 100, 0, 0, "2 records and 100 bytes over"},
    {"one record short of a byte", 3072, 0, 0, "0 records and 3072 bytes over"},
    {"CIFAR-100, two records", 2 * 3074, 0, 0, "exactly 2 records of 3074 bytes: the layout of CIFAR-100"},
    {"CIFAR-100, one record", 3074, 0, 0, "CIFAR-100"},
    {"label 10", 3 * 3073, 1, 10, "record 1 (of 3, counted from 0) has label 10; CIFAR-10's labels are 0..9"},
    {"label 255 last", 3 * 3073, 2, 255, "record 2 (of 3, counted from 0) has label 255"},
    {"label 99 first", 3073, 0, 99, "record 0 (of 1, counted from 0) has label 99"},
    {"10001 records", 10001 * (size_t)3073, 0, 0, "10001 records of 3073 bytes (30733073 bytes), more than the "
                                                  "10000 a CIFAR-10 batch holds"},
};
#define N_BAD (int)(sizeof BAD_BATCHES / sizeof BAD_BATCHES[0])

START_TEST(parse_refuses_bad_batches)
{
    const bad_batch *bad = &BAD_BATCHES[_i];
    uint8_t *bytes = calloc(bad->n ? bad->n : 1, 1);   /* labels 0, a valid airplane unless changed */
    ck_assert_ptr_nonnull(bytes);
    if (bad->bad_label > 0) bytes[bad->bad_label_at * CIFAR10_RECORD] = (uint8_t)bad->bad_label;
    idx_array images, labels;
    memset(&images, 0x5a, sizeof images);   /* whatever was there before is replaced */
    memset(&labels, 0x5a, sizeof labels);
    int status = cifar10_parse(&images, &labels, bytes, bad->n, "batch.bin");
    free(bytes);
    ck_assert_msg(status == AE_EFORMAT, "%s: got %s (%s)", bad->what, error_name(status), error_message());
    ck_assert_ptr_null(images.data);
    ck_assert_ptr_null(labels.data);
    ck_assert_uint_eq(images.count, 0);
    ck_assert_msg(strncmp(error_message(), "batch.bin: ", 11) == 0, "%s: message does not start with the name: %s",
                  bad->what, error_message());
    ck_assert_msg(strstr(error_message(), bad->needle), "%s: message lacks '%s': %s", bad->what, bad->needle,
                  error_message());
}
END_TEST

START_TEST(load_refuses_a_missing_folder_or_file)
{
    const char *tmp = test_tmpdir();
    char dir[AE_PATH_MAX];
    tmp_path(dir, sizeof dir, tmp, "nowhere");
    expect_load_refused(dir, AE_ENOENT, (const char *const[]){ dir, "no such folder", "--data-cifar10", NULL });

    /* each file in turn: the message names the one that is missing */
    for (int f = 0; f < 6; f++) {
        char name[32];
        snprintf(name, sizeof name, "without-%d", f);
        write_folder(dir, sizeof dir, tmp, name);
        remove_file(dir, FILES[f]);
        expect_load_refused(dir, AE_ENOENT, (const char *const[]){ FILES[f], "is missing there", "binary version",
                                                                    "CIFAR10_DIR", NULL });
    }
}
END_TEST

/* A folder whose file f is replaced by bytes (n); loading it is refused with the needle, naming the file. */
static void expect_bad_file(const char *name, int f, const void *bytes, size_t n, const char *needle)
{
    char dir[AE_PATH_MAX], path[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), name);
    write_file(dir, FILES[f], bytes, n);
    tmp_path(path, sizeof path, dir, FILES[f]);
    expect_load_refused(dir, AE_EFORMAT, (const char *const[]){ path, needle, NULL });
}

START_TEST(load_refuses_bad_files)
{
    expect_bad_file("empty", 2, "", 0, "empty file");

    uint8_t *bytes = pattern_records(5, 3);
    expect_bad_file("odd-size", 5, bytes, 2 * CIFAR10_RECORD + 100,
                    "6246 bytes is not a whole number of 3073-byte records (1 label + 3072 pixels): "
                    "2 records and 100 bytes over");
    free(bytes);

    /* CIFAR-100's records: a coarse and a fine label, then the pixels */
    static uint8_t cifar100[2 * 3074];
    memset(cifar100, 0, sizeof cifar100);
    expect_bad_file("cifar-100", 0, cifar100, sizeof cifar100, "CIFAR-100");

    bytes = pattern_records(1, 3);
    bytes[1 * CIFAR10_RECORD] = 10;
    expect_bad_file("bad-label", 1, bytes, 3 * CIFAR10_RECORD, "record 1 (of 3, counted from 0) has label 10");
    free(bytes);
}
END_TEST

/* Every size is checked before any file is read: a bad label in the first batch is not reached when
 * the test batch, the last file, has a wrong size or is missing. */
START_TEST(load_checks_every_size_before_reading)
{
    char dir[AE_PATH_MAX], path[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), "sizes-first");
    uint8_t *bytes = pattern_records(0, 3);
    bytes[0] = 200;
    write_file(dir, FILES[0], bytes, 3 * CIFAR10_RECORD);
    write_file(dir, FILES[5], bytes, CIFAR10_RECORD + 7);
    free(bytes);
    tmp_path(path, sizeof path, dir, FILES[5]);
    expect_load_refused(dir, AE_EFORMAT, (const char *const[]){ path, "1 records and 7 bytes over", NULL });
    remove_file(dir, FILES[5]);
    expect_load_refused(dir, AE_ENOENT, (const char *const[]){ "test_batch.bin is missing there", NULL });
    write_batch(dir, 5, TEST_RECORDS);
    tmp_path(path, sizeof path, dir, FILES[0]);
    expect_load_refused(dir, AE_EFORMAT, (const char *const[]){ path, "record 0 (of 3, counted from 0) has label 200",
                                                                NULL });
}
END_TEST

/* 10001 records, as a sparse file (30 MB, none of it written): refused from its size, never read. */
START_TEST(load_refuses_more_than_10000_records)
{
    char dir[AE_PATH_MAX], path[AE_PATH_MAX];
    write_folder(dir, sizeof dir, test_tmpdir(), "too-many");
    tmp_path(path, sizeof path, dir, FILES[4]);
    ck_assert_int_eq(truncate(path, (off_t)10001 * CIFAR10_RECORD), 0);
    expect_load_refused(dir, AE_EFORMAT, (const char *const[]){ path, "10001 records", "more than the 10000", NULL });
}
END_TEST

/* ---- Locate ---- */

/* Restores CIFAR10_DIR and the working folder when a test ends (tests may run unforked). */

#define REPO_FOLDER AE_ROOT "/data/cifar-10-batches-bin"

/* 1 when the repository's own data/cifar-10-batches-bin exists (complete or not): the implicit
 * cases then find it, and the tests say what they expect instead. */
static int repo_has_cifar10(void)
{
    return access(REPO_FOLDER, F_OK) == 0;
}

START_TEST(locate_order)
{
    test_env_save("CIFAR10_DIR");
    const char *tmp = test_tmpdir();
    char option[AE_PATH_MAX], variable[AE_PATH_MAX], work[AE_PATH_MAX], local[AE_PATH_MAX];
    write_folder(option, sizeof option, tmp, "option");
    write_folder(variable, sizeof variable, tmp, "variable");
    tmp_path(work, sizeof work, tmp, "work");
    write_folder(local, sizeof local, work, "data/cifar-10-batches-bin");
    char dir[AE_PATH_MAX];
    int found = -1;

    /* 1. --data-cifar10 wins over the variable */
    setenv("CIFAR10_DIR", variable, 1);
    ck_assert_int_eq(cifar10_locate(dir, sizeof dir, option, &found), AE_OK);
    ck_assert_str_eq(dir, option);
    ck_assert_int_eq(found, 1);
    /* 2. the variable when there is no option (NULL or empty), even with a data/ folder here */
    ck_assert_int_eq(chdir(work), 0);
    found = -1;
    ck_assert_int_eq(cifar10_locate(dir, sizeof dir, NULL, &found), AE_OK);
    ck_assert_str_eq(dir, variable);
    ck_assert_int_eq(found, 1);
    ck_assert_int_eq(cifar10_locate(dir, sizeof dir, "", &found), AE_OK);
    ck_assert_str_eq(dir, variable);

    /* 3. data/cifar-10-batches-bin under the working folder; an empty variable counts as unset */
    setenv("CIFAR10_DIR", "", 1);
    found = -1;
    ck_assert_int_eq(cifar10_locate(dir, sizeof dir, NULL, &found), AE_OK);
    ck_assert_str_eq(dir, "data/cifar-10-batches-bin");
    ck_assert_int_eq(found, 1);

    /* what it found loads */
    cifar10 c;
    ck_assert_int_eq(cifar10_load(&c, dir, 0), AE_OK);
    ck_assert_uint_eq(c.train.images.count, 5 * TRAIN_RECORDS);
    cifar10_free(&c);

    /* a folder name longer than the caller's buffer */
    char small[8];
    ck_assert_int_eq(cifar10_locate(small, sizeof small, option, &found), AE_EINVAL);
    test_env_restore();
}
END_TEST

START_TEST(locate_finds_nothing_implicitly)
{
    test_env_save("CIFAR10_DIR");
    unsetenv("CIFAR10_DIR");
    char empty[AE_PATH_MAX];
    tmp_path(empty, sizeof empty, test_tmpdir(), "empty");
    ck_assert_int_eq(mkdir_p(empty), AE_OK);
    ck_assert_int_eq(chdir(empty), 0);
    char dir[AE_PATH_MAX] = "stale";
    int found = -1;
    int status = cifar10_locate(dir, sizeof dir, NULL, &found);
    if (!repo_has_cifar10()) {
        ck_assert_msg(status == AE_OK, "got %s (%s)", error_name(status), error_message());
        ck_assert_int_eq(found, 0);
        ck_assert_str_eq(dir, "");
    } else if (status == AE_OK) {   /* the repository's own copy */
        ck_assert_int_eq(found, 1);
        ck_assert_str_eq(dir, REPO_FOLDER);
    }
    test_env_restore();
}
END_TEST

START_TEST(locate_refuses_named_folders_without_the_files)
{
    test_env_save("CIFAR10_DIR");
    unsetenv("CIFAR10_DIR");
    const char *tmp = test_tmpdir();
    char dir[AE_PATH_MAX], found_dir[AE_PATH_MAX], empty[AE_PATH_MAX], nowhere[AE_PATH_MAX];
    int found = -1;

    /* the option naming a folder without test_batch.bin */
    write_folder(dir, sizeof dir, tmp, "five-of-six");
    remove_file(dir, "test_batch.bin");
    ck_assert_int_eq(cifar10_locate(found_dir, sizeof found_dir, dir, &found), AE_ENOENT);
    ck_assert_int_eq(found, 0);
    const char *said = error_message();
    ck_assert_ptr_nonnull(strstr(said, "--data-cifar10"));
    ck_assert_ptr_nonnull(strstr(said, "test_batch.bin is missing there"));
    ck_assert_ptr_nonnull(strstr(said, "binary version"));
    ck_assert_ptr_nonnull(strstr(said, "CIFAR10_DIR"));
    ck_assert_ptr_nonnull(strstr(said, "data_batch_1.bin"));

    /* the variable naming an empty folder: refused, no fallback to data/ folders */
    tmp_path(empty, sizeof empty, tmp, "empty");
    ck_assert_int_eq(mkdir_p(empty), AE_OK);
    setenv("CIFAR10_DIR", empty, 1);
    ck_assert_int_eq(cifar10_locate(found_dir, sizeof found_dir, NULL, &found), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "CIFAR10_DIR"));
    ck_assert_ptr_nonnull(strstr(error_message(), "data_batch_1.bin is missing there"));

    /* a folder that does not exist */
    tmp_path(nowhere, sizeof nowhere, tmp, "nowhere");
    ck_assert_int_eq(cifar10_locate(found_dir, sizeof found_dir, nowhere, &found), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "no such folder"));
    ck_assert_ptr_nonnull(strstr(error_message(), nowhere));
    test_env_restore();
}
END_TEST

/* data/cifar-10-batches-bin here, but without data_batch_5.bin: said, not passed over in silence
 * (unless the repository's own folder is complete: it is then the one found) */
START_TEST(locate_says_an_implicit_folder_is_incomplete)
{
    test_env_save("CIFAR10_DIR");
    unsetenv("CIFAR10_DIR");
    char work[AE_PATH_MAX], local[AE_PATH_MAX], dir[AE_PATH_MAX];
    tmp_path(work, sizeof work, test_tmpdir(), "work");
    write_folder(local, sizeof local, work, "data/cifar-10-batches-bin");
    remove_file(local, "data_batch_5.bin");
    ck_assert_int_eq(chdir(work), 0);
    int found = -1;
    int status = cifar10_locate(dir, sizeof dir, NULL, &found);
    if (!repo_has_cifar10()) {
        ck_assert_msg(status == AE_ENOENT, "got %s (%s)", error_name(status), error_message());
        ck_assert_int_eq(found, 0);
        ck_assert_ptr_nonnull(strstr(error_message(), "data/cifar-10-batches-bin: data_batch_5.bin is missing there"));
    }
    test_env_restore();
}
END_TEST

Suite *cifar10_suite(void)
{
    Suite *s = suite_create("cifar10");

    test_add(test_case(s, "Core", 0), loads_the_six_batches_in_order, pixels_land_at_channel_row_col,
             limit_keeps_the_first_of_each_split, class_names, parse_takes_a_full_batch);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_loop_test(limits, parse_refuses_bad_batches, 0, N_BAD);
    test_add(limits, load_refuses_a_missing_folder_or_file, load_refuses_bad_files,
             load_checks_every_size_before_reading, load_refuses_more_than_10000_records);

    test_add(test_case(s, "Locate", 0), locate_order, locate_finds_nothing_implicitly,
             locate_refuses_named_folders_without_the_files, locate_says_an_implicit_folder_is_incomplete);
    return s;
}

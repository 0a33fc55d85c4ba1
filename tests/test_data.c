/* test_data.c: IDX files, Fashion-MNIST loading and locating, the image batch source.
 *
 * Files are written here byte by byte (header built by hand, gzip by zlib directly),
 * so the loader is checked against data made without it.
 */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/data.h"
#include "error.h"
#include "io/fileio.h"
#include "testutil.h"

#define SIDE 28
#define PIXELS (SIDE * SIDE)

/* A byte of test image `image`, pixel p: varied, every value 0..255 occurs. */
static uint8_t pattern_byte(size_t image, size_t p)
{
    return (uint8_t)((image * 131u + p * 37u + 11u) % 256u);
}

/* An IDX header by hand: 00 00 type ndim, then big-endian sizes. Returns its length. */
static size_t make_header(uint8_t *out, int type, int ndim, const uint32_t *dims)
{
    out[0] = 0; out[1] = 0; out[2] = (uint8_t)type; out[3] = (uint8_t)ndim;
    for (int d = 0; d < ndim; d++) {
        out[4 + 4 * d] = (uint8_t)(dims[d] >> 24);
        out[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        out[6 + 4 * d] = (uint8_t)(dims[d] >> 8);
        out[7 + 4 * d] = (uint8_t)dims[d];
    }
    return 4 + 4 * (size_t)ndim;
}

/* Header followed by body_len pattern bytes; gz = 1 writes it through gzip. */
static void write_idx(const char *path, int gz, int type, int ndim, const uint32_t *dims, size_t body_len)
{
    size_t cap = 4 + 4 * 8 + body_len;
    uint8_t *bytes = malloc(cap);
    ck_assert_ptr_nonnull(bytes);
    size_t len = make_header(bytes, type, ndim, dims);
    for (size_t i = 0; i < body_len; i++) bytes[len + i] = pattern_byte(i / PIXELS, i % PIXELS);
    len += body_len;
    if (gz) {
        gzFile g = gzopen(path, "wb");
        ck_assert_ptr_nonnull(g);
        ck_assert_int_eq(gzwrite(g, bytes, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(g), Z_OK);
    } else {
        FILE *fp = fopen(path, "wb");
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(fwrite(bytes, 1, len, fp), len);
        ck_assert_int_eq(fclose(fp), 0);
    }
    free(bytes);
}

static void tmp_path(char *out, size_t len, const char *dir, const char *name)
{
    ck_assert_int_eq(path_join(out, len, dir, name), AE_OK);
}

/* ---- Core ---- */

static void check_pattern_images(const idx_array *a, size_t count)
{
    ck_assert_int_eq(a->ndim, 3);
    ck_assert_int_eq(a->dims[0], (int)count);
    ck_assert_int_eq(a->dims[1], SIDE);
    ck_assert_int_eq(a->dims[2], SIDE);
    ck_assert_uint_eq(a->count, count);
    ck_assert_uint_eq(a->item_size, PIXELS);
    for (size_t i = 0; i < count; i++)
        for (size_t p = 0; p < PIXELS; p++)
            ck_assert_uint_eq(a->data[i * PIXELS + p], pattern_byte(i, p));
}

START_TEST(loads_raw_and_gzip_images)
{
    const char *dir = test_tmpdir();
    const uint32_t dims[3] = {3, SIDE, SIDE};
    char raw[AE_PATH_MAX], gz[AE_PATH_MAX];
    tmp_path(raw, sizeof raw, dir, "images-raw");
    tmp_path(gz, sizeof gz, dir, "images.gz");
    write_idx(raw, 0, 0x08, 3, dims, 3 * PIXELS);
    write_idx(gz, 1, 0x08, 3, dims, 3 * PIXELS);

    idx_array a;
    ck_assert_int_eq(idx_load(&a, raw), AE_OK);
    check_pattern_images(&a, 3);
    idx_free(&a);
    ck_assert_ptr_null(a.data);
    ck_assert_int_eq(idx_load(&a, gz), AE_OK);
    check_pattern_images(&a, 3);
    idx_free(&a);
    idx_free(&a);   /* twice: a zeroed struct is fine */
}
END_TEST

START_TEST(loads_labels_one_dimension)
{
    const char *dir = test_tmpdir();
    const uint32_t dims[1] = {7};
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, dir, "labels.gz");
    write_idx(path, 1, 0x08, 1, dims, 7);
    idx_array a;
    ck_assert_int_eq(idx_load(&a, path), AE_OK);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_uint_eq(a.count, 7);
    ck_assert_uint_eq(a.item_size, 1);
    for (size_t i = 0; i < 7; i++) ck_assert_uint_eq(a.data[i], pattern_byte(i / PIXELS, i % PIXELS));
    idx_free(&a);
}
END_TEST

START_TEST(save_gz_round_trip_and_truncate)
{
    const char *dir = test_tmpdir();
    idx_array a = {.ndim = 3, .dims = {4, SIDE, SIDE}, .count = 4, .item_size = PIXELS};
    a.data = malloc(4 * PIXELS);
    for (size_t i = 0; i < 4 * PIXELS; i++) a.data[i] = pattern_byte(i / PIXELS, i % PIXELS);
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, dir, "saved.gz");
    ck_assert_int_eq(idx_save_gz(&a, path), AE_OK);

    /* gzip magic 1f 8b, and the decompressed bytes are the hand-made header plus the data */
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fgetc(fp), 0x1f);
    ck_assert_int_eq(fgetc(fp), 0x8b);
    fclose(fp);
    uint8_t expected_header[16], header[16];
    const uint32_t dims[3] = {4, SIDE, SIDE};
    make_header(expected_header, 0x08, 3, dims);
    gzFile g = gzopen(path, "rb");
    ck_assert_int_eq(gzread(g, header, 16), 16);
    gzclose(g);
    ck_assert_mem_eq(header, expected_header, 16);

    idx_array b;
    ck_assert_int_eq(idx_load(&b, path), AE_OK);
    check_pattern_images(&b, 4);
    idx_truncate(&b, 2);
    ck_assert_uint_eq(b.count, 2);
    ck_assert_int_eq(b.dims[0], 2);
    idx_truncate(&b, 9);   /* more than there is: unchanged */
    ck_assert_uint_eq(b.count, 2);
    check_pattern_images(&b, 2);
    idx_free(&b);
    idx_free(&a);
}
END_TEST

START_TEST(class_names)
{
    const char *expected[FASHION_CLASSES] = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };
    for (int c = 0; c < FASHION_CLASSES; c++) ck_assert_str_eq(fashion_class_name(c), expected[c]);
    ck_assert_ptr_nonnull(fashion_class_name(10));
    ck_assert_ptr_nonnull(fashion_class_name(-1));
}
END_TEST

/* The first image of each class, in class order; a missing class leaves no gap. */
START_TEST(first_of_each_class)
{
    uint8_t labels[12] = { 3, 0, 3, 9, 1, 0, 2, 4, 5, 6, 7, 9 };   /* no 8 */
    idx_array a = { .ndim = 1, .dims = { 12 }, .count = 12, .item_size = 1, .data = labels };
    size_t index[FASHION_CLASSES];
    ck_assert_int_eq(fashion_first_of_each_class(index, &a), 9);
    const size_t expected[9] = { 1, 4, 6, 0, 7, 8, 9, 10, 3 };
    for (int k = 0; k < 9; k++) ck_assert_uint_eq(index[k], expected[k]);
}
END_TEST

START_TEST(images_to_float_scales_by_255)
{
    uint8_t bytes[3 * 4] = {0, 255, 37, 200, 1, 2, 3, 4, 128, 254, 99, 17};
    idx_array images = {.ndim = 3, .dims = {3, 2, 2}, .count = 3, .item_size = 4, .data = bytes};
    const size_t index[2] = {2, 0};
    float x[2 * 4];
    images_to_float(x, &images, index, 2);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 4; p++)
            ck_assert_double_eq_tol(x[i * 4 + p], bytes[index[i] * 4 + p] / 255.0, 1e-7);
    ck_assert_float_eq(x[4], 0.0f);
    ck_assert_float_eq(x[5], 1.0f);
}
END_TEST

/* Five 28×28 images of the test pattern, owned by the caller. */
static idx_array pattern_images(size_t count)
{
    idx_array a = {.ndim = 3, .dims = {(int)count, SIDE, SIDE}, .count = count, .item_size = PIXELS};
    a.data = malloc(count * PIXELS);
    ck_assert_ptr_nonnull(a.data);
    for (size_t i = 0; i < count * PIXELS; i++) a.data[i] = pattern_byte(i / PIXELS, i % PIXELS);
    return a;
}

START_TEST(clean_source_gives_image_as_input_and_target)
{
    idx_array images = pattern_images(5);
    image_source_ctx ctx = {.images = &images};
    batch_source src = image_batch_source(&ctx);
    ck_assert_uint_eq(src.count, 5);
    ck_assert_uint_eq(src.x_size, PIXELS);
    ck_assert_uint_eq(src.y_size, PIXELS);
    const size_t index[2] = {4, 1};
    float x[2 * PIXELS], y[2 * PIXELS];
    ck_assert_int_eq(src.fill(src.ctx, index, 2, x, y), AE_OK);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < PIXELS; p++) {
            double clean = pattern_byte(index[i], p) / 255.0;
            ck_assert_double_eq_tol(x[i * PIXELS + p], clean, 1e-7);
            ck_assert_double_eq_tol(y[i * PIXELS + p], clean, 1e-7);
        }
    idx_free(&images);
}
END_TEST

START_TEST(noise_is_fixed_per_sample_and_clipped)
{
    idx_array images = pattern_images(5);
    image_source_ctx ctx = {.images = &images, .noise_factor = 0.385, .noise_seed = 2385};
    batch_source src = image_batch_source(&ctx);
    const size_t index[3] = {3, 1, 3};
    static float x[3 * PIXELS], y[3 * PIXELS], again[PIXELS], target[PIXELS];
    ck_assert_int_eq(src.fill(src.ctx, index, 3, x, y), AE_OK);

    /* inputs in [0,1]; targets are the clean images */
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < PIXELS; p++) {
            float v = x[i * PIXELS + p];
            ck_assert(v >= 0.0f && v <= 1.0f);
            ck_assert_double_eq_tol(y[i * PIXELS + p], pattern_byte(index[i], p) / 255.0, 1e-7);
        }
    /* the same sample twice in a batch: the same noise */
    ck_assert_mem_eq(x, x + 2 * PIXELS, PIXELS * sizeof(float));
    /* another batch, another position, later: still the same noise */
    ck_assert_int_eq(src.fill(src.ctx, &index[1], 1, again, target), AE_OK);
    ck_assert_mem_eq(again, x + PIXELS, PIXELS * sizeof(float));

    /* noise differs between samples: compare the noise x − clean where neither is clipped */
    int differing = 0, compared = 0;
    for (int p = 0; p < PIXELS; p++) {
        double n3 = x[p] - y[p], n1 = x[PIXELS + p] - y[PIXELS + p];
        if (x[p] > 0 && x[p] < 1 && x[PIXELS + p] > 0 && x[PIXELS + p] < 1) {
            compared++;
            differing += fabs(n3 - n1) > 1e-6;
        }
    }
    ck_assert_int_gt(compared, 100);
    ck_assert_int_eq(differing, compared);

    /* another seed, other noise */
    ctx.noise_seed = 2386;
    ck_assert_int_eq(src.fill(src.ctx, &index[1], 1, again, target), AE_OK);
    ck_assert(memcmp(again, x + PIXELS, PIXELS * sizeof(float)) != 0);
    idx_free(&images);
}
END_TEST

START_TEST(noise_is_gaussian_with_the_given_std)
{
    /* Grey images (128/255): with std 0.1 clipping at 0 and 1 is five sigmas away. */
    const size_t count = 20;
    idx_array images = pattern_images(count);
    memset(images.data, 128, count * PIXELS);
    image_source_ctx ctx = {.images = &images, .noise_factor = 0.1, .noise_seed = 77};
    batch_source src = image_batch_source(&ctx);
    size_t index[20];
    for (size_t i = 0; i < count; i++) index[i] = i;
    float *x = malloc(count * PIXELS * sizeof *x), *y = malloc(count * PIXELS * sizeof *y);
    ck_assert_int_eq(src.fill(src.ctx, index, (int)count, x, y), AE_OK);
    double sum = 0, sum_sq = 0;
    size_t n = count * PIXELS;
    for (size_t k = 0; k < n; k++) {
        double noise = x[k] - 128.0 / 255.0;
        sum += noise;
        sum_sq += noise * noise;
    }
    double mean = sum / n, std = sqrt(sum_sq / n - mean * mean);
    /* n = 15680: standard errors 0.0008 (mean) and 0.0006 (std); the tolerances are 6 of them */
    ck_assert_double_eq_tol(mean, 0.0, 0.005);
    ck_assert_double_eq_tol(std, 0.1, 0.004);
    /* Gaussian, not merely of that std: P(|z| < 1) = 0.6827 (a uniform law would give 0.577) */
    size_t within = 0;
    for (size_t k = 0; k < n; k++) within += fabs(x[k] - 128.0 / 255.0) < 0.1;
    ck_assert_double_eq_tol((double)within / n, 0.6827, 0.02);
    /* neighbouring images get unrelated noise: Pearson r of 784 pairs, standard error 0.036 */
    for (size_t i = 0; i + 1 < count; i++) {
        double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
        for (size_t p = 0; p < PIXELS; p++) {
            double na = x[i * PIXELS + p] - 128.0 / 255.0, nb = x[(i + 1) * PIXELS + p] - 128.0 / 255.0;
            sa += na; sb += nb; sab += na * nb; saa += na * na; sbb += nb * nb;
        }
        double cov = sab / PIXELS - (sa / PIXELS) * (sb / PIXELS);
        double r = cov / sqrt((saa / PIXELS - (sa / PIXELS) * (sa / PIXELS)) *
                              (sbb / PIXELS - (sb / PIXELS) * (sb / PIXELS)));
        ck_assert_msg(fabs(r) < 0.15, "noise of images %zu and %zu correlates: r = %.3f", i, i + 1, r);
    }

    /* Black images with std 0.5: about half the noisy pixels fall below 0 and are clipped to 0. */
    memset(images.data, 0, count * PIXELS);
    ctx.noise_factor = 0.5;
    ck_assert_int_eq(src.fill(src.ctx, index, (int)count, x, y), AE_OK);
    size_t zeros = 0;
    for (size_t k = 0; k < n; k++) zeros += x[k] == 0.0f;
    ck_assert_double_eq_tol((double)zeros / n, 0.5, 0.03);
    free(x);
    free(y);
    idx_free(&images);
}
END_TEST

START_TEST(subset_maps_sample_to_image)
{
    idx_array images = pattern_images(5);
    const size_t subset[2] = {4, 0};
    image_source_ctx ctx = {.images = &images, .subset = subset, .n_subset = 2,
                            .noise_factor = 0.25, .noise_seed = 9};
    batch_source src = image_batch_source(&ctx);
    ck_assert_uint_eq(src.count, 2);
    const size_t index[2] = {0, 1};
    static float x[2 * PIXELS], y[2 * PIXELS], x_full[PIXELS], y_full[PIXELS];
    ck_assert_int_eq(src.fill(src.ctx, index, 2, x, y), AE_OK);
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < PIXELS; p++)
            ck_assert_double_eq_tol(y[i * PIXELS + p], pattern_byte(subset[i], p) / 255.0, 1e-7);

    /* the noise follows the image: subset sample 0 is noised like image 4 without a subset */
    image_source_ctx whole = {.images = &images, .noise_factor = 0.25, .noise_seed = 9};
    batch_source all = image_batch_source(&whole);
    const size_t four = 4;
    ck_assert_int_eq(all.fill(all.ctx, &four, 1, x_full, y_full), AE_OK);
    ck_assert_mem_eq(x, x_full, PIXELS * sizeof(float));

    /* a sample past the end is refused */
    const size_t past = 2;
    ck_assert_int_eq(src.fill(src.ctx, &past, 1, x, y), AE_EDOM);
    idx_free(&images);
}
END_TEST

/* A tiny complete data folder: n training and m test images, labels i % 10. gz = 0 writes raw files. */
static void write_fashion_folder(const char *dir, uint32_t n, uint32_t m, int gz)
{
    ck_assert_int_eq(mkdir_p(dir), AE_OK);
    const char *suffix = gz ? ".gz" : "";
    char name[64], path[AE_PATH_MAX];
    const uint32_t train_dims[3] = {n, SIDE, SIDE}, test_dims[3] = {m, SIDE, SIDE};
    snprintf(name, sizeof name, "train-images-idx3-ubyte%s", suffix);
    tmp_path(path, sizeof path, dir, name);
    write_idx(path, gz, 0x08, 3, train_dims, n * PIXELS);
    snprintf(name, sizeof name, "t10k-images-idx3-ubyte%s", suffix);
    tmp_path(path, sizeof path, dir, name);
    write_idx(path, gz, 0x08, 3, test_dims, m * PIXELS);

    for (int split = 0; split < 2; split++) {
        uint32_t count = split == 0 ? n : m;
        uint8_t bytes[8 + 256];
        size_t len = make_header(bytes, 0x08, 1, &count);
        for (uint32_t i = 0; i < count; i++) bytes[len + i] = (uint8_t)(i % 10);
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", split == 0 ? "train" : "t10k", suffix);
        tmp_path(path, sizeof path, dir, name);
        FILE *fp = fopen(path, "wb");
        ck_assert_ptr_nonnull(fp);
        fwrite(bytes, 1, len + count, fp);
        fclose(fp);
        if (gz) {   /* recompress in place */
            gzFile g = gzopen(path, "wb");
            gzwrite(g, bytes, (unsigned)(len + count));
            gzclose(g);
        }
    }
}

START_TEST(loads_a_fashion_folder_with_limit)
{
    char dir[AE_PATH_MAX];
    tmp_path(dir, sizeof dir, test_tmpdir(), "plain");
    write_fashion_folder(dir, 13, 7, 0);   /* names without .gz are accepted too */
    fashion_mnist fm;
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_OK);
    ck_assert_uint_eq(fm.train.images.count, 13);
    ck_assert_uint_eq(fm.test.labels.count, 7);
    ck_assert_str_eq(fm.dir, dir);
    ck_assert_int_eq(fm.is_sample, 0);
    check_pattern_images(&fm.test.images, 7);
    for (size_t i = 0; i < 13; i++) ck_assert_uint_eq(fm.train.labels.data[i], i % 10);
    fashion_mnist_free(&fm);

    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 5), AE_OK);
    ck_assert_uint_eq(fm.train.images.count, 5);
    ck_assert_uint_eq(fm.train.labels.count, 5);
    ck_assert_uint_eq(fm.test.images.count, 5);
    ck_assert_uint_eq(fm.test.labels.count, 5);
    check_pattern_images(&fm.train.images, 5);
    fashion_mnist_free(&fm);
}
END_TEST

/* Restores FASHION_MNIST_DIR and the working folder when a test ends (tests may run unforked). */

static int folder_complete(const char *dir)
{
    const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int f = 0; f < 4; f++) {
        char gz[AE_PATH_MAX + 8], raw[AE_PATH_MAX];
        snprintf(raw, sizeof raw, "%s/%s", dir, names[f]);
        snprintf(gz, sizeof gz, "%s.gz", raw);
        if (!file_exists(gz) && !file_exists(raw)) return 0;
    }
    return 1;
}

START_TEST(locate_order)
{
    test_env_save("FASHION_MNIST_DIR");
    const char *tmp = test_tmpdir();
    char full[AE_PATH_MAX], other[AE_PATH_MAX], empty[AE_PATH_MAX], work[AE_PATH_MAX];
    tmp_path(full, sizeof full, tmp, "full");
    tmp_path(other, sizeof other, tmp, "other");
    tmp_path(empty, sizeof empty, tmp, "empty");
    tmp_path(work, sizeof work, tmp, "work");
    write_fashion_folder(full, 3, 2, 1);
    write_fashion_folder(other, 3, 2, 1);
    ck_assert_int_eq(mkdir_p(empty), AE_OK);
    ck_assert_int_eq(mkdir_p(work), AE_OK);
    char dir[AE_PATH_MAX];
    int is_sample = -1;

    /* 1. --data wins over the variable */
    setenv("FASHION_MNIST_DIR", other, 1);
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, full, &is_sample), AE_OK);
    ck_assert_str_eq(dir, full);
    ck_assert_int_eq(is_sample, 0);
    /* 2. the variable when there is no --data (NULL or empty) */
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
    ck_assert_str_eq(dir, other);
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, "", &is_sample), AE_OK);
    ck_assert_str_eq(dir, other);

    /* 3. data/fashion-mnist under the working folder */
    unsetenv("FASHION_MNIST_DIR");
    char local[AE_PATH_MAX];
    tmp_path(local, sizeof local, work, "data/fashion-mnist");
    write_fashion_folder(local, 3, 2, 1);
    ck_assert_int_eq(chdir(work), 0);
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
    ck_assert_str_eq(dir, "data/fashion-mnist");
    ck_assert_int_eq(is_sample, 0);

    /* 4. elsewhere: the repository's data/fashion-mnist if complete, else the sample */
    ck_assert_int_eq(chdir(empty), 0);
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
    if (folder_complete(AE_ROOT "/data/fashion-mnist")) {
        ck_assert_str_eq(dir, AE_ROOT "/data/fashion-mnist");
        ck_assert_int_eq(is_sample, 0);
    } else {
        ck_assert_str_eq(dir, AE_ROOT "/data/sample");
        ck_assert_int_eq(is_sample, 1);
    }
    /* 5. Debian's dataset-fashion-mnist after data/fashion-mnist, before the sample (a folder of
     * our own stands for it); an empty FASHION_MNIST_SYSTEM_DIR leaves it out */
    if (!folder_complete(AE_ROOT "/data/fashion-mnist")) {
        setenv("FASHION_MNIST_SYSTEM_DIR", full, 1);
        ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
        ck_assert_str_eq(dir, full);
        ck_assert_int_eq(is_sample, 0);
        setenv("FASHION_MNIST_SYSTEM_DIR", empty, 1);   /* a folder without the files is passed over */
        ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
        ck_assert_str_eq(dir, AE_ROOT "/data/sample");
        setenv("FASHION_MNIST_SYSTEM_DIR", "", 1);
    }
    /* the sample named explicitly is still known as the sample */
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, sample_data_dir(), &is_sample), AE_OK);
    ck_assert_int_eq(is_sample, 1);
    test_env_restore();
}
END_TEST

/* ---- Limits ---- */

typedef struct {
    const char *what;            /* what is wrong, for the failure message */
    int gz;                      /* write through gzip */
    int type, ndim;
    uint32_t dims[IDX_MAX_DIMS + 1];
    size_t body;                 /* bytes after the header */
    const char *needle;          /* the message must say this, besides the file name */
} bad_idx;

static const bad_idx BAD_FILES[] = {
    {"truncated body", 0, 0x08, 3, {3, SIDE, SIDE}, 1200, "body has 1200 bytes, the header promises 2352"},
    {"truncated body, gzip", 1, 0x08, 3, {3, SIDE, SIDE}, 1200, "truncated"},
    {"trailing bytes", 0, 0x08, 3, {3, SIDE, SIDE}, 2352 + 5, "5 bytes too many"},
    {"trailing bytes, gzip", 1, 0x08, 1, {9}, 12, "3 bytes too many"},
    {"rows do not match the length", 0, 0x08, 3, {2, SIDE, SIDE}, 2 * SIDE * 27, "1512"},
    {"zero dimension", 0, 0x08, 3, {3, 0, SIDE}, 0, "zero"},
    {"zero count", 1, 0x08, 1, {0}, 0, "zero"},
    {"float type byte", 0, 0x0D, 3, {3, SIDE, SIDE}, 3 * 4 * PIXELS, "0x0d"},
    {"signed byte type", 1, 0x09, 1, {4}, 4, "0x09"},
    {"no dimensions", 0, 0x08, 0, {0}, 16, "0 dimensions"},
    {"five dimensions", 0, 0x08, 5, {1, 1, 1, 1, 1}, 1, "5 dimensions"},
    {"lying header, huge", 0, 0x08, 3, {0x7fffffffu, 0x7fffffffu, 0x7fffffffu}, 100, "corrupt"},
    {"lying header, 1e6 images", 1, 0x08, 3, {1000000, SIDE, SIDE}, 100, "the header promises 784000000"},
};
#define N_BAD (int)(sizeof BAD_FILES / sizeof BAD_FILES[0])

START_TEST(refuses_bad_idx)
{
    const bad_idx *bad = &BAD_FILES[_i];
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, test_tmpdir(), bad->gz ? "bad.gz" : "bad");
    write_idx(path, bad->gz, bad->type, bad->ndim, bad->dims, bad->body);
    idx_array a;
    int status = idx_load(&a, path);
    ck_assert_msg(status == AE_EFORMAT, "%s: got %s (%s)", bad->what, error_name(status), error_message());
    ck_assert_ptr_null(a.data);
    ck_assert_msg(strstr(error_message(), path), "%s: message lacks the file name: %s", bad->what, error_message());
    ck_assert_msg(strstr(error_message(), bad->needle), "%s: message lacks '%s': %s", bad->what,
                  bad->needle, error_message());
}
END_TEST

/* Writes exactly len bytes. */
static void write_bytes(const char *path, const void *bytes, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(bytes, 1, len, fp), len);
    fclose(fp);
}

static void expect_refused(const char *path, int code, const char *needle)
{
    idx_array a;
    int status = idx_load(&a, path);
    ck_assert_msg(status == code, "%s: expected %s, got %s (%s)", path, error_name(code),
                  error_name(status), error_message());
    ck_assert_ptr_null(a.data);
    ck_assert_msg(strstr(error_message(), path), "message lacks the file name: %s", error_message());
    ck_assert_msg(strstr(error_message(), needle), "message lacks '%s': %s", needle, error_message());
}

START_TEST(refuses_empty_short_missing_and_not_idx)
{
    const char *dir = test_tmpdir();
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, dir, "empty.gz");
    write_bytes(path, "", 0);
    expect_refused(path, AE_EFORMAT, "empty");

    tmp_path(path, sizeof path, dir, "short");
    const uint8_t header_cut[6] = {0, 0, 8, 3, 0, 0};
    write_bytes(path, header_cut, sizeof header_cut);
    expect_refused(path, AE_EFORMAT, "truncated");

    tmp_path(path, sizeof path, dir, "three-bytes");
    write_bytes(path, header_cut, 3);
    expect_refused(path, AE_EFORMAT, "too short");

    tmp_path(path, sizeof path, dir, "text.idx");
    write_bytes(path, "hello, world\n", 13);
    expect_refused(path, AE_EFORMAT, "not an IDX file");

    tmp_path(path, sizeof path, dir, "empty-stream.gz");
    gzFile g = gzopen(path, "wb");
    gzclose(g);
    expect_refused(path, AE_EFORMAT, "no data");

    tmp_path(path, sizeof path, dir, "no-such-file.gz");
    expect_refused(path, AE_ENOENT, "no such file");
}
END_TEST

START_TEST(refuses_corrupt_and_cut_gzip)
{
    const char *dir = test_tmpdir();
    char good[AE_PATH_MAX], path[AE_PATH_MAX];
    tmp_path(good, sizeof good, dir, "good.gz");
    const uint32_t dims[3] = {6, SIDE, SIDE};
    write_idx(good, 1, 0x08, 3, dims, 6 * PIXELS);
    FILE *fp = fopen(good, "rb");
    ck_assert_ptr_nonnull(fp);
    static uint8_t bytes[1 << 16];
    size_t len = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    ck_assert_uint_gt(len, 200);

    /* a few bytes overwritten in the middle of the deflate data: a CRC or stream error */
    for (size_t k = len / 2; k < len / 2 + 4; k++) bytes[k] ^= 0x5a;
    tmp_path(path, sizeof path, dir, "corrupt.gz");
    write_bytes(path, bytes, len);
    expect_refused(path, AE_EFORMAT, "gzip data is corrupt");
    for (size_t k = len / 2; k < len / 2 + 4; k++) bytes[k] ^= 0x5a;

    /* the compressed file cut in half: the stream ends early */
    tmp_path(path, sizeof path, dir, "cut.gz");
    write_bytes(path, bytes, len / 2);
    expect_refused(path, AE_EFORMAT, "gzip stream ends early");

    /* bytes after the gzip data, which zlib itself passes over */
    memcpy(bytes + len, "JUNK", 4);
    tmp_path(path, sizeof path, dir, "junk.gz");
    write_bytes(path, bytes, len + 4);
    expect_refused(path, AE_EFORMAT, "4 bytes follow its gzip data");

    /* two gzip members one after the other are one file, as gzip itself reads them */
    uint8_t raw[8 + 4 * 3 + 6 * PIXELS];
    size_t header = make_header(raw, 0x08, 3, dims);
    for (size_t i = 0; i < 6 * PIXELS; i++) raw[header + i] = pattern_byte(i / PIXELS, i % PIXELS);
    tmp_path(path, sizeof path, dir, "two-members.gz");
    for (int part = 0; part < 2; part++) {
        gzFile g = gzopen(path, part ? "ab" : "wb");
        ck_assert_ptr_nonnull(g);
        size_t from = part ? 1000 : 0, to = part ? header + 6 * PIXELS : 1000;
        ck_assert_int_eq(gzwrite(g, raw + from, (unsigned)(to - from)), (int)(to - from));
        ck_assert_int_eq(gzclose(g), Z_OK);
    }
    idx_array a;
    ck_assert_int_eq(idx_load(&a, path), AE_OK);
    check_pattern_images(&a, 6);
    idx_free(&a);
}
END_TEST

START_TEST(fashion_load_checks_the_pair)
{
    const char *tmp = test_tmpdir();
    char dir[AE_PATH_MAX], path[AE_PATH_MAX];
    fashion_mnist fm;

    /* a missing file */
    tmp_path(dir, sizeof dir, tmp, "incomplete");
    write_fashion_folder(dir, 4, 3, 1);
    tmp_path(path, sizeof path, dir, "t10k-labels-idx1-ubyte.gz");
    ck_assert_int_eq(remove(path), 0);
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "t10k-labels-idx1-ubyte"));
    ck_assert_ptr_null(fm.train.images.data);

    /* counts that disagree: 4 test images, 5 labels, in a raw file (the name without .gz) */
    write_fashion_folder(dir, 4, 4, 1);
    tmp_path(path, sizeof path, dir, "t10k-labels-idx1-ubyte.gz");
    ck_assert_int_eq(remove(path), 0);
    uint8_t labels[8 + 5];
    uint32_t five = 5;
    size_t len = make_header(labels, 0x08, 1, &five);
    memcpy(labels + len, (uint8_t[]){1, 2, 3, 4, 5}, 5);
    tmp_path(path, sizeof path, dir, "t10k-labels-idx1-ubyte");
    write_bytes(path, labels, len + 5);
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "4 images but"));

    /* a label outside 0..9 */
    uint32_t four = 4;
    len = make_header(labels, 0x08, 1, &four);
    memcpy(labels + len, (uint8_t[]){1, 2, 12, 4}, 4);
    write_bytes(path, labels, len + 4);
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "label 12 at position 2"));

    /* images that are not 28 x 28 */
    memcpy(labels + len, (uint8_t[]){1, 2, 3, 4}, 4);
    write_bytes(path, labels, len + 4);
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_OK);
    fashion_mnist_free(&fm);
    const uint32_t wide[3] = {4, SIDE, SIDE + 1};
    tmp_path(path, sizeof path, dir, "t10k-images-idx3-ubyte.gz");
    write_idx(path, 1, 0x08, 3, wide, 4 * SIDE * (SIDE + 1));
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_EFORMAT);
    ck_assert_ptr_nonnull(strstr(error_message(), "not 28 x 28"));

    /* an honest but huge header, one 65536 x 65536 image: refused from the header, its body never read */
    const uint32_t huge[3] = {1, 65536, 65536};
    write_idx(path, 1, 0x08, 3, huge, 4096);
    ck_assert_int_eq(fashion_mnist_load(&fm, dir, 0), AE_EFORMAT);   /* not "truncated": the body was not read */
    ck_assert_ptr_nonnull(strstr(error_message(), "1 x 65536 x 65536: not 28 x 28 images (nothing of its body was read)"));
}
END_TEST

START_TEST(locate_refuses_incomplete_named_folders)
{
    test_env_save("FASHION_MNIST_DIR");
    const char *tmp = test_tmpdir();
    char dir[AE_PATH_MAX], found[AE_PATH_MAX], path[AE_PATH_MAX];
    tmp_path(dir, sizeof dir, tmp, "three-of-four");
    write_fashion_folder(dir, 3, 2, 1);
    tmp_path(path, sizeof path, dir, "train-labels-idx1-ubyte.gz");
    ck_assert_int_eq(remove(path), 0);
    int is_sample = -1;

    unsetenv("FASHION_MNIST_DIR");
    ck_assert_int_eq(fashion_mnist_locate(found, sizeof found, dir, &is_sample), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "train-labels-idx1-ubyte"));
    ck_assert_ptr_nonnull(strstr(error_message(), "make data"));
    ck_assert_ptr_nonnull(strstr(error_message(), "--data"));

    /* the variable set to an incomplete folder does not fall back to the sample */
    setenv("FASHION_MNIST_DIR", dir, 1);
    ck_assert_int_eq(fashion_mnist_locate(found, sizeof found, NULL, &is_sample), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "FASHION_MNIST_DIR"));
    ck_assert_ptr_nonnull(strstr(error_message(), "train-labels-idx1-ubyte"));

    /* a folder that does not exist */
    tmp_path(path, sizeof path, tmp, "nowhere");
    ck_assert_int_eq(fashion_mnist_locate(found, sizeof found, path, &is_sample), AE_ENOENT);
    ck_assert_ptr_nonnull(strstr(error_message(), "no such folder"));
    test_env_restore();
}
END_TEST

/* ---- Sample ---- */

/* Σ of the image bytes of an IDX .gz file, read with zlib alone (skipping the 16-byte header). */
static unsigned long long byte_sum_of_images(const char *path, size_t *bytes)
{
    gzFile g = gzopen(path, "rb");
    ck_assert_ptr_nonnull(g);
    uint8_t buf[1 << 15];
    unsigned long long sum = 0;
    *bytes = 0;
    ck_assert_int_eq(gzread(g, buf, 16), 16);
    for (int n; (n = gzread(g, buf, sizeof buf)) > 0;) {
        for (int k = 0; k < n; k++) sum += buf[k];
        *bytes += (size_t)n;
    }
    gzclose(g);
    return sum;
}

START_TEST(sample_loads_balanced)
{
    fashion_mnist fm;
    test_load_sample(&fm, 0);
    ck_assert_int_eq(fm.is_sample, 1);
    ck_assert_uint_eq(fm.train.images.count, 600);
    ck_assert_uint_eq(fm.train.labels.count, 600);
    ck_assert_uint_eq(fm.test.images.count, 200);
    ck_assert_uint_eq(fm.test.labels.count, 200);
    ck_assert_uint_eq(fm.train.images.item_size, FASHION_PIXELS);

    int train_per_class[FASHION_CLASSES] = {0}, test_per_class[FASHION_CLASSES] = {0};
    for (size_t i = 0; i < 600; i++) train_per_class[fm.train.labels.data[i]]++;
    for (size_t i = 0; i < 200; i++) test_per_class[fm.test.labels.data[i]]++;
    for (int c = 0; c < FASHION_CLASSES; c++) {
        ck_assert_int_eq(train_per_class[c], 60);
        ck_assert_int_eq(test_per_class[c], 20);
    }

    /* the pixel mean through the library equals the one read with zlib alone, and is plausible:
     * the full training set's is 0.2860, and 60 images per class keep a sample near it */
    char path[AE_PATH_MAX];
    tmp_path(path, sizeof path, sample_data_dir(), "train-images-idx3-ubyte.gz");
    size_t bytes;
    unsigned long long direct_sum = byte_sum_of_images(path, &bytes);
    ck_assert_uint_eq(bytes, 600 * FASHION_PIXELS);
    unsigned long long loaded_sum = 0;
    for (size_t k = 0; k < 600 * FASHION_PIXELS; k++) loaded_sum += fm.train.images.data[k];
    ck_assert_uint_eq(loaded_sum, direct_sum);
    double mean = (double)direct_sum / (600.0 * FASHION_PIXELS * 255.0);
    ck_assert_msg(mean > 0.26 && mean < 0.31, "sample pixel mean %.4f outside (0.26, 0.31)", mean);
    fashion_mnist_free(&fm);
}
END_TEST

START_TEST(sample_is_found_without_other_data)
{
    test_env_save("FASHION_MNIST_DIR");
    unsetenv("FASHION_MNIST_DIR");
    ck_assert_int_eq(chdir(test_tmpdir()), 0);
    char dir[AE_PATH_MAX];
    int is_sample = -1;
    ck_assert_int_eq(fashion_mnist_locate(dir, sizeof dir, NULL, &is_sample), AE_OK);
    if (!folder_complete(AE_ROOT "/data/fashion-mnist")) {
        ck_assert_str_eq(dir, sample_data_dir());
        ck_assert_int_eq(is_sample, 1);
    }
    test_env_restore();
}
END_TEST

Suite *data_suite(void)
{
    Suite *s = suite_create("data");

    test_add(test_case(s, "Core", 0), loads_raw_and_gzip_images, loads_labels_one_dimension,
             save_gz_round_trip_and_truncate, class_names, first_of_each_class, images_to_float_scales_by_255,
             clean_source_gives_image_as_input_and_target, noise_is_fixed_per_sample_and_clipped,
             noise_is_gaussian_with_the_given_std, subset_maps_sample_to_image, loads_a_fashion_folder_with_limit,
             locate_order);

    TCase *limits = test_case(s, "Limits", 0);
    tcase_add_loop_test(limits, refuses_bad_idx, 0, N_BAD);
    test_add(limits, refuses_empty_short_missing_and_not_idx, refuses_corrupt_and_cut_gzip,
             fashion_load_checks_the_pair, locate_refuses_incomplete_named_folders);

    test_add(test_case(s, "Sample", 0), sample_loads_balanced, sample_is_found_without_other_data);
    return s;
}

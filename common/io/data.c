/* data.c: IDX files and Fashion-MNIST (see data.h).
 *
 * Shapes: N = images, R×C = rows×cols (28×28), P = R·C = 784 pixels per image.
 * Images stay uint8 (N, R, C); floats exist only for the batch being filled.
 */
#include "io/data.h"
#include "engine.h"
#include "fast/fast.h"
#include "fast/vector.h"
#include "error.h"
#include "io/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* No IDX file this course meets comes near this; a header promising more is corrupt. */
#define IDX_MAX_BYTES ((size_t)1 << 32)
/* The first allocation; a header that lies about the size costs no more than this
 * before the body runs out, because the buffer then grows only with data actually read. */
#define IDX_FIRST_ALLOC ((size_t)64 << 20)
/* gzread takes an unsigned int; read in pieces well below that. */
#define IDX_READ_CHUNK ((size_t)1 << 26)

static const char *const HINT_FETCH = "fetch it again (`make data`)";

/* "60000 x 28 x 28" */
static void format_dims(char *out, size_t len, const uint32_t *dims, int ndim)
{
    size_t used = 0;
    out[0] = '\0';
    for (int d = 0; d < ndim && used < len; d++) {
        int n = snprintf(out + used, len - used, d ? " x %lu" : "%lu", (unsigned long)dims[d]);
        if (n < 0) break;
        used += (size_t)n;
    }
}

/* Reads up to want bytes; returns the count read, which is short only at the end of the
 * data or on a gzip error (the caller then asks gzerror which one). */
static size_t gz_read_upto(gzFile gz, uint8_t *buf, size_t want)
{
    size_t got = 0;
    while (got < want) {
        size_t piece = want - got < IDX_READ_CHUNK ? want - got : IDX_READ_CHUNK;
        int n = gzread(gz, buf + got, (unsigned)piece);
        if (n <= 0) break;
        got += (size_t)n;
    }
    return got;
}

/* AE_OK when the stream so far is sound; else AE_EFORMAT saying what is wrong with the gzip. */
static int gz_check(gzFile gz, const char *path)
{
    int zerr = Z_OK;
    const char *why = gzerror(gz, &zerr);
    if (zerr == Z_OK) return AE_OK;
    if (zerr == Z_BUF_ERROR)
        return AE_ERROR(AE_EFORMAT, "%s: the gzip stream ends early: the file is truncated; %s",
                        path, HINT_FETCH);
    if (zerr == Z_MEM_ERROR)
        return AE_ERROR(AE_ENOMEM, "%s: out of memory while decompressing", path);
    /* gzerror prefixes the message with the path, which we already name */
    const char *colon = strstr(why, ": ");
    return AE_ERROR(AE_EFORMAT, "%s: the gzip data is corrupt (%s); %s", path,
                    colon ? colon + 2 : why, HINT_FETCH);
}

static uint32_t big_endian_u32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

/* What the caller expects of a file's items, checked against the header before the body is read
 * (a 65536 x 65536 header is refused at once, not after gigabytes); ndim 0 expects nothing. */
typedef struct {
    int ndim;                     /* 3 for images (N, rows, cols), 1 for labels */
    int item_dims[2];             /* rows, cols */
    const char *what;             /* "28 x 28 images" */
} idx_expect;

static int idx_read(idx_array *out, gzFile gz, const char *path, const idx_expect *expect)
{
    uint8_t magic[4];
    size_t got = gz_read_upto(gz, magic, 4);
    int status = gz_check(gz, path);
    if (status != AE_OK) return status;
    if (got == 0)
        return AE_ERROR(AE_EFORMAT, "%s: holds no data (an empty gzip stream); %s", path, HINT_FETCH);
    if (got < 4)
        return AE_ERROR(AE_EFORMAT, "%s: only %zu bytes, too short for an IDX header; %s",
                        path, got, HINT_FETCH);
    if (magic[0] != 0 || magic[1] != 0)
        return AE_ERROR(AE_EFORMAT, "%s: not an IDX file (it starts with bytes %02x %02x %02x %02x; "
                        "an IDX file starts with 00 00, the type and the number of dimensions)",
                        path, magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != 0x08)
        return AE_ERROR(AE_EFORMAT, "%s: element type 0x%02x is not supported; only unsigned bytes "
                        "(type 0x08) are", path, magic[2]);
    int ndim = magic[3];
    if (ndim < 1 || ndim > IDX_MAX_DIMS)
        return AE_ERROR(AE_EFORMAT, "%s: the header gives %d dimensions; an IDX file here has 1 to %d",
                        path, ndim, IDX_MAX_DIMS);

    uint8_t raw_dims[4 * IDX_MAX_DIMS];
    got = gz_read_upto(gz, raw_dims, 4 * (size_t)ndim);
    status = gz_check(gz, path);
    if (status != AE_OK) return status;
    if (got < 4 * (size_t)ndim)
        return AE_ERROR(AE_EFORMAT, "%s: the header is cut short (%d dimensions announced, the file "
                        "ends inside their sizes): the file is truncated; %s", path, ndim, HINT_FETCH);

    uint32_t dims[IDX_MAX_DIMS];
    size_t total = 1;
    for (int d = 0; d < ndim; d++) {
        dims[d] = big_endian_u32(raw_dims + 4 * d);
        if (dims[d] == 0)
            return AE_ERROR(AE_EFORMAT, "%s: dimension %d of %d is zero; every size must be at least 1",
                            path, d + 1, ndim);
        if (dims[d] > INT_MAX)
            return AE_ERROR(AE_EFORMAT, "%s: dimension %d of the header is %lu, above the %d this reader takes; "
                            "no such file is plausible, the header is corrupt; %s", path, d + 1,
                            (unsigned long)dims[d], INT_MAX, HINT_FETCH);
        if (total > IDX_MAX_BYTES / dims[d])
            return AE_ERROR(AE_EFORMAT, "%s: the header promises %.4g bytes (dimension %d is %lu), more than the "
                            "%zu this reader takes; no such file is plausible, the header is corrupt; %s", path,
                            (double)total * (double)dims[d], d + 1, (unsigned long)dims[d], IDX_MAX_BYTES, HINT_FETCH);
        total *= dims[d];
    }
    char shape[96];
    format_dims(shape, sizeof shape, dims, ndim);
    if (expect && expect->ndim > 0 &&
        (ndim != expect->ndim || (ndim == 3 && ((int)dims[1] != expect->item_dims[0] ||
                                                 (int)dims[2] != expect->item_dims[1]))))
        return AE_ERROR(AE_EFORMAT, "%s: its header gives %s: not %s (nothing of its body was read)", path, shape,
                        expect->what);

    /* Grow the buffer only as data really arrives, so a lying header cannot make us allocate gigabytes. */
    size_t capacity = total < IDX_FIRST_ALLOC ? total : IDX_FIRST_ALLOC;
    uint8_t *data = malloc(capacity);
    if (!data) return AE_ERROR(AE_ENOMEM, "%s: no memory for %zu bytes", path, capacity);
    size_t have = 0;
    for (;;) {
        have += gz_read_upto(gz, data + have, capacity - have);
        if (have < capacity || capacity == total) break;
        size_t grown = capacity * 2 < total ? capacity * 2 : total;
        uint8_t *bigger = realloc(data, grown);
        if (!bigger) {
            free(data);
            return AE_ERROR(AE_ENOMEM, "%s: no memory for %zu bytes", path, grown);
        }
        data = bigger;
        capacity = grown;
    }
    status = gz_check(gz, path);
    if (status != AE_OK) {
        free(data);
        return status;
    }
    if (have < total) {
        free(data);
        return AE_ERROR(AE_EFORMAT, "%s: body has %zu bytes, the header promises %zu (%s): the file "
                        "is truncated; %s", path, have, total, shape, HINT_FETCH);
    }
    /* Anything after the promised body means the header and the data disagree. */
    size_t extra = 0;
    uint8_t scratch[4096];
    for (size_t n; (n = gz_read_upto(gz, scratch, sizeof scratch)) > 0;) extra += n;
    status = gz_check(gz, path);
    if (status != AE_OK) {
        free(data);
        return status;
    }
    if (extra > 0) {
        free(data);
        return AE_ERROR(AE_EFORMAT, "%s: body has %zu bytes, the header promises %zu (%s): %zu bytes "
                        "too many, so header and data disagree; %s", path, total + extra, total, shape,
                        extra, HINT_FETCH);
    }

    out->ndim = ndim;
    for (int d = 0; d < IDX_MAX_DIMS; d++) out->dims[d] = d < ndim ? (int)dims[d] : 0;
    out->count = dims[0];
    out->item_size = total / dims[0];
    out->data = data;
    return AE_OK;
}

/* Bytes after the last gzip member of the file at path (0 when there are none), found by inflating
 * member after member: zlib's gzread ignores what follows a member when it is not another one. */
static int gzip_trailing_bytes(const char *path, size_t *trailing)
{
    FILE *f = fopen(path, "rb");
    if (!f) return AE_ERROR(AE_EIO, "%s: cannot open: %s", path, strerror(errno));
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        fclose(f);
        return AE_ERROR(AE_ENOMEM, "%s: cannot start reading (zlib)", path);
    }
    unsigned char in[1 << 16], out[1 << 16];
    int rc = AE_OK, member_ended = 0, at_end = 0;
    *trailing = 0;
    while (rc == AE_OK && !at_end) {
        if (zs.avail_in == 0) {
            zs.avail_in = (uInt)fread(in, 1, sizeof in, f);
            zs.next_in = in;
            if (zs.avail_in == 0) break;   /* the end of the file, after a member or inside one */
        }
        if (member_ended) {                /* what follows a member: another one, or trailing bytes */
            member_ended = 0;
            if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
                inflateReset(&zs);
            } else {
                size_t rest = zs.avail_in;
                for (size_t n; (n = fread(in, 1, sizeof in, f)) > 0;) rest += n;
                *trailing = rest;
                at_end = 1;
                continue;
            }
        }
        zs.next_out = out;
        zs.avail_out = sizeof out;
        int z = inflate(&zs, Z_NO_FLUSH);
        if (z == Z_STREAM_END) member_ended = 1;
        else if (z != Z_OK && z != Z_BUF_ERROR) rc = AE_ERROR(AE_EFORMAT, "%s: the gzip data is corrupt; %s", path, HINT_FETCH);
    }
    inflateEnd(&zs);
    fclose(f);
    return rc;
}

/* 1 when the file at path starts as gzip does (1f 8b) and its last 4 bytes, a single member's
 * ISIZE, are not the decompressed size mod 2^32: trailing bytes, or several members, to be told
 * apart by gzip_trailing_bytes. The usual file, one member and nothing after it, costs one read. */
static int gzip_needs_walk(const char *path, size_t decompressed)
{
    FILE *f = fopen(path, "rb");
    unsigned char head[2], tail[4];
    int needs = 0;
    if (f && fread(head, 1, 2, f) == 2 && head[0] == 0x1f && head[1] == 0x8b && fseek(f, -4, SEEK_END) == 0 &&
        fread(tail, 1, 4, f) == 4) {
        uint32_t isize = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
        needs = isize != (uint32_t)decompressed;
    }
    if (f) fclose(f);
    return needs;
}

static int idx_load_expecting(idx_array *out, const char *path, const idx_expect *expect)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT)
            return AE_ERROR(AE_ENOENT, "%s: no such file", path);
        return AE_ERROR(AE_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return AE_ERROR(AE_EIO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return AE_ERROR(AE_EFORMAT, "%s: the file is empty; %s", path, HINT_FETCH);
    }
    /* zlib reads gzip and, transparently, plain files: the content decides, not the name. */
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return AE_ERROR(AE_ENOMEM, "%s: cannot start reading (zlib)", path);
    }
    gzbuffer(gz, 1 << 18);
    int status = idx_read(out, gz, path, expect);
    gzclose_r(gz);
    if (status == AE_OK && gzip_needs_walk(path, 4 + 4 * (size_t)out->ndim + out->count * out->item_size)) {
        size_t trailing = 0;
        status = gzip_trailing_bytes(path, &trailing);
        if (status == AE_OK && trailing > 0)
            status = AE_ERROR(AE_EFORMAT, "%s: %zu bytes follow its gzip data: the file was damaged or added to; %s",
                              path, trailing, HINT_FETCH);
        if (status != AE_OK) idx_free(out);
    }
    return status;
}

int idx_load(idx_array *out, const char *path)
{
    return idx_load_expecting(out, path, NULL);
}

/* Sends len bytes through the deflate stream into fp (flush = Z_FINISH at the end). */
static int deflate_to(z_stream *zs, FILE *fp, const uint8_t *bytes, size_t len, int flush)
{
    uint8_t outbuf[1 << 16];
    zs->next_in = (Bytef *)bytes;
    zs->avail_in = (uInt)len;
    int ret;
    do {
        zs->next_out = outbuf;
        zs->avail_out = sizeof outbuf;
        ret = deflate(zs, flush);
        if (ret == Z_STREAM_ERROR) return -1;
        size_t produced = sizeof outbuf - zs->avail_out;
        if (produced && fwrite(outbuf, 1, produced, fp) != produced) return -1;
    } while (zs->avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
    return 0;
}

int idx_save_gz(const idx_array *a, const char *path)
{
    if (!a || !a->data || a->ndim < 1 || a->ndim > IDX_MAX_DIMS)
        return AE_ERROR(AE_EINVAL, "%s: nothing to save (no data or ndim outside 1..%d)", path, IDX_MAX_DIMS);
    size_t item = 1;
    for (int d = 0; d < a->ndim; d++) {
        if (a->dims[d] <= 0)
            return AE_ERROR(AE_EINVAL, "%s: dimension %d is %d", path, d + 1, a->dims[d]);
        if (d > 0) item *= (size_t)a->dims[d];
    }
    if ((size_t)a->dims[0] != a->count || item != a->item_size)
        return AE_ERROR(AE_EBADLEN, "%s: dims disagree with count %zu and item size %zu",
                        path, a->count, a->item_size);

    uint8_t header[4 + 4 * IDX_MAX_DIMS] = {0, 0, 0x08, (uint8_t)a->ndim};
    for (int d = 0; d < a->ndim; d++) {
        uint32_t v = (uint32_t)a->dims[d];
        uint8_t *b = header + 4 + 4 * d;
        b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
    }

    atomic_file af;
    int status = atomic_open(&af, path);
    if (status != AE_OK) return status;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* 15 + 16: a gzip wrapper; its header time stays 0, so equal data gives equal files */
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        atomic_abort(&af);
        return AE_ERROR(AE_ENOMEM, "%s: cannot start compressing (zlib)", path);
    }
    int failed = deflate_to(&zs, af.fp, header, 4 + 4 * (size_t)a->ndim, Z_NO_FLUSH);
    size_t total = a->count * a->item_size;
    for (size_t done = 0; !failed && done < total; done += IDX_READ_CHUNK) {
        size_t piece = total - done < IDX_READ_CHUNK ? total - done : IDX_READ_CHUNK;
        failed = deflate_to(&zs, af.fp, a->data + done, piece, Z_NO_FLUSH);
    }
    if (!failed) failed = deflate_to(&zs, af.fp, NULL, 0, Z_FINISH);
    deflateEnd(&zs);
    if (failed) {
        int saved = errno;
        atomic_abort(&af);
        return AE_ERROR(AE_EIO, "%s: writing failed: %s", path, strerror(saved));
    }
    return atomic_commit(&af);
}

void idx_free(idx_array *a)
{
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

void idx_truncate(idx_array *a, size_t n)
{
    if (n >= a->count) return;
    a->count = n;
    a->dims[0] = (int)n;
}

/* ---- Fashion-MNIST ---- */

static const char *const FASHION_NAMES[FASHION_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

const char *fashion_class_name(int label)
{
    return label >= 0 && label < FASHION_CLASSES ? FASHION_NAMES[label] : "(no such class)";
}

int fashion_first_of_each_class(size_t index[FASHION_CLASSES], const idx_array *labels)
{
    int n = 0;
    for (int label = 0; label < FASHION_CLASSES; label++)
        for (size_t i = 0; i < labels->count; i++)
            if (labels->data[i] == label) {
                index[n++] = i;
                break;
            }
    return n;
}

/* The four files, in the order train images, train labels, test images, test labels. */
static const char *const FASHION_FILES[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

/* Finds name.gz (preferred) or name in dir; 1 and the path when one exists. */
static int find_fashion_file(char *path, size_t len, const char *dir, const char *name)
{
    char file[128];
    snprintf(file, sizeof file, "%s.gz", name);
    if (path_join(path, len, dir, file) == AE_OK && file_exists(path)) return 1;
    if (path_join(path, len, dir, name) == AE_OK && file_exists(path)) return 1;
    return 0;
}

/* The first of the four files missing from dir, or NULL when all are there. */
static const char *first_missing_file(const char *dir)
{
    char path[AE_PATH_MAX];
    for (int f = 0; f < 4; f++)
        if (!find_fashion_file(path, sizeof path, dir, FASHION_FILES[f])) return FASHION_FILES[f];
    return NULL;
}

/* 1 when dir is the repository's sample folder, however it was named. */
static int is_sample_folder(const char *dir)
{
    char a[PATH_MAX], b[PATH_MAX];
    if (!realpath(dir, a) || !realpath(AE_ROOT "/data/sample", b)) return 0;
    return strcmp(a, b) == 0;
}

static int choose_folder(char *dir, size_t len, const char *chosen, int *is_sample)
{
    if (strlen(chosen) >= len)
        return AE_ERROR(AE_EINVAL, "%s: folder name too long (%zu bytes at most)", chosen, len - 1);
    strcpy(dir, chosen);
    if (is_sample) *is_sample = is_sample_folder(chosen);
    return AE_OK;
}

/* A folder the user named (how = "--data" or "FASHION_MNIST_DIR") must hold the data. */
static int explicit_folder(char *dir, size_t len, const char *folder, const char *how, int *is_sample)
{
    if (!folder_exists(folder))
        return AE_ERROR(AE_ENOENT, "%s %s: no such folder; run `make data` to download Fashion-MNIST, "
                        "or point %s at a folder with the four files", how, folder, how);
    const char *missing = first_missing_file(folder);
    if (missing)
        return AE_ERROR(AE_ENOENT, "%s %s: %s.gz is missing there; run `make data`, or point %s at "
                        "a folder with the four Fashion-MNIST files", how, folder, missing, how);
    return choose_folder(dir, len, folder, is_sample);
}

int fashion_mnist_locate(char *dir, size_t len, const char *data_opt, int *is_sample)
{
    if (is_sample) *is_sample = 0;
    if (data_opt && data_opt[0]) return explicit_folder(dir, len, data_opt, "--data", is_sample);
    const char *env = getenv("FASHION_MNIST_DIR");
    if (env && env[0]) return explicit_folder(dir, len, env, "FASHION_MNIST_DIR", is_sample);

    /* Debian's dataset-fashion-mnist; FASHION_MNIST_SYSTEM_DIR names another folder, or none when empty */
    const char *system = getenv("FASHION_MNIST_SYSTEM_DIR");
    if (!system) system = FASHION_SYSTEM_DIR;
    const char *const fallbacks[] = {
        "data/fashion-mnist", AE_ROOT "/data/fashion-mnist", system, AE_ROOT "/data/sample",
    };
    for (size_t k = 0; k < sizeof fallbacks / sizeof fallbacks[0]; k++)
        if (fallbacks[k][0] && !first_missing_file(fallbacks[k])) return choose_folder(dir, len, fallbacks[k], is_sample);
    return AE_ERROR(AE_ENOENT, "no Fashion-MNIST found (not in data/fashion-mnist, nor the sample in %s); "
                    "run `make data`, or point --data or FASHION_MNIST_DIR at a folder with the four files",
                    AE_ROOT "/data/sample");
}

/* Loads one split's images and labels and checks that they belong together. */
static int load_split(image_split *split, const char *dir, const char *images_name, const char *labels_name)
{
    char images_path[AE_PATH_MAX], labels_path[AE_PATH_MAX];
    if (!find_fashion_file(images_path, sizeof images_path, dir, images_name))
        return AE_ERROR(AE_ENOENT, "%s: %s.gz is missing there; run `make data`", dir, images_name);
    if (!find_fashion_file(labels_path, sizeof labels_path, dir, labels_name))
        return AE_ERROR(AE_ENOENT, "%s: %s.gz is missing there; run `make data`", dir, labels_name);
    static const idx_expect images = { 3, { 28, 28 }, "28 x 28 images" }, labels = { 1, { 0, 0 }, "labels (one dimension)" };
    int status = idx_load_expecting(&split->images, images_path, &images);
    if (status != AE_OK) return status;
    status = idx_load_expecting(&split->labels, labels_path, &labels);
    if (status != AE_OK) return status;

    const idx_array *im = &split->images, *lb = &split->labels;
    if (im->ndim != 3 || im->dims[1] != 28 || im->dims[2] != 28)
        return AE_ERROR(AE_EFORMAT, "%s: holds %d-dimensional items of %zu bytes, not 28 x 28 images",
                        images_path, im->ndim - 1, im->item_size);
    if (lb->ndim != 1)
        return AE_ERROR(AE_EFORMAT, "%s: has %d dimensions; a label file has 1", labels_path, lb->ndim);
    if (im->count != lb->count)
        return AE_ERROR(AE_EFORMAT, "%s has %zu images but %s has %zu labels; they must agree",
                        images_path, im->count, labels_path, lb->count);
    for (size_t i = 0; i < lb->count; i++)
        if (lb->data[i] >= FASHION_CLASSES)
            return AE_ERROR(AE_EFORMAT, "%s: label %d at position %zu is not a class (0..%d)",
                            labels_path, lb->data[i], i, FASHION_CLASSES - 1);
    return AE_OK;
}

int fashion_mnist_load(fashion_mnist *fm, const char *dir, size_t limit)
{
    memset(fm, 0, sizeof *fm);
    if (strlen(dir) >= sizeof fm->dir)
        return AE_ERROR(AE_EINVAL, "%s: folder name too long", dir);
    strcpy(fm->dir, dir);
    fm->is_sample = is_sample_folder(dir);
    int status = load_split(&fm->train, dir, FASHION_FILES[0], FASHION_FILES[1]);
    if (status == AE_OK) status = load_split(&fm->test, dir, FASHION_FILES[2], FASHION_FILES[3]);
    if (status != AE_OK) {
        fashion_mnist_free(fm);
        return status;
    }
    if (limit > 0) {
        idx_truncate(&fm->train.images, limit);
        idx_truncate(&fm->train.labels, limit);
        idx_truncate(&fm->test.images, limit);
        idx_truncate(&fm->test.labels, limit);
    }
    return AE_OK;
}

void fashion_mnist_free(fashion_mnist *fm)
{
    if (!fm) return;
    idx_free(&fm->train.images);
    idx_free(&fm->train.labels);
    idx_free(&fm->test.images);
    idx_free(&fm->test.labels);
}

/* x (n) = bytes (n) / 255: pixels to [0, 1]. Every batch goes through here; its fast twin
 * (fast/vector.c) does 16 bytes at a time, with the same float operation. */
void bytes_to_unit(float *x, const uint8_t *bytes, size_t n)
{
    const float scale = 1.0f / 255.0f;
    for (size_t p = 0; p < n; p++) x[p] = bytes[p] * scale;   /* x = byte / 255 */
}

void images_to_float(float *x, const idx_array *images, const size_t *index, int n)
{
    const size_t pixels = images->item_size;
    for (int i = 0; i < n; i++)
        ENGINE(bytes_to_unit)(x + (size_t)i * pixels, images->data + (index ? index[i] : (size_t)i) * pixels, pixels);
}

/* ---- the noisy batch source ---- */

/* SplitMix64 (Steele, Lea, Flood 2014): a counter-based generator; one step mixes the state. */
static uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fills noise (n) with N(0,1) values that depend only on (seed, image): the same image gets
 * the same noise every epoch, as if a noisy copy of the data had been stored, at no memory cost.
 * Marsaglia's polar method: no sin/cos, about 10 ns a value (0.6 s for 60000 images of 784). */
static void image_noise(float *noise, size_t n, unsigned long seed, size_t image)
{
    uint64_t key = (uint64_t)seed;
    uint64_t state = splitmix64_next(&key) ^ ((uint64_t)image * 0xD1B54A32D192ED03ull);
    state = splitmix64_next(&state);   /* a stream of its own for every (seed, image) */
    for (size_t p = 0; p < n;) {
        uint64_t bits = splitmix64_next(&state);
        double u = (double)(bits >> 32) * 0x1p-31 - 1.0;            /* u, v ~ U[-1, 1) */
        double v = (double)(bits & 0xFFFFFFFFu) * 0x1p-31 - 1.0;
        double s = u * u + v * v;
        if (s >= 1.0 || s == 0.0) continue;                          /* keep points inside the unit disc */
        double factor = sqrt(-2.0 * log(s) / s);                     /* z = (u, v)·√(−2 ln s / s) ~ N(0, I) */
        noise[p++] = (float)(u * factor);
        if (p < n) noise[p++] = (float)(v * factor);
    }
}

void image_corrupt(float *x, const float *noise, size_t n, float factor)
{
    for (size_t p = 0; p < n; p++) {
        float v = x[p] + factor * noise[p];           /* x̃ = clip(x + σ·ε, 0, 1), ε ~ N(0,1) */
        x[p] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}

static int image_fill(void *opaque, const size_t *index, int n, float *x, float *y)
{
    const image_source_ctx *ctx = opaque;
    const idx_array *images = ctx->images;
    const size_t pixels = images->item_size;
    const size_t count = ctx->subset ? ctx->n_subset : images->count;
    float noise[4096];
    if (ctx->noise_factor > 0 && pixels > sizeof noise / sizeof noise[0])
        return AE_ERROR(AE_EBADLEN, "images of %zu pixels are too large for the noise buffer", pixels);
    for (int i = 0; i < n; i++) {
        if (index[i] >= count)
            return AE_ERROR(AE_EDOM, "sample %zu asked for, the source has %zu", index[i], count);
        size_t image = ctx->subset ? ctx->subset[index[i]] : index[i];
        if (image >= images->count)
            return AE_ERROR(AE_EDOM, "subset entry %zu names image %zu, there are %zu",
                            index[i], image, images->count);
        const uint8_t *bytes = images->data + image * pixels;
        float *xi = x + (size_t)i * pixels;
        ENGINE(bytes_to_unit)(xi, bytes, pixels);
        if (y) memcpy(y + (size_t)i * pixels, xi, pixels * sizeof *xi);   /* target: the clean image */
        if (ctx->noise_factor > 0) {
            image_noise(noise, pixels, ctx->noise_seed, image);
            (ctx->corrupt ? ctx->corrupt : image_corrupt)(xi, noise, pixels, (float)ctx->noise_factor);
        }
    }
    return AE_OK;
}

/* A shuffled batch is 32 images from anywhere in a 47 MB array: read when fill needs them,
 * each costs a trip to main memory (about 40 % of model A's batch conversion on one thread).
 * Asked for one step ahead, they arrive while the current step computes. */
static void image_prefetch(void *opaque, const size_t *index, int n)
{
    const image_source_ctx *ctx = opaque;
    const idx_array *images = ctx->images;
    const size_t pixels = images->item_size;
    const size_t count = ctx->subset ? ctx->n_subset : images->count;
    for (int i = 0; i < n; i++) {
        if (index[i] >= count) continue;                /* fill reports it */
        size_t image = ctx->subset ? ctx->subset[index[i]] : index[i];
        if (image >= images->count) continue;
        vec_prefetch(images->data + image * pixels, pixels);
    }
}

batch_source image_batch_source(image_source_ctx *ctx)
{
    batch_source src;
    src.prefetch = image_prefetch;
    src.count = ctx->subset ? ctx->n_subset : ctx->images->count;
    src.x_size = ctx->images->item_size;
    src.y_size = ctx->images->item_size;
    src.fill = image_fill;
    src.ctx = ctx;
    return src;
}

/* checkpoint.c: a model's parameters in a file, and back (see checkpoint.h). */
#include "checkpoint.h"
#include "error.h"
#include "io/fileio.h"
#include "tensor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* File layout, every integer an unsigned 32-bit little-endian number:
 *   "AECKPT1\0"                    8 bytes of magic
 *   version                        CHECKPOINT_VERSION
 *   input ndim, input shape[ndim]
 *   layer count
 *   per layer: kind, activation, output ndim, output shape[ndim],
 *              weight ndim (0 without weights), weight shape[ndim], bias count
 *   parameter count (64 bits, little-endian)
 *   the parameters: float32, little-endian (this machine's order, written as such)
 *   CRC-32 (zlib's crc32) of every byte before it
 * Weight shapes follow layers.h: dense (OUT, IN), conv2d (OC, C, K, K), conv2d_transpose (C, OC, K, K). */
#define CHECKPOINT_MAGIC "AECKPT1"   /* with its terminating zero: 8 bytes */
#define CHECKPOINT_MAGIC_LEN 8
#define CHECKPOINT_VERSION 1u

typedef struct {
    unsigned char *data;
    size_t len, cap;
} byte_buffer;

static int buffer_reserve(byte_buffer *b, size_t extra)
{
    if (b->len + extra <= b->cap) return AE_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown) return AE_ERROR(AE_ENOMEM, "out of memory for a checkpoint of %zu bytes", cap);
    b->data = grown;
    b->cap = cap;
    return AE_OK;
}

static void put_u32(byte_buffer *b, uint32_t v)
{
    for (int k = 0; k < 4; k++) b->data[b->len++] = (unsigned char)(v >> (8 * k));
}

static void put_u64(byte_buffer *b, uint64_t v)
{
    for (int k = 0; k < 8; k++) b->data[b->len++] = (unsigned char)(v >> (8 * k));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* The weight shape of a layer as layers.h lays it out; returns its ndim (0 without weights). */
static int weight_shape(const layer *l, uint32_t shape[4])
{
    for (int d = 0; d < l->weight_ndim; d++) shape[d] = (uint32_t)l->weight_shape[d];
    return l->weight_ndim;
}

/* Everything up to and including the parameter count: what the architecture looks like on disk. */
static int write_header(byte_buffer *b, const model *m)
{
    int rc = buffer_reserve(b, CHECKPOINT_MAGIC_LEN + 4 * 6 + (size_t)m->n_layers * 4 * 12 + 8);
    if (rc != AE_OK) return rc;
    memcpy(b->data + b->len, CHECKPOINT_MAGIC, CHECKPOINT_MAGIC_LEN);
    b->len += CHECKPOINT_MAGIC_LEN;
    put_u32(b, CHECKPOINT_VERSION);
    put_u32(b, (uint32_t)m->in_ndim);
    for (int d = 0; d < m->in_ndim; d++) put_u32(b, (uint32_t)m->in_shape[d]);
    put_u32(b, (uint32_t)m->n_layers);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        put_u32(b, (uint32_t)l->spec.kind);
        put_u32(b, (uint32_t)l->spec.act);
        put_u32(b, (uint32_t)l->out_ndim);
        for (int d = 0; d < l->out_ndim; d++) put_u32(b, (uint32_t)l->out_shape[d]);
        uint32_t shape[4];
        int ndim = weight_shape(l, shape);
        put_u32(b, (uint32_t)ndim);
        for (int d = 0; d < ndim; d++) put_u32(b, shape[d]);
        put_u32(b, (uint32_t)l->n_bias);
    }
    put_u64(b, (uint64_t)m->n_params);
    return AE_OK;
}

static uint32_t crc_of(const unsigned char *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len > 0) {   /* zlib takes at most a uInt at a time */
        uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, data, chunk);
        data += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

int checkpoint_save(const model *m, const char *path)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "checkpoint_save before model_build: there are no parameters yet");
    byte_buffer b = {0};
    int rc = write_header(&b, m);
    if (rc == AE_OK) rc = buffer_reserve(&b, 4 * m->n_params + 4);
    if (rc != AE_OK) {
        free(b.data);
        return rc;
    }
    for (size_t i = 0; i < m->n_params; i++) {
        uint32_t bits;
        memcpy(&bits, &m->params[i], sizeof bits);
        put_u32(&b, bits);
    }
    put_u32(&b, crc_of(b.data, b.len));

    atomic_file af;
    rc = atomic_open(&af, path);
    if (rc == AE_OK) {
        if (fwrite(b.data, 1, b.len, af.fp) != b.len) {
            int saved = errno;
            atomic_abort(&af);
            rc = AE_ERROR(AE_EIO, "writing %s failed: %s", path, strerror(saved));
        } else {
            rc = atomic_commit(&af);
        }
    }
    free(b.data);
    return rc;
}

/* Reads a whole file into memory. */
static int read_whole_file(const char *path, byte_buffer *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno == ENOENT)
            return AE_ERROR(AE_ENOENT, "%s: no such checkpoint file (train the model first to create it)", path);
        return AE_ERROR(AE_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    int rc = AE_OK;
    for (;;) {
        rc = buffer_reserve(b, 1 << 16);
        if (rc != AE_OK) break;
        size_t got = fread(b->data + b->len, 1, b->cap - b->len, fp);
        b->len += got;
        if (got == 0) {
            if (ferror(fp)) rc = AE_ERROR(AE_EIO, "reading %s failed", path);
            break;
        }
    }
    fclose(fp);
    return rc;
}

/* A reader over the file's bytes that notices when it runs off the end. */
typedef struct {
    const unsigned char *data;
    size_t len, pos;
    int overrun;
} byte_reader;

static uint32_t read_u32(byte_reader *r)
{
    if (r->overrun || r->len - r->pos < 4) {
        r->overrun = 1;
        return 0;
    }
    uint32_t v = get_u32(r->data + r->pos);
    r->pos += 4;
    return v;
}

/* Walks the header as the file describes it; returns the length the whole file should
 * have, or 0 if the header itself runs past the end (a truncated file). */
static size_t declared_length(const unsigned char *data, size_t len)
{
    byte_reader r = {data, len, CHECKPOINT_MAGIC_LEN + 4, 0};
    uint32_t in_ndim = read_u32(&r);
    if (in_ndim > 3) return SIZE_MAX;   /* nonsense: not a length a real file has */
    for (uint32_t d = 0; d < in_ndim; d++) read_u32(&r);
    uint32_t n_layers = read_u32(&r);
    for (uint32_t i = 0; i < n_layers && !r.overrun; i++) {
        read_u32(&r);   /* kind */
        read_u32(&r);   /* activation */
        uint32_t out_ndim = read_u32(&r);
        if (out_ndim > 3) return SIZE_MAX;
        for (uint32_t d = 0; d < out_ndim; d++) read_u32(&r);
        uint32_t w_ndim = read_u32(&r);
        if (w_ndim > 4) return SIZE_MAX;
        for (uint32_t d = 0; d < w_ndim; d++) read_u32(&r);
        read_u32(&r);   /* bias count */
    }
    if (r.overrun || len - r.pos < 8) return 0;
    uint64_t n_params = get_u64(data + r.pos);
    if (n_params > (SIZE_MAX - r.pos - 12) / 4) return SIZE_MAX;
    return r.pos + 8 + 4 * (size_t)n_params + 4;
}

/* Names the first place where the file's architecture differs from the model's. */
static int architecture_mismatch(const char *path, const unsigned char *file, const unsigned char *mine,
                                 size_t header_len, const model *m)
{
    size_t differ = 0;
    while (differ < header_len && file[differ] == mine[differ]) differ++;
    /* walk our own header to find which layer the first differing byte belongs to */
    size_t pos = CHECKPOINT_MAGIC_LEN + 4 + 4 + 4 * (size_t)m->in_ndim;
    if (differ < pos)
        return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: its input shape is not this model's", path);
    pos += 4;
    if (differ < pos)
        return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: %" PRIu32 " layers, but this model has %d",
                        path, get_u32(file + pos - 4), m->n_layers);
    for (int i = 0; i < m->n_layers; i++) {
        const layer *l = &m->layers[i];
        uint32_t shape[4];
        size_t size = 4 * (3 + (size_t)l->out_ndim + 1 + (size_t)weight_shape(l, shape) + 1);
        if (differ < pos + size) {
            char out_text[64];
            shape_format(out_text, sizeof out_text, l->out_ndim, l->out_shape);
            return AE_ERROR(AE_EFORMAT,
                            "%s holds a different architecture: its layer %d is not this model's "
                            "%s (%s) with output %s and %zu parameters",
                            path, i + 1, layer_kind_name(l->spec.kind), activation_name(l->spec.act),
                            out_text, l->n_weight + l->n_bias);
        }
        pos += size;
    }
    return AE_ERROR(AE_EFORMAT, "%s holds a different architecture: not the %zu parameters of this model",
                    path, m->n_params);
}

int checkpoint_load(model *m, const char *path)
{
    if (m->max_batch == 0) return AE_ERROR(AE_ESTATE, "checkpoint_load before model_build: build the same model first");
    byte_buffer file = {0}, mine = {0};
    int rc = read_whole_file(path, &file);
    if (rc != AE_OK) goto done;
    const unsigned char *data = file.data;
    size_t len = file.len;

    size_t magic_seen = len < CHECKPOINT_MAGIC_LEN ? len : CHECKPOINT_MAGIC_LEN;
    if (len == 0) {
        rc = AE_ERROR(AE_EFORMAT, "%s is empty, not a model checkpoint", path);
        goto done;
    }
    if (memcmp(data, CHECKPOINT_MAGIC, magic_seen) != 0) {
        rc = AE_ERROR(AE_EFORMAT, "%s is not a model checkpoint (wrong magic: expected \"%s\")", path,
                      CHECKPOINT_MAGIC);
        goto done;
    }
    if (len < CHECKPOINT_MAGIC_LEN + 4) {
        rc = AE_ERROR(AE_EFORMAT, "%s is truncated: %zu bytes, too short for a checkpoint header", path, len);
        goto done;
    }
    uint32_t version = get_u32(data + CHECKPOINT_MAGIC_LEN);
    if (version != CHECKPOINT_VERSION) {
        rc = AE_ERROR(AE_EFORMAT, "%s is a checkpoint of version %" PRIu32 "; this program reads version %u",
                      path, version, CHECKPOINT_VERSION);
        goto done;
    }

    /* A file whose last 4 bytes are the CRC of the rest is intact; otherwise say why it is not. */
    size_t expected = declared_length(data, len);
    int crc_ok = len >= 4 && get_u32(data + len - 4) == crc_of(data, len - 4);
    if (!crc_ok || expected != len) {
        if (expected == 0)   /* the header itself is cut: it promises nothing yet */
            rc = AE_ERROR(AE_EFORMAT, "%s is truncated: it ends inside its header, after %zu bytes", path, len);
        else if (expected != SIZE_MAX && expected > len)
            rc = AE_ERROR(AE_EFORMAT, "%s is truncated: %zu bytes where its header promises %zu", path, len, expected);
        else if (expected < len && get_u32(data + expected - 4) == crc_of(data, expected - 4))
            rc = AE_ERROR(AE_EFORMAT, "%s has %zu unexpected bytes after the checksum", path, len - expected);
        else
            rc = AE_ERROR(AE_EFORMAT, "%s is corrupt: its CRC-32 checksum does not match its contents", path);
        goto done;
    }

    rc = write_header(&mine, m);
    if (rc != AE_OK) goto done;
    if (len != mine.len + 4 * m->n_params + 4 || memcmp(data, mine.data, mine.len) != 0) {
        size_t compare = len - 4 < mine.len ? len - 4 : mine.len;
        rc = architecture_mismatch(path, data, mine.data, compare, m);
        goto done;
    }
    const unsigned char *p = data + mine.len;
    for (size_t i = 0; i < m->n_params; i++, p += 4) {
        uint32_t bits = get_u32(p);
        memcpy(&m->params[i], &bits, sizeof bits);
    }
    rc = AE_OK;
done:
    free(file.data);
    free(mine.data);
    return rc;
}

int checkpoint_crc32(const char *path, uint32_t *crc)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? AE_ERROR(AE_ENOENT, "%s does not exist", path)
                                   : AE_ERROR(AE_EIO, "%s: %s", path, strerror(errno));
    unsigned char head[CHECKPOINT_MAGIC_LEN], tail[4];
    int ok = fread(head, 1, sizeof head, f) == sizeof head && memcmp(head, CHECKPOINT_MAGIC, sizeof head) == 0;
    long size = ok && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    ok = ok && size >= (long)(CHECKPOINT_MAGIC_LEN + 8) && fseek(f, -4, SEEK_END) == 0 && fread(tail, 1, 4, f) == 4;
    fclose(f);
    if (!ok) return AE_ERROR(AE_EFORMAT, "%s is not a model checkpoint (too short, or a wrong magic)", path);
    *crc = get_u32(tail);
    return AE_OK;
}

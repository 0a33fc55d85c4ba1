/* checkpoint.h: a model's parameters saved to a file and loaded back. */
#ifndef AE_CHECKPOINT_H
#define AE_CHECKPOINT_H

#include <stdint.h>

#include "model.h"

/* Binary checkpoint: magic "AECKPT1\0", version, input shape, layer count, each layer's
 * kind, activation, output shape and parameter shapes, the parameter count, the
 * parameters, and a CRC-32 (zlib's crc32) of everything before it. Every integer and
 * float is little-endian (the byte order of x86-64 and ARM machines, written as such
 * on any machine); checkpoint.c spells out the layout. Written atomically (io/fileio.h).
 * Both need a built model (AE_ESTATE otherwise): checkpoint_load fills the parameters of a
 * model built with the same layers. It refuses (AE_EFORMAT, naming the file and the
 * problem) a file with a wrong magic or version, a different architecture, a truncated
 * body, a bad checksum or bytes after the checksum, and leaves the model untouched;
 * AE_ENOENT when the file does not exist. */
int checkpoint_save(const model *m, const char *path);
int checkpoint_load(model *m, const char *path);
/* The CRC-32 a checkpoint file ends with, which names its contents (a history can say which
 * checkpoint it goes with), read without loading the file. AE_ENOENT when it is missing,
 * AE_EFORMAT when it is too short to be a checkpoint or does not start like one. */
int checkpoint_crc32(const char *path, uint32_t *crc);

#endif

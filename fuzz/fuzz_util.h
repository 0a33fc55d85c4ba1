/* fuzz_util.h: what the fuzz targets share: the input as a file, for readers that take a path. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_path[300];

static void fuzz_remove_input(void)
{
    if (fuzz_path[0]) unlink(fuzz_path);
}

/* Writes data to this process's scratch file (made once with mkstemp, rewritten at each call) and
 * returns its path. */
static const char *fuzz_input_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_path, sizeof fuzz_path, "%.200s/fuzz-input-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        fd = mkstemp(fuzz_path);
        if (fd < 0) abort();
        atexit(fuzz_remove_input);
    }
    if (ftruncate(fd, 0) != 0) abort();
    if (size && pwrite(fd, data, size, 0) != (ssize_t)size) abort();
    return fuzz_path;
}

#endif

/* fileio.h: files written whole or not at all, and folders.
 *
 * Every output file goes through an atomic_file: it is written to a temporary
 * name beside its destination and renamed over it only once everything was
 * written and flushed, so an interrupted or failing program leaves no partial
 * file behind. A temporary is always a new file (O_CREAT | O_EXCL | O_NOFOLLOW):
 * whatever already stands at its name, a symbolic link planted in a shared
 * folder included, is left alone and another name is taken.
 */
#ifndef AE_FILEIO_H
#define AE_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#define AE_PATH_MAX 4096

typedef struct {
    FILE *fp;                    /* write here */
    char path[AE_PATH_MAX];      /* the destination */
    char tmp[AE_PATH_MAX + 16];  /* the temporary file */
} atomic_file;

int atomic_open(atomic_file *af, const char *path);   /* AE_EIO with the reason when it cannot be created */
/* Creates a new empty file "PATH.<pid>.<n>.tmp" (the first n free) for a child process to write,
 * e.g. gnuplot's output; tmp gets its name. AE_EIO when none can be created. */
int temp_create(char *tmp, size_t len, const char *path);
/* Removes the temporaries "NAME.<pid>[.<n>].tmp" in dir whose process is gone (a killed run's);
 * returns how many, or -1 when dir cannot be read. */
int temp_sweep(const char *dir);
int atomic_commit(atomic_file *af);                   /* flush, close, rename; on failure removes the temporary */
void atomic_abort(atomic_file *af);                   /* close and remove the temporary */

int mkdir_p(const char *path);                        /* like mkdir -p */
int path_join(char *out, size_t len, const char *dir, const char *name);  /* AE_EINVAL when it does not fit */
int file_exists(const char *path);                    /* a regular file */
int folder_exists(const char *path);                  /* a folder (links followed) */

#endif

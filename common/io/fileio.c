/* fileio.c: atomic files and folders (see fileio.h). */
#include "io/fileio.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_open(atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return AE_ERROR(AE_EINVAL, "%s: path too long", path);
    strcpy(af->path, path);
    /* The pid keeps two processes writing the same file from sharing a temporary. */
    snprintf(af->tmp, sizeof af->tmp, "%s.%ld.tmp", path, (long)getpid());
    af->fp = fopen(af->tmp, "wb");
    if (!af->fp)
        return AE_ERROR(AE_EIO, "cannot create %s: %s", af->tmp, strerror(errno));
    return AE_OK;
}

int atomic_commit(atomic_file *af)
{
    if (!af->fp) return AE_ERROR(AE_ESTATE, "%s: not open", af->path);
    int write_error = ferror(af->fp);
    int close_error = fclose(af->fp);
    af->fp = NULL;
    if (write_error || close_error) {
        int saved = errno;
        remove(af->tmp);
        return AE_ERROR(AE_EIO, "writing %s failed: %s", af->path, strerror(saved));
    }
    if (rename(af->tmp, af->path) != 0) {
        int saved = errno;
        remove(af->tmp);
        return AE_ERROR(AE_EIO, "cannot move %s into place: %s", af->path, strerror(saved));
    }
    return AE_OK;
}

void atomic_abort(atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp[0]) remove(af->tmp);
}

int mkdir_p(const char *path)
{
    char buf[AE_PATH_MAX];
    if (!path || !path[0]) return AE_ERROR(AE_EINVAL, "empty folder name");
    if (strlen(path) >= sizeof buf) return AE_ERROR(AE_EINVAL, "%s: path too long", path);
    strcpy(buf, path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return AE_ERROR(AE_EIO, "cannot create folder %s: %s", buf, strerror(errno));
            *p = saved;
            if (saved == '\0') break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return AE_ERROR(AE_EIO, "%s exists and is not a folder", path);
    return AE_OK;
}

int path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n;
    if (!dir || !dir[0]) n = snprintf(out, len, "%s", name);
    else if (dir[strlen(dir) - 1] == '/') n = snprintf(out, len, "%s%s", dir, name);
    else n = snprintf(out, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len)
        return AE_ERROR(AE_EINVAL, "path %s/%s is too long", dir, name);
    return AE_OK;
}

int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

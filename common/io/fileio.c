/* fileio.c: atomic files and folders (see fileio.h). */
#include "io/fileio.h"
#include "error.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new file at "PATH.<pid>.<n>.tmp", the first n whose name is free; never opens what was there. */
static int create_new(char *tmp, size_t len, const char *path)
{
    for (int n = 0; n < 100; n++) {
        if ((size_t)snprintf(tmp, len, "%s.%ld.%d.tmp", path, (long)getpid(), n) >= len)
            return AE_ERROR(AE_EINVAL, "%s: path too long", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) return fd;
        if (errno != EEXIST) return AE_ERROR(AE_EIO, "cannot create %s: %s", tmp, strerror(errno));
    }
    return AE_ERROR(AE_EIO, "cannot create a temporary file beside %s: 100 names taken", path);
}

int atomic_open(atomic_file *af, const char *path)
{
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path)
        return AE_ERROR(AE_EINVAL, "%s: path too long", path);
    strcpy(af->path, path);
    /* The pid keeps two processes writing the same file from sharing a temporary. */
    int fd = create_new(af->tmp, sizeof af->tmp, path);
    if (fd < 0) {
        af->tmp[0] = '\0';
        return error_code();
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int saved = errno;
        close(fd);
        remove(af->tmp);
        return AE_ERROR(AE_EIO, "cannot create %s: %s", af->tmp, strerror(saved));
    }
    return AE_OK;
}

int temp_create(char *tmp, size_t len, const char *path)
{
    int fd = create_new(tmp, len, path);
    if (fd < 0) return error_code();
    close(fd);
    return AE_OK;
}

/* The pid of a temporary's name "NAME.<pid>.tmp" or "NAME.<pid>.<n>.tmp", or 0 when it is not one. */
static long temp_pid(const char *name)
{
    size_t len = strlen(name);
    if (len < 6 || strcmp(name + len - 4, ".tmp") != 0) return 0;
    const char *end = name + len - 4, *p = end;
    while (p > name && isdigit((unsigned char)p[-1])) p--;
    if (p == end || p == name || p[-1] != '.') return 0;
    const char *digits = p;
    if (p - 1 > name && isdigit((unsigned char)p[-2])) {   /* NAME.<pid>.<n>.tmp: step over <n> */
        const char *q = p - 1;
        while (q > name && isdigit((unsigned char)q[-1])) q--;
        if (q > name && q[-1] == '.') digits = q;
    }
    return strtol(digits, NULL, 10);
}

int temp_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = temp_pid(e->d_name);
        if (pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;   /* its process still runs */
        char path[AE_PATH_MAX];
        if (path_join(path, sizeof path, dir, e->d_name) == AE_OK && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
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

int folder_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

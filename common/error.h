/* error.h: how library code reports failure.
 *
 * Library functions never print and never exit. A function that can fail
 * returns an int status: AE_OK (0) on success, or one of the codes below,
 * after recording a one-line message for a person with error_set(). Only a
 * program's main() turns that into text on stderr and an exit status.
 *
 *     if (idx_load(&images, path) != AE_OK) {
 *         fprintf(stderr, "week05-task4-ae: %s\n", error_message());
 *         return 1;
 *     }
 *
 * The message lives in thread-local storage and is overwritten by the next
 * failure on the same thread.
 */
#ifndef AE_ERROR_H
#define AE_ERROR_H

enum {
    AE_OK = 0,
    AE_EINVAL,    /* an argument is malformed (a bad option, a bad spec string) */
    AE_EDOM,      /* a value lies outside its domain (a probability above 1, a BCE target of -0.5) */
    AE_EBADLEN,   /* sizes or shapes that must match do not */
    AE_ENOMEM,    /* an allocation failed */
    AE_ENOENT,    /* a file or folder does not exist */
    AE_EIO,       /* reading or writing a file failed */
    AE_EFORMAT,   /* a file exists but its content is wrong (bad magic, truncated, lying header) */
    AE_ENUMERIC,  /* a computation produced NaN or infinity */
    AE_ESTATE,    /* the call does not fit the object's state (forward before build, batch too large) */
    AE_ENOTIMPL   /* a function of the student edition that is not written yet */
};

/* Records code and message (printf-style) with the place it was raised; returns code,
 * so that a failing function can end with: return AE_ERROR(AE_EDOM, "p = %g is not in [0,1]", p); */
int error_set(int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define AE_ERROR(code, ...) error_set((code), __FILE__, __LINE__, __VA_ARGS__)

const char *error_message(void);      /* the last message, "" when none */
int error_code(void);                 /* the last code, AE_OK when none */
const char *error_location(void);     /* "file.c:123" of the last error, for debugging */
const char *error_name(int code);     /* "AE_EDOM", ... */
void error_clear(void);

/* What the student edition (`make student`) puts where a solution region was. Each records
 * "not implemented yet: FUNCTION (FILE) — QUESTION" as an AE_ENOTIMPL error and returns what the
 * function returns: AE_ENOTIMPL, NaN, −1 or NULL. The first of them reached is also kept until
 * not_implemented_reset(), whatever errors come after it (a NaN turned into AE_ENUMERIC later,
 * say), so that a program can say which function a part of it needed (io/program.h). */
int not_implemented(const char *function, const char *file, const char *question);
double not_implemented_nan(const char *function, const char *file, const char *question);
long not_implemented_long(const char *function, const char *file, const char *question);
void *not_implemented_null(const char *function, const char *file, const char *question);
/* The message of the first stub reached since the last reset, or NULL when none was. */
const char *not_implemented_seen(void);
void not_implemented_reset(void);
/* fn(message) is called as that first stub is reached (NULL: no call); returns the previous fn.
 * The test runner uses it to print, in the test's own process, which function a test needed. */
typedef void not_implemented_hook(const char *message);
not_implemented_hook *not_implemented_notify(not_implemented_hook *fn);

#endif

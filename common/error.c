/* error.c: the thread-local last-error record (see error.h). */
#include "error.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[512];
static _Thread_local char last_location[128];
static _Thread_local int last_code;

int error_set(int code, const char *file, int line, const char *fmt, ...)
{
    /* Format into a local buffer first: an argument may be error_message() itself,
     * as in AE_ERROR(AE_EINVAL, "--threads: %s", error_message()). */
    char formatted[sizeof last_message];
    va_list args;
    va_start(args, fmt);
    vsnprintf(formatted, sizeof formatted, fmt, args);
    va_end(args);
    memcpy(last_message, formatted, sizeof last_message);
    snprintf(last_location, sizeof last_location, "%s:%d", file, line);
    last_code = code;
    return code;
}

const char *error_message(void) { return last_message; }
int error_code(void) { return last_code; }
const char *error_location(void) { return last_location; }

void error_clear(void)
{
    last_message[0] = '\0';
    last_location[0] = '\0';
    last_code = AE_OK;
}

const char *error_name(int code)
{
    switch (code) {
    case AE_OK: return "AE_OK";
    case AE_EINVAL: return "AE_EINVAL";
    case AE_EDOM: return "AE_EDOM";
    case AE_EBADLEN: return "AE_EBADLEN";
    case AE_ENOMEM: return "AE_ENOMEM";
    case AE_ENOENT: return "AE_ENOENT";
    case AE_EIO: return "AE_EIO";
    case AE_EFORMAT: return "AE_EFORMAT";
    case AE_ENUMERIC: return "AE_ENUMERIC";
    case AE_ESTATE: return "AE_ESTATE";
    case AE_ENOTIMPL: return "AE_ENOTIMPL";
    default: return "AE_E?";
    }
}

/* ------------------------------------------------------------ the student edition's stubs */

static atomic_int missing_seen;          /* 1 once a stub was reached since the last reset */
static char first_missing[sizeof last_message];
static not_implemented_hook *notify;   /* not_implemented_notify */

int not_implemented(const char *function, const char *file, const char *question)
{
    int rc = error_set(AE_ENOTIMPL, file, 0, "not implemented yet: %s (%s) — %s", function, file, question);
    if (atomic_exchange(&missing_seen, 1) == 0) {
        memcpy(first_missing, last_message, sizeof first_missing);
        if (notify) notify(first_missing);
    }
    return rc;
}

double not_implemented_nan(const char *function, const char *file, const char *question)
{
    not_implemented(function, file, question);
    return NAN;
}

long not_implemented_long(const char *function, const char *file, const char *question)
{
    not_implemented(function, file, question);
    return -1;
}

void *not_implemented_null(const char *function, const char *file, const char *question)
{
    not_implemented(function, file, question);
    return NULL;
}

const char *not_implemented_seen(void)
{
    return atomic_load(&missing_seen) ? first_missing : NULL;
}

void not_implemented_reset(void)
{
    atomic_store(&missing_seen, 0);
}

not_implemented_hook *not_implemented_notify(not_implemented_hook *fn)
{
    not_implemented_hook *previous = notify;
    notify = fn;
    return previous;
}

/* results.c: results.tsv (see results.h). */
#include "io/results.h"
#include "error.h"
#include "io/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *key;
    char *value;
} result_entry;

struct results {
    result_entry *entries;
    int count, capacity;
};

results *results_alloc(void)
{
    results *r = calloc(1, sizeof *r);
    if (!r) AE_ERROR(AE_ENOMEM, "out of memory for a results table");
    return r;
}

void results_free(results *r)
{
    if (!r) return;
    for (int i = 0; i < r->count; i++) {
        free(r->entries[i].key);
        free(r->entries[i].value);
    }
    free(r->entries);
    free(r);
}

int results_count(const results *r)
{
    return r ? r->count : 0;
}

void results_truncate(results *r, int n)
{
    if (!r || n < 0) return;
    while (r->count > n) {
        r->count--;
        free(r->entries[r->count].key);
        free(r->entries[r->count].value);
    }
}

static int key_is_valid(const char *key)
{
    if (!key || !key[0]) return 0;
    for (const char *c = key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-'))
            return 0;
    return 1;
}

static int find(const results *r, const char *key)
{
    for (int i = 0; i < r->count; i++)
        if (strcmp(r->entries[i].key, key) == 0) return i;
    return -1;
}

int results_add_text(results *r, const char *key, const char *value)
{
    if (!key_is_valid(key))
        return AE_ERROR(AE_EINVAL, "result key '%s' must be letters, digits, '_', '.' or '-'", key ? key : "");
    if (strpbrk(value, "\t\n\r"))
        return AE_ERROR(AE_EINVAL, "the value of result '%s' contains a tab or newline", key);
    char *copy = strdup(value);
    if (!copy) return AE_ERROR(AE_ENOMEM, "out of memory for result '%s'", key);
    int i = find(r, key);
    if (i >= 0) {
        free(r->entries[i].value);
        r->entries[i].value = copy;
        return AE_OK;
    }
    if (r->count == r->capacity) {
        int capacity = r->capacity ? 2 * r->capacity : 32;
        result_entry *grown = realloc(r->entries, (size_t)capacity * sizeof *grown);
        if (!grown) { free(copy); return AE_ERROR(AE_ENOMEM, "out of memory for result '%s'", key); }
        r->entries = grown;
        r->capacity = capacity;
    }
    char *key_copy = strdup(key);
    if (!key_copy) { free(copy); return AE_ERROR(AE_ENOMEM, "out of memory for result '%s'", key); }
    r->entries[r->count].key = key_copy;
    r->entries[r->count].value = copy;
    r->count++;
    return AE_OK;
}

int results_add_double(results *r, const char *key, double value)
{
    char buf[64];
    if (isnan(value)) snprintf(buf, sizeof buf, "nan");
    else if (isinf(value)) snprintf(buf, sizeof buf, value > 0 ? "inf" : "-inf");
    else snprintf(buf, sizeof buf, "%.17g", value);
    return results_add_text(r, key, buf);
}

int results_add_int(results *r, const char *key, long value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", value);
    return results_add_text(r, key, buf);
}

const char *results_get(const results *r, const char *key)
{
    int i = find(r, key);
    return i >= 0 ? r->entries[i].value : NULL;
}

int results_write(const results *r, const char *dir)
{
    char path[AE_PATH_MAX];
    int rc = path_join(path, sizeof path, dir, "results.tsv");
    if (rc != AE_OK) return rc;
    atomic_file af;
    if ((rc = atomic_open(&af, path)) != AE_OK) return rc;
    for (int i = 0; i < r->count; i++)
        fprintf(af.fp, "%s\t%s\n", r->entries[i].key, r->entries[i].value);
    return atomic_commit(&af);
}

int results_read(results **out, const char *path)
{
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp) return AE_ERROR(AE_ENOENT, "%s: cannot open", path);
    results *r = results_alloc();
    if (!r) { fclose(fp); return AE_ENOMEM; }
    char *line = NULL;   /* getline grows it: an "out" value can be long */
    size_t capacity = 0;
    int lineno = 0, rc = AE_OK;
    while (getline(&line, &capacity, fp) != -1) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        char *tab = strchr(line, '\t');
        if (!tab) {
            rc = AE_ERROR(AE_EFORMAT, "%s:%d: a line without a tab between key and value", path, lineno);
            break;
        }
        *tab = '\0';
        if ((rc = results_add_text(r, line, tab + 1)) != AE_OK) break;
    }
    free(line);
    fclose(fp);
    if (rc != AE_OK) { results_free(r); return rc; }
    *out = r;
    return AE_OK;
}

/* results.h: results.tsv, the machine-readable twin of what a program prints.
 *
 * One "key<TAB>value" line per result, in the order added. Doubles are written
 * with 17 significant digits ("%.17g"), infinities as "inf" and "-inf", NaN as
 * "nan", so a grader reads back exactly what was computed.
 */
#ifndef AE_RESULTS_H
#define AE_RESULTS_H

typedef struct results results;

results *results_alloc(void);
void results_free(results *r);           /* NULL is a no-op */
/* Adding a key that exists replaces its value in place. Keys are [A-Za-z0-9_.-]+. */
int results_add_double(results *r, const char *key, double value);
int results_add_int(results *r, const char *key, long value);
int results_add_text(results *r, const char *key, const char *value);   /* no tabs or newlines */
const char *results_get(const results *r, const char *key);            /* NULL when absent */
int results_count(const results *r);
/* Drops the results added after the first n (a part of a program that did not complete). */
void results_truncate(results *r, int n);
/* Writes dir/results.tsv atomically. */
int results_write(const results *r, const char *dir);
/* Reads a results.tsv (for tests and tools); AE_EFORMAT for a line without a tab. */
int results_read(results **out, const char *path);

#endif

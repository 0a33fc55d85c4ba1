/* fuzz_results.c: any bytes as a results.tsv: results_read refuses or reads, never crashes. */
#include "fuzz_util.h"
#include "error.h"
#include "io/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    results *r = NULL;
    if (results_read(&r, fuzz_input_file(data, size)) == AE_OK) {
        if (results_count(r) < 0) abort();
        results_free(r);
    }
    return 0;
}

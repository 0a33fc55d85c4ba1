/* fuzz_idx.c: any bytes as an IDX file, raw or gzip: idx_load refuses or loads, never crashes. */
#include "fuzz_util.h"
#include "error.h"
#include "io/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    idx_array a;
    if (idx_load(&a, fuzz_input_file(data, size)) == AE_OK) {
        /* what loaded is whole: count items of item_size bytes, all readable */
        unsigned sum = 0;
        for (size_t i = 0; i < a.count * a.item_size; i++) sum += a.data[i];
        if (a.count == 0 || a.item_size == 0 || sum == 0xFFFFFFFFu) abort();
        idx_free(&a);
    }
    return 0;
}

/* fuzz_history.c: any bytes as a training history (the file beside a checkpoint that
 * --from-checkpoint reads back): history_read refuses or reads, never crashes, and what it reads
 * has at most TRAIN_MAX_EPOCHS epochs. */
#include "fuzz_util.h"
#include "error.h"
#include "io/program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    history_meta meta[2] = { { "spec", "flatten,dense:64:relu,dense:784:sigmoid,reshape:1x28x28" },
                             { "loss", "mse" } };
    train_history h;
    if (history_read(fuzz_input_file(data, size), meta, 2, &h, "Train again.") == AE_OK &&
        (h.epochs_run < 1 || h.epochs_run > TRAIN_MAX_EPOCHS))
        abort();
    char value[64];
    history_meta_get(fuzz_input_file(data, size), "seed", value, sizeof value);
    return 0;
}

/* fuzz_layers.c: any text as week05-task4-ae's --layers: parsed and built into a model, or refused
 * with a message; never a crash, an overflow or a model of impossible sizes. */
#include "fuzz_util.h"
#include "ae_models.h"
#include "error.h"
#include "model.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[4096];
    if (size >= sizeof text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ae_layer_list list;
    if (ae_layers_parse(text, &list) != AE_OK) return 0;
    model *m = NULL;
    if (ae_model_from_layers(&m, &list) == AE_OK) {
        if (!m || model_output_size(m) == 0) abort();
        model_free(m);
    } else if (m != NULL || error_message()[0] == '\0') {
        abort();   /* a refusal leaves no model and says why */
    }
    return 0;
}

/* fuzz_matrix.c: any text as week05-task3-transposed's --input/--kernel matrix ("0,1;2,3") and as
 * its shape strings: parsed into a matrix of at most 8 x 8 finite values, or refused with a message. */
#include "fuzz_util.h"
#include "error.h"
#include "tconv_exercise.h"
#include "tconv_steps.h"

#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[2048];
    if (size >= sizeof text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    tconv_matrix *m = NULL;
    if (tconv_parse_matrix(&m, text, "--input", 8) == AE_OK) {
        if (!m || m->rows < 1 || m->cols < 1 || m->rows > 8 || m->cols > 8) abort();
        for (int i = 0; i < m->rows * m->cols; i++)
            if (!isfinite(m->data[i])) abort();
        tconv_matrix_free(m);
    } else if (m != NULL || error_message()[0] == '\0') {
        abort();   /* a refusal leaves no matrix and says why */
    }
    long shape[5];
    tconv_parse_shape(text, shape);
    return 0;
}

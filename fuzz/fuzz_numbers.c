/* fuzz_numbers.c: any text as a number or a list of numbers of the command line (--mu, --logvar,
 * --sweep-betas, every numeric option): parsed whole into finite values, or refused with a message. */
#include "fuzz_util.h"
#include "error.h"
#include "io/cli.h"

#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[1024];
    if (size >= sizeof text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    double values[16], value;
    long whole;
    int n = -1;
    if (parse_double_list(text, "--mu", values, 16, &n) == AE_OK) {
        if (n < 1 || n > 16) abort();
        for (int i = 0; i < n; i++)
            if (!isfinite(values[i])) abort();
    } else if (error_message()[0] == '\0') {
        abort();   /* a refusal says why */
    }
    if (parse_double(text, "--lr", &value) == AE_OK && !isfinite(value)) abort();
    parse_long(text, "--epochs", &whole);
    return 0;
}

/* libFuzzer target: rk_npy_parse on arbitrary bytes must return a status
 * (with a message on failure) and free everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rk_array a;
    rnnkit_status s = rk_npy_parse(data, size, "fuzz.npy", &a);
    if (s == RNNKIT_STATUS_OK) {
        /* Touch every byte so ASan checks the allocation's size. */
        size_t n = a.count * rk_dtype_size(a.dtype);
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < n; i++) sink ^= ((unsigned char *)a.data)[i];
        (void)sink;
        rk_array_free(&a);
    } else if (rnnkit_last_error()[0] == '\0') {
        abort(); /* every failure must say why */
    }
    return 0;
}

/* libFuzzer target: rk_safetensors_parse on arbitrary bytes must return a
 * status (with a message on failure) and free everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rk_st_file f;
    rnnkit_status s = rk_safetensors_parse(data, size, "fuzz.safetensors", &f);
    if (s == RNNKIT_STATUS_OK) {
        volatile float sink = 0.0f;
        for (size_t i = 0; i < f.num_tensors; i++) {
            if (!f.tensors[i].name[0]) abort();
            for (size_t j = 0; j < f.tensors[i].count; j++) sink += f.tensors[i].data[j];
            if (rk_st_find(&f, f.tensors[i].name) == NULL) abort();
        }
        for (size_t i = 0; i < f.num_meta; i++)
            if (rk_st_meta_get(&f, f.meta_keys[i]) == NULL) abort();
        (void)sink;
        rk_st_file_free(&f);
    } else if (rnnkit_last_error()[0] == '\0') {
        abort();
    }
    return 0;
}

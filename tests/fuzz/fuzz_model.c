/* libFuzzer target: parse a .safetensors image in memory and, when that
 * succeeds, interpret its metadata and create the model
 * (rk_model_from_st), as rnnkit_model_load does with a file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "model_file.h"
#include "rnnkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rk_st_file f;
    if (rk_safetensors_parse(data, size, "fuzz.safetensors", &f) != RNNKIT_STATUS_OK) return 0;
    rnnkit_model *m = NULL;
    rnnkit_status s = rk_model_from_st(&f, "fuzz.safetensors", &m);
    if (s == RNNKIT_STATUS_OK) {
        rnnkit_model_info info;
        if (rnnkit_model_get_info(m, &info) != RNNKIT_STATUS_OK) abort();
        rnnkit_model_destroy(m);
    } else if (m != NULL || rnnkit_last_error()[0] == '\0') {
        abort();
    }
    rk_st_file_free(&f);
    return 0;
}

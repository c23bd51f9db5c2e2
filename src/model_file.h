/* Loading a model from a parsed .safetensors file (not public). */
#ifndef RNNKIT_MODEL_FILE_H
#define RNNKIT_MODEL_FILE_H

#include "formats.h"
#include "rnnkit.h"

/* Interprets f's __metadata__ (layout, cell, ONNX attributes) and creates
 * the model from its tensors. `what` names the file in messages. Used by
 * rnnkit_model_load and by the fuzz target (which parses in memory). */
rnnkit_status rk_model_from_st(const rk_st_file *f, const char *what, rnnkit_model **out);

#endif

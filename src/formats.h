/*
 * File formats (not public): .npy arrays and .safetensors tensor files.
 * Every reader validates everything it reads (magic, header length versus
 * file size, dtype, shape versus byte count, offsets, overlaps, JSON
 * syntax) and returns a status with a message (via rk_error) naming the
 * file and the problem. Nothing is left allocated on failure.
 */
#ifndef RNNKIT_FORMATS_H
#define RNNKIT_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "rnnkit.h"

#define RK_MAX_DIMS 8

typedef enum rk_dtype {
    RK_DTYPE_F32 = 0,
    RK_DTYPE_I32 = 1,
    RK_DTYPE_I64 = 2,
    RK_DTYPE_F16 = 3,
    RK_DTYPE_BF16 = 4,
    RK_DTYPE_F64 = 5
} rk_dtype;

size_t rk_dtype_size(rk_dtype t);
const char *rk_dtype_name(rk_dtype t);

/* A dense C-order array. data is owned (free with rk_array_free). */
typedef struct rk_array {
    rk_dtype dtype;
    int ndim; /* 0..RK_MAX_DIMS; 0 = scalar */
    int64_t shape[RK_MAX_DIMS];
    size_t count; /* product of shape */
    void *data;   /* count * rk_dtype_size(dtype) bytes, 64-byte aligned */
} rk_array;

void rk_array_free(rk_array *a);

/* .npy versions 1.0, 2.0, 3.0; dtypes '<f4', '<i4', '<i8' (and '|'/'='
 * byte-order spellings that mean the same on little-endian), C order only
 * (fortran_order True is refused). `what` names the file in messages. */
rnnkit_status rk_npy_parse(const void *buf, size_t len, const char *what, rk_array *out);
rnnkit_status rk_npy_read(const char *path, rk_array *out);
/* Writes version 1.0 (2.0 if the header needs it). Writes to a temporary
 * file beside path and renames it, so no partial file is ever left. */
rnnkit_status rk_npy_write(const char *path, rk_dtype dtype, int ndim, const int64_t *shape,
                           const void *data);

/* .safetensors: 8-byte little-endian header length, JSON header, data.
 * Tensors of dtype F32, F16, BF16 are returned converted to float32;
 * other dtypes are an error naming the tensor. */
typedef struct rk_st_tensor {
    char *name;
    int ndim;
    int64_t shape[RK_MAX_DIMS];
    size_t count;
    float *data; /* owned, count floats */
} rk_st_tensor;

typedef struct rk_st_file {
    size_t num_tensors;
    rk_st_tensor *tensors;
    size_t num_meta; /* "__metadata__" string -> string entries */
    char **meta_keys;
    char **meta_values;
} rk_st_file;

rnnkit_status rk_safetensors_parse(const void *buf, size_t len, const char *what,
                                   rk_st_file *out);
rnnkit_status rk_safetensors_read(const char *path, rk_st_file *out);
void rk_st_file_free(rk_st_file *f);
/* NULL if absent. */
const char *rk_st_meta_get(const rk_st_file *f, const char *key);
const rk_st_tensor *rk_st_find(const rk_st_file *f, const char *name);

/* Writes float32 tensors and string metadata (for tests and tools). */
rnnkit_status rk_safetensors_write(const char *path, size_t num_tensors,
                                   const rnnkit_tensor *tensors, size_t num_meta,
                                   const char *const *meta_keys,
                                   const char *const *meta_values);

/* Reads a whole file into memory (rk_free it). */
rnnkit_status rk_read_file(const char *path, void **data, size_t *len);

#endif

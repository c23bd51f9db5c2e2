/*
 * Independent float64 reference of rnnkit_forward, written from the
 * PyTorch (torch.nn.RNN/LSTM/GRU) and ONNX (RNN/LSTM/GRU opset 14)
 * specifications, not from the library. It reads the same model
 * description and named tensors as rnnkit_model_create and the same
 * forward arguments as rnnkit_forward, and returns y, hn, cn in the same
 * layouts (see include/rnnkit.h), in double.
 */
#ifndef RNNKIT_TESTS_REF64_H
#define RNNKIT_TESTS_REF64_H

#include <stddef.h>
#include <stdint.h>

#include "rnnkit.h"

typedef struct ref64_out {
    double *y;  /* PyTorch [T,N,D*P] / [N,T,D*P]; ONNX [T,D,N,H] / [N,T,D,H] */
    double *hn; /* PyTorch [L*D,N,P]; ONNX [D,N,H] / [N,D,H] */
    double *cn; /* LSTM only, else NULL: PyTorch [L*D,N,H]; ONNX as hn */
    size_t y_len, hn_len, cn_len;
    int64_t num_layers, num_directions, hidden_size, output_size;
} ref64_out;

/* Returns 0 on success; on failure -1 and a message in err (size errlen).
 * Only args->seq_len, batch, batch_major, x, lengths, h0, c0 are read. */
int ref64_forward(const rnnkit_model_desc *desc, const rnnkit_tensor *tensors,
                  size_t num_tensors, const rnnkit_forward_args *args,
                  ref64_out *out, char *err, size_t errlen);

void ref64_out_free(ref64_out *out);

/* One ONNX activation in double (alpha, beta as given). */
double ref64_activation(const rnnkit_activation *a, double x);

#endif

#!/usr/bin/python3
"""Writes the fuzz seed corpus: small valid and slightly broken .npy and
.safetensors files. Run from anywhere: /usr/bin/python3 gen_corpus.py"""
import io
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def put(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(arr, version=None):
    b = io.BytesIO()
    if version is None:
        np.save(b, arr)
    else:
        np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


def st(tensors, meta=None, dtype="F32"):
    header, blobs, off = {}, [], 0
    if meta is not None:
        header["__metadata__"] = meta
    for name, a in tensors:
        if dtype == "F32":
            raw = np.asarray(a, "<f4").tobytes()
        elif dtype == "F16":
            raw = np.asarray(a, "<f2").tobytes()
        else:  # BF16: top half of float32
            raw = (np.asarray(a, "<f4").view("<u4") >> 16).astype("<u2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(a)), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


rs = np.random.RandomState(1)
# npy
put("npy", "f4_2x3_v1.npy", npy(rs.randn(2, 3).astype("<f4")))
put("npy", "f4_vec_v2.npy", npy(rs.randn(5).astype("<f4"), (2, 0)))
put("npy", "f4_v3.npy", npy(rs.randn(2, 2).astype("<f4"), (3, 0)))
put("npy", "i4_3.npy", npy(np.arange(3, dtype="<i4")))
put("npy", "i8_scalar.npy", npy(np.array(7, dtype="<i8")))
put("npy", "f8_1x2.npy", npy(np.array([[0.5, -1.0]])))
put("npy", "f4_empty.npy", npy(np.zeros((0, 4), "<f4")))
put("npy", "f4_4d.npy", npy(rs.randn(1, 2, 1, 3).astype("<f4")))
put("npy", "bad_fortran.npy", npy(np.asfortranarray(rs.randn(2, 3).astype("<f4"))))
put("npy", "bad_bigendian.npy", npy(rs.randn(3).astype(">f4")))
put("npy", "bad_truncated.npy", npy(rs.randn(4, 4).astype("<f4"))[:-5])
# safetensors
put("safetensors", "f32_meta.safetensors",
    st([("a", rs.randn(2, 3)), ("b", rs.randn(4))], {"cell": "lstm", "k": "v\u00e9"}))
put("safetensors", "f16.safetensors", st([("h", [1.0, -2.0, 65504.0, 6e-8, 0.0])], dtype="F16"))
put("safetensors", "bf16.safetensors", st([("b", [[1.0, 3.140625], [-0.5, 1e-30]])], dtype="BF16"))
put("safetensors", "scalar_empty.safetensors", st([("s", np.float32(2.0)), ("e", np.zeros((0, 3)))]))
put("safetensors", "minimal.safetensors", struct.pack("<Q", 2) + b"{}")
bad = bytearray(st([("a", rs.randn(2))]))
bad[0] += 100
put("safetensors", "bad_hlen.safetensors", bytes(bad))
put("safetensors", "bad_overlap.safetensors",
    st([("a", rs.randn(2))]).replace(b'"data_offsets": [0, 8]', b'"data_offsets": [4, 12]'))
put("safetensors", "bad_dtype.safetensors", st([("a", rs.randn(2))]).replace(b'"F32"', b'"F64"'))


# models (also good safetensors seeds)
def lstm_pt(prefix, L=1, bidir=False, H=3, I=2, P=0):
    t = []
    for l in range(L):
        for sfx in (["", "_reverse"] if bidir else [""]):
            inp = I if l == 0 else (2 if bidir else 1) * (P or H)
            t += [(f"{prefix}weight_ih_l{l}{sfx}", rs.randn(4 * H, inp) * .3),
                  (f"{prefix}weight_hh_l{l}{sfx}", rs.randn(4 * H, P or H) * .3),
                  (f"{prefix}bias_ih_l{l}{sfx}", rs.randn(4 * H) * .1),
                  (f"{prefix}bias_hh_l{l}{sfx}", rs.randn(4 * H) * .1)]
            if P:
                t.append((f"{prefix}weight_hr_l{l}{sfx}", rs.randn(P, H) * .3))
    return t


put("model", "pt_lstm_prefix_bidir_proj.safetensors",
    st(lstm_pt("model.lstm.", 2, True, 3, 2, 2), {"cell": "lstm", "format": "pt"}))
put("model", "pt_lstm_f16.safetensors", st(lstm_pt("rnn."), {"cell": "lstm"}, dtype="F16"))
put("model", "pt_gru.safetensors",
    st([("weight_ih_l0", rs.randn(6, 3)), ("weight_hh_l0", rs.randn(6, 2))], {"cell": "gru"}))
put("model", "pt_rnn_relu.safetensors",
    st([("weight_ih_l0", rs.randn(2, 3)), ("weight_hh_l0", rs.randn(2, 2)), ("bias_ih_l0", rs.randn(2)),
        ("bias_hh_l0", rs.randn(2))], {"cell": "rnn_relu", "hidden_size": "2"}))
D, H, I = 2, 2, 3
put("model", "onnx_lstm_attrs.safetensors",
    st([("W", rs.randn(D, 4 * H, I)), ("R", rs.randn(D, 4 * H, H)), ("B", rs.randn(D, 8 * H)),
        ("P", rs.randn(D, 3 * H))],
       {"layout": "onnx", "cell": "lstm", "direction": "bidirectional", "clip": "1.5", "input_forget": "1",
        "activations": "HardSigmoid,LeakyRelu,ScaledTanh,Sigmoid,Tanh,Tanh", "activation_alpha": "0.3,0.1,0.9",
        "activation_beta": "0.5,1.1", "onnx_layout": "1", "hidden_size": "2"}))
put("model", "onnx_gru_lbr.safetensors",
    st([("W", rs.randn(1, 3 * H, I)), ("R", rs.randn(1, 3 * H, H)), ("B", rs.randn(1, 6 * H))],
       {"layout": "onnx", "cell": "gru", "direction": "reverse", "linear_before_reset": "1",
        "activations": "Sigmoid,Affine", "activation_alpha": "2", "activation_beta": "0.5"}))
put("model", "onnx_rnn.safetensors",
    st([("W", rs.randn(1, H, I)), ("R", rs.randn(1, H, H))], {"layout": "onnx", "cell": "rnn"}))
put("model", "bad_cell.safetensors",
    st([("weight_ih_l0", rs.randn(2, 3)), ("weight_hh_l0", rs.randn(2, 2))], {"cell": "lstmx"}))
# Keras layout (layer.weights names; GRU reset_after from the bias shape)
put("model", "keras_lstm_bidir.safetensors",
    st([(f"bidirectional/{d}_lstm/lstm_cell/{n}:0", rs.randn(*s) * .3)
        for d in ("forward", "backward")
        for n, s in (("kernel", (I, 4 * H)), ("recurrent_kernel", (H, 4 * H)), ("bias", (4 * H,)))],
       {"layout": "keras", "cell": "lstm"}))
put("model", "keras_gru_reset_after.safetensors",
    st([("gru/gru_cell/kernel", rs.randn(I, 3 * H)), ("gru/gru_cell/recurrent_kernel", rs.randn(H, 3 * H)),
        ("gru/gru_cell/bias", rs.randn(2, 3 * H))],
       {"layout": "keras", "cell": "gru", "activations": "HardSigmoid,Tanh", "activation_alpha": "0.2",
        "activation_beta": "0.5"}))
put("model", "keras_simple_rnn.safetensors",
    st([("kernel", rs.randn(I, H)), ("recurrent_kernel", rs.randn(H, H))],
       {"layout": "keras", "cell": "simple_rnn", "hidden_size": "2"}))
# Keras go_backwards=True (one direction, outputs in processing order)
put("model", "keras_lstm_go_backwards.safetensors",
    st([("lstm/lstm_cell/kernel:0", rs.randn(I, 4 * H)), ("lstm/lstm_cell/recurrent_kernel:0", rs.randn(H, 4 * H))],
       {"layout": "keras", "cell": "lstm", "go_backwards": "1"}))
put("model", "keras_gru_bidir_merge_ave.safetensors",
    st([(f"bidirectional/{d}_gru/gru_cell/{n}:0", rs.randn(*s) * .3)
        for d in ("forward", "backward")
        for n, s in (("kernel", (I, 3 * H)), ("recurrent_kernel", (H, 3 * H)), ("bias", (2, 3 * H)))],
       {"layout": "keras", "cell": "gru", "merge_mode": "ave"}))

#!/usr/bin/python3
"""Convert the RNN / LSTM / GRU node of an ONNX model to a .safetensors file
rnnkit loads (rnnkit_model_load, `rnnkit run --weights`).

    /usr/bin/python3 scripts/onnx2safetensors.py MODEL.onnx OUT.safetensors [--node NAME] [--dtype f32|f16]

Needs the `onnx` Python package (Debian: python3-onnx) and numpy; rnnkit
itself does not. The node's weights W, R and the optional B, P must be
constants of the graph (initializers, Constant nodes, or Identity of
those); the node's other inputs (sequence_lens, initial_h, initial_c) are
per-call arguments of rnnkit_forward. All attributes of the ONNX operator
are carried over in __metadata__:

    "layout": "onnx", "cell": rnn|lstm|gru, "direction",
    "hidden_size", "input_size", "linear_before_reset" (GRU),
    "clip", "input_forget" (LSTM), "activations", "activation_alpha",
    "activation_beta", "onnx_layout"

and, for information only, "onnx_node", "onnx_opset", "producer".
Only the one RNN node is converted, not the graph around it.
"""

import argparse
import os
import sys

CELLS = {"RNN": ("rnn", 1, 1), "GRU": ("gru", 3, 2), "LSTM": ("lstm", 4, 3)}  # op -> (cell, gates, acts/dir)
ACTIVATIONS = ("Relu", "Tanh", "Sigmoid", "Affine", "LeakyRelu", "ThresholdedRelu", "ScaledTanh",
               "HardSigmoid", "Elu", "Softsign", "Softplus")
KNOWN_ATTRS = {"direction", "hidden_size", "clip", "activations", "activation_alpha", "activation_beta",
               "layout", "linear_before_reset", "input_forget"}


class ConvertError(Exception):
    """Something rnnkit cannot express; the message says what and why."""


def note(msg):
    print("note: " + msg, file=sys.stderr)


# --------------------------------------------------------------------------
# safetensors writer (copied from tests/fixtures/gen_fixtures.py, numpy only)
# --------------------------------------------------------------------------


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnkit_st import st_bytes, write_safetensors  # noqa: E402


# --------------------------------------------------------------------------
# graph helpers
# --------------------------------------------------------------------------


def _node_label(n, i):
    return n.name if n.name else "#%d (%s, unnamed)" % (i, n.op_type)


def find_node(graph, name=None):
    """The RNN/LSTM/GRU node of the main graph (or the one named `name`)."""
    rnns = [(i, n) for i, n in enumerate(graph.node) if n.op_type in CELLS and n.domain in ("", "ai.onnx")]
    if name is not None:
        for i, n in enumerate(graph.node):
            if n.name == name or _node_label(n, i) == name:
                if n.op_type not in CELLS:
                    raise ConvertError("node '%s' is a %s, not an RNN, LSTM or GRU" % (name, n.op_type))
                if n.domain not in ("", "ai.onnx"):
                    raise ConvertError("node '%s' is %s of domain '%s', not the ONNX operator" % (name, n.op_type,
                                                                                                n.domain))
                return i, n
        raise ConvertError("no node named '%s' (RNN nodes: %s)" % (name, ", ".join(
            "'%s' (%s)" % (_node_label(n, i), n.op_type) for i, n in rnns) or "none"))
    if len(rnns) == 1:
        return rnns[0]
    if not rnns:
        inner = []
        for n in graph.node:
            for a in n.attribute:
                for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                    inner += [m.op_type for m in g.node if m.op_type in CELLS]
        if inner:
            raise ConvertError("the RNN node(s) (%s) are inside a subgraph (If/Loop/Scan); only nodes of the main "
                               "graph are converted" % ", ".join(inner))
        raise ConvertError("the graph has no RNN, LSTM or GRU node")
    raise ConvertError("the graph has %d RNN nodes: choose one with --node (%s)" % (
        len(rnns), ", ".join("'%s' (%s)" % (_node_label(n, i), n.op_type) for i, n in rnns)))


def constant_value(graph, name, role):
    """numpy value of tensor `name`, which must be a constant of the graph."""
    from onnx import numpy_helper

    inits = {t.name: t for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    seen = set()
    cur = name
    while True:
        if cur in inits:
            return numpy_helper.to_array(inits[cur])
        if cur in seen:
            break
        seen.add(cur)
        p = producers.get(cur)
        if p is None:
            if any(i.name == cur for i in graph.input):
                raise ConvertError("%s ('%s') is a graph input, given at run time; rnnkit needs it as a constant "
                                   "(an initializer)" % (role, name))
            raise ConvertError("%s ('%s') is neither an initializer nor produced by any node" % (role, name))
        if p.op_type == "Constant":
            for a in p.attribute:
                if a.name == "value":
                    return numpy_helper.to_array(a.t)
            raise ConvertError("%s ('%s') comes from a Constant node without a tensor 'value' (attributes: %s)"
                               % (role, name, ", ".join(a.name for a in p.attribute)))
        if p.op_type == "Identity":
            cur = p.input[0]
            continue
        raise ConvertError("%s ('%s') is computed at run time by node '%s' (%s); rnnkit needs constant weights: "
                           "fold constants first (torch.onnx.export(..., do_constant_folding=True), or "
                           "onnx-simplifier)" % (role, name, p.name or "?", p.op_type))
    raise ConvertError("%s ('%s'): cycle of Identity nodes" % (role, name))


def _attrs(node):
    from onnx import helper

    out = {}
    for a in node.attribute:
        if a.name not in KNOWN_ATTRS:
            raise ConvertError("attribute '%s' of %s is not part of the ONNX operator (opset 14); cannot convert"
                               % (a.name, node.op_type))
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        elif isinstance(v, list):
            v = [x.decode("utf-8") if isinstance(x, bytes) else x for x in v]
        out[a.name] = v
    return out


def _as_f32(a, role, dtype):
    import numpy as np

    if a.dtype not in (np.float32, np.float16, np.float64):
        raise ConvertError("%s has element type %s; rnnkit needs floating-point weights" % (role, a.dtype))
    if a.dtype == np.float64 and dtype == "f32":
        note("%s is float64; written as float32" % role)
    return np.ascontiguousarray(a.astype(np.float16 if dtype == "f16" else np.float32))


def convert(model, out_path, node_name=None, dtype="f32"):
    """model: an onnx.ModelProto or a path. Writes out_path; returns the metadata written."""
    import onnx

    if isinstance(model, (str, os.PathLike)):
        try:
            model = onnx.load(model)
        except Exception as e:  # noqa: BLE001 - any load failure is the user's file
            raise ConvertError("cannot load %s: %s" % (model, e))
    if dtype not in ("f32", "f16"):
        raise ConvertError("unknown dtype '%s' (f32 or f16)" % dtype)
    graph = model.graph
    idx, node = find_node(graph, node_name)
    label = _node_label(node, idx)
    cell, G, nact = CELLS[node.op_type]
    at = _attrs(node)
    ins = list(node.input) + [""] * (8 - len(node.input))
    if not ins[1] or not ins[2]:
        raise ConvertError("node %s has no W or R input" % label)

    W = _as_f32(constant_value(graph, ins[1], "W"), "W", dtype)
    R = _as_f32(constant_value(graph, ins[2], "R"), "R", dtype)
    B = _as_f32(constant_value(graph, ins[3], "B"), "B", dtype) if ins[3] else None
    P = None
    if node.op_type == "LSTM" and ins[7]:
        P = _as_f32(constant_value(graph, ins[7], "P"), "P", dtype)

    direction = at.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ConvertError("direction '%s' (expected forward, reverse or bidirectional)" % direction)
    D = 2 if direction == "bidirectional" else 1
    if W.ndim != 3 or R.ndim != 3:
        raise ConvertError("W %s and R %s must be 3-D [num_directions, gates*hidden, ...]" % (W.shape, R.shape))
    H = R.shape[2]
    I = W.shape[2]
    if "hidden_size" in at and at["hidden_size"] != H:
        raise ConvertError("hidden_size attribute %d but R has shape %s" % (at["hidden_size"], R.shape))
    want = {"W": (W, (D, G * H, I)), "R": (R, (D, G * H, H))}
    if B is not None:
        want["B"] = (B, (D, 2 * G * H))
    if P is not None:
        want["P"] = (P, (D, 3 * H))
    for k, (a, shp) in want.items():
        if tuple(a.shape) != shp:
            raise ConvertError("%s has shape %s; a %s %s with hidden_size %d and input %d needs %s"
                               % (k, tuple(a.shape), direction, node.op_type, H, I, shp))

    meta = {"layout": "onnx", "cell": cell, "direction": direction, "hidden_size": H, "input_size": I}
    if cell == "gru":
        lbr = at.get("linear_before_reset", 0)
        if lbr not in (0, 1):
            raise ConvertError("linear_before_reset %r (expected 0 or 1)" % lbr)
        meta["linear_before_reset"] = lbr
    elif "linear_before_reset" in at:
        raise ConvertError("attribute linear_before_reset on a %s node" % node.op_type)
    if "input_forget" in at:
        if cell != "lstm":
            raise ConvertError("attribute input_forget on a %s node" % node.op_type)
        if at["input_forget"] not in (0, 1):
            raise ConvertError("input_forget %r (expected 0 or 1)" % at["input_forget"])
        meta["input_forget"] = at["input_forget"]
    if "clip" in at:
        c = float(at["clip"])
        if not (c >= 0.0) or c == float("inf"):
            raise ConvertError("clip %r: rnnkit needs a finite threshold >= 0" % c)
        meta["clip"] = repr(c)
    if "layout" in at:
        if at["layout"] not in (0, 1):
            raise ConvertError("layout %r (expected 0 or 1)" % at["layout"])
        meta["onnx_layout"] = at["layout"]
    if "activations" in at:
        acts = at["activations"]
        canon = {a.lower(): a for a in ACTIVATIONS}
        for a in acts:
            if a.lower() not in canon:
                raise ConvertError("activation '%s' is not supported (ONNX activations: %s)"
                                   % (a, ", ".join(ACTIVATIONS)))
        if len(acts) != nact * D:
            raise ConvertError("%d activations given; a %s %s needs %d (%d per direction)"
                               % (len(acts), direction, node.op_type, nact * D, nact))
        meta["activations"] = ",".join(canon[a.lower()] for a in acts)
    for k in ("activation_alpha", "activation_beta"):
        if k in at:
            if "activations" not in at:
                raise ConvertError("%s given without activations" % k)
            vals = [float(v) for v in at[k]]
            if vals:
                meta[k] = ",".join(repr(v) for v in vals)
    meta["onnx_node"] = label
    ops = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if ops:
        meta["onnx_opset"] = ops[0]
    meta["producer"] = "rnnkit onnx2safetensors.py"

    tensors = [("W", W), ("R", R)]
    if B is not None:
        tensors.append(("B", B))
    if P is not None:
        tensors.append(("P", P))
    write_safetensors(out_path, tensors, meta)

    for k, what in ((4, "sequence_lens"), (5, "initial_h"), (6, "initial_c")):
        if ins[k]:
            note("input %s ('%s') is not stored: pass it per call (lengths / h0 / c0)" % (what, ins[k]))
    others = [n.op_type for n in graph.node if n is not node and n.op_type not in ("Constant", "Identity")]
    if others:
        note("only node %s is converted; the graph's other %d node(s) (%s) are not"
             % (label, len(others), ", ".join(sorted(set(others)))))
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert an ONNX RNN/LSTM/GRU node to .safetensors for rnnkit.")
    ap.add_argument("model", help="input .onnx")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--node", help="name of the RNN/LSTM/GRU node when the graph has several")
    ap.add_argument("--dtype", choices=("f32", "f16"), default="f32", help="stored dtype (default f32)")
    a = ap.parse_args(argv)
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
    except ImportError as e:
        print("onnx2safetensors.py: needs the onnx and numpy packages (%s)" % e, file=sys.stderr)
        return 2
    try:
        meta = convert(a.model, a.out, a.node, a.dtype)
    except ConvertError as e:
        print("onnx2safetensors.py: error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("onnx2safetensors.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %s %s, input %s, hidden %s%s (node %s)" % (
        a.out, meta["direction"], meta["cell"].upper(), meta["input_size"], meta["hidden_size"],
        ", onnx_layout 1" if meta.get("onnx_layout") == 1 else "", meta["onnx_node"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Export a PyTorch RNN / LSTM / GRU to a .safetensors file rnnkit loads.

Python and torch are needed only here, on the user's side; rnnkit itself
reads the file (rnnkit_model_load, `rnnkit run --weights`).

As a module:

    import sys; sys.path.insert(0, "scripts")
    from export_torch import export
    export(model, "model.safetensors")              # model is, or contains exactly one, nn.RNN/LSTM/GRU
    export(model, "model.safetensors", name="encoder.rnn", dtype="f16")

As a command, from a checkpoint saved with torch.save (a state_dict, a dict
holding one under "state_dict"/"model_state_dict"/"model", or a whole
pickled module):

    /usr/bin/python3 scripts/export_torch.py CHECKPOINT.pt OUT.safetensors \
        [--key PREFIX] [--cell lstm|gru|rnn_tanh|rnn_relu] [--dtype f32|f16|bf16]

The cell is inferred from the tensor shapes (LSTM 4 gates, GRU 3, RNN 1);
a plain RNN's nonlinearity (tanh or relu) is not in its tensors, so a
state_dict of an nn.RNN needs --cell rnn_tanh or --cell rnn_relu.

The file: tensors named as the module's state_dict (weight_ih_l0, ...,
weight_hr_l0 for proj_size, *_reverse for bidirectional), and __metadata__
"cell" (read by rnnkit), "input_size", "hidden_size", "num_layers" (checked
by rnnkit) and, for information only, "bidirectional", "proj_size",
"batch_first", "bias", "producer".

No dependency on the `safetensors` package: the writer is ~20 lines below
(the same as tests/fixtures/gen_fixtures.py).
"""

import argparse
import os
import re
import sys

CELLS = ("lstm", "gru", "rnn_tanh", "rnn_relu")
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


class ExportError(Exception):
    """A model this exporter (or rnnkit) cannot express; the message says why."""


def note(msg):
    print("note: " + msg, file=sys.stderr)


# --------------------------------------------------------------------------
# safetensors writer (copied from tests/fixtures/gen_fixtures.py)
# --------------------------------------------------------------------------


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rnnkit_st import st_bytes, write_safetensors  # noqa: E402


# --------------------------------------------------------------------------
# state_dict analysis
# --------------------------------------------------------------------------

_NAME = re.compile(r"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\d+)(_reverse)?$")


def analyse(sd, cell=None, what="state_dict"):
    """Checks a state_dict of one torch.nn.RNN/LSTM/GRU (names without
    prefix, values tensors) and returns its description dict. `cell` is
    required when the shapes leave it open (nn.RNN: tanh or relu)."""
    if cell is not None and cell not in CELLS:
        raise ExportError("unknown cell '%s' (expected one of %s)" % (cell, ", ".join(CELLS)))
    layers = {}
    for k, v in sd.items():
        m = _NAME.match(k)
        if not m:
            raise ExportError("%s: unexpected tensor '%s' (an nn.RNN/LSTM/GRU state_dict has only "
                              "weight_ih_l<k>, weight_hh_l<k>, bias_ih_l<k>, bias_hh_l<k>, "
                              "weight_hr_l<k>, each optionally _reverse)" % (what, k))
        layers.setdefault((int(m.group(2)), 1 if m.group(3) else 0), {})[m.group(1)] = v
    if not layers:
        raise ExportError("%s: no RNN tensors (weight_ih_l0, ...) found" % what)
    L = 1 + max(k for k, _ in layers)
    D = 2 if any(d for _, d in layers) else 1
    for k in range(L):
        for d in range(D):
            if (k, d) not in layers:
                raise ExportError("%s: layer %d%s is missing (no weight_ih_l%d%s)"
                                  % (what, k, " reverse" if d else "", k, "_reverse" if d else ""))
    l0 = layers[(0, 0)]
    for t in ("weight_ih", "weight_hh"):
        if t not in l0:
            raise ExportError("%s: %s_l0 is missing" % (what, t))
    if l0["weight_ih"].dim() != 2 or l0["weight_hh"].dim() != 2:
        raise ExportError("%s: weight_ih_l0/weight_hh_l0 must be 2-D, got %s and %s"
                          % (what, tuple(l0["weight_ih"].shape), tuple(l0["weight_hh"].shape)))
    rows, I = l0["weight_ih"].shape
    proj = 0
    if "weight_hr" in l0:
        P, H = l0["weight_hr"].shape
        proj = P
        G = rows // H if H else 0
        if G * H != rows or G != 4:
            raise ExportError("%s: weight_hr_l0 %s with weight_ih_l0 %s is not an LSTM with proj_size"
                              % (what, tuple(l0["weight_hr"].shape), (rows, I)))
    else:
        H = l0["weight_hh"].shape[1]
        G = rows // H if H else 0
        if H == 0 or G * H != rows or G not in (1, 3, 4):
            raise ExportError("%s: weight_ih_l0 %s and weight_hh_l0 %s are not an RNN (1 gate), GRU "
                              "(3 gates) or LSTM (4 gates)" % (what, (rows, I), tuple(l0["weight_hh"].shape)))
    shaped = {4: "lstm", 3: "gru", 1: None}[G]
    if cell is None:
        if shaped is None:
            raise ExportError("%s: the tensors are an nn.RNN's, whose nonlinearity is not stored in them: "
                              "pass --cell rnn_tanh or --cell rnn_relu" % what)
        cell = shaped
    elif GATES[cell] != G:
        raise ExportError("%s: --cell %s needs %d gate(s), but weight_ih_l0 %s has %d (H=%d)"
                          % (what, cell, GATES[cell], (rows, I), G, H))
    bias = "bias_ih" in l0
    Pout = proj if proj else H
    for (k, d), ts in sorted(layers.items()):
        suf = "_l%d%s" % (k, "_reverse" if d else "")
        In = I if k == 0 else D * Pout
        want = {"weight_ih": (G * H, In), "weight_hh": (G * H, Pout)}
        if bias:
            want["bias_ih"] = (G * H,)
            want["bias_hh"] = (G * H,)
        if proj:
            want["weight_hr"] = (proj, H)
        for t, shp in want.items():
            if t not in ts:
                raise ExportError("%s: %s%s is missing" % (what, t, suf))
            if tuple(ts[t].shape) != shp:
                raise ExportError("%s: %s%s has shape %s, expected %s" % (what, t, suf, tuple(ts[t].shape), shp))
        extra = set(ts) - set(want)
        if extra:
            raise ExportError("%s: unexpected %s (layer 0 has %s)" % (what, ", ".join(sorted(e + suf for e in extra)),
                                                                       "bias" if bias else "no bias"))
    return {"cell": cell, "input_size": I, "hidden_size": H, "num_layers": L, "bidirectional": D == 2,
            "proj_size": proj, "bias": bias}


def _convert(v, dtype):
    import torch

    v = v.detach().cpu()
    if not v.is_floating_point():
        raise ExportError("tensor of dtype %s is not floating point" % v.dtype)
    if dtype == "f32":
        return v.to(torch.float32).contiguous().numpy()
    if dtype == "f16":
        return v.to(torch.float16).contiguous().numpy()
    if dtype == "bf16":
        return v.to(torch.bfloat16).contiguous()
    raise ExportError("unknown dtype '%s' (expected f32, f16 or bf16)" % dtype)


def write_state_dict(sd, path, cell=None, dtype="f32", batch_first=None, what="state_dict"):
    """Writes a prefix-free state_dict of one RNN/LSTM/GRU; returns the description."""
    import torch

    info = analyse(sd, cell, what)
    if dtype == "f32" and any(v.dtype != torch.float32 for v in sd.values()):
        kinds = sorted({str(v.dtype) for v in sd.values()})
        note("weights are %s; written as float32" % ", ".join(kinds))
    meta = {"cell": info["cell"], "input_size": info["input_size"], "hidden_size": info["hidden_size"],
            "num_layers": info["num_layers"], "bidirectional": int(info["bidirectional"]),
            "proj_size": info["proj_size"], "bias": int(info["bias"]), "producer": "rnnkit export_torch.py"}
    if batch_first is not None:
        meta["batch_first"] = int(bool(batch_first))
    tensors = [(k, _convert(sd[k], dtype)) for k in sorted(sd, key=_order)]
    write_safetensors(path, tensors, meta)
    return info


def _order(k):
    m = _NAME.match(k)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
    return (int(m.group(2)), 1 if m.group(3) else 0, names.index(m.group(1)))


# --------------------------------------------------------------------------
# nn.Module export
# --------------------------------------------------------------------------


def _module_cell(mod):
    import torch

    if isinstance(mod, torch.nn.LSTM):
        return "lstm"
    if isinstance(mod, torch.nn.GRU):
        return "gru"
    if isinstance(mod, torch.nn.RNN):
        nl = getattr(mod, "nonlinearity", "tanh")
        if nl not in ("tanh", "relu"):
            raise ExportError("nn.RNN nonlinearity '%s' is not supported (tanh or relu)" % nl)
        return "rnn_" + nl
    return None


def _pick(module, name):
    import torch

    if name is not None:
        mods = dict(module.named_modules())
        if name not in mods:
            raise ExportError("no submodule '%s' (RNN submodules: %s)" % (
                name, ", ".join(n for n, m in mods.items() if isinstance(m, torch.nn.RNNBase)) or "none"))
        return name, mods[name]
    if isinstance(module, torch.nn.RNNBase):
        return "", module
    found = [(n, m) for n, m in module.named_modules() if isinstance(m, torch.nn.RNNBase)]
    if len(found) == 1:
        return found[0]
    if not found:
        cells = [n for n, m in module.named_modules()
                 if isinstance(m, (torch.nn.RNNCell, torch.nn.LSTMCell, torch.nn.GRUCell))]
        if cells:
            raise ExportError("%s is a single-step cell (nn.*Cell); rnnkit runs whole nn.RNN/LSTM/GRU layers"
                              % cells[0])
        raise ExportError("%s contains no torch.nn.RNN, LSTM or GRU" % type(module).__name__)
    raise ExportError("the module contains %d RNN layers (%s): pass name= (or --key) to choose one"
                      % (len(found), ", ".join(n for n, _ in found)))


def export(module, path, name=None, dtype="f32"):
    """Writes `module` (a torch.nn.RNN/LSTM/GRU, or a module containing
    exactly one of them, or the one named `name`) to `path` as
    .safetensors for rnnkit. dtype: "f32" (default), "f16" or "bf16".
    Returns a dict describing what was written. Raises ExportError for
    what rnnkit cannot run."""
    import torch

    sub_name, mod = _pick(module, name)
    what = sub_name or type(mod).__name__
    cell = _module_cell(mod)
    if cell is None:
        raise ExportError("%s (%s) is not a torch.nn.RNN, LSTM or GRU" % (what, type(mod).__name__))
    if type(mod) not in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU):
        note("%s is a subclass (%s) of nn.%s: only its parameters are exported, any overridden forward() "
             "is not" % (what, type(mod).__name__, type(mod).__mro__[1].__name__))
    if getattr(mod, "dropout", 0) > 0:
        note("dropout=%g between layers applies only in training; rnnkit runs inference" % mod.dropout)
    if getattr(mod, "batch_first", False):
        note("batch_first=True: pass batch_major=1 (C API) or --batch-major (rnnkit run) for [N,T,I] input")
    sd = mod.state_dict()
    info = write_state_dict(sd, path, cell=cell, dtype=dtype, batch_first=getattr(mod, "batch_first", False),
                            what=what)
    # the module's own hyper-parameters must agree with what the tensors say
    for attr, key in (("input_size", "input_size"), ("hidden_size", "hidden_size"), ("num_layers", "num_layers"),
                      ("bidirectional", "bidirectional"), ("proj_size", "proj_size")):
        if hasattr(mod, attr) and getattr(mod, attr) != info[key]:
            raise ExportError("%s: %s=%s but the tensors say %s" % (what, attr, getattr(mod, attr), info[key]))
    return info


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------


def _state_dict_from(obj):
    import torch

    if isinstance(obj, torch.nn.Module):
        return None, obj
    if not isinstance(obj, dict):
        raise ExportError("the checkpoint holds a %s, not a state_dict or a module" % type(obj).__name__)
    for k in ("state_dict", "model_state_dict", "model"):
        if k in obj and isinstance(obj[k], (dict, torch.nn.Module)) and not isinstance(obj[k], torch.Tensor):
            return _state_dict_from(obj[k])
    return obj, None


def _prefixes(sd):
    out = []
    for k in sd:
        if k.endswith("weight_ih_l0"):
            out.append(k[: -len("weight_ih_l0")])
    return sorted(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a PyTorch RNN/LSTM/GRU checkpoint to .safetensors for rnnkit.")
    ap.add_argument("checkpoint", help="file saved with torch.save (state_dict or module)")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--key", help="prefix of the RNN's tensors in the state_dict (e.g. 'rnn' or 'encoder.lstm')")
    ap.add_argument("--cell", choices=CELLS, help="cell kind; needed for nn.RNN (tanh or relu)")
    ap.add_argument("--dtype", choices=("f32", "f16", "bf16"), default="f32", help="stored dtype (default f32)")
    a = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("export_torch.py: needs PyTorch (import torch failed)", file=sys.stderr)
        return 2
    try:
        try:
            obj = torch.load(a.checkpoint, map_location="cpu")
        except Exception as e:  # noqa: BLE001 - any load failure is the user's file
            raise ExportError("cannot load %s: %s" % (a.checkpoint, e))
        sd, mod = _state_dict_from(obj)
        if mod is not None:
            name = a.key.rstrip(".") if a.key else None
            if a.cell:
                c = _module_cell(_pick(mod, name)[1])
                if c != a.cell:
                    raise ExportError("--cell %s but the module is %s" % (a.cell, c))
            info = export(mod, a.out, name=name, dtype=a.dtype)
        else:
            sd = {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}
            pres = _prefixes(sd)
            if a.key is not None:
                pre = a.key if a.key == "" or a.key.endswith(".") else a.key + "."
                if pre not in pres:
                    raise ExportError("no tensors '%sweight_ih_l0' in %s (RNN prefixes found: %s)"
                                      % (pre, a.checkpoint, ", ".join(repr(p) for p in pres) or "none"))
            elif len(pres) == 1:
                pre = pres[0]
            elif not pres:
                raise ExportError("%s has no RNN tensors (no '*weight_ih_l0')" % a.checkpoint)
            else:
                raise ExportError("%s holds %d RNNs (prefixes %s): choose one with --key"
                                  % (a.checkpoint, len(pres), ", ".join(repr(p.rstrip(".")) for p in pres)))
            # the RNN's tensors: those under the prefix that look like RNN names
            sub = {}
            for k, v in sd.items():
                if k.startswith(pre):
                    rest = k[len(pre):]
                    if _NAME.match(rest):
                        sub[rest] = v
            info = write_state_dict(sub, a.out, cell=a.cell, dtype=a.dtype,
                                    what="%s%s" % (a.checkpoint, " [%s]" % pre.rstrip(".") if pre else ""))
    except ExportError as e:
        print("export_torch.py: error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("export_torch.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %s, input %d, hidden %d, %d layer(s), %s%s, %s" % (
        a.out, info["cell"], info["input_size"], info["hidden_size"], info["num_layers"],
        "bidirectional" if info["bidirectional"] else "unidirectional",
        ", proj_size %d" % info["proj_size"] if info["proj_size"] else "", a.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# Tests scripts/export_torch.py and scripts/onnx2safetensors.py end to end:
# builds small models in Python, converts them, runs `rnnkit run` on random
# inputs and compares with PyTorch's own output (torch cases) or ONNX's
# reference helpers (onnx.backend.test.case.node.{rnn,gru,lstm}; onnx 1.12
# has no onnx.reference), |got - expected| <= 1e-5 * max(1, |expected|).
# Keras-layout files (numpy only: Keras is not packaged for Debian) against
# a numpy evaluation of the Keras cell equations.
# Also checks that the converters refuse what they cannot express.
#
#   scripts/test-converters.sh          # uses build/src/rnnkit
#   RNNKIT_BUILD=build-rel scripts/test-converters.sh
#
# Needs /usr/bin/python3 (or $RNNKIT_PYTHON) with numpy, and torch and/or onnx; a missing module
# prints a SKIP line (exit 0). Prints "N passed, M failed"; exit 1 on failure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${RNNKIT_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
RNNKIT=$BUILD/src/rnnkit
PY=${RNNKIT_PYTHON:-/usr/bin/python3}

if [ ! -x "$PY" ]; then
    echo "test-converters: SKIP (no $PY)"
    exit 0
fi
if [ ! -x "$RNNKIT" ]; then
    echo "test-converters: $RNNKIT not found (build first, or set RNNKIT_BUILD)" >&2
    exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rnnkit-conv.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

"$PY" - "$ROOT" "$RNNKIT" "$TMP" <<'PYEOF'
import os
import subprocess
import sys
import traceback
import warnings

ROOT, RNNKIT, TMP = sys.argv[1:4]
SCRIPTS = os.path.join(ROOT, "scripts")
sys.path.insert(0, SCRIPTS)
TOL = 1e-5
PY = sys.executable

try:
    import numpy as np
except ImportError:
    print("test-converters: SKIP (numpy is not installed for %s)" % PY)
    sys.exit(0)
try:
    import torch
except ImportError:
    torch = None
    print("test-converters: SKIP PyTorch cases (torch is not installed for %s)" % PY)
try:
    import onnx
    from onnx import helper, TensorProto, numpy_helper
    from onnx.backend.test.case.node.gru import GRU_Helper
    from onnx.backend.test.case.node.lstm import LSTM_Helper
    from onnx.backend.test.case.node.rnn import RNN_Helper
except ImportError as e:
    onnx = None
    print("test-converters: SKIP ONNX cases (%s)" % e)
if torch is None and onnx is None:
    print("test-converters: only the Keras-layout cases run (neither torch nor onnx)")

warnings.filterwarnings("ignore")
RESULTS = []


class Fail(Exception):
    pass


def case(fn):
    name = fn.__name__[2:] if fn.__name__.startswith("t_") else fn.__name__
    try:
        fn(os.path.join(TMP, name))
        RESULTS.append((name, True))
        print("PASS %s" % name)
    except Fail as e:
        RESULTS.append((name, False))
        print("FAIL %s: %s" % (name, e))
    except Exception:  # noqa: BLE001 - a crash of a case is a failure, not an abort
        RESULTS.append((name, False))
        print("FAIL %s: exception\n%s" % (name, traceback.format_exc()))
    return fn


def sh(args, expect_rc=0, what="command"):
    p = subprocess.run([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if expect_rc is not None and p.returncode != expect_rc:
        raise Fail("%s exited %d (expected %d): %s\nstdout: %s\nstderr: %s" % (
            what, p.returncode, expect_rc, " ".join(map(str, args)), p.stdout.strip(), p.stderr.strip()))
    return p


def run_rnnkit(d, model, x, h0=None, c0=None, lengths=None, batch_major=False, lstm=False):
    """Runs `rnnkit run`; returns y, hn, cn (cn None unless lstm)."""
    args = [RNNKIT, "run", "-q", "--weights", model, "--input", os.path.join(d, "x.npy"),
            "--output", os.path.join(d, "y.npy"), "--hn", os.path.join(d, "hn.npy")]
    np.save(os.path.join(d, "x.npy"), np.ascontiguousarray(x, dtype=np.float32))
    if h0 is not None:
        np.save(os.path.join(d, "h0.npy"), np.ascontiguousarray(h0, dtype=np.float32))
        args += ["--h0", os.path.join(d, "h0.npy")]
    if c0 is not None:
        np.save(os.path.join(d, "c0.npy"), np.ascontiguousarray(c0, dtype=np.float32))
        args += ["--c0", os.path.join(d, "c0.npy")]
    if lengths is not None:
        np.save(os.path.join(d, "len.npy"), np.asarray(lengths, dtype=np.int64))
        args += ["--lengths", os.path.join(d, "len.npy")]
    if lstm:
        args += ["--cn", os.path.join(d, "cn.npy")]
    if batch_major:
        args += ["--batch-major"]
    sh(args, what="rnnkit run")
    y = np.load(os.path.join(d, "y.npy"))
    hn = np.load(os.path.join(d, "hn.npy"))
    cn = np.load(os.path.join(d, "cn.npy")) if lstm else None
    return y, hn, cn


def close(what, got, exp):
    got = np.asarray(got, dtype=np.float64)
    exp = np.asarray(exp, dtype=np.float64)
    if got.shape != exp.shape:
        raise Fail("%s: shape %s, expected %s" % (what, got.shape, exp.shape))
    if not np.all(np.isfinite(got)):
        raise Fail("%s: non-finite output" % what)
    err = np.abs(got - exp) / np.maximum(1.0, np.abs(exp))
    if err.size and err.max() > TOL:
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        raise Fail("%s: at %s got %.9g expected %.9g (rel err %.3g > %g)" % (what, i, got[i], exp[i], err[i], TOL))
    if exp.size and np.max(np.abs(exp)) == 0.0:
        raise Fail("%s: expected output is all zeros; the case tests nothing" % what)


def expect_error(args, needle, what):
    p = sh(args, expect_rc=1, what=what)
    if needle not in p.stderr:
        raise Fail("%s: stderr lacks %r: %s" % (what, needle, p.stderr.strip()))


# --------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------

if torch is not None:
    import export_torch

    def torch_ref(mod, x, h0=None, c0=None, lengths=None):
        with torch.no_grad():
            hx = None
            if h0 is not None:
                hx = (torch.from_numpy(h0), torch.from_numpy(c0)) if c0 is not None else torch.from_numpy(h0)
            xt = torch.from_numpy(x)
            if lengths is not None:
                bf = mod.batch_first
                T = x.shape[1] if bf else x.shape[0]
                packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.as_tensor(lengths), batch_first=bf,
                                                                 enforce_sorted=False)
                out, st = mod(packed, hx)
                y, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=bf, total_length=T)
            else:
                y, st = mod(xt, hx)
        if isinstance(st, tuple):
            return y.numpy(), st[0].numpy(), st[1].numpy()
        return y.numpy(), st.numpy(), None

    def rs(seed):
        return np.random.RandomState(seed)

    @case
    def t_torch_lstm_bidir_l2_proj_module(d):
        """export(module) on a wrapper holding one LSTM (2 layers, bidirectional, proj_size)."""
        os.makedirs(d)
        torch.manual_seed(1)

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = torch.nn.LSTM(6, 9, num_layers=2, bidirectional=True, proj_size=4)
                self.head = torch.nn.Linear(8, 3)

        net = Net().eval()
        m = os.path.join(d, "m.safetensors")
        info = export_torch.export(net, m)
        if (info["cell"], info["num_layers"], info["bidirectional"], info["proj_size"]) != ("lstm", 2, True, 4):
            raise Fail("export() described %s" % info)
        r = rs(1)
        T, N = 7, 3
        x = r.randn(T, N, 6).astype(np.float32)
        h0 = (0.5 * r.randn(4, N, 4)).astype(np.float32)
        c0 = (0.5 * r.randn(4, N, 9)).astype(np.float32)
        ey, eh, ec = torch_ref(net.enc, x, h0, c0)
        y, hn, cn = run_rnnkit(d, m, x, h0, c0, lstm=True)
        close("y", y, ey)
        close("hn", hn, eh)
        close("cn", cn, ec)

    @case
    def t_torch_lstm_bidir_l2_checkpoint_key(d):
        """CLI on a torch.save'd state_dict holding two RNNs: --key picks one; lengths."""
        os.makedirs(d)
        torch.manual_seed(2)

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = torch.nn.GRU(4, 5)
                self.dec = torch.nn.LSTM(5, 8, num_layers=2, bidirectional=True)

        net = Net().eval()
        ck = os.path.join(d, "ck.pt")
        torch.save({"epoch": 3, "model_state_dict": net.state_dict()}, ck)
        m = os.path.join(d, "m.safetensors")
        expect_error([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m], "--key", "two RNNs without --key")
        sh([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m, "--key", "dec"], what="export_torch.py")
        r = rs(2)
        T, N = 6, 4
        x = r.randn(T, N, 5).astype(np.float32)
        lengths = [6, 2, 1, 5]
        ey, eh, ec = torch_ref(net.dec, x, lengths=lengths)
        y, hn, cn = run_rnnkit(d, m, x, lengths=lengths, lstm=True)
        close("y", y, ey)
        close("hn", hn, eh)
        close("cn", cn, ec)

    @case
    def t_torch_gru_l2_checkpoint(d):
        """CLI on a bare GRU state_dict: the cell is inferred from the shapes."""
        os.makedirs(d)
        torch.manual_seed(3)
        mod = torch.nn.GRU(5, 11, num_layers=2).eval()
        ck = os.path.join(d, "gru.pt")
        torch.save(mod.state_dict(), ck)
        m = os.path.join(d, "m.safetensors")
        p = sh([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m], what="export_torch.py")
        if "gru" not in p.stdout:
            raise Fail("exporter did not report a GRU: %s" % p.stdout)
        r = rs(3)
        x = r.randn(5, 3, 5).astype(np.float32)
        h0 = (0.5 * r.randn(2, 3, 11)).astype(np.float32)
        ey, eh, _ = torch_ref(mod, x, h0)
        y, hn, _ = run_rnnkit(d, m, x, h0)
        close("y", y, ey)
        close("hn", hn, eh)

    @case
    def t_torch_gru_bidir_f16(d):
        """--dtype f16: weights already representable in f16 give the same results."""
        os.makedirs(d)
        torch.manual_seed(4)
        mod = torch.nn.GRU(4, 6, bidirectional=True).eval()
        with torch.no_grad():
            for prm in mod.parameters():
                prm.copy_(prm.half().float())
        ck = os.path.join(d, "gru.pt")
        torch.save(mod.state_dict(), ck)
        m = os.path.join(d, "m.safetensors")
        sh([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m, "--dtype", "f16"], what="export_torch.py")
        with open(m, "rb") as f:
            head = f.read(600)
        if b'"F16"' not in head:
            raise Fail("no F16 tensors in the file")
        x = rs(4).randn(5, 2, 4).astype(np.float32)
        ey, eh, _ = torch_ref(mod, x)
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, ey)
        close("hn", hn, eh)

    @case
    def t_torch_rnn_relu_batch_first(d):
        """nn.RNN relu, batch_first: needs --cell (shapes cannot tell tanh from relu), runs --batch-major."""
        os.makedirs(d)
        torch.manual_seed(5)
        mod = torch.nn.RNN(5, 7, num_layers=2, nonlinearity="relu", batch_first=True).eval()
        ck = os.path.join(d, "rnn.pt")
        torch.save(mod.state_dict(), ck)
        m = os.path.join(d, "m.safetensors")
        expect_error([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m], "--cell rnn_tanh or --cell rnn_relu",
                     "nn.RNN without --cell")
        expect_error([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m, "--cell", "lstm"], "needs 4 gate",
                     "nn.RNN with --cell lstm")
        sh([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m, "--cell", "rnn_relu"], what="export_torch.py")
        x = rs(5).randn(3, 6, 5).astype(np.float32)  # [N,T,I]
        ey, eh, _ = torch_ref(mod, x)
        y, hn, _ = run_rnnkit(d, m, x, batch_major=True)
        close("y", y, ey)
        close("hn", hn, eh)

    @case
    def t_torch_rnn_tanh_module_file(d):
        """A whole module saved with torch.save (pickled), nn.RNN tanh inside a Sequential."""
        os.makedirs(d)
        torch.manual_seed(6)
        seq = torch.nn.Sequential(torch.nn.RNN(3, 5, bidirectional=True)).eval()
        ck = os.path.join(d, "whole.pt")
        torch.save(seq, ck)
        m = os.path.join(d, "m.safetensors")
        sh([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m], what="export_torch.py")
        x = rs(6).randn(4, 2, 3).astype(np.float32)
        ey, eh, _ = torch_ref(seq[0], x)
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, ey)
        close("hn", hn, eh)

    @case
    def t_torch_refusals(d):
        """Modules the exporter must refuse, each with a clear message."""
        os.makedirs(d)
        m = os.path.join(d, "m.safetensors")
        for mod, needle in ((torch.nn.Sequential(torch.nn.GRU(3, 4), torch.nn.GRU(4, 4)), "pass name="),
                            (torch.nn.LSTMCell(3, 4), "single-step cell"),
                            (torch.nn.Linear(3, 4), "contains no torch.nn.RNN")):
            try:
                export_torch.export(mod, m)
            except export_torch.ExportError as e:
                if needle not in str(e):
                    raise Fail("%s: message %r lacks %r" % (type(mod).__name__, str(e), needle))
            else:
                raise Fail("%s was exported" % type(mod).__name__)
        bad = torch.nn.LSTM(3, 4).state_dict()
        bad["weight_hh_l0"] = torch.zeros(16, 5)
        ck = os.path.join(d, "bad.pt")
        torch.save(bad, ck)
        expect_error([PY, os.path.join(SCRIPTS, "export_torch.py"), ck, m], "weight_hh_l0", "bad shapes")
        if os.path.exists(m):
            raise Fail("an output file was written for refused input")

# --------------------------------------------------------------------------
# ONNX
# --------------------------------------------------------------------------

if onnx is not None:
    import onnx2safetensors

    G = {"RNN": 1, "GRU": 3, "LSTM": 4}
    FL = TensorProto.FLOAT

    def vi(name, rank=3):
        return helper.make_tensor_value_info(name, FL, [None] * rank)

    def onnx_model(path, op, consts, attrs, inputs=("X", "W", "R", "B"), extra_nodes=(), extra_inputs=()):
        """One-node graph; consts: name -> array (initializers)."""
        node = helper.make_node(op, list(inputs), ["Y", "Y_h"], name="rnn0", **attrs)
        inits = [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in consts.items()]
        g = helper.make_graph(list(extra_nodes) + [node], "g",
                              [vi("X")] + list(extra_inputs),
                              [vi("Y", 4), vi("Y_h")], initializer=inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
        onnx.checker.check_model(model)
        onnx.save(model, path)
        return path

    def convert(d, onnx_path, *extra):
        m = os.path.join(d, "m.safetensors")
        sh([PY, os.path.join(SCRIPTS, "onnx2safetensors.py"), onnx_path, m] + list(extra), what="onnx2safetensors.py")
        return m

    def weights(r, op, I, H, peep=False, scale=0.5):
        W = (scale * r.randn(1, G[op] * H, I)).astype(np.float32)
        R = (scale * r.randn(1, G[op] * H, H)).astype(np.float32)
        B = (scale * r.randn(1, 2 * G[op] * H)).astype(np.float32)
        P = (scale * r.randn(1, 3 * H)).astype(np.float32) if peep else None
        return W, R, B, P

    @case
    def t_onnx_lstm_peepholes_layout1(d):
        """ONNX LSTM with P (peepholes) and layout=1; expected from LSTM_Helper (run on the
        sequence-major transpose: the helper's own layout-1 path assumes N == T)."""
        os.makedirs(d)
        r = np.random.RandomState(11)
        N, T, I, H = 3, 5, 4, 6
        W, R, B, P = weights(r, "LSTM", I, H, peep=True)
        x = r.randn(N, T, I).astype(np.float32)
        path = onnx_model(os.path.join(d, "m.onnx"), "LSTM", {"W": W, "R": R, "B": B, "P": P},
                          {"hidden_size": H, "layout": 1}, inputs=("X", "W", "R", "B", "", "", "", "P"))
        m = convert(d, path)
        Y, Yh = LSTM_Helper(X=x.transpose(1, 0, 2).copy(), W=W, R=R, B=B, P=P).step()  # [T,1,N,H], [1,N,H]
        y, hn, _ = run_rnnkit(d, m, x, lstm=True)  # onnx_layout 1: x [N,T,I], y [N,T,D,H], hn [N,D,H]
        close("y", y, Y.transpose(2, 0, 1, 3))
        close("hn", hn, Yh.transpose(1, 0, 2))

    @case
    def t_onnx_lstm_peepholes_h0c0(d):
        """ONNX LSTM, layout 0, peepholes, initial_h/initial_c given per call."""
        os.makedirs(d)
        r = np.random.RandomState(12)
        T, N, I, H = 6, 2, 3, 5
        W, R, B, P = weights(r, "LSTM", I, H, peep=True)
        x = r.randn(T, N, I).astype(np.float32)
        h0 = (0.5 * r.randn(1, N, H)).astype(np.float32)
        c0 = (0.5 * r.randn(1, N, H)).astype(np.float32)
        path = onnx_model(os.path.join(d, "m.onnx"), "LSTM", {"W": W, "R": R, "B": B, "P": P}, {"hidden_size": H},
                          inputs=("X", "W", "R", "B", "", "h0", "c0", "P"),
                          extra_inputs=[vi("h0"), vi("c0")])
        m = convert(d, path)
        Y, Yh = LSTM_Helper(X=x, W=W, R=R, B=B, P=P, initial_h=h0.copy(), initial_c=c0.copy()).step()
        y, hn, _ = run_rnnkit(d, m, x, h0=h0, c0=c0, lstm=True)
        close("y", y, Y)
        close("hn", hn, Yh)

    @case
    def t_onnx_gru_lbr0(d):
        """ONNX GRU, linear_before_reset 0 (not PyTorch's variant), expected from GRU_Helper."""
        os.makedirs(d)
        r = np.random.RandomState(13)
        T, N, I, H = 5, 3, 4, 7
        W, R, B, _ = weights(r, "GRU", I, H)
        x = r.randn(T, N, I).astype(np.float32)
        path = onnx_model(os.path.join(d, "m.onnx"), "GRU", {"W": W, "R": R, "B": B},
                          {"hidden_size": H, "linear_before_reset": 0})
        m = convert(d, path)
        Y, Yh = GRU_Helper(X=x, W=W, R=R, B=B).step()
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, Y)
        close("hn", hn, Yh)

    @case
    def t_onnx_gru_lbr1_constant_nodes(d):
        """ONNX GRU, linear_before_reset 1, weights given by Constant and Identity nodes."""
        os.makedirs(d)
        r = np.random.RandomState(14)
        T, N, I, H = 4, 2, 3, 5
        W, R, B, _ = weights(r, "GRU", I, H)
        x = r.randn(T, N, I).astype(np.float32)
        cn = [helper.make_node("Constant", [], ["Wc"], value=numpy_helper.from_array(W, "Wc")),
              helper.make_node("Identity", ["Wc"], ["W"]),
              helper.make_node("Constant", [], ["R"], value=numpy_helper.from_array(R, "R"))]
        path = onnx_model(os.path.join(d, "m.onnx"), "GRU", {"B": B}, {"linear_before_reset": 1}, extra_nodes=cn)
        m = convert(d, path)
        Y, Yh = GRU_Helper(X=x, W=W, R=R, B=B, linear_before_reset=1).step()
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, Y)
        close("hn", hn, Yh)

    @case
    def t_onnx_rnn_no_bias(d):
        """ONNX RNN (Tanh default), no B input, expected from RNN_Helper."""
        os.makedirs(d)
        r = np.random.RandomState(15)
        T, N, I, H = 5, 3, 4, 6
        W, R, _, _ = weights(r, "RNN", I, H)
        x = r.randn(T, N, I).astype(np.float32)
        path = onnx_model(os.path.join(d, "m.onnx"), "RNN", {"W": W, "R": R}, {"hidden_size": H},
                          inputs=("X", "W", "R"))
        m = convert(d, path)
        Y, Yh = RNN_Helper(X=x, W=W, R=R).step()
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, Y)
        close("hn", hn, Yh)

    @case
    def t_onnx_refusals(d):
        """Graphs the converter must refuse, each with a clear message and no output file."""
        os.makedirs(d)
        r = np.random.RandomState(16)
        W, R, B, _ = weights(r, "LSTM", 3, 4)
        m = os.path.join(d, "m.safetensors")
        conv = [PY, os.path.join(SCRIPTS, "onnx2safetensors.py")]
        # W computed at run time
        p1 = onnx_model(os.path.join(d, "computed.onnx"), "LSTM", {"W0": W, "R": R, "B": B}, {},
                        extra_nodes=[helper.make_node("Add", ["W0", "W0"], ["W"], name="double_w")])
        expect_error(conv + [p1, m], "computed at run time", "computed W")
        # W a graph input
        p2 = onnx_model(os.path.join(d, "input.onnx"), "LSTM", {"R": R, "B": B}, {},
                        extra_inputs=[vi("W")])
        expect_error(conv + [p2, m], "graph input", "W as graph input")
        # wrong number of activations
        p3 = onnx_model(os.path.join(d, "acts.onnx"), "LSTM", {"W": W, "R": R, "B": B},
                        {"activations": ["Sigmoid", "Tanh"]})
        expect_error(conv + [p3, m], "needs 3", "2 activations for an LSTM")
        # two RNN nodes: --node required, and a wrong --node named
        n1 = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y1", "Yh1"], name="first")
        n2 = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y2", "Yh2"], name="second")
        inits = [numpy_helper.from_array(a, k) for k, a in (("W", W), ("R", R), ("B", B))]
        g = helper.make_graph([n1, n2], "g", [vi("X")], [vi("Y1", 4), vi("Y2", 4)], initializer=inits)
        p4 = os.path.join(d, "two.onnx")
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), p4)
        expect_error(conv + [p4, m], "--node", "two LSTM nodes")
        expect_error(conv + [p4, m, "--node", "third"], "no node named 'third'", "unknown --node")
        if os.path.exists(m):
            raise Fail("an output file was written for refused input")
        sh(conv + [p4, m, "--node", "second"], what="--node second")
        if not os.path.exists(m):
            raise Fail("no output for --node second")

# --------------------------------------------------------------------------
# PyTorch -> ONNX (torch.onnx.export) -> rnnkit, against PyTorch
# --------------------------------------------------------------------------

if torch is not None and onnx is not None:

    @case
    def t_torch_onnx_export_lstm_bidir(d):
        """A real exporter's graph: torch.onnx.export of a bidirectional LSTM."""
        os.makedirs(d)
        torch.manual_seed(7)
        mod = torch.nn.LSTM(4, 6, bidirectional=True).eval()
        T, N = 5, 2
        x = np.random.RandomState(7).randn(T, N, 4).astype(np.float32)
        path = os.path.join(d, "m.onnx")
        torch.onnx.export(mod, (torch.from_numpy(x),), path, opset_version=14)
        m = convert(d, path)
        ey, eh, ec = torch_ref(mod, x)
        y, hn, cn = run_rnnkit(d, m, x, lstm=True)  # y [T,D,N,H]
        close("y", y.transpose(0, 2, 1, 3).reshape(T, N, 12), ey)
        close("hn", hn, eh)
        close("cn", cn, ec)

    @case
    def t_torch_onnx_export_gru_2layers(d):
        """torch.onnx.export of a 2-layer GRU gives 2 GRU nodes (linear_before_reset 1);
        layer 0 converted with --node, compared with torch's layer 0 alone."""
        os.makedirs(d)
        torch.manual_seed(8)
        mod = torch.nn.GRU(3, 5, num_layers=2).eval()
        T, N = 4, 3
        x = np.random.RandomState(8).randn(T, N, 3).astype(np.float32)
        path = os.path.join(d, "m.onnx")
        torch.onnx.export(mod, (torch.from_numpy(x),), path, opset_version=14)
        graph = onnx.load(path).graph
        names = [n.name for n in graph.node if n.op_type == "GRU"]
        if len(names) != 2:
            raise Fail("expected 2 GRU nodes, got %s" % names)
        expect_error([PY, os.path.join(SCRIPTS, "onnx2safetensors.py"), path, os.path.join(d, "x.safetensors")],
                     "--node", "two GRU nodes")
        m = convert(d, path, "--node", names[0])
        l0 = torch.nn.GRU(3, 5).eval()
        l0.load_state_dict({k: v for k, v in mod.state_dict().items() if k.endswith("_l0")})
        ey, eh, _ = torch_ref(l0, x)
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y[:, 0], ey)
        close("hn", hn, eh)

    @case
    def t_onnx_rnn_bidir_acts_clip(d):
        """Attributes the ONNX helpers cannot run (bidirectional, activations with alpha, clip):
        expected from onnx_ref of tests/fixtures/gen_fixtures.py (float64, checked there against
        the helpers and PyTorch)."""
        os.makedirs(d)
        sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
        import gen_fixtures
        r = np.random.RandomState(17)
        T, N, I, H = 5, 3, 4, 6
        W = (0.8 * r.randn(2, H, I)).astype(np.float32)
        R = (0.8 * r.randn(2, H, H)).astype(np.float32)
        B = (0.5 * r.randn(2, 2 * H)).astype(np.float32)
        x = r.randn(T, N, I).astype(np.float32)
        acts, alphas = ["LeakyRelu", "Elu"], [0.2, 0.7]
        path = onnx_model(os.path.join(d, "m.onnx"), "RNN", {"W": W, "R": R, "B": B},
                          {"direction": "bidirectional", "activations": acts, "activation_alpha": alphas,
                           "clip": 0.9})
        m = convert(d, path)
        Y, Yh, _ = gen_fixtures.onnx_ref("rnn", x, W, R, B, direction="bidirectional", clip=0.9,
                                         activations=acts, alphas=alphas)
        y, hn, _ = run_rnnkit(d, m, x)
        close("y", y, Y)
        close("hn", hn, Yh)

# --------------------------------------------------------------------------
# Keras layout: no Keras/TensorFlow on Debian, so weights shaped and named as
# keras.layers hold them (layer.weights), written with rnnkit_st, run by
# `rnnkit run` (always batch-major for Keras), against a numpy evaluation of
# the Keras cell equations on those arrays (x @ kernel + h @ recurrent_kernel).
# --------------------------------------------------------------------------

from rnnkit_st import write_safetensors  # noqa: E402


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def keras_layer(cell, x, w, reset_after=False, rec_act=_sig, act=np.tanh, h0=None, c0=None):
    """x [N,T,I]; w: (kernel, recurrent_kernel, bias or None); returns y [N,T,H], h, c."""
    k, rk, b = (None if a is None else a.astype(np.float64) for a in w)
    N, T, _ = x.shape
    H = rk.shape[0]
    h = np.zeros((N, H)) if h0 is None else h0.astype(np.float64)
    c = np.zeros((N, H)) if c0 is None else c0.astype(np.float64)
    ys = []
    for t in range(T):
        xt = x[:, t, :].astype(np.float64)
        if cell == "lstm":
            z = xt @ k + h @ rk + (0 if b is None else b)
            i, f, g, o = np.split(z, 4, axis=1)
            c = rec_act(f) * c + rec_act(i) * act(g)
            h = rec_act(o) * act(c)
        elif cell == "gru":
            bx = 0 if b is None else (b[0] if reset_after else b)
            mx = xt @ k + bx
            if reset_after:
                mi = h @ rk + (0 if b is None else b[1])
                z = rec_act(mx[:, :H] + mi[:, :H])
                r = rec_act(mx[:, H:2 * H] + mi[:, H:2 * H])
                hh = act(mx[:, 2 * H:] + r * mi[:, 2 * H:])
            else:
                z = rec_act(mx[:, :H] + h @ rk[:, :H])
                r = rec_act(mx[:, H:2 * H] + h @ rk[:, H:2 * H])
                hh = act(mx[:, 2 * H:] + (r * h) @ rk[:, 2 * H:])
            h = z * h + (1 - z) * hh
        else:
            h = act(xt @ k + h @ rk + (0 if b is None else b))
        ys.append(h)
    return np.stack(ys, axis=1), h, c


def keras_weights(rng, cell, I, H, bias=True, reset_after=False):
    G = {"lstm": 4, "gru": 3, "simple_rnn": 1}[cell]
    s = 1.0 / np.sqrt(H)
    k = rng.uniform(-s, s, (I, G * H)).astype(np.float32)
    rk = rng.uniform(-s, s, (H, G * H)).astype(np.float32)
    b = None
    if bias:
        b = rng.uniform(-0.5, 0.5, (2, G * H) if reset_after else (G * H,)).astype(np.float32)
    return k, rk, b


def keras_tensors(prefix, layer, w):
    names = ["kernel", "recurrent_kernel", "bias"]
    return [("%s/%s_cell/%s:0" % (prefix, layer, n), a) for n, a in zip(names, w) if a is not None]


@case
def t_keras_lstm_bidir(d):
    os.makedirs(d)
    rng = np.random.default_rng(41)
    N, T, I, H = 3, 7, 5, 9
    wf, wb = keras_weights(rng, "lstm", I, H), keras_weights(rng, "lstm", I, H)
    m = os.path.join(d, "m.safetensors")
    write_safetensors(m, keras_tensors("bidirectional/forward_lstm", "lstm", wf) +
                      keras_tensors("bidirectional/backward_lstm", "lstm", wb),
                      {"layout": "keras", "cell": "lstm"})
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    yf, hf, cf = keras_layer("lstm", x, wf)
    yb, hb, cb = keras_layer("lstm", x[:, ::-1], wb)
    # Bidirectional(merge_mode="concat"): backward outputs re-reversed in time.
    Y = np.concatenate([yf, yb[:, ::-1]], axis=2)
    y, hn, cn = run_rnnkit(d, m, x, lstm=True)
    close("y", y, Y)
    close("hn", hn, np.stack([hf, hb]))
    close("cn", cn, np.stack([cf, cb]))


@case
def t_keras_gru_hard_sigmoid(d):
    os.makedirs(d)
    rng = np.random.default_rng(42)
    N, T, I, H = 2, 6, 4, 11
    for reset_after in (True, False):
        w = keras_weights(rng, "gru", I, H, reset_after=reset_after)
        m = os.path.join(d, "m%d.safetensors" % reset_after)
        # Keras 2's hard_sigmoid as the recurrent activation.
        write_safetensors(m, keras_tensors("gru", "gru", w),
                          {"layout": "keras", "cell": "gru", "activations": "HardSigmoid,Tanh",
                           "activation_alpha": "0.2", "activation_beta": "0.5"})
        x = rng.standard_normal((N, T, I)).astype(np.float32)
        h0 = rng.uniform(-0.5, 0.5, (1, N, H)).astype(np.float32)
        Y, Hn, _ = keras_layer("gru", x, w, reset_after=reset_after,
                               rec_act=lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0), h0=h0[0])
        y, hn, _ = run_rnnkit(d, m, x, h0=h0)
        close("y (reset_after=%s)" % reset_after, y, Y)
        close("hn (reset_after=%s)" % reset_after, hn, Hn[None])


@case
def t_keras_simple_rnn(d):
    os.makedirs(d)
    rng = np.random.default_rng(43)
    w = keras_weights(rng, "simple_rnn", 6, 8)
    m = os.path.join(d, "m.safetensors")
    write_safetensors(m, [("sequential/simple_rnn/simple_rnn_cell/" + n, a)
                          for n, a in zip(["kernel", "recurrent_kernel", "bias"], w)],
                      {"layout": "keras", "cell": "simple_rnn"})
    x = rng.standard_normal((4, 5, 6)).astype(np.float32)
    Y, Hn, _ = keras_layer("simple_rnn", x, w)
    y, hn, _ = run_rnnkit(d, m, x)
    close("y", y, Y)
    close("hn", hn, Hn[None])


@case
def t_keras_gru_go_backwards(d):
    os.makedirs(d)
    rng = np.random.default_rng(44)
    N, T, I, H = 3, 6, 5, 7
    w = keras_weights(rng, "gru", I, H, reset_after=True)
    m = os.path.join(d, "m.safetensors")
    write_safetensors(m, keras_tensors("gru", "gru", w),
                      {"layout": "keras", "cell": "gru", "go_backwards": "1"})
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    # go_backwards=True: Keras reads x backwards and returns the outputs in
    # that order (not re-reversed).
    Y, Hn, _ = keras_layer("gru", x[:, ::-1], w, reset_after=True)
    y, hn, _ = run_rnnkit(d, m, x)
    close("y", y, Y)
    close("hn", hn, Hn[None])


@case
def t_keras_lstm_merge_modes(d):
    os.makedirs(d)
    rng = np.random.default_rng(45)
    N, T, I, H = 2, 5, 4, 6
    wf, wb = keras_weights(rng, "lstm", I, H), keras_weights(rng, "lstm", I, H)
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    yf, _, _ = keras_layer("lstm", x, wf)
    yb, _, _ = keras_layer("lstm", x[:, ::-1], wb)
    yb = yb[:, ::-1]
    for mode, Y in (("sum", yf + yb), ("mul", yf * yb), ("ave", (yf + yb) / 2)):
        m = os.path.join(d, "m_%s.safetensors" % mode)
        write_safetensors(m, keras_tensors("bidirectional/forward_lstm", "lstm", wf) +
                          keras_tensors("bidirectional/backward_lstm", "lstm", wb),
                          {"layout": "keras", "cell": "lstm", "merge_mode": mode})
        y, _, _ = run_rnnkit(d, m, x, lstm=True)
        close("y (merge_mode %s)" % mode, y, Y)


npass = sum(1 for _, ok in RESULTS if ok)
nfail = len(RESULTS) - npass
print("%d passed, %d failed" % (npass, nfail))
sys.exit(1 if nfail else 0)
PYEOF

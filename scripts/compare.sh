#!/bin/sh
# Runs bench_compare (rnnkit per ISA vs oneDNN vs an OpenBLAS baseline, same
# models and inputs, engines interleaved in one run) and writes a Markdown
# table: us per step of each engine (median of the repetitions) and the
# ratios oneDNN time / rnnkit time and OpenBLAS time / rnnkit time (rnnkit =
# its fastest SIMD ISA on that row; > 1 means rnnkit is faster), each row's
# bound (below) and, for rows of more than one thread, rnnkit's speed-up
# over the same configuration on 1 thread.
#
# usage: scripts/compare.sh [OUT.md] [extra Google Benchmark flags...]
#   OUT.md defaults to $BUILD/compare.md; the raw JSON goes next to it
#   (OUT.json). Extra flags, e.g. --benchmark_filter='lstm/.*N:1/'.
# environment:
#   RNNKIT_BENCH_BUILD  build dir (default build-bench at the repo root)
#   MIN_TIME            --benchmark_min_time in seconds (default 0.2)
#   REPS                --benchmark_repetitions (default 3)
#   FROM_JSON           format this existing bench_compare JSON output
#                       instead of running the benchmark
#   OMP_WAIT_POLICY     default PASSIVE (OpenBLAS threads + idle OpenMP
#                       threads spinning would oversubscribe the cores)
#   RNNKIT_BIN          the rnnkit tool for the bounds (default
#                       $BUILD/src/rnnkit; without it the bound columns
#                       hold '-' and a line under the table says why)
#
# Each row also gets the bound of its shape from `rnnkit prof --bounds`
# (this machine's measured FMA peak and cache/memory bandwidths, the
# formula of `rnnkit prof --help`), the limit it comes from (FMA, L1, L2,
# L3, DRAM) and how close rnnkit and oneDNN run to it (bound time /
# engine time): a row that falls short says which limit it is up against.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${RNNKIT_BENCH_BUILD:-$root/build-bench}
out=$build/compare.md
if [ $# -gt 0 ]; then
    case $1 in
    --*) ;;
    *) out=$1; shift ;;
    esac
fi
bin=$build/bench/bench_compare
if [ -z "${FROM_JSON:-}" ] && [ ! -x "$bin" ]; then
    echo "compare.sh: $bin not found; build it first:" >&2
    echo "  meson setup $build && meson compile -C $build bench/bench_compare" >&2
    exit 1
fi
case $out in
*.md) json=${out%.md}.json ;;
*) json=$out.json ;;
esac

min_time=${MIN_TIME:-0.2}
reps=${REPS:-3}
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
cmd="OMP_WAIT_POLICY=$OMP_WAIT_POLICY $bin --benchmark_min_time=$min_time --benchmark_repetitions=$reps --benchmark_enable_random_interleaving=true $*"
if [ -n "${FROM_JSON:-}" ]; then
    json=$FROM_JSON
    cmd="(formatted from $json)"
else
    echo "compare.sh: $cmd" >&2
    "$bin" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
        --benchmark_enable_random_interleaving=true \
        --benchmark_out="$json" --benchmark_out_format=json "$@" >&2
fi

rnnkit_bin=${RNNKIT_BIN:-$build/src/rnnkit}
/usr/bin/python3 - "$json" "$cmd" "$rnnkit_bin" >"$out.tmp" <<'EOF'
import json, os, re, statistics, subprocess, sys

path, cmd, rnnkit_bin = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    doc = json.load(f)

rows = {}      # config -> engine -> {"us": [..], "gf": [..], "err": str}
engines = []   # in first-seen order
order = []     # (registration index, config)
first = {}     # engine -> first registration index
for b in doc.get("benchmarks", []):
    if b.get("run_type") == "aggregate":
        continue  # medians are recomputed from the repetitions
    name = b.get("run_name", b["name"])
    name = re.sub(r"/real_time$", "", name)
    if "/engine:" not in name:
        continue
    cfg, eng = name.split("/engine:", 1)
    cfg = re.sub(r"^compare/", "", cfg)
    fam = b.get("family_index", 0)
    if cfg not in rows:
        rows[cfg] = {}
        order.append((fam, cfg))
    if eng not in engines:
        engines.append(eng)
    first[eng] = min(first.get(eng, fam), fam)
    e = rows[cfg].setdefault(eng, {"us": [], "gf": [], "sp": [], "rp": [], "neq": 0, "err": ""})
    if b.get("error_occurred"):
        e["err"] = b.get("error_message", "error")
        continue
    us = b.get("us/step")
    if us is not None:
        e["us"].append(us)
    if b.get("GFLOP/s") is not None:
        e["gf"].append(b["GFLOP/s"])
    if b.get("speedup_paired") is not None:
        e["sp"].append(b["speedup_paired"])
    if b.get("ratio_paired") is not None:
        e["rp"].append(b["ratio_paired"])
    if b.get("paired_equal") == 0:
        e["neq"] += 1

# Registration order (random interleaving shuffles the run order).
order = [cfg for _, cfg in sorted(set(order))]
seen = set()
order = [c for c in order if not (c in seen or seen.add(c))]
engines.sort(key=lambda e: first[e])

def med(v):
    return statistics.median(v) if v else None

notes = []
def cell(e):
    if e is None:
        return "-"
    m = med(e["us"])
    if m is not None:
        return "%.1f" % m if m >= 10 else "%.2f" % m
    if e["err"]:
        if e["err"] not in notes:
            notes.append(e["err"])
        return "skip[%d]" % (notes.index(e["err"]) + 1)
    return "-"

def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return "%.2f" % (a / b)

ctx = doc.get("context", {})
print("# rnnkit vs oneDNN vs OpenBLAS: microseconds per time step (median)")
print()
print("- command: `%s`" % cmd)
print("- date: %s, host: %s, %s CPUs, load average: %s" % (
    ctx.get("date", "?"), ctx.get("host_name", "?"), ctx.get("num_cpus", "?"),
    ", ".join("%.2f" % x for x in ctx.get("load_avg", []))))
for k in ("rnnkit_version", "rnnkit_isa_auto", "onednn", "openblas", "OMP_WAIT_POLICY"):
    if k in ctx:
        print("- %s: %s" % (k, ctx[k]))
print("- rnnkit = fastest rnnkit SIMD ISA of the row (scalar only if nothing else ran);")
print("  ratio > 1: rnnkit is faster. GFLOP/s counts the matmuls, 2*T*N*G*H*(I+H).")
print()

rk = [e for e in engines if e.startswith("rnnkit-")]

# Bounds: one `rnnkit prof --bounds` call per (cell, I, H, L, D, isa),
# with the rows' batch sizes, lengths and thread counts as lists.
PROF_CELL = {"rnn_tanh": "rnn", "rnn_relu": "rnn-relu", "lstm": "lstm",
             "gru_lbr1": "gru", "gru_lbr0": "gru"}
def parse_cfg(cfg):
    parts = cfg.split("/")
    kv = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    try:
        return (PROF_CELL[parts[0]], int(kv["I"]), int(kv["H"]), int(kv.get("L", 1)),
                int(kv.get("D", 1)), int(kv["N"]), int(kv["T"]), int(kv["thr"]))
    except (KeyError, ValueError):
        return None

def best_rnnkit(r):
    best, best_e = None, None
    for pref in (lambda e: e != "rnnkit-scalar", lambda e: True):
        for e in rk:
            if pref(e) and e in r and med(r[e]["us"]) is not None:
                m = med(r[e]["us"])
                if best is None or m < best:
                    best, best_e = m, e
        if best is not None:
            break
    return best, best_e

bounds, bound_note = {}, None
if not os.access(rnnkit_bin, os.X_OK):
    bound_note = "%s not found: no bounds (build it, or set RNNKIT_BIN)" % rnnkit_bin
else:
    groups = {}
    for cfg in order:
        p = parse_cfg(cfg)
        _, e = best_rnnkit(rows[cfg])
        if p is None or e is None:
            continue
        g = groups.setdefault(p[:5] + (e[len("rnnkit-"):],), [set(), set(), set()])
        for i in range(3):
            g[i].add(p[5 + i])
    for (pc, i, h, l, d, isa), lists in groups.items():
        args = [rnnkit_bin, "prof", "--bounds", "--json", "--cell", pc, "--input", str(i),
                "--hidden", str(h), "--layers", str(l), "--dirs", str(d), "--isa", isa,
                "--batch", ",".join(map(str, sorted(lists[0]))),
                "--seq", ",".join(map(str, sorted(lists[1]))),
                "--threads", ",".join(map(str, sorted(lists[2])))]
        res = subprocess.run(args, capture_output=True, text=True)
        if res.returncode != 0:
            bound_note = "rnnkit prof --bounds failed: %s" % res.stderr.strip()
            continue
        for b in json.loads(res.stdout)["rows"]:
            key = (pc, i, h, l, d, b["batch"], b["seq"], b["threads"], isa)
            bounds[key] = (b["bound_us_per_step"], b["limit"])
cols = ["config"] + ["%s us/step" % e for e in engines] + \
       ["best rnnkit GFLOP/s", "oneDNN / rnnkit", "OpenBLAS / rnnkit",
        "bound us/step", "limit", "rnnkit % of bound", "oneDNN % of bound",
        "rnnkit 1 thread / this"]
print("| " + " | ".join(cols) + " |")
print("|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|")
for cfg in order:
    r = rows[cfg]
    best, best_e = best_rnnkit(r)
    best_gf = med(r[best_e]["gf"]) if best_e else None
    one = med(r["onednn"]["us"]) if "onednn" in r else None
    blas = med(r["openblas"]["us"]) if "openblas" in r else None
    p = parse_cfg(cfg)
    bnd = bounds.get(p + (best_e[len("rnnkit-"):],)) if p and best_e else None
    pct = lambda t: "%.0f %%" % (100.0 * bnd[0] / t) if bnd and t else "-"
    # Thread scaling: the same configuration's rnnkit time on 1 thread over
    # this row's (rows of more than one thread whose 1-thread row ran).
    # Preferably the paired measurement of bench_compare (speedup_paired:
    # 1-thread and this row's calls alternated back to back), marked "p";
    # else the ratio of the two rows' medians, timed at different moments.
    one_thr = re.sub(r"/thr:\d+", "/thr:1", cfg)
    scale = "-"
    if best_e and r[best_e]["sp"]:
        scale = "%.2f p" % med(r[best_e]["sp"])
        if r[best_e]["neq"]:
            scale += " (outputs differ!)"
    elif one_thr != cfg and one_thr in rows:
        scale = fmt_ratio(best_rnnkit(rows[one_thr])[0], best)
    # oneDNN over rnnkit: preferably bench_compare's paired measurement
    # (ratio_paired: oneDNN's and rnnkit's calls alternated back to back,
    # rnnkit with the ISA the library picks), marked "p"; else the ratio
    # of the two rows' medians.
    if "onednn" in r and r["onednn"]["rp"]:
        vs_one = "%.2f p" % med(r["onednn"]["rp"])
    else:
        vs_one = fmt_ratio(one, best)
    line = [cfg.replace("|", "/")] + [cell(r.get(e)) for e in engines] + [
        "%.1f" % best_gf if best_gf is not None else "-",
        vs_one, fmt_ratio(blas, best),
        ("%.1f" % bnd[0] if bnd[0] >= 10 else "%.2f" % bnd[0]) if bnd else "-",
        bnd[1] if bnd else "-", pct(best), pct(one), scale]
    print("| " + " | ".join(line) + " |")
if notes:
    print()
    for i, n in enumerate(notes):
        print("[%d] %s" % (i + 1, n))
print()
if bound_note:
    print("Bounds: %s." % bound_note)
else:
    print("Bound: `rnnkit prof --bounds` for the row's shape, thread count and the ISA of its")
    print("rnnkit time (machine limits measured by `rnnkit prof`); limit: the level the")
    print("recurrent weights stream from (L1, L2, L3, DRAM) or FMA. % of bound: bound")
    print("time / engine time (100 % = at the machine's limit).")
print("oneDNN / rnnkit: \"p\": paired, the median over rounds of oneDNN's and rnnkit's forward")
print("calls made back to back (rnnkit with the ISA the library picks, rnnkit_isa_auto);")
print("otherwise oneDNN's median over the fastest rnnkit row's.")
print("rnnkit 1 thread / this: rnnkit's speed-up from the threads. \"p\": paired, the median")
print("over rounds of 1-thread and this row's forward calls made back to back (drift")
print("cancels; outputs compared bit for bit); otherwise the 1-thread row's median over")
print("this row's, two rows timed at different moments.")
EOF
mv "$out.tmp" "$out"
cat "$out"
echo "compare.sh: wrote $out and $json" >&2
# An engine the benchmark was built without (its rows say skip): say how
# to get it, after the table, where a reader of the terminal looks.
missing=
for eng in onednn openblas; do
    grep -q "\"$eng\": \"not found at configure time\"" "$json" && missing="$missing $eng"
done
if [ -n "$missing" ]; then
    echo "compare.sh:$missing not found when $build was configured: those rows are skipped." >&2
    echo "  Install (as root): apt-get install -y libdnnl-dev ocl-icd-opencl-dev libopenblas-dev" >&2
    echo "  then: meson setup --reconfigure $build && meson compile -C $build" >&2
fi

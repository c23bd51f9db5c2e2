#!/usr/bin/env python3
"""Instruction counts per function and per instruction from callgrind.

Reads callgrind output written with
  valgrind --tool=callgrind --dump-instr=yes --dump-line=no \
           --compress-strings=no --compress-pos=no
(scripts/cg-forward.sh runs it). Counts are exclusive (a function's own
instructions, not its callees'), divided by --per.

  cg-annotate.py [--base BASE.out] [--per N] [--top K] OUT.out
      functions by instruction count: OUT minus BASE (two runs of the same
      program with different round counts cancel everything but the
      rounds), divided by N (e.g. rounds x steps: instructions per step).
  cg-annotate.py ... --function NAME [--object LIB]
      every instruction of NAME (all its copies: static functions of the
      same name in several files and GCC's clones, NAME.constprop.0 ...,
      are merged) with its count, joined with
      `objdump -d -l` of the object that holds it (or LIB) for the source
      line, then the totals per source line.
"""
import argparse
import collections
import os
import re
import subprocess
import sys


def parse(path):
    """{(object, function): {address: Ir}} of exclusive costs."""
    costs = collections.defaultdict(lambda: collections.defaultdict(int))
    ob = fn = None
    skip = False  # the cost line after calls= is the call's inclusive cost
    try:
        f = open(path, errors="replace")
    except OSError as e:
        sys.exit(f"cg-annotate: {e}")
    with f:
        for line in f:
            if line.startswith("ob="):
                ob = line[3:].strip()
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                skip = True
            elif line.startswith("0x"):
                if skip:
                    skip = False
                    continue
                parts = line.split()
                costs[(ob, fn)][int(parts[0], 16)] += int(parts[1]) if len(parts) > 1 else 0
            elif line[:1] in "+-*" and line[1:2].strip():
                sys.exit(f"cg-annotate: {path}: positions must be absolute "
                         f"(run callgrind with --compress-pos=no --dump-instr=yes)")
            elif line.startswith(("cob=", "cfi=", "cfl=", "cfn=")):
                pass
    if not costs:
        sys.exit(f"cg-annotate: {path}: no instruction costs (callgrind output with --dump-instr=yes?)")
    return costs


def same_fn(name, want):
    """name is want, or a GCC clone of it (want.constprop.0, want.isra.0, ...)."""
    return name == want or name.startswith(want + ".")


def minus(a, b):
    out = collections.defaultdict(lambda: collections.defaultdict(int))
    for key, addrs in a.items():
        for ad, c in addrs.items():
            out[key][ad] += c
    if b:
        for key, addrs in b.items():
            for ad, c in addrs.items():
                out[key][ad] -= c
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--base")
    ap.add_argument("--per", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--function")
    ap.add_argument("--object")
    o = ap.parse_args()
    if o.per <= 0:
        sys.exit("cg-annotate: --per must be > 0")
    cost = minus(parse(o.out), parse(o.base) if o.base else None)
    total = sum(sum(a.values()) for a in cost.values())
    if not o.function:
        rows = sorted(((sum(a.values()), fn, ob) for (ob, fn), a in cost.items()), reverse=True)
        print(f"{total / o.per:12.1f}  total")
        for c, fn, ob in rows[:o.top]:
            if c == 0:
                break
            print(f"{c / o.per:12.1f}  {100.0 * c / total:5.1f} %  {fn}  [{os.path.basename(ob or '?')}]")
        return
    keys = [k for k in cost if same_fn(k[1], o.function)]
    if not keys:
        sys.exit(f"cg-annotate: no function {o.function} in {o.out}")
    objs = {k[0] for k in keys}
    lib = o.object or (objs.pop() if len(objs) == 1 else None)
    if not lib:
        sys.exit(f"cg-annotate: {o.function} is in several objects ({', '.join(sorted(objs))}): give --object")
    counts = collections.defaultdict(int)
    for k in keys:
        if o.object is None or k[0] == lib or os.path.basename(k[0]) == os.path.basename(lib):
            for ad, c in cost[k].items():
                counts[ad] += c
    dis = subprocess.run(["objdump", "-d", "-l", "--no-show-raw-insn", lib],
                         capture_output=True, text=True, check=True).stdout
    infn, src = False, ""
    per_line = collections.defaultdict(float)
    fn_total = 0.0
    for line in dis.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:", line)
        if m:
            infn = same_fn(m.group(2), o.function)
            continue
        if not infn:
            continue
        if line.startswith("/"):
            src = os.path.basename(line.split(" ")[0])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(.*)$", line)
        if m and counts.get(int(m.group(1), 16)):
            c = counts[int(m.group(1), 16)] / o.per
            per_line[src] += c
            fn_total += c
            print(f"{c:10.2f}  {src[:32]:32} {m.group(2)}")
    print(f"\n{fn_total:10.1f}  {o.function} in all (per source line:)")
    for s, c in sorted(per_line.items(), key=lambda kv: -kv[1]):
        print(f"{c:10.1f}  {s}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Instructions per iteration of the 16-float main loop of the NEON unary
activation kernels (simd/arm/neon/f32-act-neon.c), from a disassembly, as
a static stand-in for timings (qemu-user cannot time).

Usage:
  aarch64-linux-gnu-objdump -d --no-show-raw-insn \\
      build-neon/simd/librnnkit_simd_neon.a.p/arm_neon_f32-act-neon.c.o > act.dis
  scripts/neon-loop-insns.py act.dis rnnkit_f32_sigmoid__neon rnnkit_f32_tanh__neon

Follows the hot path from the loop head (the target of the function's
first backward b.ne) until it comes back there: unconditional branches
followed; cbz/cbnz on a w register (sigmoid's "any lane below -87" test)
as when no lane is below -87 (cbz taken, cbnz not); b.ne taken, b.eq not
(the loop's back edge / exit). Prints the total, per 4 floats, and a
breakdown: vector arithmetic, constant materialisations or reloads (adrp,
ldr q from the literal pool, fmov/movi immediates), register copies (mov
v.16b), and the rest (data loads/stores, umaxv result moves, branches,
loop control)."""
import re
import sys


def parse(path):
    funcs, cur = {}, None
    for line in open(path):
        m = re.match(r'^([0-9a-f]+) <(.+)>:$', line)
        if m:
            cur = m.group(2)
            funcs[cur] = []
            continue
        m = re.match(r'^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$', line)
        if m and cur:
            funcs[cur].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def target(args):
    m = re.search(r'([0-9a-f]+) <', args)
    return int(m.group(1), 16) if m else None


def hot_path(ins):
    idx = {a: k for k, (a, _, _) in enumerate(ins)}
    start = next(target(args) for a, op, args in ins
                 if op == 'b.ne' and target(args) is not None and target(args) < a)
    k, path = idx[start], []
    while True:
        a, op, args = ins[k]
        path.append(ins[k])
        if op in ('cbz', 'cbnz') and not args.startswith('w'):
            sys.exit('unexpected branch: %s %s' % (op, args))
        take = op in ('b', 'cbz', 'b.ne')
        k = idx[target(args)] if take else k + 1
        if ins[k][0] == start or len(path) > 4000:
            return start, path


def main():
    funcs = parse(sys.argv[1])
    for f in sys.argv[2:]:
        start, path = hot_path(funcs[f])
        const = sum(1 for _, op, args in path
                    if (op in ('adrp', 'fmov', 'movi') and not args.startswith('w'))
                    or (op == 'ldr' and re.match(r'q\d+, \[x\d+\]$', args)))
        movs = sum(1 for _, op, args in path if op == 'mov' and '.16b' in args)
        vec = sum(1 for _, op, args in path
                  if re.search(r'v\d+\.(4s|16b)', args)
                  and op not in ('ldr', 'str', 'ldp', 'stp', 'stur', 'fmov', 'movi', 'mov'))
        n = len(path)
        print(f"{f}: loop at {start:x}: {n} instructions per 16 floats, {n / 4:.2f} per 4 "
              f"= {vec / 4:.2f} vector arithmetic + {const / 4:.2f} constants + "
              f"{movs / 4:.2f} register copies + {(n - vec - const - movs) / 4:.2f} other")


if __name__ == '__main__':
    main()

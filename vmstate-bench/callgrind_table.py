#!/usr/bin/env python3
"""Instructions per operation of every FULL section of pc.mig, derived code
against the tight hand-written code (`benches/common/pc_tight/`), counted
by callgrind (independent of the machine's load), as a Markdown table.

    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \\
      cargo build --release -p vmstate-bench --example callgrind
    python3 vmstate-bench/callgrind_table.py [-n 10000] [--core 0] [LABEL...]

For each section and operation (`callgrind pch_OP` with `PCH=LABEL`) it
runs valgrind twice, with N calls and with none, and divides the
difference by N: the setup (parsing pc.mig, the equality checks) cancels
out; what remains is one call plus the loop around it (a few
instructions). The ratios are derived / tight, against the targets:
in-place load <= 1.10x the tight loader, transactional load <= 1.10x a
clone plus the tight loader, save into a `Vec` <= 1.00x the tight save,
save <= 1.25x the tight `[u8; N]` save where the size is static.
"""

import argparse
import os
import re
import subprocess
import sys

OPS = [
    "pch_load_derived",
    "pch_load_tight",
    "pch_load_transactional",
    "pch_load_tight_into_clone",
    "pch_save_derived",
    "pch_save_derived_array",
    "pch_save_tight_vec",
    "pch_save_tight_array",
]

# (column, derived op, baseline op, target)
RATIOS = [
    ("load in place", "pch_load_derived", "pch_load_tight", 1.10),
    ("load transactional", "pch_load_transactional", "pch_load_tight_into_clone", 1.10),
    ("save into Vec", "pch_save_derived", "pch_save_tight_vec", 1.00),
    ("save vs [u8; N]", "pch_save_derived_array", "pch_save_tight_array", 1.25),
]


def binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "target"
    )
    return os.path.join(target, "release", "examples", "callgrind")


def instructions(exe, core, label, op, n):
    env = dict(os.environ, PCH=label)
    cmd = ["taskset", "-c", str(core), "valgrind", "--tool=callgrind",
           "--callgrind-out-file=/dev/null", exe, op, str(n)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    m = re.search(r"refs:\s+([\d,]+)", p.stderr)
    if p.returncode != 0 or not m:
        sys.exit(f"{' '.join(cmd)} (PCH={label}) failed:\n{p.stderr}")
    return int(m.group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000, help="calls per measurement")
    ap.add_argument("--core", type=int, default=0, help="CPU to pin valgrind to")
    ap.add_argument("labels", nargs="*", help="sections (default: all)")
    args = ap.parse_args()
    exe = binary()
    listing = subprocess.run([exe, "pch_list"], capture_output=True, text=True, check=True)
    sections = [line.split() for line in listing.stdout.splitlines() if line.strip()]
    if args.labels:
        sections = [s for s in sections if s[0] in args.labels]

    print("| section | tight load (instr) | " + " | ".join(
        f"{c} ({t:.2f}x)" for c, _, _, t in RATIOS) + " |")
    print("|---|---:|" + "---:|" * len(RATIOS))
    over = {c: [] for c, _, _, _ in RATIOS}
    for label, kind in sections:
        per = {}
        for op in OPS:
            if op.endswith("_array") and kind != "static":
                continue
            full = instructions(exe, args.core, label, op, args.n)
            none = instructions(exe, args.core, label, op, 0)
            per[op] = (full - none) / args.n
        cells = []
        for col, d, b, goal in RATIOS:
            if d not in per or b not in per:
                cells.append("-")
                continue
            r = per[d] / per[b]
            cell = f"{per[d]:.0f} / {per[b]:.0f} = {r:.2f}x"
            if r > goal:
                cell = f"**{cell}**"
                over[col].append(label)
            cells.append(cell)
        print(f"| {label} | {per['pch_load_tight']:.0f} | " + " | ".join(cells) + " |",
              flush=True)
    print()
    for col, _, _, goal in RATIOS:
        names = ", ".join(over[col]) or "none"
        print(f"- over {goal:.2f}x, {col}: {names}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The targets against the tight hand-written code (BENCHMARKS.md, "Against
the best hand-written code"), from criterion's saved estimates.

    python3 vmstate-bench/targets.py                 # this run's ratios
    python3 vmstate-bench/targets.py --append LOG    # also append them to LOG
    python3 vmstate-bench/targets.py --summary LOG   # medians and ranges of the runs in LOG
    python3 vmstate-bench/targets.py --median LOG ID...  # one criterion id over the runs
    python3 vmstate-bench/targets.py --sections LOG  # the pc.mig rows as one table

Each ratio is derived median / baseline median of one criterion run; the
summary gives, per row, the median of those ratios over the runs in LOG and
their range.
"""

import json
import os
import statistics
import sys

# (row, derived id, baseline id, target)
ROWS = []
for dev in ["device_mix", "device356", "fifo"]:
    base_load = "tight_in_place"
    ROWS += [
        (f"{dev}: load in place", f"{dev}/load/derived_in_place", f"{dev}/load/{base_load}", 1.10),
        (f"{dev}: load transactional", f"{dev}/load/derived_transactional",
         f"{dev}/load/tight_into_clone", 1.10),
        (f"{dev}: save into Vec", f"{dev}/save/derived", f"{dev}/save/tight_vec", 1.00),
        (f"{dev}: save vs [u8; N]", f"{dev}/save/derived_array", f"{dev}/save/tight_array", 1.25),
    ]
# Every FULL section of pc.mig (`benches/pc_hand.rs`, `common/pc_tight/`),
# with whether its save has a static size (a `[u8; N]` row).
PC_SECTIONS = [
    ("timer.0", True), ("cpu_common.0", True), ("cpu.0", False), ("kvm-tpr-opt.0", True),
    ("apic.0", True), ("fw_cfg.0", False), ("PCIHost.0", True), ("PCIBUS.0", False),
    ("I440FX.0", True), ("dma.0", True), ("dma.1", True), ("PIIX3.0", True),
    ("i8259.0", True), ("i8259.1", True), ("ioapic.0", True), ("hpet.0", False),
    ("mc146818rtc.0", True), ("i8254.0", True), ("pcspk.0", True), ("fdc.0", False),
    ("ps2kbd.0", True), ("ps2mouse.0", True), ("pckbd.0", False), ("vmmouse.0", True),
    ("port92.0", True), ("ide.0", True), ("i2c_bus.0", True), ("piix4_pm.0", False),
    ("acpi_build.0", True), ("globalstate.0", True),
]
for sec, static in PC_SECTIONS:
    g = f"pc_hand/{sec}"
    ROWS += [
        (f"{sec}: load in place", f"{g}/derived_in_place", f"{g}/tight_in_place", 1.10),
        (f"{sec}: load transactional", f"{g}/derived_transactional", f"{g}/tight_into_clone", 1.10),
        (f"{sec}: save into Vec", f"{g}/save_derived", f"{g}/save_tight_vec", 1.00),
    ]
    if static:
        ROWS.append((f"{sec}: save vs [u8; N]", f"{g}/save_derived_array", f"{g}/save_tight_array", 1.25))

def load(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        out[bench["full_id"]] = est["median"]["point_estimate"]
    return out


def this_run():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "target"
    )
    m = load(os.path.join(target, "criterion"))
    run = {}
    for name, d, b, goal in ROWS:
        if d in m and b in m:
            run[name] = (m[d], m[b])
    # Every median of the run, for other tables (`--median LOG ID`).
    run["_all"] = m
    return run


def main():
    args = sys.argv[1:]
    if args[:1] == ["--summary"]:
        runs = [json.loads(line) for line in open(args[1]) if line.strip()]
        print("| row | derived (median) | baseline (median) | ratio: median (range), runs | target |")
        print("|---|---|---|---|---|")
        for name, _d, _b, goal in ROWS:
            got = [r[name] for r in runs if name in r]
            if not got:
                continue
            ratios = sorted(d / b for d, b in got)
            med = statistics.median(ratios)
            print(f"| {name} | {statistics.median(d for d, _ in got):.1f} ns "
                  f"| {statistics.median(b for _, b in got):.1f} ns "
                  f"| **{med:.2f}x** ({ratios[0]:.2f}x to {ratios[-1]:.2f}x), {len(got)} "
                  f"| {'met' if med <= goal else 'over'} ({goal:.2f}x) |")
        return
    if args[:1] == ["--sections"]:
        runs = [json.loads(line) for line in open(args[1]) if line.strip()]
        ops = [("load in place", 1.10), ("load transactional", 1.10),
               ("save into Vec", 1.00), ("save vs [u8; N]", 1.25)]
        print("| section | " + " | ".join(f"{op} ({goal:.2f}x)" for op, goal in ops) + " |")
        print("|---" * (len(ops) + 1) + "|")
        over = {op: [] for op, _ in ops}
        for sec, _static in PC_SECTIONS:
            cells = []
            for op, goal in ops:
                got = [r[f"{sec}: {op}"] for r in runs if f"{sec}: {op}" in r]
                if not got:
                    cells.append("-")
                    continue
                ratios = sorted(d / b for d, b in got)
                med = statistics.median(ratios)
                d = statistics.median(x for x, _ in got)
                b = statistics.median(y for _, y in got)
                cell = f"{d:.1f} / {b:.1f} ns = {med:.2f}x ({ratios[0]:.2f} to {ratios[-1]:.2f})"
                if med > goal:
                    cell = f"**{cell}**"
                    over[op].append(sec)
                cells.append(cell)
            print(f"| {sec} | " + " | ".join(cells) + " |")
        print()
        for op, goal in ops:
            print(f"- over {goal:.2f}x, {op} ({len(over[op])}): {', '.join(over[op]) or 'none'}")
        return
    if args[:1] == ["--median"]:
        runs = [json.loads(line) for line in open(args[1]) if line.strip()]
        for i in args[2:]:
            got = sorted(r["_all"][i] for r in runs if i in r.get("_all", {}))
            if got:
                print(f"{i} {statistics.median(got):.1f} {got[0]:.1f} {got[-1]:.1f} {len(got)}")
        return
    run = this_run()
    for name, _d, _b, goal in ROWS:
        if name in run:
            d, b = run[name]
            print(f"{name:40} {d:9.1f} ns {b:9.1f} ns {d / b:6.2f}x  (target {goal:.2f}x)")
    if args[:1] == ["--append"]:
        with open(args[1], "a") as f:
            f.write(json.dumps(run) + "\n")


if __name__ == "__main__":
    main()

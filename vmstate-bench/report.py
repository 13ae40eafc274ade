#!/usr/bin/env python3
"""Prints the BENCHMARKS.md tables from criterion's saved estimates.

    cargo bench -p vmstate-bench
    python3 vmstate-bench/report.py            # reads target/criterion
    python3 vmstate-bench/report.py DIR        # or DIR (.../criterion)

Every number is criterion's median of the sample means; ratios are of
medians. Throughput is payload bytes per second (MB = 10^6 bytes, GiB =
2^30 bytes).
"""

import json
import os
import sys


def load(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        tp = (bench.get("throughput") or {}).get("Bytes")
        out[bench["full_id"]] = (est["median"]["point_estimate"], tp)
    return out


def ratio(a, b, digits=2):
    return "–" if a is None or b is None else f"{a / b:.{digits}f}x"


def fmt_ns(ns):
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.1f} ns"


def gib_s(ns, nbytes):
    return nbytes / (ns * 1e-9) / 2**30


def mb_s(ns, nbytes):
    return nbytes / (ns * 1e-9) / 1e6


def main():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "target"
    )
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "criterion")
    m = load(root)
    if not m:
        sys.exit(f"no criterion results under {root}: run `cargo bench -p vmstate-bench` first")

    def t(i):
        return m[i][0] if i in m else None

    print("### 1. Device mix (308 bytes)\n")
    print("| operation | derived | byteorder | binrw | generic decoder | derived / byteorder "
          "| derived / binrw | derived / generic |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [
        ("save into `Vec`", "device_mix/save/derived", "device_mix/save/byteorder",
         "device_mix/save/binrw", "device_mix/save/generic"),
        ("load in place (`load_state_in_place`)", "device_mix/load/derived_in_place",
         "device_mix/load/byteorder_in_place", "device_mix/load/binrw", "device_mix/load/generic"),
        ("load transactional (`load`: clone first; byteorder into a clone)",
         "device_mix/load/derived_transactional", "device_mix/load/byteorder_into_clone",
         "device_mix/load/binrw", "device_mix/load/generic"),
    ]
    for name, d, h, b, gen in rows:
        if t(d) is None:
            continue
        print(f"| {name} | {fmt_ns(t(d))} | {fmt_ns(t(h))} | {fmt_ns(t(b))} | {fmt_ns(t(gen))} "
              f"| **{ratio(t(d), t(h))}** | **{ratio(t(d), t(b))}** | {ratio(t(d), t(gen), 3)} |")

    print("\n### 2. Bulk arrays (1 MiB per iteration), GiB/s\n")
    print("| array | direction | memcpy | derived | hand loop | byteorder | swap kernel alone | derived / memcpy |")
    print("|---|---|---|---|---|---|---|---|")
    for ty in ("u8", "u32", "u64"):
        for d in ("save", "load"):
            g = f"bulk_{ty}/{d}/"
            mem, der = t(g + "memcpy"), t(g + "derived")
            if mem is None or der is None:
                continue
            n = m[g + "memcpy"][1]

            def cell(i):
                return f"{gib_s(t(i), n):.1f}" if t(i) is not None else "–"

            print(f"| `[{ty}]` | {d} | {cell(g + 'memcpy')} | {cell(g + 'derived')} "
                  f"| {cell(g + 'hand_loop')} | {cell(g + 'byteorder')} | {cell(g + 'swap_kernel')} "
                  f"| **{mem / der:.2f}x** |")
        tr = f"bulk_{ty}/load/derived_transactional"
        if t(tr) is not None:
            print(f"| `[{ty}]` | load, transactional | | {gib_s(t(tr), m[tr][1]):.1f} | | | "
                  f"| {t(f'bulk_{ty}/load/memcpy') / t(tr):.2f}x |")

    print("\n### 3. pc.mig sections (mirrors), median per call and MB/s of payload\n")
    print("| section (`pc/ID/load`, `pc/ID/save`) | payload | load | load MB/s | save | save MB/s |")
    print("|---|---|---|---|---|---|")
    # Every section the bench found, in stream order is not recorded: sort
    # by name, the whole-machine row last.
    secs = sorted({k[3:].rsplit("/", 1)[0] for k in m if k.startswith("pc/")} - {"all_30"}) + ["all_30"]
    for sec in secs:
        lo, sv = f"pc/{sec}/load", f"pc/{sec}/save"
        if lo not in m or sv not in m:
            continue
        n = m[lo][1]
        print(f"| {sec} | {n} B | {fmt_ns(t(lo))} | {mb_s(t(lo), n):.0f} | {fmt_ns(t(sv))} "
              f"| {mb_s(t(sv), n):.0f} |")

    print("\n### 3b. The real machine through the catalog and the migration module\n")
    print("| what | payload | median | MB/s |")
    print("|---|---|---|---|")
    for i, what in (("pc_machine/catalog_roundtrip", "every mirrored FULL section of pc.mig: load + save"),
                    ("pc_machine_stream/parse_pc.mig", "`Stream::parse` of pc.mig (generic decoder, RAM)"),
                    ("pc_machine_stream/load_read_pc.mig", "pc.mig in one pass into the mirrors (`Dispatcher::load_read`)"),
                    ("pc_machine_stream/analyze_pc-devices.mig", "`vmstate analyze pc-devices.mig` (`vmstate_cli::analyze`)")):
        if i in m:
            n = m[i][1]
            print(f"| {what} | {n} B | {fmt_ns(t(i))} | {mb_s(t(i), n):.0f} |")

    print("\n### 4. Streaming: 1000 saves of the device mix per iteration\n")
    print("| sink | per iteration | per save | GiB/s | / `Vec` |")
    print("|---|---|---|---|---|")
    vec = t("streaming/vec")
    for i in ("streaming/vec", "streaming/bufwriter_file", "streaming/bufwriter_pipe",
              "streaming/bufwriter_devnull", "streaming_unbuffered/devnull"):
        if i not in m:
            continue
        n = m[i][1]
        print(f"| `{i}` | {fmt_ns(t(i))} | {fmt_ns(t(i) / 1000)} | {gib_s(t(i), n):.2f} "
              f"| {t(i) / vec:.2f}x |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""`vmstate analyze` against QEMU's own `analyze-migration.py -f`, side by
side on the same files (BENCHMARKS.md, "`vmstate analyze` against QEMU's
analyze-migration.py").

    python3 vmstate-bench/analyze_vs_script.py [--runs N] [--work DIR]

For each stream the two outputs are parsed and compared equal first; then
each tool is run N times (the large stream: fewer) and the best wall-clock
time and the peak resident set of each are printed as a Markdown table.

The streams: the QEMU 7.2 fixtures `pc-devices.mig` and `pc.mig`, and a pc
stream with 512 MiB of random guest RAM that QEMU 7.2 itself saves here
(kept in --work, made once): `-device loader,...,force-raw=on` fills guest
RAM from a file of random bytes before the paused VM is migrated with
`migrate "exec:cat > FILE"`. The large stream is measured twice: as QEMU
left it (just written, its page cache in small pieces) and after it was
dropped from the page cache and read back once, as a stream saved earlier
is read from disk. For it, the last column is the floor under any reader
that looks at every page: `examples/page_floor.rs` maps the file as
`vmstate` does and reads one byte of every 4 KiB page, parsing nothing.

Needs QEMU 7.2 (`qemu-system-x86_64`) and the script from Debian's QEMU 7.2
source (`.ci/install-qemu` puts both in place).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = "/opt/vmstate/scripts/qemu-7.2/analyze-migration.py"
QEMU = "qemu-system-x86_64"
RAM_MIB = 512


def best_time(cmd, runs):
    """The best wall-clock seconds of `runs` runs, stdout discarded."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def peak_rss(cmd):
    """The maximum resident set of one run in KiB, by GNU time (a child
    forked from this Python would count Python's own pages too)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(r.stderr.strip().splitlines()[-1])


def output(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)


def monitor(sock, line):
    sock.sendall(line.encode() + b"\n")
    time.sleep(0.2)
    try:
        return sock.recv(1 << 16).decode(errors="replace")
    except BlockingIOError:
        return ""


def make_big_stream(work):
    """A pc stream with RAM_MIB MiB of random guest RAM, saved by QEMU."""
    path = os.path.join(work, f"pc-{RAM_MIB}m-random.mig")
    if os.path.exists(path):
        return path, False
    rand = os.path.join(work, "random.bin")
    with open(rand, "wb") as f:
        for _ in range(RAM_MIB):
            f.write(os.urandom(1 << 20))
    sock_path = os.path.join(work, "monitor.sock")
    tmp = path + ".part"
    qemu = subprocess.Popen([
        QEMU, "-machine", "pc", "-m", str(2 * RAM_MIB), "-display", "none", "-nodefaults",
        "-S", "-device", f"loader,file={rand},addr=0x1000000,force-raw=on",
        "-monitor", f"unix:{sock_path},server=on,wait=off",
    ])
    try:
        sock = None
        for _ in range(100):
            try:
                sock = socket.socket(socket.AF_UNIX)
                sock.connect(sock_path)
                break
            except OSError:
                time.sleep(0.1)
        sock.setblocking(False)
        monitor(sock, "")
        monitor(sock, f'migrate "exec:cat > {tmp}"')
        for _ in range(600):
            if "Migration status: completed" in monitor(sock, "info migrate"):
                break
        else:
            sys.exit("QEMU did not complete the migration")
        monitor(sock, "quit")
    finally:
        qemu.wait(timeout=30)
    os.rename(tmp, path)
    os.remove(rand)
    return path, True


def read_back(path):
    """Drops `path` from the page cache and reads it once."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        while os.read(fd, 1 << 20):
            pass
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="runs of vmstate per stream")
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "analyze-bench"))
    ap.add_argument("--script", default=SCRIPT)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "vmstate-cli"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "vmstate-bench",
                    "--example", "page_floor"], cwd=ROOT, check=True)
    tool = os.path.join(ROOT, "target", "release", "vmstate")
    floor = os.path.join(ROOT, "target", "release", "examples", "page_floor")

    fixtures = os.path.join(ROOT, "tests", "fixtures", "qemu-7.2")
    rows = [(os.path.join(fixtures, n), f"`tests/fixtures/qemu-7.2/{n}`", None)
            for n in ("pc-devices.mig", "pc.mig")]
    big, fresh = make_big_stream(args.work)
    label = f"pc stream, {RAM_MIB} MiB of random guest RAM"
    if fresh:
        rows.append((big, f"{label}, just written", None))
    rows.append((big, f"{label}, read back", read_back))

    print("| stream | size | `vmstate analyze` | `analyze-migration.py -f` | speed-up "
          "| peak RSS vmstate / script | one byte a page (floor) |")
    print("|---|---|---|---|---|---|---|")
    for path, name, prepare in rows:
        if prepare:
            prepare(path)
        ours = [tool, "analyze", path]
        theirs = [sys.executable, args.script, "-f", path]
        if output(ours) != output(theirs):
            sys.exit(f"{path}: the outputs differ")
        large = os.path.getsize(path) > (64 << 20)
        t_ours = best_time(ours, max(3, args.runs // 3) if large else args.runs)
        t_theirs = best_time(theirs, 3 if large else 5)
        m_ours, m_theirs = peak_rss(ours), peak_rss(theirs)
        t_floor = "-"
        if large:
            t = best_time([floor, path], max(3, args.runs // 3))
            t_floor = f"{t * 1e3:.1f} ms ({t_theirs / t:.0f}x)"
        print(f"| {name} | {os.path.getsize(path):,} B | {t_ours * 1e3:.1f} ms "
              f"| {t_theirs * 1e3:,.0f} ms | **{t_theirs / t_ours:.0f}x** "
              f"| {m_ours / 1024:.1f} MiB / {m_theirs / 1024:.1f} MiB | {t_floor} |")


if __name__ == "__main__":
    main()

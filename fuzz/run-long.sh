#!/usr/bin/env bash
# Runs fuzz targets to a number of executions each, one after another on
# one core, and prints one Markdown row per target for FUZZING.md's "Runs"
# table: executions, wall time, execs/s, peak RSS, and what was found.
#
#   fuzz/run-long.sh [RUNS] [TARGET...]     # RUNS defaults to 10000000
#
# Same build and inputs as .ci/fuzz-smoke (seeds, kept regressions, the
# growing corpus/<target>/); a crash, a leak of the allocation cap, or an
# input slower than 10 s stops that target and is reported with its
# artifact. Logs: fuzz/artifacts/<target>.long.log.
set -uo pipefail
cd "$(dirname "$0")"

RUNS="${1:-10000000}"
shift || true
FLAGS=(--sanitizer none -O -a)
cargo run --quiet --example make_seeds >/dev/null
cargo fuzz build "${FLAGS[@]}" >/dev/null 2>&1 || { echo "build failed" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

status=0
echo "| target | executions | time | execs/s | peak RSS | -max_len | findings |"
echo "|---|---|---|---|---|---|---|"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dirs=("corpus/$t" "seeds/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    maxlen=4096
    case "$t" in stream_reader | streaming_dispatch | cli_commands) maxlen=65536 ;; esac
    log="artifacts/$t.long.log"
    start=$(date +%s)
    cargo fuzz run "${FLAGS[@]}" "$t" "${dirs[@]}" -- \
        -runs="$RUNS" -max_len="$maxlen" -timeout=10 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
    rss=$(grep -a 'stat::peak_rss_mb' "$log" | awk '{print $2}')
    if [ $rc -eq 0 ]; then
        found="none"
    else
        found="exit $rc: $(ls -t "artifacts/$t" | head -1)"
        status=1
    fi
    printf '| `%s` | %s | %d min %02d s | %s | %s MB | %s | %s |\n' \
        "$t" "${execs:-?}" $((secs / 60)) $((secs % 60)) "${rate:-?}" "${rss:-?}" "$maxlen" "$found"
done
exit $status

#!/usr/bin/env bash
# Benchmark 6: compile time of #[derive(VmState)] against serde's
# #[derive(Serialize, Deserialize)] on the same 100 device structs.
#
# Generates two throwaway crates (default: target/compile-time/ of the
# repository; set CT_DIR to put them elsewhere), builds each once so that
# its dependencies are prebuilt, then RUNS times (default 3, interleaved):
# `cargo clean -p <crate>` and a timed `cargo build` of that crate only.
# Prints the median clean-build times and their ratio (derived / serde).
#
#   bash vmstate-bench/compile-time/run.sh            # dev profile
#   PROFILE=release bash vmstate-bench/compile-time/run.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${CT_DIR:-$root/target/compile-time}"
runs="${RUNS:-3}"
structs="${STRUCTS:-100}"
profile_flag=()
if [ "${PROFILE:-dev}" = release ]; then profile_flag=(--release); fi
# The generated crates have their own target directory, whatever the
# caller's CARGO_TARGET_DIR says.
export CARGO_TARGET_DIR="$dir/target"

mkdir -p "$dir/gen-vmstate/src" "$dir/gen-serde/src"

cat > "$dir/gen-vmstate/Cargo.toml" <<EOF
[package]
name = "gen-vmstate"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
vmstate-core = { path = "$root/vmstate-core" }

# Not part of any enclosing workspace.
[workspace]
EOF

cat > "$dir/gen-serde/Cargo.toml" <<EOF
[package]
name = "gen-serde"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }

# Not part of any enclosing workspace.
[workspace]
EOF

# One device struct: integers of every width, bools, fixed arrays, an
# array of a nested struct and a version-gated field (serde: a defaulted
# field), 16 fields in all.
gen() { # $1 = vmstate | serde
    local kind="$1" derive ver_attr nested_derive
    if [ "$kind" = vmstate ]; then
        echo "#![allow(dead_code)]"
        echo "use vmstate_core::VmState;"
        derive="#[derive(VmState)]"
        ver_attr='#[vmstate(version = 2)]'
    else
        echo "#![allow(dead_code)]"
        echo "use serde::{Deserialize, Serialize};"
        derive="#[derive(Serialize, Deserialize)]"
        ver_attr='#[serde(default)]'
    fi
    echo
    echo "$derive"
    [ "$kind" = vmstate ] && echo '#[vmstate(name = "timer", version = 1)]'
    cat <<EOF
pub struct Timer {
    pub config: u64,
    pub cmp: u64,
    pub period: u32,
    pub enabled: bool,
}
EOF
    for i in $(seq 0 $((structs - 1))); do
        echo
        echo "$derive"
        [ "$kind" = vmstate ] && echo "#[vmstate(name = \"dev$i\", version = 2, minimum_version = 1)]"
        cat <<EOF
pub struct Dev$i {
    pub ctrl: u8,
    pub status: u8,
    pub line: i8,
    pub divider: u16,
    pub scratch: i16,
    pub config: u32,
    pub mask: u32,
    pub offset: i32,
    pub counter: u64,
    pub stamp: i64,
    pub enabled: bool,
    pub pending: bool,
    pub regs: [u32; 8],
    pub fifo: [u8; 16],
    pub timers: [Timer; 2],
    $ver_attr
    pub base_$i: u64,
}
EOF
    done
}

gen vmstate > "$dir/gen-vmstate/src/lib.rs"
gen serde > "$dir/gen-serde/src/lib.rs"

build() { # $1 = crate dir; prints seconds of a clean build of that crate
    local crate
    crate="$(basename "$1")"
    (cd "$1" && cargo clean -q -p "$crate" ${profile_flag[@]+"${profile_flag[@]}"})
    local t0 t1
    t0=$(date +%s.%N)
    (cd "$1" && cargo build -q ${profile_flag[@]+"${profile_flag[@]}"})
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "generated: $dir/gen-vmstate, $dir/gen-serde ($structs device structs + 1 nested, profile ${PROFILE:-dev})"
echo "prebuilding dependencies..."
(cd "$dir/gen-vmstate" && cargo build -q ${profile_flag[@]+"${profile_flag[@]}"})
(cd "$dir/gen-serde" && cargo build -q ${profile_flag[@]+"${profile_flag[@]}"})

vm=()
sd=()
for r in $(seq 1 "$runs"); do
    s=$(build "$dir/gen-serde")
    v=$(build "$dir/gen-vmstate")
    printf 'run %d: serde %.2f s, vmstate %.2f s\n' "$r" "$s" "$v"
    sd+=("$s")
    vm+=("$v")
done

ms=$(printf '%s\n' "${sd[@]}" | median)
mv=$(printf '%s\n' "${vm[@]}" | median)
ratio=$(awk -v a="$mv" -v b="$ms" 'BEGIN { printf "%.3f", a / b }')
printf 'median clean build: vmstate %.2f s, serde %.2f s, ratio derived/serde %.2f\n' "$mv" "$ms" "$ratio"

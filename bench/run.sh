#!/usr/bin/env bash
# `make bench`: builds the binaries the bench measures and the harness, then runs the harness,
# which prints one table and writes target/bench/results.json. (`make bench` installs wrk first,
# through tests/system-packages.sh.)
# Arguments are passed to the harness (e.g. `bench/run.sh slack store` runs two sections).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
started=$(date +%s)

tests/system-packages.sh bench
# The peers section's Bolt apps, when it runs (all sections run when none is named).
if [ $# -eq 0 ] || [[ " $* " == *" peers "* ]]; then
    bench/peers/install.sh
fi

# What the bench runs: the local server and every Lambda function. The default profile,
# quick-release, is release without LTO (see Cargo.toml), for everything; BENCH_PROFILE=release
# measures what ships.
profile=${BENCH_PROFILE:-quick-release}
bin_dir=target/$profile
# The harness is its own workspace (tests and CI never build it), in its own target directory. It
# builds beside the binaries: the binaries' build leaves one of the two cores idle at times.
harness_log=target/bench-harness/build.log
mkdir -p target/bench-harness
"$cargo" build --release --locked --manifest-path bench/Cargo.toml --target-dir target/bench-harness \
    >"$harness_log" 2>&1 &
harness_pid=$!
trap 'kill "$harness_pid" 2>/dev/null || true' EXIT
# What ships: sevtool with release, the Lambda functions with lambda-release (see Cargo.toml).
functions=(-p intake -p slack -p worker -p pager -p reports)
fn_bin_dir=$bin_dir
if [ "$profile" = release ]; then
    "$cargo" build --profile release --locked -p sevtool
    "$cargo" build --profile lambda-release --locked "${functions[@]}"
    fn_bin_dir=target/lambda-release
else
    "$cargo" build --profile "$profile" --locked -p sevtool "${functions[@]}"
fi
built=$(date +%s)
if ! wait "$harness_pid"; then
    cat "$harness_log" >&2
    echo "make bench: building the harness failed" >&2
    exit 1
fi
harness=$(date +%s)

target/bench-harness/release/sevbench --bin-dir "$bin_dir" --fn-bin-dir "$fn_bin_dir" --profile "$profile" --out target/bench/results.json "$@"
echo "make bench: $profile build $((built - started)) s, harness ready $((harness - built)) s later," \
    "total $(($(date +%s) - started)) s" >&2

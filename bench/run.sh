#!/usr/bin/env bash
# `make bench`: installs wrk when missing, builds the release binaries the bench measures and the
# harness, then runs the harness, which prints one table and writes target/bench/results.json.
# Arguments are passed to the harness (e.g. `bench/run.sh slack store` runs two sections).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo=${CARGO:-cargo}
started=$(date +%s)

if ! command -v wrk >/dev/null; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null; then
            echo "wrk is missing and installing it needs root: apt-get install wrk" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    install=("${sudo[@]}" apt-get install -y -q --no-install-recommends wrk)
    # A fresh machine may not have the package lists yet.
    "${install[@]}" || { "${sudo[@]}" apt-get update -q && "${install[@]}"; }
fi

# What the bench runs: the local server and every Lambda function, with the release profile.
"$cargo" build --release --locked -p sevtool -p intake -p slack -p worker -p pager -p reports
built=$(date +%s)
# The harness is its own workspace (tests and CI never build it), in its own target directory.
"$cargo" build --release --locked --manifest-path bench/Cargo.toml --target-dir target/bench-harness
harness=$(date +%s)

target/bench-harness/release/sevbench --bin-dir target/release --out target/bench/results.json "$@"
echo "make bench: release build $((built - started)) s, harness build $((harness - built)) s," \
    "total $(($(date +%s) - started)) s" >&2

#!/usr/bin/env bash
# Builds one Lambda artefact per function named on the command line:
#   target/lambda/<function>/bootstrap      the lambda-release binary (stripped, as in release)
#   target/lambda/<function>/bootstrap.zip  what infra/template.yaml deploys (its CodeUri)
# ARCH=x86_64 (default) or arm64 picks the CPU; see README.md, "Deploying to AWS".
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${ARCH:-x86_64}
cargo=${CARGO:-cargo}
# provided.al2023 ships glibc 2.34: a binary needing a newer symbol version would not start there.
max_glibc=2.34

case "$arch" in
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    arm64) triple=aarch64-unknown-linux-gnu ;;
    *) echo "ARCH must be x86_64 or arm64, not '$arch'" >&2; exit 2 ;;
esac
if [ $# -eq 0 ]; then
    echo "usage: ARCH=x86_64|arm64 $0 FUNCTION..." >&2
    exit 2
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$triple"; then
    echo "the Rust target $triple is not installed: run 'rustup target add $triple'" >&2
    exit 1
fi
if [ "$triple" != "$(rustc -vV | sed -n 's/^host: //p')" ]; then
    # Cross-compiling: the C parts (SQLite, aws-lc) and the link need a C toolchain for the target.
    prefix=${triple%%-unknown-*}-linux-gnu
    if ! command -v "$prefix-gcc" >/dev/null; then
        echo "cross-compiling to $triple needs $prefix-gcc (Debian/Ubuntu: apt-get install gcc-$prefix)" >&2
        exit 1
    fi
    linker_var=CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER
    export "$linker_var=${!linker_var:-$prefix-gcc}"
fi

packages=()
for f in "$@"; do packages+=(-p "$f"); done
start=$(date +%s)
# lambda-release: the release profile at opt-level "s" (Cargo.toml says why).
"$cargo" build --profile lambda-release --locked --target "$triple" "${packages[@]}"
echo "built ${*} for $arch in $(($(date +%s) - start)) s"

for f in "$@"; do
    binary=target/$triple/lambda-release/$f
    out=target/lambda/$f
    mkdir -p "$out"
    cp "$binary" "$out/bootstrap"
    needed=$(readelf -V -W "$out/bootstrap" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    if [ -n "$needed" ] && [ "$(printf '%s\n%s\n' "$needed" "$max_glibc" | sort -V | tail -n 1)" != "$max_glibc" ]; then
        echo "$f needs glibc $needed, but provided.al2023 has $max_glibc: build on an older distribution" >&2
        exit 1
    fi
    # Deterministic zip: fixed timestamp, bootstrap at the root and executable, as Lambda runs it.
    python3 - "$out/bootstrap" "$out/bootstrap.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
    printf '%-8s %s: bootstrap %s bytes (stripped, needs glibc %s), bootstrap.zip %s bytes\n' \
        "$f" "$arch" "$(stat -c %s "$out/bootstrap")" "${needed:-none}" "$(stat -c %s "$out/bootstrap.zip")"
done

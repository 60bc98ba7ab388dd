#!/usr/bin/env bash
# Installs the Bolt peers of `make bench`'s peers section, once: Bolt Python (with uvicorn) into
# its own virtualenv under target/, and Bolt JS into bench/peers/node_modules, both at the
# versions pinned here (requirements.txt, package-lock.json). Quick when they are in place.
set -euo pipefail
cd "$(dirname "$0")"
venv=../../target/bench-peers/venv
if ! cmp -s requirements.txt "$venv/.installed" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt "$venv/.installed"
fi
if ! cmp -s package-lock.json node_modules/.installed 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.installed
fi

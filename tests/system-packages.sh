#!/usr/bin/env bash
# Makes sure the Debian packages a make target needs are installed, before anything compiles:
#   tests/system-packages.sh test    # prometheus-alertmanager (and amtool), chromium, plus npm
#   tests/system-packages.sh bench   # wrk, and perf (linux-perf) to count fsyncs
# Quick and silent when everything is there. Otherwise installs with apt-get as root, or through
# `sudo -n` when that works without a password; else stops with the one command to run.
# Alertmanager's own service is kept from starting (and taking port 9093): the tests start their
# own Alertmanagers on their own ports.
set -euo pipefail

case "${1:-}" in
test) wanted=(prometheus-alertmanager chromium) ;;
bench) wanted=(wrk linux-perf) ;;
*)
    echo "usage: $0 test|bench" >&2
    exit 2
    ;;
esac

# Whether a package's programs are on PATH (what the tests and the bench run).
present() {
    case "$1" in
    prometheus-alertmanager)
        command -v amtool >/dev/null && { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; }
        ;;
    # The browser tests run this binary (CHROMIUM_PATH overrides it), not whatever `chromium` is
    # on PATH: on Ubuntu that can be a snap wrapper.
    chromium) [ -x "${CHROMIUM_PATH:-/usr/lib/chromium/chromium}" ] ;;
    linux-perf) command -v perf >/dev/null ;;
    *) command -v "$1" >/dev/null ;;
    esac
}

missing=()
for p in "${wanted[@]}"; do
    present "$p" || missing+=("$p")
done

# npm is the machine's (Node.js), not a package we install: Prism and playwright-core come from it.
if [ "$1" = test ] && ! command -v npm >/dev/null; then
    echo "make test needs npm (Node.js) for its mock servers and the browser driver; install Node.js and npm, then run make test again" >&2
    exit 1
fi
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

install="apt-get install -y --no-install-recommends ${missing[*]}"
# What to run by hand: a fresh machine has no package lists yet.
line="sudo apt-get update && sudo $install"
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    {
        echo "make $1 needs Debian packages that are not installed: ${missing[*]}"
        echo "Install them (as root, on Debian or Ubuntu), then run make $1 again:"
        echo "    $line"
    } >&2
    exit 1
fi

echo "installing ${missing[*]} (Debian packages) for make $1" >&2
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    # Removed however this script ends, so the machine never keeps refusing service starts.
    trap '"${as_root[@]}" rm -f "$policy"' EXIT
    trap 'exit 130' INT TERM
    "${as_root[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy"
fi
status=0
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -q && $install -q" || status=$?
for p in "${missing[@]}"; do
    present "$p" || { echo "$p is still missing after installing it" >&2; status=1; }
done
if [ "$status" -ne 0 ]; then
    echo "installing ${missing[*]} failed; run this yourself, then make $1 again:" >&2
    echo "    $line" >&2
fi
exit "$status"

#!/usr/bin/env bash
# Runs a command beside a moto server (the AWS emulator) on a free loopback port, and stops the
# server afterwards whatever happens. The command finds it in SEVTOOL_TEST_AWS_ENDPOINT.
set -euo pipefail
python=${SEVTOOL_VENV:-.venv}/bin/python
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$python" "$(dirname "$0")/moto_server.py" 127.0.0.1 "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if "$python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1] + '/moto-api/', timeout=1)" "$url" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "moto failed to start:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.1
done
export SEVTOOL_TEST_AWS_ENDPOINT="$url"
"$@"

#!/usr/bin/env bash
# Black-box garbage run against a live server (tests/fuzz/server_garbage.py,
# bounded: 15 s or 1500 sessions, fixed seed): mutated sessions, huge
# lengths, random ids, cuts mid-frame and resets. The server must stay up,
# answer afterwards, keep its memory bounded and drain cleanly on SIGTERM.
set -Eeuo pipefail
. "$(dirname "$0")/server_lib.sh"

# ASan keeps freed memory in a quarantine (256 MB by default), which the RSS
# bound would mistake for a leak.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_server --read-timeout 2
timeout 120 python3 "$GT_SRC/tests/fuzz/server_garbage.py" "$PORT" "$PID" 15 1500 7
alive
stop_server
if grep -nE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/log"; then
    echo "sanitizer report in the server log"
    exit 1
fi
echo "test_server_garbage: OK"

#!/usr/bin/env bash
# gadgetron_ismrmrd_client against a scripted protocol peer: failures —
# TEXT errors, EOF without CLOSE, unknown ids, dropped connections, connect
# timeouts, missing input, unsupported options. Cases live in client_cases.py.
set -u
: "${GT_BIN:?GT_BIN must point at the build bin directory}"
: "${GT_SRC:?GT_SRC must point at the source tree}"

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

timeout -k 5 240 python3 "$GT_SRC/tests/integration/client_cases.py" --bin "$GT_BIN" errors &
pid=$!
wait "$pid"
rc=$?
pid=
exit "$rc"

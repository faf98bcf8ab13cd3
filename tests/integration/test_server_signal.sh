#!/usr/bin/env bash
# gadgetron shutdown: SIGTERM/SIGINT with no connections exit 0 at once; a
# running reconstruction is drained (finishes, no new connections), a client
# still waiting for its config is told and closed; a second signal exits now.
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
T=$(mktemp -d)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap '(echo "--- failed at line $LINENO; server log:"; tail -n 40 "$T/log" 2>/dev/null || true) >&2' ERR

# start_server [extra gadgetron args...]: sets PID and PORT.
start_server() {
    rm -f "$T/port"
    "$GT_BIN/gadgetron" -p 0 --bind 127.0.0.1 --port-file "$T/port" -W "$T/work" "$@" \
        >"$T/log" 2>&1 &
    PID=$!
    for _ in $(seq 200); do
        [ -s "$T/port" ] && break
        kill -0 "$PID" 2>/dev/null || { echo "server died"; cat "$T/log"; exit 1; }
        sleep 0.05
    done
    PORT=$(cat "$T/port")
}

# P CASE ARGS...: one raw-socket check against the server.
P() { timeout 60 python3 "$GT_SRC/tests/integration/server_proto.py" "$PORT" "$@"; }

alive() { kill -0 "$PID" 2>/dev/null || { echo "server is gone"; cat "$T/log"; exit 1; }; }

# wait_exit SECONDS: waits for the server to exit; sets RC to its status
# ("timeout" if it is still running).
wait_exit() {
    local i
    RC=timeout
    for i in $(seq $(( $1 * 20 ))); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$PID" 2>/dev/null && return 0
    RC=0
    wait "$PID" || RC=$?
    PID=
}

# stop_server: SIGTERM, then expects a clean exit within 10 s.
stop_server() {
    kill -TERM "$PID"
    wait_exit 10
    [ "$RC" = 0 ] || { echo "server exit status $RC after SIGTERM"; cat "$T/log"; exit 1; }
}

# Idle server: SIGTERM and SIGINT both exit 0 quickly.
start_server
kill -TERM "$PID"; wait_exit 3
[ "$RC" = 0 ] || { echo "SIGTERM: $RC"; exit 1; }
start_server
kill -INT "$PID"; wait_exit 3
[ "$RC" = 0 ] || { echo "SIGINT: $RC"; exit 1; }

# Drain: a stream in progress finishes after SIGTERM; a client that has sent
# nothing gets "[...] ERROR: Server is shutting down" + CLOSE; the port closes.
start_server
P stream default.xml "$T/go" 64 >"$T/stream.out" &
stream_pid=$!
P hold 20 >"$T/hold.out" &
hold_pid=$!
for _ in $(seq 200); do
    grep -q streaming "$T/stream.out" 2>/dev/null && grep -q connected "$T/hold.out" 2>/dev/null && break
    sleep 0.05
done
kill -TERM "$PID"
sleep 0.3
alive                       # still serving the stream
P refused                   # but no longer listening
touch "$T/go"               # the client sends the rest and CLOSE
wait "$stream_pid"
wait "$hold_pid"
grep -q "images 1" "$T/stream.out"
grep -q "ERROR: Server is shutting down" "$T/hold.out"
wait_exit 10
[ "$RC" = 0 ] || { echo "drain exit status $RC"; exit 1; }
grep -q "closed: peer .*config default.xml.* 1 images" "$T/log"

# Second signal: a client stuck between config and header keeps the drain
# waiting; the second SIGTERM ends the server at once with status 1.
start_server
timeout 30 python3 - "$PORT" >"$T/cfg.out" <<'PY' &
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(struct.pack("<H", 1) + b"default.xml".ljust(1024, b"\0"))
q = b"gadgetron::version"
s.sendall(struct.pack("<HQQQ", 6, 0, 1, len(q)) + q)
s.recv(2)  # the RESPONSE: the config was handled
print("configured", flush=True)
time.sleep(8)
PY
client_pid=$!
for _ in $(seq 200); do grep -q configured "$T/cfg.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM "$PID"
sleep 0.5
alive
kill -TERM "$PID"
wait_exit 3
[ "$RC" = 1 ] || { echo "second signal exit status $RC"; exit 1; }
grep -q "again: exiting now" "$T/log"
kill "$client_pid" 2>/dev/null || true
wait "$client_pid" 2>/dev/null || true
echo "test_server_signal: OK"

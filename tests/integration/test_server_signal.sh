#!/usr/bin/env bash
# gadgetron shutdown: SIGTERM/SIGINT with no connections exit 0 at once; a
# running reconstruction is drained (finishes, no new connections), a client
# still waiting for its config is told and closed; a second signal exits now.
set -Eeuo pipefail
. "$(dirname "$0")/server_lib.sh"

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

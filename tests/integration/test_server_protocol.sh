#!/usr/bin/env bash
# gadgetron protocol over raw sockets: queries in every state, bad input
# (garbage, oversized lengths, bad reserved field, wrong order, refused
# config paths, unknown gadgets) answered with TEXT error + CLOSE, truncated
# frames and vanishing clients, read timeouts; the server stays up throughout.
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

mkdir -p "$T/configs"
cp "$GT_SRC/configs/default.xml" "$T/configs/"
cat >"$T/configs/bad_gadget.xml" <<'XML'
<?xml version="1.0"?>
<configuration><version>2</version>
  <readers><reader><dll>x</dll><classname>AcquisitionReader</classname></reader></readers>
  <writers><writer><dll>x</dll><classname>ImageWriter</classname></writer></writers>
  <stream><gadget><name>Mystery</name><dll>x</dll><classname>NoSuchGadgetAnywhere</classname></gadget></stream>
</configuration>
XML
start_server --config-dir "$T/configs" --read-timeout 1

# Queries (CONFIG state, then every state in one connection).
P query gadgetron::version 4.7.2+gadgetron-c. 7 >/dev/null
P query ismrmrd::version 0.0.0-alpha >/dev/null
P query gadgetron::info "Gadgetron Version Info" >"$T/info"
grep -q "  -- CUDA Support       : NO" "$T/info"
P query gadgetron::info::cuda 0 >/dev/null
P query gadgetron::cuda::devices 0 >/dev/null
P query gadgetron::no::such "Unknown query" >/dev/null
P query-states default.xml

# Bad input: TEXT "[...] ERROR: ..." then CLOSE, then the connection ends.
P error garbage "Unknown message id" >/dev/null
P error oversized >/dev/null
P error reserved >/dev/null
P error header-first "Received ISMRMRD header before config file." >/dev/null
P error second-config default.xml >/dev/null
P error filename "../../etc/passwd" >"$T/out"
grep -q "ERROR: Failed to load config file '../../etc/passwd'" "$T/out"
P error filename "missing.xml" "not found" >/dev/null
P error filename "bad_gadget.xml" "NoSuchGadgetAnywhere" >/dev/null
P error config-file "$T/configs/bad_gadget.xml" "NoSuchGadgetAnywhere" >/dev/null
alive

# Truncated frames and clients that vanish: the server goes on.
P truncate acq
P truncate config
P truncate id
P vanish default.xml 300
P vanish default.xml 5
alive
P query gadgetron::version 4.7.2 >/dev/null

# Read timeout (1 s here): a partial frame, then silence; and no config at all.
P idle 1 1 >"$T/out"
grep -q "ERROR: Timed out" "$T/out"
P idle 1 0 >/dev/null
alive

# Many connections at once, all answered.
pids=()
for i in $(seq 20); do
    P query gadgetron::version 4.7.2 >/dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
P query gadgetron::version 4.7.2 >/dev/null

# Every connection was logged as opened and closed.
stop_server
opened=$(grep -c ": open: peer 127.0.0.1:" "$T/log")
closed=$(grep -c ": closed: peer 127.0.0.1:" "$T/log")
[ "$opened" = "$closed" ] || { echo "opened $opened closed $closed"; exit 1; }
[ "$opened" -ge 40 ]
grep -q "closed: peer .*config default.xml.*client disconnected" "$T/log"
echo "test_server_protocol: OK"

# Shared by the server integration tests (sourced, not run): a temp folder
# $T removed on exit, start_server / stop_server / wait_exit / alive for one
# gadgetron process on an ephemeral loopback port, and P for raw-socket
# checks through server_proto.py.
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

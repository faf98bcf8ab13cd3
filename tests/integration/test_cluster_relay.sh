#!/usr/bin/env bash
# Relay registration of the server: gadgetron -r HOST:PORT appears in the
# relay's worker list at once and leaves it on SIGTERM; GADGETRON_RELAY_HOST
# and -l (Gadgetron 3's relay port flag) do the same; a relay that is down
# only gives warnings and the server serves anyway.
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
T=$(mktemp -d)
RPID=''
SPID=''
cleanup() {
    for p in $SPID $RPID; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done
    exit 1
}

wait_file() { # file pid
    for _ in $(seq 200); do
        [ -s "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || fail "process $2 died before writing $1"
        sleep 0.05
    done
    fail "no $1"
}

"$GT_BIN/gadgetron_cloudbus_relay" -p 0 --bind 127.0.0.1 --port-file "$T/rport" \
    >"$T/relay.log" 2>&1 &
RPID=$!
wait_file "$T/rport" "$RPID"
RP=$(cat "$T/rport")
workers() { curl -s --max-time 5 "http://127.0.0.1:$RP/cloudbus/workers"; }
[ "$(workers)" = "[]" ] || fail "relay not empty at start"

# start_server LOGNAME ARGS...: sets SPID and SP.
start_server() {
    local log=$1
    shift
    rm -f "$T/sport"
    "$GT_BIN/gadgetron" -p 0 --bind 127.0.0.1 --port-file "$T/sport" -W "$T/work" "$@" \
        >"$T/$log.log" 2>&1 &
    SPID=$!
    wait_file "$T/sport" "$SPID"
    SP=$(cat "$T/sport")
}

# listed PORT: waits up to 5 s for [127.0.0.1]:PORT in the list.
listed() {
    for _ in $(seq 100); do
        case "$(workers)" in *"\"[127.0.0.1]:$1\""*) return 0 ;; esac
        sleep 0.05
    done
    return 1
}
# stop_server: SIGTERM, clean exit, gone from the list at once.
stop_server() {
    kill -TERM "$SPID"
    local rc=0
    wait "$SPID" || rc=$?
    SPID=
    [ "$rc" = 0 ] || fail "server exit status $rc after SIGTERM"
    [ "$(workers)" = "[]" ] || fail "still listed after SIGTERM: $(workers)"
}

# 1. -r HOST:PORT
start_server r -r "127.0.0.1:$RP"
listed "$SP" || fail "-r: not listed: $(workers)"
status=$(curl -s --max-time 5 "http://127.0.0.1:$RP/cloudbus/status")
case "$status" in *'"load":0'*) ;; *) fail "status: $status" ;; esac
timeout 20 "$GT_BIN/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$SP" -q -Q gadgetron::version \
    >"$T/q.log" 2>&1 || fail "query"
grep -q "4.7.2" "$T/q.log" || fail "version answer: $(cat "$T/q.log")"
stop_server

# 2. GADGETRON_RELAY_HOST (docker nodes), 3. -r HOST with -l PORT
GADGETRON_RELAY_HOST="127.0.0.1:$RP" start_server env
listed "$SP" || fail "GADGETRON_RELAY_HOST: not listed: $(workers)"
stop_server
start_server l -r 127.0.0.1 -l "$RP"
listed "$SP" || fail "-r/-l: not listed: $(workers)"
stop_server

# 4. Relay down: warnings only; the server answers queries.
kill "$RPID"
wait "$RPID" || true
RPID=
start_server down -r "127.0.0.1:$RP" --relay-interval 1
sleep 1.5
kill -0 "$SPID" || fail "server died with the relay down"
timeout 20 "$GT_BIN/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$SP" -q -Q gadgetron::version \
    >"$T/q2.log" 2>&1 || fail "query with the relay down"
grep -qi "warn" "$T/down.log" || fail "no warning about the relay"
kill -TERM "$SPID"
wait "$SPID" || fail "exit status with the relay down"
SPID=

# 5. Bad relay addresses are usage errors.
rc=0
timeout 10 "$GT_BIN/gadgetron" -p 0 -W "$T/work" -r "127.0.0.1:notaport" >"$T/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "bad relay address gave $rc"
grep -q "invalid relay address" "$T/bad.log" || fail "no message for a bad relay address"
# A bad GADGETRON_RELAY_HOST only costs the relay: warning, server runs.
GADGETRON_RELAY_HOST="bad host" start_server badenv
grep -q "ignoring GADGETRON_RELAY_HOST" "$T/badenv.log" || fail "no warning for a bad env relay"
kill -TERM "$SPID"
wait "$SPID" || fail "exit status with a bad env relay"
SPID=
rc=0
timeout 10 "$GT_BIN/gadgetron" -p 0 -l 99999 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "-l 99999 gave $rc"
echo "test_cluster_relay: OK"

#!/usr/bin/env bash
# docker/entrypoint.sh without docker: the programs of this build on PATH.
# GADGETRON_RELAY_HOST starts a relay next to the server, which registers
# with it; SIGTERM stops both; other programs and stream mode pass through.
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
T=$(mktemp -d)
EP="$GT_SRC/docker/entrypoint.sh"
EPID=''
cleanup() {
    if [ -n "$EPID" ]; then
        for c in $(pgrep -P "$EPID" || true); do kill -9 "$c" 2>/dev/null || true; done
        kill -9 "$EPID" 2>/dev/null || true
    fi
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/ep.log" ] && tail -n 30 "$T/ep.log" >&2; exit 1; }
export PATH="$GT_BIN:$PATH"

# Another program runs as it is; bad GADGETRON_START_RELAY is refused.
[ "$(bash "$EP" echo hello)" = hello ] || fail "pass-through"
rc=0
GADGETRON_START_RELAY=maybe bash "$EP" -p 0 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "GADGETRON_START_RELAY=maybe gave $rc"

# A free port for the relay (the entrypoint needs a fixed one).
RP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GADGETRON_RELAY_HOST=127.0.0.1 GADGETRON_RELAY_PORT=$RP \
    bash "$EP" -p 0 --bind 127.0.0.1 --port-file "$T/port" -W "$T/work" >"$T/ep.log" 2>&1 &
EPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "server did not start"
SP=$(cat "$T/port")
list=
for _ in $(seq 100); do
    list=$(curl -s --max-time 2 "http://127.0.0.1:$RP/cloudbus/workers" || true)
    case "$list" in *"[127.0.0.1]:$SP\""*) break ;; esac
    sleep 0.05
done
case "$list" in *"[127.0.0.1]:$SP\""*) ;; *) fail "not registered with the relay: '$list'" ;; esac
grep -q -- "-r 127.0.0.1:$RP" <(tr '\0' ' ' </proc/"$(pgrep -P "$EPID" -x gadgetron)"/cmdline) ||
    fail "server not started with -r 127.0.0.1:$RP"
kill -TERM "$EPID"
rc=0
wait "$EPID" || rc=$?
EPID=''
[ "$rc" = 0 ] || fail "entrypoint exit status $rc"
curl -s --max-time 2 "http://127.0.0.1:$RP/cloudbus/workers" >/dev/null && fail "relay still running"
grep -q "all connections finished" "$T/ep.log" || fail "server did not drain"

# Stream mode: no relay, no -r; the flags reach gadgetron.
rc=0
GADGETRON_RELAY_HOST=127.0.0.1 GADGETRON_RELAY_PORT=$RP \
    bash "$EP" --from_stream -c default.xml -W "$T/work" </dev/null >"$T/s.out" 2>"$T/s.err" || rc=$?
[ "$rc" = 1 ] || fail "stream mode on empty input exited $rc"
grep -q "Expected an ISMRMRD header\|input ended" "$T/s.err" || fail "stream mode error: $(cat "$T/s.err")"
echo "test_cluster_entrypoint: OK"

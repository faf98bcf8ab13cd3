#!/usr/bin/env bash
# scripts/gadgetron_cluster: --local 2 brings up a relay and two workers that
# the relay lists and that answer queries, writes the worker list, pins with
# --pin, and SIGTERM stops every process; --dry-run prints the ssh commands
# for hosts and hostfiles; bad usage exits 2.
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
T=$(mktemp -d)
CL="$GT_SRC/scripts/gadgetron_cluster"
LPID=
PIDS=()
cleanup() {
    [ -n "$LPID" ] && kill -TERM "$LPID" 2>/dev/null && sleep 1
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$T/out" "$T"/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done
    exit 1
}

# ---- dry runs --------------------------------------------------------------
got=$(bash "$CL" --dry-run --workers-file "$T/w.json" node1 node2:9100 node2 -- --log-level debug)
want="ssh -o BatchMode=yes -tt node1 gadgetron_cloudbus_relay -p 5000
ssh -o BatchMode=yes -tt node1 gadgetron -p 9002 -r node1:5000 --log-level debug
ssh -o BatchMode=yes -tt node2 gadgetron -p 9100 -r node1:5000 --log-level debug
ssh -o BatchMode=yes -tt node2 gadgetron -p 9002 -r node1:5000 --log-level debug"
[ "$got" = "$want" ] || fail "hosts dry run:
$got"
[ "$(cat "$T/w.json")" = '["node1:9002", "node2:9100", "node2:9002"]' ] ||
    fail "workers file: $(cat "$T/w.json")"

printf '# lab machines\n192.168.2.3\n\n192.168.2.4  # gpu box\n192.168.2.5 192.168.2.5\n' >"$T/hosts"
got=$(bash "$CL" --dry-run --hostfile "$T/hosts" --relay 192.168.2.2 --relay-port 8002 \
    --base-port 9010 --remote-bin /opt/gadgetron/bin --ssh "ssh -p 2222")
want="ssh -p 2222 -tt 192.168.2.2 /opt/gadgetron/bin/gadgetron_cloudbus_relay -p 8002
ssh -p 2222 -tt 192.168.2.3 /opt/gadgetron/bin/gadgetron -p 9010 -r 192.168.2.2:8002
ssh -p 2222 -tt 192.168.2.4 /opt/gadgetron/bin/gadgetron -p 9010 -r 192.168.2.2:8002
ssh -p 2222 -tt 192.168.2.5 /opt/gadgetron/bin/gadgetron -p 9010 -r 192.168.2.2:8002
ssh -p 2222 -tt 192.168.2.5 /opt/gadgetron/bin/gadgetron -p 9011 -r 192.168.2.2:8002"
[ "$got" = "$want" ] || fail "hostfile dry run:
$got"

got=$(bash "$CL" --dry-run --local 2 --bin /b --relay-port 6000 -- -W "/tmp/a b")
want="/b/gadgetron_cloudbus_relay -p 6000
/b/gadgetron -p 9002 -r 127.0.0.1:6000 -W /tmp/a\\ b
/b/gadgetron -p 9003 -r 127.0.0.1:6000 -W /tmp/a\\ b"
[ "$got" = "$want" ] || fail "local dry run:
$got"

for args in "" "--local 0" "--local x" "--local 2 node1" "--base-port 70000 h" "--bogus h" \
    "--hostfile $T/none" "--relay-port 0 h"; do
    rc=0
    # shellcheck disable=SC2086
    bash "$CL" --dry-run $args >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "'$args' exited $rc"
done
bash "$CL" --help | grep -q -- "--hostfile" || fail "--help"

# ---- a local cluster --------------------------------------------------------
pin=()
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pin=(--pin)
bash "$CL" --local 2 --base-port 0 --relay-port 0 --bin "$GT_BIN" --log-dir "$T/logs" \
    --workers-file "$T/workers.json" "${pin[@]}" -- -W "$T/work" >"$T/out" 2>&1 &
LPID=$!
for _ in $(seq 300); do
    grep -q "cluster ready" "$T/out" && break
    kill -0 "$LPID" 2>/dev/null || fail "launcher exited"
    sleep 0.1
done
grep -q "cluster ready" "$T/out" || fail "cluster not ready in 30 s"
RADDR=$(sed -n 's/^relay: \([^ ]*\) pid \([0-9]*\).*/\1/p' "$T/out")
mapfile -t PIDS < <(sed -n 's/.* pid \([0-9]*\) log .*/\1/p' "$T/out")
mapfile -t WPORTS < <(sed -n 's/^worker [0-9]*: 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$T/out")
[ "${#PIDS[@]}" = 3 ] || fail "expected 3 processes, got ${PIDS[*]}"
[ "${#WPORTS[@]}" = 2 ] || fail "expected 2 workers, got ${WPORTS[*]}"
list=$(curl -s --max-time 5 "http://$RADDR/cloudbus/workers")
for p in "${WPORTS[@]}"; do
    case "$list" in *"\"[127.0.0.1]:$p\""*) ;; *) fail "worker $p not in the relay list: $list" ;; esac
    timeout 20 "$GT_BIN/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$p" -q -Q gadgetron::version \
        >"$T/q.log" 2>&1 || fail "query to worker $p"
    grep -q "4.7.2" "$T/q.log" || fail "worker $p answered: $(cat "$T/q.log")"
done
[ "$(cat "$T/workers.json")" = "[\"127.0.0.1:${WPORTS[0]}\", \"127.0.0.1:${WPORTS[1]}\"]" ] ||
    fail "workers file: $(cat "$T/workers.json")"
grep -q "GADGETRON_REMOTE_WORKER_COMMAND=\"curl -s $RADDR/cloudbus/workers\"" "$T/out" ||
    fail "no gateway hint"
if [ "${#pin[@]}" = 1 ]; then
    a0=$(taskset -cp "${PIDS[1]}" | sed 's/.*: //')
    a1=$(taskset -cp "${PIDS[2]}" | sed 's/.*: //')
    [ "$a0" != "$a1" ] || fail "--pin: both workers on cores $a0"
fi

kill -TERM "$LPID"
rc=0
wait "$LPID" || rc=$?
LPID=
[ "$rc" = 0 ] || fail "launcher exit status $rc"
for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then fail "process $p still running after stop"; fi
done
curl -s --max-time 2 "http://$RADDR/cloudbus/workers" >/dev/null && fail "relay still answers"
grep -q "all connections finished" "$T/logs/worker0.log" || fail "worker 0 did not drain cleanly"
echo "test_cluster_launcher: OK"

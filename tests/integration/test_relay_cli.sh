#!/usr/bin/env bash
# The gadgetron_cloudbus_relay program: register a worker with curl, list it,
# remove it, bad requests, then the discovery scripts against it.
set -euo pipefail
: "${GT_BIN:?GT_BIN must point at the bin folder of the build}"
: "${GT_SRC:?GT_SRC must point at the source tree}"

dir=$(mktemp -d)
pid=
cleanup() {
    if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$dir/relay.log" ]] && cat "$dir/relay.log" >&2; exit 1; }

"$GT_BIN/gadgetron_cloudbus_relay" --help | grep -q -- '--expiry' || fail "--help"
if "$GT_BIN/gadgetron_cloudbus_relay" --port nope 2>/dev/null; then fail "bad port accepted"; fi

"$GT_BIN/gadgetron_cloudbus_relay" -p 0 --bind 127.0.0.1 --port-file "$dir/port" \
    --log-level debug >"$dir/relay.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [[ -s "$dir/port" ]] && break; sleep 0.05; done
[[ -s "$dir/port" ]] || fail "relay did not write its port file"
P=$(cat "$dir/port")
base="http://127.0.0.1:$P"
c() { curl -s --max-time 5 "$@"; }

[[ "$(c "$base/info")" == "Gadgetron CloudBusRelay" ]] || fail "/info"
[[ "$(c "$base/cloudbus/workers")" == "[]" ]] || fail "empty list"
[[ "$(c -X POST -d '{"port":"9002"}' "$base/cloudbus/add_worker")" == "OK" ]] || fail "add_worker"
got=$(c "$base/cloudbus/workers")
[[ "$got" == '["[127.0.0.1]:9002"]' ]] || fail "workers: $got"

code=$(c -o /dev/null -w '%{http_code}' -X POST -d 'nonsense' "$base/cloudbus/add_worker")
[[ "$code" == 400 ]] || fail "bad JSON gave $code"
code=$(c -o /dev/null -w '%{http_code}' "$base/nope")
[[ "$code" == 404 ]] || fail "unknown path gave $code"

# The discovery scripts print the same list.
got=$(bash "$GT_SRC/scripts/discovery/relay.sh" "127.0.0.1:$P")
[[ "$got" == '["[127.0.0.1]:9002"]' ]] || fail "relay.sh: $got"
printf '[ "10.0.0.1:9002",\n  "10.0.0.2:9002" ]\n' >"$dir/workers.json"
got=$(bash "$GT_SRC/scripts/discovery/from_file.sh" "$dir/workers.json")
[[ "$got" == *'"10.0.0.2:9002"'* ]] || fail "from_file.sh: $got"
echo '{"not": "a list"}' >"$dir/bad.json"
if bash "$GT_SRC/scripts/discovery/from_file.sh" "$dir/bad.json" 2>/dev/null; then
    fail "from_file.sh accepted an object"
fi
got=$(bash "$GT_SRC/scripts/discovery/kubernetes.sh" localhost 9005)
[[ "$got" == *'127.0.0.1:9005"'* || "$got" == *'::1]:9005"'* ]] || fail "kubernetes.sh: $got"

[[ "$(c -X POST -d '{"port":9002}' "$base/cloudbus/remove_worker")" == "OK" ]] || fail "remove"
[[ "$(c "$base/cloudbus/workers")" == "[]" ]] || fail "list after remove"
if bash "$GT_SRC/scripts/discovery/relay.sh" "127.0.0.1:$P" 2>/dev/null; then
    fail "relay.sh succeeded on an empty relay"
fi

kill "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
[[ $rc == 0 ]] || fail "relay exited with $rc on SIGTERM"
echo "relay CLI OK"

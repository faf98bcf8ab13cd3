#!/usr/bin/env bash
# gadgetron end to end: simulated data through gadgetron_ismrmrd_client,
# concurrent sessions with identical results, backpressure in both
# directions (tiny output limit, late slow reader), a client vanishing while
# others reconstruct.
set -Eeuo pipefail
. "$(dirname "$0")/server_lib.sh"

SIM="$GT_BIN/gadgetron_simulate_cine"
CLIENT="$GT_BIN/gadgetron_ismrmrd_client"
start_server --log-level debug --max-output-mb 1 --queue-capacity 4

# Backpressure both ways: the reader starts 1 s late on an 8 KiB buffer.
P bulk 128 150 1.0 >"$T/bulk.out"
grep -q "images 150" "$T/bulk.out"
grep -q "output backpressure" "$T/log"
grep -q "input backpressure" "$T/log"

if [ -x "$SIM" ] && [ -x "$CLIENT" ]; then
    timeout 60 "$SIM" -o "$T/cine.h5" -m 96 -c 4 -s 2 -p 5 -q -t 1
    run_client() { # OUT GROUP
        timeout 60 "$CLIENT" -a 127.0.0.1 -p "$PORT" -f "$T/cine.h5" -o "$1" -G "$2" \
            -c default.xml >"$1.log" 2>&1
        grep -q "images received: 10" "$1.log" || { cat "$1.log"; return 1; }
    }
    run_client "$T/base.h5" run
    # Three at once, plus one client that vanishes mid-stream.
    run_client "$T/c1.h5" run & p1=$!
    run_client "$T/c2.h5" run & p2=$!
    P vanish default.xml 400 & p3=$!
    run_client "$T/c3.h5" run & p4=$!
    wait "$p1"; wait "$p2"; wait "$p3"; wait "$p4"
    if command -v h5diff >/dev/null; then
        for c in c1 c2 c3; do
            timeout 60 h5diff "$T/base.h5" "$T/$c.h5" /run/image_0/data /run/image_0/data
        done
    fi
    # Query through the client (QUERY then CLOSE in CONFIG state).
    timeout 30 "$CLIENT" -a 127.0.0.1 -p "$PORT" -q -Q gadgetron::info >"$T/q.log" 2>&1
    grep -q "Gadgetron Version Info" "$T/q.log"
fi
alive
P query gadgetron::version 4.7.2 >/dev/null
stop_server
# Clean sessions end without an error note in their close line.
if [ -x "$SIM" ] && [ -x "$CLIENT" ]; then
    clean=$(grep -Ec "closed: peer .*config default.xml, [0-9.]+ s, 10 images$" "$T/log" || true)
    [ "$clean" -ge 4 ] || { echo "only $clean clean client sessions"; grep closed: "$T/log"; exit 1; }
fi
grep -Eq "closed: peer .*config default.xml, [0-9.]+ s, 150 images$" "$T/log"
echo "test_server_e2e: OK"

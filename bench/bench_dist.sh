#!/bin/bash
# Distributed reconstruction benchmark (not a test: asserts nothing).
#
#   bench/bench_dist.sh [--bindir DIR] [--slices N] [--reps R] [--workers "1 2 4"]
#                       [--chains "default grappa"] [--no-throughput] [--pump c|py]
#
# On this machine, over loopback:
#  1. reconstruction time of an N-slice cine for each chain
#       default: default.xml's chain (SimpleRecon), v2 <distributed> by slice
#       grappa:  Generic_Cartesian_Grappa_RealTimeCine(.xml | _Distributed.xml)
#     locally (the plain chain on one unpinned server; also on worker 0) and through a gateway with 1,
#     2, 4 workers; worker processes pinned with taskset to core i mod nproc;
#  2. gateway overhead per slice: (gateway with 1 worker - local) / N, also
#     as a percentage of the local per-slice time;
#  3. throughput of a stream through gateway -> worker (both ends a sink
#     chain, so the time is the transfer) vs the same stream sent straight
#     to one server, vs raw loopback TCP (a socket pair), same run. The
#     raw and pump ends are bench_dist_pump (C, bench/bench_dist_pump.c, in
#     the bin dir) when built, else bench_dist_pump.py (--pump forces one).
# Times are client wall times (gadgetron_ismrmrd_client, incl. its start and
# HDF5 I/O, the same in every mode); medians over R repeats.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
BIN=$SRC/build/bin
SLICES=8
REPS=5
WORKERS="1 2 4"
CHAINS="default grappa"
THROUGHPUT=1
PUMPKIND=
while [ $# -gt 0 ]; do
    case $1 in
    --bindir) BIN=$2; shift 2 ;;
    --slices) SLICES=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --chains) CHAINS=$2; shift 2 ;;
    --no-throughput) THROUGHPUT=0; shift ;;
    --pump) PUMPKIND=$2; shift 2 ;;
    *) sed -n '2,21p' "$0"; exit 2 ;;
    esac
done
[ -x "$BIN/gadgetron" ] || { echo "no $BIN/gadgetron (use --bindir)" >&2; exit 2; }
PYPUMP="python3 $HERE/bench_dist_pump.py" # also records the stream
PUMP=$PYPUMP
[ -z "$PUMPKIND" ] && { [ -x "$BIN/bench_dist_pump" ] && PUMPKIND=c || PUMPKIND=py; }
if [ "$PUMPKIND" = c ]; then
    [ -x "$BIN/bench_dist_pump" ] || { echo "no $BIN/bench_dist_pump (build it or use --pump py)" >&2; exit 2; }
    PUMP=$BIN/bench_dist_pump
fi
NCPU=$(nproc)
MAXW=0
for w in $WORKERS; do [ "$w" -gt $MAXW ] && MAXW=$w; done

T=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# server NAME CPU|- [env...]: starts a gadgetron; sets PORT.
server() {
    local name=$1 cpu=$2
    shift 2
    local pin=()
    [ "$cpu" != - ] && pin=(taskset -c "$cpu")
    env "$@" "${pin[@]}" "$BIN/gadgetron" -p 0 --bind 127.0.0.1 --port-file "$T/$name.port" \
        -W "$T/$name.w" --log-level warn >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do
        [ -s "$T/$name.port" ] && break
        sleep 0.05
    done
    PORT=$(cat "$T/$name.port") || { echo "$name did not start" >&2; exit 1; }
}

echo "# bench_dist $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), nproc $NCPU, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "# command: $0 --bindir $BIN --slices $SLICES --reps $REPS --workers \"$WORKERS\" --chains \"$CHAINS\""
echo "# workers pinned: worker i -> core i mod $NCPU (taskset); gateway, local server, client unpinned"
[ "$MAXW" -gt "$NCPU" ] && echo "# NOTE: $MAXW workers on $NCPU cores: workers share cores"
echo "# raw TCP and pump: $PUMP"
echo "# load at start: $(uptime)"

WPORTS=()
for i in $(seq 0 $((MAXW - 1))); do
    server "w$i" $((i % NCPU))
    WPORTS+=("$PORT")
done
server local - # the local baseline: one unpinned server runs the plain chain
LOCAL=$PORT
declare -A GW
for w in $WORKERS; do
    list=""
    for i in $(seq 0 $((w - 1))); do list+="${list:+, }\"127.0.0.1:${WPORTS[$i]}\""; done
    server "gw$w" - "GADGETRON_REMOTE_WORKER_COMMAND=echo [$list]"
    GW[$w]=$PORT
done

cat >"$T/default_dist.xml" <<'EOF'
<?xml version="1.0"?>
<configuration><version>2</version>
<readers><reader><classname>AcquisitionReader</classname></reader></readers>
<writers><writer><classname>ImageWriter</classname></writer></writers>
<stream>
<gadget><name>RemoveROOversampling</name><classname>RemoveROOversamplingGadget</classname></gadget>
<distributed>
<readers><reader><classname>AcquisitionReader</classname></reader>
<reader><classname>ImageReader</classname></reader></readers>
<writers><writer><classname>AcquisitionWriter</classname></writer>
<writer><classname>ImageWriter</classname></writer></writers>
<distributor><name>Distributor</name><classname>AcquisitionDistributor</classname>
<property name="parallel_dimension" value="slice"/></distributor>
<stream key="worker">
<gadget><name>AccTrig</name><classname>AcquisitionAccumulateTriggerGadget</classname>
<property name="trigger_dimension" value="repetition"/>
<property name="sorting_dimension" value="slice"/></gadget>
<gadget><name>Buff</name><classname>BucketToBufferGadget</classname>
<property name="N_dimension" value=""/><property name="S_dimension" value=""/>
<property name="split_slices" value="true"/></gadget>
<gadget><name>SimpleRecon</name><classname>SimpleReconGadget</classname></gadget>
<gadget><name>ImageArraySplit</name><classname>ImageArraySplitGadget</classname></gadget>
</stream>
</distributed>
<gadget><name>Extract</name><classname>ExtractGadget</classname></gadget>
<gadget><name>ImageFinish</name><classname>ImageFinishGadget</classname></gadget>
</stream>
</configuration>
EOF

# run PORT DATA CONFIG-ARGS...: prints the client's wall time in seconds.
run() {
    local port=$1 data=$2
    shift 2
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$port" -f "$data" -o "$T/out.h5" \
        -G "r$RANDOM" "$@" >>"$T/client.log" 2>&1 || { echo "client failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
# cpu: CPU seconds (user + system) used so far by all our servers.
cpu() {
    local p tot=0 f
    for p in "${PIDS[@]}"; do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        tot=$((tot + ${f% *} + ${f#* }))
    done
    echo "$tot / $(getconf CLK_TCK)" | bc -l
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for chain in $CHAINS; do
    case $chain in
    default)
        "$BIN/gadgetron_simulate_cine" -o "$T/$chain.h5" -m 128 -c 8 -s "$SLICES" -p 16 -t 0 -q
        local_cfg=(-c default.xml)
        dist_cfg=(-C "$T/default_dist.xml")
        desc="default.xml chain, 128x128, 8 coils, 16 phases, R=1"
        ;;
    grappa)
        "$BIN/gadgetron_simulate_cine" -o "$T/$chain.h5" -m 128 -c 16 -s "$SLICES" -p 16 -r 2 -t 0 -q
        local_cfg=(-c Generic_Cartesian_Grappa_RealTimeCine.xml)
        dist_cfg=(-c Generic_Cartesian_Grappa_RealTimeCine_Distributed.xml)
        desc="GRAPPA real-time cine chain, 128x128, 16 coils, 16 phases, R=2"
        ;;
    *) echo "unknown chain $chain" >&2; exit 2 ;;
    esac
    echo
    echo "## chain $chain: $desc, $SLICES slices"
    echo "# load: $(uptime | sed 's/.*load/load/')"
    run "$LOCAL" "$T/$chain.h5" "${local_cfg[@]}" >/dev/null # warm-up
    ts=""
    c0=$(cpu)
    for _ in $(seq "$REPS"); do ts+=" $(run "$LOCAL" "$T/$chain.h5" "${local_cfg[@]}")"; done
    local_cpu=$(echo "($(cpu) - $c0) / $REPS" | bc -l)
    local_med=$(echo "$ts" | median)
    printf "%-10s median %.3f s  per slice %.4f s  server CPU %.3f s/run  (runs:%s)\n" local \
        "$local_med" "$(echo "$local_med / $SLICES" | bc -l)" "$local_cpu" "$ts"
    ts=""
    for _ in $(seq "$REPS"); do ts+=" $(run "${WPORTS[0]}" "$T/$chain.h5" "${local_cfg[@]}")"; done
    pin_med=$(echo "$ts" | median)
    printf "%-10s median %.3f s  (worker 0 alone, pinned to core 0; runs:%s)\n" local-pin \
        "$pin_med" "$ts"
    declare -A med mcpu
    for w in $WORKERS; do
        run "${GW[$w]}" "$T/$chain.h5" "${dist_cfg[@]}" >/dev/null # warm-up
        ts=""
        c0=$(cpu)
        for _ in $(seq "$REPS"); do ts+=" $(run "${GW[$w]}" "$T/$chain.h5" "${dist_cfg[@]}")"; done
        mcpu[$w]=$(echo "($(cpu) - $c0) / $REPS" | bc -l)
        med[$w]=$(echo "$ts" | median)
        printf "%-10s median %.3f s  speed-up %.2f  gateway+workers CPU %.3f s/run  (runs:%s)\n" \
            "gw+${w}w" "${med[$w]}" "$(echo "$local_med / ${med[$w]}" | bc -l)" "${mcpu[$w]}" "$ts"
    done
    w1=$(echo "$WORKERS" | awk '{print $1}')
    ov=$(echo "(${med[$w1]} - $local_med) / $SLICES" | bc -l)
    printf "gateway overhead per slice (gw+%sw - local)/%s: %.4f s = %.1f%% of local per-slice time (target < 5%%)\n" \
        "$w1" "$SLICES" "$ov" "$(echo "100 * $ov * $SLICES / $local_med" | bc -l)"
    ov=$(echo "(${med[$w1]} - $pin_med) / $SLICES" | bc -l)
    printf "  same compute (worker 0 pinned both ways), (gw+%sw - local-pin)/%s: %.4f s = %.1f%% of local-pin per-slice time\n" \
        "$w1" "$SLICES" "$ov" "$(echo "100 * $ov * $SLICES / $pin_med" | bc -l)"
    ov=$(echo "(${mcpu[$w1]} - $local_cpu) / $SLICES" | bc -l)
    printf "  CPU cost (load-independent): (gw+%sw CPU - local CPU)/%s: %.4f s = %.1f%% of local CPU per slice\n" \
        "$w1" "$SLICES" "$ov" "$(echo "100 * $ov * $SLICES / $local_cpu" | bc -l)"
    unset med mcpu
done

if [ "$THROUGHPUT" = 1 ]; then
    echo
    echo "## throughput: stream through gateway -> 1 worker vs one server vs raw loopback TCP"
    echo "# load: $(uptime | sed 's/.*load/load/')"
    "$BIN/gadgetron_simulate_cine" -o "$T/tp.h5" -m 128 -c 8 -s 4 -p 8 -t 0 -q
    $PYPUMP record "$T/rec.port" "$T/tp.stream" &
    rp=$!
    for _ in $(seq 100); do [ -s "$T/rec.port" ] && break; sleep 0.05; done
    "$BIN/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$(cat "$T/rec.port")" -f "$T/tp.h5" \
        -o "$T/tp_out.h5" -c default.xml >>"$T/client.log" 2>&1
    wait $rp
    sink='<gadget><name>Sink</name><classname>AcquisitionAccumulateTriggerGadget</classname><property name="trigger_dimension" value=""/><property name="sorting_dimension" value=""/></gadget>'
    cat >"$T/sink.xml" <<EOF
<?xml version="1.0"?>
<configuration><version>2</version>
<readers><reader><classname>AcquisitionReader</classname></reader></readers>
<writers><writer><classname>ImageWriter</classname></writer></writers>
<stream>$sink</stream>
</configuration>
EOF
    cat >"$T/sink_dist.xml" <<EOF
<?xml version="1.0"?>
<configuration><version>2</version>
<readers><reader><classname>AcquisitionReader</classname></reader></readers>
<writers><writer><classname>ImageWriter</classname></writer></writers>
<stream><distributed>
<readers><reader><classname>AcquisitionReader</classname></reader></readers>
<writers><writer><classname>AcquisitionWriter</classname></writer></writers>
<distributor><name>Distributor</name><classname>AcquisitionDistributor</classname>
<property name="parallel_dimension" value="slice"/></distributor>
<stream key="worker">$sink</stream>
</distributed></stream>
</configuration>
EOF
    w1=$(echo "$WORKERS" | awk '{print $1}')
    bytes=$(stat -c %s "$T/tp.stream")
    declare -A mbs
    for mode in raw server gateway; do
        ts=""
        for _ in $(seq "$REPS"); do
            case $mode in
            raw) r=$($PUMP raw "$bytes") ;;
            server) r=$($PUMP pump 127.0.0.1 "$LOCAL" "$T/tp.stream" "$T/sink.xml") ;;
            gateway) r=$($PUMP pump 127.0.0.1 "${GW[$w1]}" "$T/tp.stream" "$T/sink_dist.xml") ;;
            esac
            ts+=" $(echo "$r" | awk '{print $3}')"
        done
        mbs[$mode]=$(echo "$ts" | median)
        printf "%-8s median %8.1f MB/s  (%s bytes; runs:%s)\n" "$mode" "${mbs[$mode]}" "$bytes" "$ts"
    done
    printf "gateway->worker path / raw TCP: %.1f%% (target >= 80%%); one server / raw TCP: %.1f%%\n" \
        "$(echo "100 * ${mbs[gateway]} / ${mbs[raw]}" | bc -l)" \
        "$(echo "100 * ${mbs[server]} / ${mbs[raw]}" | bc -l)"
fi
echo
echo "# load at end: $(uptime)"

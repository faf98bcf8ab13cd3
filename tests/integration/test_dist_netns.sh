#!/bin/bash
# Distributed reconstruction across network namespaces: one namespace per
# host (gateway, worker 1, worker 2) plus one holding a bridge, linked by
# veth pairs on 10.213.7.0/24. Every interface and address exists only
# inside the namespaces this test creates (nothing is added to the host's
# own namespace), and a trap deletes them all.
#
# The gateway spreads a 4-slice cine over both workers; worker 1's link is
# slowed (tc tbf) so its first slice is still in transfer when the link
# is cut (ip link set down). The gateway must notice the silence, replay
# the slice on worker 2, and the client must get every image exactly once,
# equal to a single-server reconstruction.
#
# Needs root and a working `ip netns`; otherwise it prints SKIP and exits
# 77 (ctest: SKIP_RETURN_CODE 77).
set -u
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"

skip() { echo "SKIP: test_dist_netns: $*"; exit 77; }
fail() {
    echo "FAIL: test_dist_netns: $*" >&2
    for f in gw w1 w2 client; do
        [ -f "$T/$f.log" ] && { echo "--- $f.log (tail)"; tail -n 25 "$T/$f.log"; } >&2
    done
    exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
command -v ip >/dev/null || skip "no ip(8)"
command -v tc >/dev/null || skip "no tc(8)"
command -v h5dump >/dev/null || skip "no h5dump"

T=$(mktemp -d)
SFX=$$
NS_GW=gtd-gw-$SFX NS_W1=gtd-w1-$SFX NS_W2=gtd-w2-$SFX NS_SW=gtd-sw-$SFX
PIDS=()
NSS=()
cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS_SW" 2>"$T/ns.err" || skip "ip netns add failed: $(cat "$T/ns.err")"
NSS+=("$NS_SW")
ip netns exec "$NS_SW" true 2>"$T/ns.err" || skip "ip netns exec failed: $(cat "$T/ns.err")"

# The switch: a bridge in its own namespace; host i gets 10.213.7.i on eth0.
ip -n "$NS_SW" link add br0 type bridge || fail "bridge"
ip -n "$NS_SW" link set br0 up
i=1
for ns in "$NS_GW" "$NS_W1" "$NS_W2"; do
    ip netns add "$ns" || fail "netns add $ns"
    NSS+=("$ns")
    ip -n "$NS_SW" link add "p$i" type veth peer name eth0 netns "$ns" || fail "veth $ns"
    ip -n "$NS_SW" link set "p$i" master br0 up
    ip -n "$ns" addr add "10.213.7.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    i=$((i + 1))
done
GW_IP=10.213.7.1 W1_IP=10.213.7.2 W2_IP=10.213.7.3
for _ in $(seq 50); do
    ip netns exec "$NS_GW" ping -c1 -W1 "$W2_IP" >/dev/null 2>&1 && break
    sleep 0.1
done

# start NAME NS IP [env...]: a gadgetron in NS bound to IP; sets PORT.
start() {
    local name=$1 ns=$2 ip=$3
    shift 3
    ip netns exec "$ns" env "$@" "$GT_BIN/gadgetron" -p 0 --bind "$ip" \
        --port-file "$T/$name.port" -W "$T/$name.work" --log-level info >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do
        [ -s "$T/$name.port" ] && break
        kill -0 "$!" 2>/dev/null || fail "$name died at start"
        sleep 0.05
    done
    PORT=$(cat "$T/$name.port") || fail "$name has no port"
}
start w1 "$NS_W1" "$W1_IP"
P1=$PORT
start w2 "$NS_W2" "$W2_IP"
P2=$PORT
start gw "$NS_GW" "$GW_IP" \
    "GADGETRON_REMOTE_WORKER_COMMAND=echo [\"$W1_IP:$P1\", \"$W2_IP:$P2\"]"
PG=$PORT

SLICES=4 PHASES=8
"$GT_BIN/gadgetron_simulate_cine" -o "$T/cine.h5" -m 64 -c 8 -s $SLICES -p $PHASES -t 1 -q ||
    fail "simulation"

# v2 <distributed> around default.xml's chain; short liveness timeouts.
cat >"$T/dist.xml" <<'EOF'
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
<property name="parallel_dimension" value="slice"/>
<property name="jobs_per_worker" value="1"/>
<property name="timeout" value="1.0"/>
<property name="connect_timeout" value="1.0"/>
</distributor>
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

client() { # HOST PORT OUT CONFIG-ARGS...
    local host=$1 port=$2 out=$3
    shift 3
    ip netns exec "$NS_GW" timeout 120 "$GT_BIN/gadgetron_ismrmrd_client" -a "$host" -p "$port" \
        -f "$T/cine.h5" -o "$out" -G recon "$@" >>"$T/client.log" 2>&1
}

# Reference: worker 2 alone, reached across the bridge.
client "$W2_IP" "$P2" "$T/ref.h5" -c default.xml || fail "reference run"

# Slow worker 1's link (egress of its switch port) so a slice takes ~2 s.
tc -n "$NS_SW" qdisc add dev p2 root tbf rate 8mbit burst 32kbit latency 400ms ||
    fail "tc tbf on worker 1's link"

client "$GW_IP" "$PG" "$T/out.h5" -C "$T/dist.xml" &
CPID=$!
PIDS+=($CPID)
cut=0
for _ in $(seq 300); do
    if grep -q -- "-> $W1_IP:$P1 " "$T/gw.log"; then
        sleep 0.5
        ip -n "$NS_W1" link set eth0 down || fail "link down"
        cut=1
        break
    fi
    sleep 0.05
done
[ $cut = 1 ] || fail "worker 1 never got a job"
wait $CPID || fail "client failed with worker 1's link cut"

grep -q "attempt on $W1_IP:$P1 failed" "$T/gw.log" ||
    fail "the cut did not hit a job in progress on worker 1"
grep -q "done on $W2_IP:$P2" "$T/gw.log" || fail "worker 2 did no work"

# Every (slice, phase) exactly once, and the same images as the reference.
cat >"$T/hdr.py" <<'EOF'
import re, subprocess, sys
def keys(path):
    ls = subprocess.run(["h5ls", path + "/recon"], capture_output=True, text=True, check=True)
    out = []
    for series in sorted(l.split()[0] for l in ls.stdout.splitlines() if l.strip()):
        ds = "/recon/%s/header" % series
        txt = subprocess.run(["h5dump", "-d", ds, path], capture_output=True, text=True,
                             check=True).stdout
        head, data = txt.split("DATA {", 1)
        fields = re.findall(r'"(\w+)";', head)
        cur = None
        for line in data.splitlines():
            s = line.strip()
            if re.match(r'^\(\d+\): \{$', s):
                cur = []
            elif cur is not None and s in ("}", "},"):
                assert len(cur) == len(fields), "cannot parse %s" % ds
                r = dict(zip(fields, cur))
                out.append((series, int(r["slice"]), int(r["phase"])))
                cur = None
            elif cur is not None:
                cur.append(s.rstrip(","))
    return out
out, ref = keys(sys.argv[1]), keys(sys.argv[2])
want = int(sys.argv[3]) * int(sys.argv[4])
dups = sorted({k for k in out if out.count(k) > 1})
if dups or len(out) != want or sorted(out) != sorted(ref):
    print("images %d (want %d), duplicates %s, missing %s" % (len(out), want, dups,
          sorted(set(ref) - set(out))))
    sys.exit(1)
EOF
python3 "$T/hdr.py" "$T/out.h5" "$T/ref.h5" $SLICES $PHASES || fail "images not exactly once"
H5T="$GT_SRC/tests/integration/client_h5tool.py"
mkdir -p "$T/h5tool"
python3 "$H5T" "$T/h5tool" info "$T/out.h5" recon >"$T/out.info" || fail "h5tool"
python3 "$H5T" "$T/h5tool" info "$T/ref.h5" recon >"$T/ref.info" || fail "h5tool"
cmp -s "$T/out.info" "$T/ref.info" ||
    fail "images differ from the reference: $(cat "$T/out.info") vs $(cat "$T/ref.info")"
kill -0 "${PIDS[2]}" 2>/dev/null || fail "the gateway died"
echo "test_dist_netns: OK ($(grep -c "attempt on $W1_IP:$P1 failed" "$T/gw.log") replayed job(s))"

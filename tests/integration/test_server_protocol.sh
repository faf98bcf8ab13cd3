#!/usr/bin/env bash
# gadgetron protocol over raw sockets: queries in every state, bad input
# (garbage, oversized lengths, bad reserved field, wrong order, refused
# config paths, unknown gadgets) answered with TEXT error + CLOSE, truncated
# frames and vanishing clients, read timeouts; the server stays up throughout.
set -Eeuo pipefail
. "$(dirname "$0")/server_lib.sh"

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

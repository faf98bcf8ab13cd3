#!/bin/sh
# kubernetes.sh SERVICE [PORT] — the pods behind a headless Kubernetes service
# (clusterIP: None): its DNS name resolves to every ready pod's address.
#   GADGETRON_REMOTE_WORKER_COMMAND="/opt/scripts/kubernetes.sh gadgetron-workers 9002"
# Note: if the main node's pod is behind the same service, it is listed too.
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: kubernetes.sh SERVICE [PORT]"
svc=$1
port=${2:-9002}
check_port "$port"
if command -v getent >/dev/null 2>&1; then
    hosts=$(getent ahosts "$svc" | awk '$2 == "STREAM" { print $1 }') || true
elif command -v nslookup >/dev/null 2>&1; then
    hosts=$(nslookup "$svc" 2>/dev/null | awk '/^Address/ && NR > 2 { print $NF }') || true
else
    die "neither getent nor nslookup is available"
fi
[ -n "$hosts" ] || die "service '$svc' does not resolve to any address"
printf '%s\n' "$hosts" | to_json "$port" || die "no usable address for service '$svc'"

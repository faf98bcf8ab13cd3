#!/bin/sh
# relay.sh HOST[:PORT] — ask a cloudbus relay (gadgetron_cloudbus_relay or
# cloudbus_relay.py; default port 5000) for its live workers.
#   GADGETRON_REMOTE_WORKER_COMMAND="/path/to/relay.sh 192.168.1.82:5000"
# (gadgetron -r HOST[:PORT] asks the relay itself, without this script.)
. "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || die "usage: relay.sh HOST[:PORT]"
addr=$1
case "$addr" in
*:*) ;;
*) addr="$addr:5000" ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is not installed"
list=$(curl -sf --max-time 5 "http://$addr/cloudbus/workers") || die "relay $addr did not answer"
case "$(printf '%s' "$list" | tr -d ' \t\r\n')" in
'[]') die "relay $addr knows no live workers" ;;
esac
printf '%s\n' "$list" | validate_list || die "relay $addr answered something else: $list"
printf '%s\n' "$list"

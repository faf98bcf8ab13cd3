#!/usr/bin/env bash
# gadgetron-c container entry point: maps the environment onto gadgetron
# flags, optionally runs a cloudbus relay next to the server, and passes
# signals on so `docker stop` drains running reconstructions.
#
#   docker run IMAGE                          gadgetron -p 9002
#   docker run IMAGE -p 9002 --log-level debug   flags for gadgetron
#   docker run IMAGE --from_stream -c X.xml -i IN -o OUT   stream mode (Tyger)
#   docker run IMAGE gadgetron_cluster --local 4           any other program
#
# Environment:
#   GADGETRON_RELAY_HOST   HOST[:PORT] of the cloudbus relay. The server
#                          registers with it (-r) and a gateway finds its
#                          workers there (Gadgetron's docker cloud recipe:
#                          every node gets the gateway's address).
#   GADGETRON_RELAY_PORT   relay port when GADGETRON_RELAY_HOST has none
#                          (default 8002: Gadgetron's images publish it, so
#                          `--publish=8002:8002` works as in its recipe)
#   GADGETRON_START_RELAY  auto (default): run gadgetron_cloudbus_relay here
#                          when GADGETRON_RELAY_HOST is set, listening on
#                          that port (only the relay host's copy is used,
#                          the others sit idle); 1: always; 0: never
#   GADGETRON_ADVERTISE_HOST  address the relay lists for this server
#                          (--advertise; default: what the relay sees)
set -uo pipefail

relay_port=${GADGETRON_RELAY_PORT:-8002}
relay_host=${GADGETRON_RELAY_HOST:-}
start_relay=${GADGETRON_START_RELAY:-auto}

# Another program: run it as it is.
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ] && [ "$1" != gadgetron ]; then
    exec "$@"
fi
[ "${1:-}" = gadgetron ] && shift
[ $# -gt 0 ] || set -- -p 9002

has_arg() { # NAME... : whether any argument equals one of the names
    local a n
    for a in "${args[@]}"; do
        for n in "$@"; do
            case "$a" in "$n" | "$n"=*) return 0 ;; esac
        done
    done
    return 1
}
args=("$@")

# Normalise the relay address (host only -> host:port, IPv6 in brackets)
# and export it: gadgetron reads it for discovery, also in stream mode.
if [ -n "$relay_host" ]; then
    case "$relay_host" in
    \[*\]:*) ;;
    \[*\]) relay_host="$relay_host:$relay_port" ;;
    *:*:*) relay_host="[$relay_host]:$relay_port" ;;
    *:*) ;;
    *) relay_host="$relay_host:$relay_port" ;;
    esac
    export GADGETRON_RELAY_HOST="$relay_host"
    relay_port=${relay_host##*:}
fi

stream_mode=0
has_arg --from_stream && stream_mode=1
if [ -n "$relay_host" ] && [ "$stream_mode" = 0 ] && ! has_arg -r --relay; then
    args+=(-r "$relay_host")
fi
if [ -n "${GADGETRON_ADVERTISE_HOST:-}" ] && [ "$stream_mode" = 0 ] && ! has_arg --advertise; then
    args+=(--advertise "$GADGETRON_ADVERTISE_HOST")
fi

case "$start_relay" in
auto) [ -n "$relay_host" ] && [ "$stream_mode" = 0 ] && start_relay=1 || start_relay=0 ;;
1 | 0) ;;
*) echo "entrypoint: GADGETRON_START_RELAY must be auto, 1 or 0" >&2; exit 2 ;;
esac

if [ "$start_relay" = 0 ]; then
    exec gadgetron "${args[@]}"
fi

gadgetron_cloudbus_relay -p "$relay_port" &
relay=$!
gadgetron "${args[@]}" &
server=$!
# First SIGTERM: the server drains (a second one would make it exit at once).
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
rc=0
while :; do
    wait "$server"
    rc=$?
    kill -0 "$server" 2>/dev/null || break
done
kill -TERM "$relay" 2>/dev/null
wait "$relay" 2>/dev/null
exit "$rc"

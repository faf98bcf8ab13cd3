#!/usr/bin/env bash
# gadgetron CLI: --help, --info, bad usage, home / config folder resolution,
# working folder creation, log level, SIGTERM exit status.
set -Eeuo pipefail
. "$(dirname "$0")/server_lib.sh"

G="$GT_BIN/gadgetron"

# --help / -h
timeout 10 "$G" --help >"$T/help"
grep -q -- "--port-file" "$T/help"
grep -q -- "--config-dir" "$T/help"
timeout 10 "$G" -h | grep -q "Usage: gadgetron"

# --info: Gadgetron's markers, exit 0
timeout 10 "$G" --info >"$T/info"
for marker in "Gadgetron Version Info" "  -- Version            : 4.7.2" \
    "  -- Git SHA1           : " "  -- Python Support     : NO" \
    "  -- Julia Support      : NO" "  -- Matlab Support     : NO" \
    "  -- CUDA Support       : NO"; do
    grep -qF -- "$marker" "$T/info" || { echo "missing '$marker'"; cat "$T/info"; exit 1; }
done
grep -Eq "^  -- System Memory size : [0-9]+ MB$" "$T/info"

# bad usage: exit status 2
for args in "--no-such-option" "--log-level loud" "-p 70000" "-p abc" "stray-argument" \
    "--read-timeout 0"; do
    rc=0
    # shellcheck disable=SC2086
    timeout 10 "$G" $args >/dev/null 2>&1 || rc=$?
    [ "$rc" = 2 ] || { echo "'$args' exited $rc, expected 2"; exit 1; }
done

# Build-tree layout: configs from the source tree; -W folder created (nested).
unset GADGETRON_HOME GADGETRON_LOG_LEVEL
start_server -W "$T/work/a/b"
grep -qF "listening on 127.0.0.1:$PORT, configs in $GT_SRC/configs, working folder $T/work/a/b" "$T/log"
[ -d "$T/work/a/b" ]
stop_server

# $GADGETRON_HOME, then -G over it, then --config-dir over both.
mkdir -p "$T/home/share/gadgetron/config"
GADGETRON_HOME="$T/home" start_server
grep -qF "configs in $T/home/share/gadgetron/config," "$T/log"
stop_server
GADGETRON_HOME=/nonexistent start_server -G "$T/home"
grep -qF "configs in $T/home/share/gadgetron/config," "$T/log"
stop_server
start_server -G "$T/home" --config-dir "$GT_SRC/configs"
grep -qF "configs in $GT_SRC/configs," "$T/log"
P query gadgetron::version 4.7.2 >/dev/null
stop_server

# Log level: error hides the info lines; env var works, flag wins over it.
GADGETRON_LOG_LEVEL=error start_server
P query gadgetron::version >/dev/null
stop_server
if grep -q "INFO" "$T/log"; then echo "info lines at level error"; cat "$T/log"; exit 1; fi
GADGETRON_LOG_LEVEL=error start_server --log-level debug
P query gadgetron::version >/dev/null
stop_server
grep -q "DEBUG" "$T/log"

# Port already in use: clear error, exit 1.
start_server
rc=0
timeout 10 "$G" -p "$PORT" --bind 127.0.0.1 -W "$T/work" >"$T/log2" 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "busy port exited $rc"; cat "$T/log2"; exit 1; }
grep -q "cannot listen on 127.0.0.1 port $PORT" "$T/log2"
stop_server
echo "test_server_cli: OK"

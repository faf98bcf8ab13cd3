#!/usr/bin/env bash
# gadgetron --from_stream from the command line (the reconstruction itself is
# covered by tests/unit/test_stream_mode.c): usage errors, a header-only
# stream through a pipe (header echoed, then CLOSE), a bad first message
# (exit 1, a message on stderr, CLOSE still written), a missing config.
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.err; do [ -f "$f" ] && cat "$f" >&2; done; exit 1; }
G="$GT_BIN/gadgetron"

# usage: exit 2 with a message
expect_usage() { # message args...
    local msg=$1 rc=0
    shift
    timeout 10 "$G" "$@" >/dev/null 2>"$T/usage.err" || rc=$?
    [ "$rc" = 2 ] || fail "'$*' exited $rc"
    grep -q -- "$msg" "$T/usage.err" || fail "'$*': no '$msg' in: $(cat "$T/usage.err")"
}
expect_usage "only allowed with --from_stream" --parameter noisecovariancein=/tmp/x
expect_usage "needs a configuration" --from_stream
expect_usage "only allowed with --from_stream" -c default.xml
expect_usage "not key=value" --from_stream -c default.xml --parameter novalue
timeout 10 "$G" --help | grep -q -- "--from_stream" || fail "--help lacks --from_stream"

# stream FILE ID HEADER_FILE|- [CLOSE=1]: writes a stream with python3.
stream() {
    python3 - "$@" <<'PY'
import struct, sys
out, first, hdr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
xml = open(hdr, 'rb').read() if hdr != '-' else b''
with open(out, 'wb') as f:
    f.write(struct.pack('<HI', first, len(xml)) + xml)
    f.write(struct.pack('<H', 4))
PY
}
HDR="$GT_SRC/tests/data/headers/minimal.xml"

# Header-only stream through a pipe on stdin/stdout.
stream "$T/ok.in" 3 "$HDR"
# shellcheck disable=SC2002 # a pipe, not a file, on stdin
cat "$T/ok.in" | timeout 30 "$G" --from_stream -c default.xml -W "$T/w" --disable_storage true \
    >"$T/ok.out" 2>"$T/ok.err" || fail "header-only stream failed"
hlen=$(( $(stat -c %s "$T/ok.in") - 2 ))
cmp -n "$hlen" "$T/ok.in" "$T/ok.out" || fail "header not echoed"
[ "$(stat -c %s "$T/ok.out")" = $((hlen + 2)) ] || fail "output is not header + CLOSE"
[ "$(tail -c 2 "$T/ok.out" | od -An -tx1 | tr -d ' ')" = "0400" ] || fail "no CLOSE at the end"

# Through named pipes, as Tyger runs it.
mkfifo "$T/in.fifo" "$T/out.fifo"
timeout 30 "$G" --from_stream -c default.xml -W "$T/w" -i "$T/in.fifo" -o "$T/out.fifo" \
    2>"$T/fifo.err" &
gp=$!
cat "$T/out.fifo" >"$T/fifo.out" &
cp=$!
cat "$T/ok.in" >"$T/in.fifo"
wait "$gp" || fail "named pipes: gadgetron failed"
wait "$cp"
cmp "$T/ok.out" "$T/fifo.out" || fail "named pipes: different output"

# A CONFIG message first: exit 1, stderr says why, output is CLOSE alone.
stream "$T/bad.in" 2 "$HDR"
rc=0
timeout 30 "$G" --from_stream -c default.xml -W "$T/w" -i "$T/bad.in" -o "$T/bad.out" \
    2>"$T/bad.err" || rc=$?
[ "$rc" = 1 ] || fail "bad first message exited $rc"
grep -q "Expected an ISMRMRD header" "$T/bad.err" || fail "no reason on stderr"
[ "$(od -An -tx1 "$T/bad.out" | tr -d ' ')" = "0400" ] || fail "bad stream output is not CLOSE"

# Missing config / missing input file.
rc=0
timeout 30 "$G" --from_stream -c no_such.xml -W "$T/w" -i "$T/ok.in" -o "$T/nc.out" \
    2>"$T/nc.err" || rc=$?
[ "$rc" = 1 ] || fail "missing config exited $rc"
grep -q "no_such.xml" "$T/nc.err" || fail "missing config not named"
rc=0
timeout 30 "$G" --from_stream -c default.xml -W "$T/w" -i "$T/nope" -o "$T/ni.out" \
    2>"$T/ni.err" || rc=$?
[ "$rc" = 1 ] || fail "missing input exited $rc"
grep -q "cannot open input" "$T/ni.err" || fail "missing input not reported"
echo "test_stream_cli: OK"

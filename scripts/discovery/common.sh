# Shared helpers of the example discovery commands (sourced, not run).
# A discovery command prints a JSON list of "host:port" strings on stdout and
# exits 0, or prints a message on stderr and exits non-zero.

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# check_port PORT
check_port() {
    case "$1" in
    '' | *[!0-9]*) die "bad port '$1'" ;;
    esac
    [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "port $1 out of range"
}

# to_json PORT < hosts (one per line) — prints ["h1:PORT", "[v6]:PORT", ...];
# fails on an empty input or a host with characters DNS/IP cannot have.
to_json() {
    awk -v port="$1" '
        NF == 0 { next }
        $1 !~ /^[A-Za-z0-9._:%-]+$/ { bad = $1; exit 1 }
        seen[$1]++ { next }
        {
            h = ($1 ~ /:/) ? "[" $1 "]" : $1
            out = out (n++ ? ", " : "") "\"" h ":" port "\""
        }
        END {
            if (bad != "") { print "invalid host name: " bad > "/dev/stderr"; exit 1 }
            if (n == 0) exit 2
            print "[" out "]"
        }'
}

# validate_list < json — exit 0 when stdin is a non-empty JSON list of
# "host:port" / "[v6]:port" strings (python3 or jq when present, else a
# rough shape check).
validate_list() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import json, re, sys
try:
    v = json.load(sys.stdin)
except ValueError as e:
    sys.exit("not JSON: %s" % e)
if not isinstance(v, list) or not v:
    sys.exit("expected a non-empty JSON list")
pat = re.compile(r"^(\[[^\]\s\[]+\]|[^:\[\]\s]+):([0-9]{1,5})$")
for e in v:
    m = pat.match(e) if isinstance(e, str) else None
    if not m or not 1 <= int(m.group(2)) <= 65535:
        sys.exit("bad entry %r (expected \"host:port\")" % (e,))
'
    elif command -v jq >/dev/null 2>&1; then
        jq -e 'type == "array" and length > 0 and
               all(.[]; type == "string" and test("^(\\[[^\\]\\s]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}$"))' \
            >/dev/null || { echo "expected a non-empty JSON list of \"host:port\"" >&2; return 1; }
    else
        tr -d ' \t\r\n' | grep -Eq '^\["[^"]+"(,"[^"]+")*\]$' ||
            { echo "expected a non-empty JSON list of \"host:port\"" >&2; return 1; }
    fi
}

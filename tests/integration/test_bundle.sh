#!/usr/bin/env bash
# scripts/bundle.sh on this build tree (install + package only, no rebuild):
# the tarball unpacks to one folder with launchers, programs, configs,
# libraries and a README; with an EMPTY environment and from another folder
# the bundle's server starts without flags for configs or working folder,
# the bundle's simulator, client and PNG writer reconstruct a small cine
# through a config that exists only in the bundle, and every library the
# running server maps comes from the bundle's lib/ unless the node must
# provide it (glibc family, libgcc_s, NVIDIA driver, CUDA left out).
set -Eeuo pipefail
: "${GT_BIN:?GT_BIN must point at the build bin folder}"
: "${GT_SRC:?GT_SRC must point at the source tree}"
. "$GT_SRC/scripts/bundle/libs.sh"

build=$(cd "$GT_BIN/.." && pwd)
T=$(cd "$(mktemp -d)" && pwd -P)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap '(echo "--- failed at line $LINENO"; for f in "$T"/*.log; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done) >&2' ERR
fail() { echo "test_bundle: $*" >&2; exit 1; }

# Bad usage is refused before anything happens.
rc=0
bash "$GT_SRC/scripts/bundle.sh" --bogus >"$T/usage.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unknown option: exit status $rc, expected 2"

# The CUDA runtime libraries (about 1.2 GB) are left out to keep this fast;
# the CUDA module itself must still travel when the build has one.
timeout 240 bash "$GT_SRC/scripts/bundle.sh" --build-dir "$build" --no-build --no-cuda-libs \
    --out "$T/gt.tar.gz" >"$T/bundle.log" 2>&1 || fail "bundle.sh failed: $(tail -n 30 "$T/bundle.log")"
grep -q "size: .* compressed" "$T/bundle.log" || fail "no size summary"
grep -q "programs: gadgetron" "$T/bundle.log" || fail "no contents summary"

mkdir "$T/unpack" "$T/cwd"
tar -C "$T/unpack" -xzf "$T/gt.tar.gz"
tops=$(ls "$T/unpack")
[ "$(printf '%s\n' "$tops" | wc -l)" = 1 ] || fail "tarball has several top folders: $tops"
case $tops in gadgetron-c-*-"$(uname -m)") ;; *) fail "top folder $tops is not gadgetron-c-VERSION-ARCH" ;; esac
R=$T/unpack/$tops
for p in gadgetron gadgetron_ismrmrd_client gadgetron_cloudbus_relay gadgetron_simulate_cine \
    gadgetron_h5_to_png; do
    [ -x "$R/bin/$p" ] || fail "bin/$p missing"
    [ -x "$R/libexec/$p" ] || fail "libexec/$p missing"
    read -r first <"$R/bin/$p"
    [ "$first" = "#!/bin/sh" ] || fail "bin/$p is not a launcher"
done
grep -q "bin/gadgetron" "$R/README.md" || fail "README missing or without usage"
[ -f "$R/share/gadgetron/config/default.xml" ] || fail "default.xml missing"
for l in libismrmrd libhdf5 libfftw3f libopenblas; do
    compgen -G "$R/lib/$l*.so*" >/dev/null || fail "no $l in lib/"
done
for f in "$R"/lib/*; do
    c=$(bundle_lib_class "${f##*/}")
    [ "$c" = bundle ] || fail "lib/${f##*/} is a $c library, it must come from the node"
done
if [ -f "$build/lib/libgt_cuda.so" ]; then
    [ -f "$R/lib/libgt_cuda.so" ] || fail "the build has the CUDA module, the bundle does not"
fi

# Nothing of the build machine's environment helps from here on.
E=(env -i PATH=/usr/bin:/bin)
cd "$T/cwd"
"${E[@]}" "$R/bin/gadgetron" --info >"$T/info.log" 2>&1 || fail "--info failed: $(cat "$T/info.log")"
grep -q "Gadgetron Version Info" "$T/info.log" || fail "--info printed $(cat "$T/info.log")"
# Through a symlink elsewhere, as when bin/ is linked into PATH.
ln -s "$R/bin/gadgetron" "$T/gt-link"
"${E[@]}" "$T/gt-link" --info >"$T/info2.log" 2>&1 || fail "launcher via symlink failed"

# A config only the bundle has: the server must read the bundle's configs.
cp "$R/share/gadgetron/config/default.xml" "$R/share/gadgetron/config/bundle_probe.xml"
(cd "$T/cwd" && exec "${E[@]}" "$R/bin/gadgetron" -p 0 --bind 127.0.0.1 \
    --port-file "$T/port" --log-level debug >"$T/server.log" 2>&1) &
PID=$!
for _ in $(seq 200); do
    [ -s "$T/port" ] && break
    kill -0 "$PID" 2>/dev/null || fail "server died: $(cat "$T/server.log")"
    sleep 0.05
done
[ -s "$T/port" ] || fail "server did not start"
PORT=$(cat "$T/port")

timeout 60 "${E[@]}" "$R/bin/gadgetron_simulate_cine" -o "$T/cine.h5" -m 64 -c 4 -s 1 -p 3 -q -t 1 \
    >"$T/sim.log" 2>&1
timeout 60 "${E[@]}" "$R/bin/gadgetron_ismrmrd_client" -a 127.0.0.1 -p "$PORT" -f "$T/cine.h5" \
    -o "$T/out.h5" -G run -c bundle_probe.xml >"$T/client.log" 2>&1
grep -q "images received: 3" "$T/client.log" || fail "client: $(cat "$T/client.log")"
timeout 60 "${E[@]}" "$R/bin/gadgetron_h5_to_png" -f "$T/out.h5" -o "$T/png" -q >"$T/png.log" 2>&1
pngs=("$T"/png/*.png)
[ ${#pngs[@]} = 3 ] || fail "expected 3 PNG files: $(ls "$T/png")"
[ -s "${pngs[0]}" ] || fail "empty PNG ${pngs[0]}"

# Relocatability: the server's libraries, as mapped, and the program itself.
maps=$(cat "/proc/$PID/maps")
exe=$(readlink "/proc/$PID/exe")
[ "$exe" = "$R/libexec/gadgetron" ] || fail "server runs $exe, not the bundle's program"
for l in libismrmrd libhdf5 libfftw3f libopenblas; do
    paths=$(awk -v l="/${l}[._]" '$6 ~ l {print $6}' <<<"$maps" | sort -u)
    [ -n "$paths" ] || fail "server maps no $l"
    outside=$(grep -v "^$R/lib/" <<<"$paths" || true)
    [ -z "$outside" ] || fail "server maps $l from outside the bundle: $outside"
done
while read -r p; do
    case $p in "$R"/lib/*) continue ;; esac
    c=$(bundle_lib_class "${p##*/}")
    case $c in
    system | driver | cuda) ;;
    *) fail "server maps $p from outside the bundle" ;;
    esac
done < <(awk '$6 ~ /\.so/ {print $6}' <<<"$maps" | sort -u)
if [ -f "$R/lib/libgt_cuda.so" ]; then
    # Loaded or not (no CUDA libraries, driver or GPU: CPU path), the
    # server tried the bundle's module, which the debug log names.
    grep -qF "$R/libexec/../lib/libgt_cuda.so" "$T/server.log" ||
        fail "the server did not try the bundle's CUDA module: $(grep -i gpu "$T/server.log")"
fi
if grep -q "libgt_cuda.so" <<<"$maps"; then
    # Anything else named libgt_cuda.so was already refused above.
    grep -q " $R/lib/libgt_cuda.so$" <<<"$maps" || fail "the CUDA module is not the bundle's"
fi

kill -TERM "$PID"
for _ in $(seq 200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PID" 2>/dev/null && fail "server still running 10 s after SIGTERM"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" = 0 ] || fail "server exit status $rc after SIGTERM: $(tail -n 20 "$T/server.log")"
grep -q "bundle_probe.xml" "$T/server.log" || fail "server log does not name the probe config"
echo "test_bundle: OK"

#!/usr/bin/env bash
# The main job on a local default, from a fresh clone:
#   installs missing packages, builds, starts a local gadgetron server,
#   simulates a multi-slice real-time cine (R=4, interleaved, with a noise
#   scan), stores the noise covariance and reconstructs the cine with
#   Generic_Cartesian_Grappa_RealTimeCine.xml through gadgetron_ismrmrd_client,
#   writes out.h5 and PNG previews, and prints a summary with timings.
# Usage: scripts/quickstart.sh [--config NAME] [--slices N] [--phases N]
#        [--coils N] [--matrix N] [--accel R] [--out DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

config=Generic_Cartesian_Grappa_RealTimeCine.xml
slices=4 phases=20 coils=16 matrix=128 accel=4 out=$root/out
while [ $# -gt 0 ]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    --phases) phases=$2; shift 2 ;;
    --coils) coils=$2; shift 2 ;;
    --matrix) matrix=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

t0=$(now)
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "quickstart: building (log in build/build.log)"
if ! cmake --build build -j"$(nproc)" >build/build.log 2>&1; then
  tail -30 build/build.log >&2
  echo "quickstart: build failed (full log: build/build.log)" >&2
  exit 1
fi
t_build=$(now)

mkdir -p "$out"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

build/bin/gadgetron -p 0 --port-file "$work/port" -W "$work/gt" --log-level warn \
  2>"$out/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "quickstart: server did not start (see $out/server.log)" >&2; exit 1; }
port=$(cat "$work/port")

data=$out/cine.h5 noise=$out/noise.h5
rm -f "$data" "$noise" "$out/out.h5"
build/bin/gadgetron_simulate_cine -o "$data" --noise-scan "$noise" --matrix "$matrix" \
  --coils "$coils" --slices "$slices" --phases "$phases" --accel "$accel" --seed 1
t_sim=$(now)

client() { build/bin/gadgetron_ismrmrd_client -a 127.0.0.1 -p "$port" "$@"; }
client -f "$noise" -c default_measurement_dependencies.xml -o "$out/noise_out.h5"
t_noise=$(now)
client -f "$data" -c "$config" -o "$out/out.h5" -G recon
t_recon=$(now)

rm -rf "$out/png"
build/bin/gadgetron_h5_to_png -f "$out/out.h5" -g recon -o "$out/png" --montage
t_png=$(now)

echo
echo "== gadgetron-c quick start"
echo "   data      $data ($slices slices x $phases phases, $coils coils, ${matrix}x${matrix}, R=$accel)"
echo "   noise     $noise (covariance stored in the server's working folder)"
echo "   config    $config"
echo "   images    $out/out.h5 (group recon)"
echo "   previews  $out/png/ ($(ls "$out/png" | wc -l) files)"
echo "   timings   build $(elapsed "$t0" "$t_build") s, simulate $(elapsed "$t_build" "$t_sim") s," \
     "noise $(elapsed "$t_sim" "$t_noise") s, reconstruct $(elapsed "$t_noise" "$t_recon") s," \
     "png $(elapsed "$t_recon" "$t_png") s"

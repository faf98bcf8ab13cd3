#!/usr/bin/env bash
# Installs the Debian packages gadgetron-c builds and tests with.
# Idempotent: packages already present are left alone; nothing is fetched
# from anywhere but the system's configured package registry.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang-format
  libuv1-dev libjansson-dev libxml2-dev libhdf5-dev
  libismrmrd-dev ismrmrd-tools hdf5-tools
  libfftw3-dev libopenblas-dev liblapacke-dev
  libcriterion-dev libpng-dev
  libmicrohttpd-dev libcurl4-openssl-dev
  iproute2 procps
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"

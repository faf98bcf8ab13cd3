#!/usr/bin/env bash
# Packs gadgetron-c as a relocatable tarball: the programs, the configs, the
# CUDA module (when built) and every shared library they need that is not
# the node's own (glibc family, libgcc_s, NVIDIA driver), with sh launchers
# that put the bundle's lib/ on the loader path. A node without the build
# dependencies runs it unpacked, from any folder.
#
# Usage: scripts/bundle.sh [--build-dir DIR] [--out FILE] [--with-cuda-libs |
#        --no-cuda-libs] [--no-build] [-- CMAKE_ARGS...]
#   --build-dir DIR   build tree to pack (default build-release). One without
#                     a CMakeCache.txt is configured first: Release, tests
#                     off, CMAKE_ARGS added (e.g. -DGT_CUDA=OFF).
#   --no-build        pack DIR as built (install + package only, no rebuild)
#   --out FILE        the tarball (default out/gadgetron-c-VERSION-ARCH.tar.gz)
#   --with-cuda-libs  carry the CUDA runtime libraries the CUDA module links
#                     (cudart, cuFFT, cuBLAS(Lt), cuSOLVER, cuSPARSE,
#                     nvJitLink: 1.2 GiB, the tarball 0.9 GiB instead of
#                     40 MiB, for CUDA 13); an error without a CUDA module.
#                     Default: carried when the build has the module.
#   --no-cuda-libs    leave them out: GPU nodes then need the CUDA toolkit's
#                     libraries on their loader path, others run on the CPU
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/scripts/bundle/libs.sh"
shopt -u patsub_replacement 2>/dev/null || true

die() { echo "bundle: $*" >&2; exit 1; }
usage() { sed -n '8,21p' "$0" | sed 's/^# \{0,1\}//'; }

build_dir=$src/build-release out='' cuda_mode=auto do_build=1
cmake_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; build_dir=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
    --with-cuda-libs) cuda_mode=on; shift ;;
    --no-cuda-libs) cuda_mode=off; shift ;;
    --no-build) do_build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; cmake_args=("$@"); break ;;
    *) echo "bundle: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for tool in ldd tar gzip cmake; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
if [ ! -d "$build_dir" ]; then
    [ "$do_build" = 1 ] || die "no build tree $build_dir (--no-build)"
    mkdir -p "$build_dir"
fi
build_dir=$(cd "$build_dir" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# ---- build (only what is missing) --------------------------------------------
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    [ "$do_build" = 1 ] || die "$build_dir is not a build tree (--no-build)"
    echo "bundle: configuring $build_dir (Release, tests off)"
    cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DGT_BUILD_TESTS=OFF \
        -DGT_WERROR=OFF "${cmake_args[@]}" >"$build_dir/bundle-configure.log" 2>&1 ||
        { tail -n 30 "$build_dir/bundle-configure.log" >&2; die "configure failed"; }
elif [ ${#cmake_args[@]} -gt 0 ]; then
    echo "bundle: $build_dir is configured already; ignoring ${cmake_args[*]}" >&2
fi
if [ "$do_build" = 1 ]; then
    echo "bundle: building $build_dir (log in $build_dir/bundle-build.log)"
    cmake --build "$build_dir" -j"$jobs" >"$build_dir/bundle-build.log" 2>&1 ||
        { tail -n 30 "$build_dir/bundle-build.log" >&2; die "build failed"; }
fi

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt" | head -n 1; }
version=$(cache CMAKE_PROJECT_VERSION)
[ -n "$version" ] || version=0.0.0
build_type=$(cache CMAKE_BUILD_TYPE)
[ -z "$(cache GT_SANITIZE)" ] ||
    echo "bundle: note: $build_dir is a sanitizer build ($(cache GT_SANITIZE)); fine for tests, not for nodes" >&2
arch=$(uname -m)
name=gadgetron-c-$version-$arch
[ -n "$out" ] || out=$src/out/$name.tar.gz
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

stage=$(mktemp -d "${TMPDIR:-/tmp}/gt-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/$name

# ---- install and lay out -----------------------------------------------------
cmake --install "$build_dir" --prefix "$stage/install" --strip >"$stage/install.log" 2>&1 ||
    { tail -n 30 "$stage/install.log" >&2; die "cmake --install failed (is $build_dir built?)"; }
mkdir -p "$root/bin" "$root/libexec" "$root/lib" "$root/share"
for d in "$stage/install"/*; do
    case ${d##*/} in
    bin) ;;
    *) cp -a "$d" "$root/" ;;
    esac
done
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
programs=()
for f in "$stage/install/bin"/*; do
    [ -f "$f" ] || continue
    p=${f##*/}
    if is_elf "$f"; then
        cp -a "$f" "$root/libexec/$p"
        sed "s/@PROG@/$p/g" "$src/scripts/bundle/launcher.sh.in" >"$root/bin/$p"
        chmod 0755 "$root/bin/$p"
        programs+=("$p")
    else
        cp -a "$f" "$root/bin/$p"
    fi
done
[ -x "$root/libexec/gadgetron" ] || die "the build installed no gadgetron program"
[ -d "$root/share/gadgetron/config" ] || die "the build installed no share/gadgetron/config"

module=$root/lib/libgt_cuda.so
case $cuda_mode in
auto) if [ -f "$module" ]; then with_cuda=1; else with_cuda=0; fi ;;
on) [ -f "$module" ] || die "--with-cuda-libs: $build_dir has no CUDA module (lib/libgt_cuda.so)"
    with_cuda=1 ;;
off) with_cuda=0 ;;
esac

# ---- the libraries -----------------------------------------------------------
objects=()
for p in "${programs[@]}"; do objects+=("$root/libexec/$p"); done
[ -f "$module" ] && objects+=("$module")
bundle_collect "$with_cuda" "${objects[@]}" || die "cannot collect the shared libraries"
for soname in "${!BUNDLE_LIBS[@]}"; do
    [ -e "$root/lib/$soname" ] && continue
    cp -L "${BUNDLE_LIBS[$soname]}" "$root/lib/$soname"
    chmod 0644 "$root/lib/$soname"
done
bundle_check_resolution "$root" "$with_cuda" ||
    die "the bundle is not self-contained (libraries above resolve outside it)"

# Licences of the Debian packages the libraries came from.
declare -A pkg_of=()
if command -v dpkg >/dev/null && [ ${#BUNDLE_LIBS[@]} -gt 0 ]; then
    paths=()
    for soname in "${!BUNDLE_LIBS[@]}"; do
        p=${BUNDLE_LIBS[$soname]}
        paths+=("$p" "$(readlink -f "$p")")
    done
    while IFS= read -r line; do
        pkg=${line%%: *}
        path=${line#*: }
        pkg=${pkg%%:*}
        case $pkg in *,*) continue ;; esac # diversions
        pkg_of[$path]=$pkg
    done < <(dpkg -S "${paths[@]}" 2>/dev/null || true)
    mkdir -p "$root/share/doc/gadgetron-c/copyright"
    for pkg in $(printf '%s\n' "${pkg_of[@]}" | sort -u); do
        c=/usr/share/doc/$pkg/copyright
        [ -f "$c" ] && cp "$c" "$root/share/doc/gadgetron-c/copyright/$pkg"
    done
fi

# ---- facts, README -----------------------------------------------------------
# A first run of the bundle as a node would see it, which also tells the
# commit the programs were built from.
info=$(cd / && env -i PATH=/usr/bin:/bin "$root/bin/gadgetron" --info 2>&1) ||
    { printf '%s\n' "$info" >&2; die "the bundled gadgetron does not run"; }
git_sha=$(printf '%s\n' "$info" | sed -n 's/.*Git SHA1 *: *//p' | head -n 1)
[ -n "$git_sha" ] || git_sha=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
glibc=$(bundle_min_glibc "$root/libexec" "$root/lib")
cuda_ver=
for f in "$root"/lib/libcudart.so.*; do [ -e "$f" ] && cuda_ver=${f##*libcudart.so.}; done
if [ -z "$cuda_ver" ] && [ -f "$module" ]; then
    cuda_ver=$(readelf -d "$module" 2>/dev/null |
        sed -n 's/.*\[libcudart\.so\.\([0-9]*\)\].*/\1/p' || true)
fi
sum_size() { local t=0 f; for f; do [ -f "$f" ] && t=$((t + $(stat -c %s "$f"))); done; echo "$t"; }
human() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || echo "$1 bytes"; }

cuda_libs=() other_libs=()
for soname in $(printf '%s\n' "${!BUNDLE_LIBS[@]}" | sort); do
    if [ "$(bundle_lib_class "$soname")" = cuda ]; then cuda_libs+=("$soname"); else other_libs+=("$soname"); fi
done
cuda_size=$(sum_size "${cuda_libs[@]/#/$root/lib/}")
other_size=$(sum_size "${other_libs[@]/#/$root/lib/}")

if [ ! -f "$module" ]; then
    gpu_req="GPU nodes: none; this is a CPU-only build (no CUDA module), every node
  reconstructs on the CPU."
    module_row=
elif [ "$with_cuda" = 1 ]; then
    gpu_req="GPU nodes: only the NVIDIA driver (libcuda.so.1 must match the node's kernel
  driver, so it is never bundled), recent enough for CUDA $cuda_ver. The CUDA runtime
  libraries the module uses are in lib/ ($(human "$cuda_size"))."
    module_row="; \`libgt_cuda.so\` is the CUDA backend module, loaded at run time"
else
    gpu_req="GPU nodes: the NVIDIA driver (never bundled) and, as this bundle was made
  with --no-cuda-libs, the CUDA $cuda_ver runtime libraries (cudart, cuFFT, cuBLAS,
  cuSOLVER) on the loader path (LD_LIBRARY_PATH or ldconfig); without them the
  server runs on the CPU."
    module_row="; \`libgt_cuda.so\` is the CUDA backend module, loaded at run time"
fi
readme=$(<"$src/scripts/bundle/README.in")
readme=${readme//@VERSION@/$version}
readme=${readme//@ARCH@/$arch}
readme=${readme//@DATE@/$(date -u +%Y-%m-%d)}
readme=${readme//@GIT@/$git_sha}
readme=${readme//@BUILD_TYPE@/${build_type:-default}}
readme=${readme//@GLIBC@/$glibc}
readme=${readme//@GPU_REQ@/$gpu_req}
readme=${readme//@MODULE_ROW@/$module_row}
printf '%s\n' "$readme" >"$root/README.md"

{
    echo "gadgetron-c $version ($arch), commit $git_sha, $build_type build"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm)"
    echo "needs: glibc >= $glibc${cuda_ver:+; CUDA $cuda_ver driver for GPUs}"
    echo "CUDA module: $([ -f "$module" ] && echo lib/libgt_cuda.so || echo none)"
    echo "CUDA runtime libraries: $([ "$with_cuda" = 1 ] && echo bundled || echo 'not bundled')"
    echo
    echo "bundled libraries (soname, bytes, origin on the build machine, Debian package):"
    for soname in $(printf '%s\n' "${!BUNDLE_LIBS[@]}" | sort); do
        p=${BUNDLE_LIBS[$soname]}
        r=$(readlink -f "$p")
        printf '  %s %s %s %s\n' "$soname" "$(stat -c %s "$root/lib/$soname")" "$r" \
            "${pkg_of[$p]:-${pkg_of[$r]:--}}"
    done
} >"$root/BUNDLE-INFO.txt"

# ---- the tarball -------------------------------------------------------------
gz=gzip
command -v pigz >/dev/null && gz=pigz
echo "bundle: writing $out"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - "$name" |
    "$gz" -6 >"$out.part"
mv "$out.part" "$out"

nconf=$(find "$root/share/gadgetron/config" -type f | wc -l)
echo "bundle: $out"
echo "  size: $(human "$(stat -c %s "$out")") compressed, $(human "$(du -sb "$root" | cut -f1)") unpacked"
echo "  top folder: $name/ (bin/ launchers, libexec/ programs, lib/, share/, README.md)"
echo "  programs: ${programs[*]}"
echo "  configs: $nconf in share/gadgetron/config"
if [ -f "$module" ]; then
    echo "  CUDA module: lib/libgt_cuda.so ($(human "$(stat -c %s "$module")"))"
    if [ "$with_cuda" = 1 ]; then
        echo "  CUDA runtime libraries: ${#cuda_libs[@]}, $(human "$cuda_size"): ${cuda_libs[*]}"
    else
        echo "  CUDA runtime libraries: left out (GPU nodes need CUDA $cuda_ver on their loader path)"
    fi
else
    echo "  CUDA module: none (CPU-only build)"
fi
echo "  other libraries: ${#other_libs[@]}, $(human "$other_size"): ${other_libs[*]}"
echo "  node needs: Linux $arch, glibc >= $glibc, /bin/sh$([ -f "$module" ] && echo ', the NVIDIA driver for GPUs')"

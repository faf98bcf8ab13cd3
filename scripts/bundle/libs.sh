# shellcheck shell=bash disable=SC2034 # BUNDLE_LIBS is read by the sourcing script
# scripts/bundle/libs.sh — sourced by scripts/bundle.sh (bash 4): which
# shared libraries a relocatable bundle carries, found with ldd.
#
# Every library falls in one class, by its soname:
#   system  comes from the target node and must not be shadowed: the glibc
#           family (libc, libm, libpthread, libdl, librt, ld-linux, ...) and
#           libgcc_s, which glibc itself dlopen()s for unwinding and which is
#           backward compatible and present on every glibc system;
#   driver  the NVIDIA driver's user-space libraries (libcuda, libnvidia-*),
#           which must match the node's kernel driver;
#   cuda    the CUDA toolkit's runtime libraries the CUDA module links
#           (large: carried unless --no-cuda-libs);
#   bundle  everything else (libismrmrd, libhdf5, fftw, openblas, libstdc++ ...).

# bundle_lib_class SONAME: prints system, driver, cuda or bundle.
bundle_lib_class() {
    case "$1" in
    linux-vdso.so* | linux-gate.so* | ld-linux* | ld64.so* | \
        libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | libdl.so.* | librt.so.* | \
        libutil.so.* | libresolv.so.* | libanl.so.* | libnsl.so.* | libBrokenLocale.so.* | \
        libnss_* | libthread_db.so.* | libc_malloc_debug.so.* | libgcc_s.so.*)
        echo system ;;
    libcuda.so* | libnvidia-* | libcudadebugger.so* | libnvcuvid.so* | libnvoptix.so*)
        echo driver ;;
    libcudart.so* | libcufft.so* | libcufftw.so* | libcublas.so* | libcublasLt.so* | \
        libcusolver.so* | libcusolverMg.so* | libcusparse.so* | libcurand.so* | \
        libnvJitLink.so* | libnvrtc.so* | libnvrtc-builtins* | libnvblas.so* | libcudnn* | \
        libnpp* | libnccl.so* | libcupti.so* | libnvToolsExt.so* | libnvfatbin.so* | libnvjpeg.so*)
        echo cuda ;;
    *) echo bundle ;;
    esac
}

# bundle_ldd FILE: one "SONAME<TAB>PATH" line per library ldd reports for
# FILE (its whole closure), PATH "NOTFOUND" when the loader found none.
# Fails when FILE is not a dynamic ELF object.
bundle_ldd() {
    local out
    out=$(ldd "$1" 2>&1) || { echo "bundle: ldd $1: $out" >&2; return 1; }
    printf '%s\n' "$out" | awk '
        $2 == "=>" && $3 == "not" { print $1 "\tNOTFOUND"; next }
        $2 == "=>" && $3 ~ /^\// { print $1 "\t" $3; next }
        $1 ~ /^\// { n = $1; sub(/.*\//, "", n); print n "\t" $1; next }'
}

# bundle_collect WITH_CUDA FILE...: the libraries the files need, ldd
# applied again to every library found until nothing new turns up. Fills
# the global associative array BUNDLE_LIBS (soname -> path on this machine)
# with the classes bundle and (WITH_CUDA=1) cuda. A library of those
# classes that ldd cannot find is an error; CUDA libraries left out may be
# missing (the nodes bring their own or run on the CPU).
declare -gA BUNDLE_LIBS=()
bundle_collect() {
    local with_cuda=$1
    shift
    local -a todo=("$@")
    local -A seen=()
    local file deps soname path class missing=0
    while [ ${#todo[@]} -gt 0 ]; do
        file=${todo[0]}
        todo=("${todo[@]:1}")
        deps=$(bundle_ldd "$file") || return 1
        while IFS=$'\t' read -r soname path; do
            [ -n "$soname" ] || continue
            [ -z "${seen[$soname]:-}" ] || continue
            seen[$soname]=1
            class=$(bundle_lib_class "$soname")
            case $class in
            system | driver) continue ;;
            cuda) [ "$with_cuda" = 1 ] || continue ;;
            esac
            if [ "$path" = NOTFOUND ]; then
                echo "bundle: $soname (needed by $file) not found by the loader" >&2
                missing=1
                continue
            fi
            BUNDLE_LIBS[$soname]=$path
            todo+=("$path")
        done <<<"$deps"
    done
    [ "$missing" = 0 ]
}

# bundle_check_resolution ROOT WITH_CUDA: with an empty environment and
# LD_LIBRARY_PATH=ROOT/lib (what the launchers set), every library of the
# classes the bundle carries must resolve inside ROOT/lib and no library may
# be missing (CUDA ones excepted when left out). Prints offenders; fails if any.
bundle_check_resolution() {
    local root=$1 with_cuda=$2 f soname path class bad=0
    for f in "$root"/libexec/* "$root"/lib/*.so*; do
        [ -f "$f" ] || continue
        while IFS=$'\t' read -r soname path; do
            class=$(bundle_lib_class "$soname")
            if [ "$path" = NOTFOUND ]; then
                if [ "$class" = cuda ] && [ "$with_cuda" = 0 ]; then continue; fi
                [ "$class" = driver ] && continue
                echo "bundle: check: ${f#"$root"/} needs $soname, not found" >&2
                bad=1
            elif [ "$class" = bundle ] || { [ "$class" = cuda ] && [ "$with_cuda" = 1 ]; }; then
                case $path in
                "$root"/lib/*) ;;
                *)
                    echo "bundle: check: ${f#"$root"/} loads $soname from $path, outside the bundle" >&2
                    bad=1
                    ;;
                esac
            fi
        done < <(env -i PATH=/usr/bin:/bin LD_LIBRARY_PATH="$root/lib" ldd "$f" 2>/dev/null |
            awk '$2 == "=>" && $3 == "not" { print $1 "\tNOTFOUND"; next }
                 $2 == "=>" && $3 ~ /^\// { print $1 "\t" $3 }')
    done
    [ "$bad" = 0 ]
}

# bundle_min_glibc DIR...: the newest GLIBC_x.y symbol version any ELF file
# under the folders requires ("unknown" without objdump).
bundle_min_glibc() {
    command -v objdump >/dev/null || { echo unknown; return 0; }
    local v
    v=$(find "$@" -type f -exec sh -c 'for f; do objdump -T "$f" 2>/dev/null; done' sh {} + |
        grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1 || true)
    echo "${v:-unknown}"
}

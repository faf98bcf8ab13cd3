#!/bin/sh
# build.sh — builds the libFuzzer harnesses and the seed corpora.
# Usage (repository root): tests/fuzz/build.sh [BUILD_DIR]   (default build-fuzz)
# BUILD_DIR must hold libgt.a built by clang with coverage + sanitizers:
#   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGT_CUDA=OFF -DGT_WERROR=OFF \
#     -DGT_SANITIZE=fuzzer-no-link,address,undefined \
#     -DCMAKE_C_FLAGS="-include $PWD/tests/fuzz/clang_compat.h"
#   cmake --build build-fuzz -j2 --target gt gadgetron
# Outputs: BUILD_DIR/fuzz/fuzz_<name> and BUILD_DIR/fuzz/seeds/<name>/.
set -eu
B=${1:-build-fuzz}
S=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$B/fuzz"
LIBS="$B/libgt.a -Wl,-rpath,/usr/lib/x86_64-linux-gnu/hdf5/serial -lxml2 -lpng -lz \
 /usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so -lismrmrd -luv -ljansson -lfftw3f \
 -lfftw3f_threads -lmicrohttpd -lcurl -llapacke -lopenblas -lpthread -lm -ldl"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -include $S/tests/fuzz/clang_compat.h -I$S/include \
 -I/usr/include/libxml2 -I/usr/include/hdf5/serial -I/usr/include/x86_64-linux-gnu/openblas-pthread"
for h in wire msg_wire config mrdhdr meta session; do
    clang $CFLAGS -fsanitize=fuzzer,address,undefined "$S/tests/fuzz/fuzz_$h.c" $LIBS \
        -o "$B/fuzz/fuzz_$h"
done
clang $CFLAGS -fsanitize=fuzzer-no-link,address,undefined "$S/tests/fuzz/gen_seeds.c" $LIBS \
    -o "$B/fuzz/gen_seeds"
rm -rf "$B/fuzz/seeds"
"$B/fuzz/gen_seeds" "$S" "$B/fuzz/seeds"

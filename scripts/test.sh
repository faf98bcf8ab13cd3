#!/usr/bin/env bash
# Runs the whole test suite: installs missing packages, builds, and runs
# ctest twice — a normal build, then an AddressSanitizer + UBSan build of
# the CPU path. Usage: scripts/test.sh [--no-sanitize] [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
if [ "${1:-}" = "--no-sanitize" ]; then sanitize=0; shift; fi
jobs=$(nproc 2>/dev/null || echo 2)

bash scripts/setup.sh

# One .clang-format at the root; every C file follows it.
echo "== format check"
if ! git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror; then
  echo "== some files are not clang-formatted (run: git ls-files '*.c' '*.h' | xargs clang-format -i)" >&2
  exit 1
fi

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  echo "== configure $dir $*"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  echo "== build $dir"
  cmake --build "$dir" -j"$jobs"
  echo "== test $dir"
  ctest --test-dir "$dir" --output-on-failure --timeout 600 "${CTEST_ARGS[@]}"
}

# Criterion runs each test in a worker process whose leak report does not
# change the verdict, so the sanitizer build also fails on any report that
# reached a test's output.
check_sanitizer_reports() { # build-dir
  local log=$1/Testing/Temporary/LastTest.log
  if grep -nE "ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:" "$log"; then
    echo "== sanitizer reports found in $log" >&2
    exit 1
  fi
}

CTEST_ARGS=("$@")
run_suite build
if [ "$sanitize" = 1 ]; then
  # CUDA off: the sanitizers cover the CPU path; leak checking on.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DGT_CUDA=OFF -DGT_SANITIZE=address,undefined
  check_sanitizer_reports build-asan
fi
echo "== all tests passed"

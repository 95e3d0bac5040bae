#!/usr/bin/env bash
# Install dependencies, build, and run every test:
#   1. a normal build: unit, integration and fuzz-corpus tests (ctest),
#      then scripts/bench.sh --quick (every benchmark runs, briefly);
#   2. an ASan+UBSan build running the same suite;
#   3. where nvcc is installed, a build of the CUDA example trainer;
#   4. a short libFuzzer run of each decoder (YARD_FUZZ_SECONDS, default 15;
#      0 skips it).
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

jobs=$(nproc 2>/dev/null || echo 2)

echo "== build (RelWithDebInfo)"
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"
echo "== benchmarks, each piece briefly (no timing asserted)"
YARD_BENCH_BUILD=build scripts/bench.sh --quick >/dev/null

echo "== build (ASan+UBSan)"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Debug -DYARD_SANITIZE=ON
echo "== tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

# the CUDA example trainer: compiled (not run) where nvcc is installed
nvcc=$(command -v nvcc || true)
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
if [ -n "$nvcc" ]; then
  echo "== CUDA trainer compile check ($nvcc)"
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DYARD_TESTS=OFF -DYARD_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" >/dev/null
  cmake --build build-cuda --target train_loan_cuda
else
  echo "== no nvcc: CUDA trainer compile check skipped"
fi

secs=${YARD_FUZZ_SECONDS:-15}
if [ "$secs" -gt 0 ]; then
  echo "== libFuzzer, ${secs}s per target"
  CC=clang cmake -S . -B build-fuzz -G Ninja -DYARD_FUZZ=ON >/dev/null
  cmake --build build-fuzz --target fuzz_envelope fuzz_parse fuzz_metricline \
    fuzz_tree fuzz_conditions
  for t in envelope parse metricline tree conditions; do
    corpus=$(mktemp -d)
    cp tests/fuzz/corpus/$t/* "$corpus"/
    ./build-fuzz/tests/fuzz_$t -max_total_time="$secs" -print_final_stats=0 \
      -artifact_prefix=build-fuzz/ "$corpus" 2>&1 | tail -n 1
    rm -rf "$corpus"
  done
fi
echo "== all tests passed"

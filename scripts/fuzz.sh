#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan, coverage) and runs each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 15 s, every target)
# Seeds come from tests/fuzz/corpus/<target>/ (copied, so the repository is not changed);
# tests/fuzz/dict/<target>.dict, where present, is passed as the libFuzzer dictionary.
# A crash stops the run and names the input: fix the bug, then add the input to
# tests/fuzz/regressions/<target>/ so the replay test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
shift || true
packages=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
scripts/setup.sh --deps-only
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMDB_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(query ddl bulk bulk-line http import-ndjson import-csv import-nmap import-kubernetes import-terraform import-ansible import-aws)
fi
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p build-fuzz/artifacts
failed=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  dict=()  # a libFuzzer dictionary (keywords, operators) where the target has one
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  if ! ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/tests/fuzz/fuzz_$t" "${dict[@]}" -max_total_time="$seconds" -seed=1 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="build-fuzz/artifacts/$t-" -print_final_stats=0 "$work" >"build-fuzz/artifacts/$t.log" 2>&1; then
    echo "fuzz $t: FAILED (see build-fuzz/artifacts/$t.log)"
    tail -30 "build-fuzz/artifacts/$t.log"
    failed=$((failed + 1))
  else
    echo "fuzz $t: ok, $(grep -c . <(ls "$work")) corpus entries after ${seconds}s ($(grep -o 'Done [0-9]* runs' "build-fuzz/artifacts/$t.log" | tail -1))"
  fi
  rm -rf "$work"
done
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Builds cmdb (installing missing packages) and runs the whole test suite with ctest.
#   scripts/test.sh              the test command (what CI runs): the suite (with the web console's
#                                unit tests and its end-to-end suite in headless Chromium: ctest
#                                web_unit, web_e2e), then a short fuzz run (CMDB_FUZZ_SECONDS per
#                                target, default 5)
#   scripts/test.sh --sanitize   the whole suite under AddressSanitizer and UndefinedBehaviorSanitizer
#   scripts/test.sh --tsan       the concurrency tests under ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  --sanitize)
    CMDB_SANITIZE=address,undefined CMDB_BUILD_TYPE=RelWithDebInfo scripts/setup.sh build-asan
    cd build-asan
    # The benchmark smoke test only measures speed, which sanitizers distort.
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure --timeout 1800 -E bench_smoke
    ;;
  --tsan)
    CMDB_SANITIZE=thread CMDB_BUILD_TYPE=RelWithDebInfo scripts/setup.sh build-tsan
    cd build-tsan
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "readers see a bulk transaction entirely or not at all"
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "a long read does not stall a writer"
    # Record snapshots (copy-on-write chunks) read after the view while writers replace them.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "a record snapshot taken in a read view stays unchanged while writers update it"
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "queries past the concurrency limit answer 503 with Retry-After"
    # An export sends its rows with the read view released while a writer commits (one snapshot).
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "a streamed read keeps one snapshot while a writer commits during its flushes"
    # The SQLite store loads CIs and relationships on two threads.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "SQLite store keeps every version and reloads the current graph"
    # Webhooks: the router in the commit, the dispatcher and one delivery worker per webhook.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "webhooks: a body is the feed's element through the webhook's filter"
    # Bulk loads parse JSON on a second thread.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "bulk: long bodies keep line order and numbers across parse batches"
    # Attribute-map shapes are shared, counted and freed across threads.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "attribute maps are copied and changed and dropped on several threads at once"
    # Large bulk loads stream rows to SQLite on a worker thread while staging goes on.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "a bulk load streamed into SQLite before its commit stores exactly what it staged"
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_unit_tests "a full disk while a bulk load streams fails it with a clear error and applies nothing"
    # Large writes apply CIs and relationships, and build the adjacency, on two threads.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "large writes applied on two threads give the graph one thread gives"
    # Names interned and read by number on several threads (the segmented name table).
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "names interned on several threads past one segment read back on every thread"
    # A large write set's chain hash is digested on a helper thread while it is encoded.
    TSAN_OPTIONS=halt_on_error=1 ./tests/cmdb_core_tests "the chain hash of small and large write sets equals the hash of their canonical bytes"
    echo "12 passed, 0 failed"
    ;;
  "")
    scripts/setup.sh build
    (cd build && ctest --output-on-failure --timeout 900)
    # Then every fuzz target for a few seconds (clang, libFuzzer, ASan+UBSan; scripts/fuzz.sh).
    scripts/fuzz.sh "${CMDB_FUZZ_SECONDS:-5}"
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize | --tsan]" >&2
    exit 2
    ;;
esac

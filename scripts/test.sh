#!/usr/bin/env bash
# Builds cmdb (installing missing packages) and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cd build
ctest --output-on-failure --timeout 900

#!/usr/bin/env bash
# Builds cmdb and its web console (installing missing packages) and starts cmdbd on
# 127.0.0.1:8080 with the embedded default: ./data/cmdb.sqlite, the schema from ./schema and, on
# first start, the demo estate and an admin token (printed once and saved to ./data/admin-token,
# mode 0600). Open http://127.0.0.1:8080/ and sign in with that token.
# Extra arguments go to cmdbd (see: build/api/cmdbd --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
mkdir -p data
exec build/api/cmdbd --db ./data/cmdb.sqlite --listen 127.0.0.1:8080 --schema ./schema \
  --admin-token-file ./data/admin-token --web ./web/dist "$@"

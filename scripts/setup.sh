#!/usr/bin/env bash
# Installs the Debian 12 packages cmdb needs (only the missing ones) and builds it: the server and
# the web console (npm ci and npm run build in web/ when its lock file or sources changed; Node.js
# and npm are Debian's, Node 18; Chromium runs the console's end-to-end tests; libpq is the
# PostgreSQL store's C client and postgresql-15 the server its tests start, docs/scale-out.md).
# Usage: scripts/setup.sh [build-dir]    (default build-dir: build)
#        scripts/setup.sh --deps-only     (install the packages, build nothing)
#        scripts/setup.sh --web-only      (install the packages, build only the web console)
# Environment: CMDB_BUILD_TYPE (default Release), CMDB_SANITIZE (e.g. address,undefined);
# CI=true turns warnings into errors.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config ccache libboost-dev libboost-graph-dev libsqlite3-dev
          libcpp-httplib-dev nlohmann-json3-dev libpugixml-dev catch2 libssl-dev zlib1g-dev libbrotli-dev openssl
          libjemalloc-dev libsimdjson-dev libre2-dev libcli11-dev libedit-dev libcurl4-openssl-dev python3 jq curl nodejs npm chromium
          libpq-dev postgresql-15 libhowardhinnant-date-dev tzdata)
missing=()
for p in "${packages[@]}"; do
  # A Node.js from elsewhere (NodeSource's bundles npm) serves as well as Debian's.
  [ "$p" = nodejs ] && command -v node >/dev/null && continue
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--deps-only" ] && exit 0

# The web console: dependencies from the committed lock file, then the bundle in web/dist (which
# cmdbd serves at /), each only when what it is made from changed.
build_web() {
  ( cd web
    if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
      echo "setup: npm ci (web/)"
      npm ci --no-audit --no-fund --loglevel=error
    fi
    if [ ! -f dist/index.html ] || [ -n "$(find src public index.html package-lock.json vite.config.ts -newer dist/index.html -print -quit)" ]; then
      echo "setup: building the web console (web/dist)"
      npm run build --silent
    fi )
}
build_web
[ "${1:-}" = "--web-only" ] && exit 0
# ccache: paths relative to the checkout, so another clone (CI) reuses the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
build_dir="${1:-build}"
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${CMDB_BUILD_TYPE:-Release}" -DCMDB_WERROR="$werror" \
  -DCMDB_SANITIZE="${CMDB_SANITIZE:-}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"

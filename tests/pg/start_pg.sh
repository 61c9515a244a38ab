#!/usr/bin/env bash
# A throw-away PostgreSQL 15 for tests and examples (Debian's postgresql-15 binaries).
#   start_pg.sh start DIR [PORT]   initdb in DIR/data, start it listening on a unix socket in DIR
#                                  only (no TCP), create database "cmdb", print its URL:
#                                  postgresql://cmdb@/cmdb?host=DIR&port=PORT
#   start_pg.sh createdb DIR NAME  create another database in the running server, print its URL
#   start_pg.sh stop DIR           stop the server (immediate) and delete DIR
#   start_pg.sh halt DIR           stop the server (immediate, as a crash), keep its data
#   start_pg.sh resume DIR         start a halted server again (same socket and port)
# PostgreSQL refuses to run as root: as root (CI) the server runs as the unprivileged user
# `nobody`, which gets DIR. Exit status 77 (the ctest skip code) when the binaries are missing.
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
cmd=${1:?usage: start_pg.sh start|createdb|stop DIR ...}
dir=${2:?usage: start_pg.sh start|createdb|stop DIR ...}
if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "start_pg.sh: PostgreSQL 15 is not installed ($bin/initdb missing; apt-get install postgresql-15)" >&2
  exit 77
fi
# Absolute paths, then leave the caller's directory: `nobody` may not enter it (a test run from a
# 0700 checkout), and PostgreSQL's programs complain on standard output when they cannot.
[ "$cmd" = start ] && mkdir -p "$dir"
[ -d "$dir" ] && dir=$(cd "$dir" && pwd)
cd /
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u nobody --)
port_of() { cat "$dir/port"; }
start_server() {
  # fsync off: a test server's data does not outlive the test (CMDB_PG_FSYNC=on for benchmarks).
  "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-k $dir -p $(port_of) -c listen_addresses='' -c fsync=${CMDB_PG_FSYNC:-off} -c max_connections=50" start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
}
case "$cmd" in
  start)
    port=${3:-$((20000 + RANDOM % 30000))}
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U cmdb -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    start_server
    "${as_owner[@]}" "$bin/psql" -q -h "$dir" -p "$port" -U cmdb -d postgres -c "CREATE DATABASE cmdb" >/dev/null
    echo "postgresql://cmdb@/cmdb?host=$dir&port=$port"
    ;;
  createdb)
    name=${3:?usage: start_pg.sh createdb DIR NAME}
    "${as_owner[@]}" "$bin/psql" -q -h "$dir" -p "$(port_of)" -U cmdb -d postgres \
      -c "CREATE DATABASE \"$name\"" >/dev/null
    echo "postgresql://cmdb@/$name?host=$dir&port=$(port_of)"
    ;;
  halt)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  resume)
    start_server
    ;;
  stop)
    [ -d "$dir/data" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "start_pg.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac

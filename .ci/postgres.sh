#!/usr/bin/env bash
# A throwaway PostgreSQL server on 127.0.0.1 for the sync tests.
#
#   eval "$(bash .ci/postgres.sh)"     # exports ZBOOKS_TEST_POSTGRES_URL
#
# Idempotent: installs Debian's postgresql package only if no server binaries are found,
# creates the cluster only once, starts it only if it is not answering, and creates the
# database only if it is missing. Only the export line goes to stdout; logs go to stderr.
# Settings: ZBOOKS_PG_PORT (55432), ZBOOKS_PG_DIR (/tmp/zbooks-postgres), ZBOOKS_PG_DB.
set -euo pipefail

PORT=${ZBOOKS_PG_PORT:-55432}
DIR=${ZBOOKS_PG_DIR:-/tmp/zbooks-postgres}
DB=${ZBOOKS_PG_DB:-zbooks_test}
DATA="$DIR/data"
SOCK="$DIR/socket"
LOG="$DIR/server.log"

say() { echo "postgres.sh: $*" >&2; }

find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ] && [ -x "$found/initdb" ]; then
        echo "$found"
    fi
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    say "installing PostgreSQL from Debian packages"
    if [ "$(id -u)" -ne 0 ]; then
        say "not root: cannot apt-get install postgresql; install it and re-run"
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
    BIN=$(find_bin)
fi
[ -n "$BIN" ] || { say "no PostgreSQL server binaries found"; exit 1; }

# The server refuses to run as root: run it as the postgres system user then.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" postgres
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

mkdir -p "$DIR" "$SOCK"
if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$DIR"
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
    say "creating a cluster in $DATA"
    as_pg "$BIN/initdb" -D "$DATA" --username=postgres --auth=trust --encoding=UTF8 \
        --no-instructions >&2
fi

if ! "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" -q; then
    say "starting the server on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
        -o "-h 127.0.0.1 -p $PORT -k $SOCK -c fsync=off -c full_page_writes=off" >&2
fi

exists=$("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" 2>/dev/null || true)
if [ "$exists" != "1" ]; then
    say "creating database $DB"
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
fi

echo "export ZBOOKS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$PORT/$DB"

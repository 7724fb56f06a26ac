#!/usr/bin/env bash
# Make sure a PostgreSQL server accepts connections on 127.0.0.1, for the tests.
#
# 1. 127.0.0.1:$ONCALL_PG_PORT (default 5432) already accepts connections: nothing to do.
# 2. Start the installed cluster: pg_ctlcluster --skip-systemctl-redirect <version> main start.
# 3. Start (or reuse) a throwaway cluster from /usr/lib/postgresql/*/bin in a temp dir: trust
#    auth, port $ONCALL_PG_THROWAWAY_PORT (default 54329), run as user postgres when root.
#
# Prints the URL to use on stdout (messages go to stderr); exits non-zero if nothing worked.
set -u

port="${ONCALL_PG_PORT:-5432}"
spare="${ONCALL_PG_THROWAWAY_PORT:-54329}"
say() { echo "ensure-postgres: $*" >&2; }
url() { echo "postgresql+asyncpg://postgres@127.0.0.1:$1/postgres"; }

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

accepts() {
  local isready
  isready=$(command -v pg_isready || echo "${bindir:-/nonexistent}/pg_isready")
  if [ -x "$isready" ]; then
    "$isready" -q -h 127.0.0.1 -p "$1" -t 3
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

wait_for() {
  for _ in $(seq 1 20); do
    accepts "$1" && return 0
    sleep 0.5
  done
  return 1
}

if accepts "$port"; then
  url "$port"
  exit 0
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql | sort -V -r); do
    [ -d "/etc/postgresql/$version/main" ] || continue
    say "starting cluster $version/main"
    if pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 && wait_for "$port"; then
      url "$port"
      exit 0
    fi
  done
fi

if accepts "$spare"; then
  say "reusing the server on port $spare"
  url "$spare"
  exit 0
fi

if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  say "no PostgreSQL binaries under /usr/lib/postgresql: install postgresql"
  exit 1
fi

as_owner() { "$@"; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/oncall-pg.XXXXXX") || exit 1
if [ "$(id -u)" = 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    say "running as root and there is no user postgres to run a throwaway cluster"
    exit 1
  fi
  chown postgres "$dir"
  as_owner() { runuser -u postgres -- "$@"; }
fi

say "starting a throwaway cluster in $dir on port $spare"
if ! as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1; then
  say "initdb failed (see $dir/initdb.log)"
  exit 1
fi
if ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $spare -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >&2; then
  say "the throwaway cluster did not start (see $dir/server.log)"
  exit 1
fi
if ! wait_for "$spare"; then
  say "the throwaway cluster does not accept connections (see $dir/server.log)"
  exit 1
fi
runas=""
[ "$(id -u)" = 0 ] && runas="runuser -u postgres -- "
say "stop it with: $runas$bindir/pg_ctl -D $dir/data stop"
url "$spare"

#!/usr/bin/env bash
# `alembic check` on both dialects: migrate a scratch SQLite file and a scratch PostgreSQL
# database to head, then check that the models and the migrations agree.
set -euo pipefail
cd "$(dirname "$0")/.."
alembic=.venv/bin/alembic
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sqlite="sqlite+aiosqlite:///$tmp/check.db"
$alembic -x url="$sqlite" upgrade head >/dev/null
$alembic -x url="$sqlite" check
echo "alembic check: sqlite OK"

server=$(bash scripts/ensure-postgres.sh)
server=${server%/*}
name="alembic_check_$$"
.venv/bin/python - "$server" "$name" create <<'PY'
import asyncio, sys
import asyncpg
async def main(server: str, name: str, action: str) -> None:
    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        if action == "create":
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await conn.execute(f'CREATE DATABASE "{name}"')
        else:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
asyncio.run(main(*sys.argv[1:]))
PY
drop() {
  .venv/bin/python - "$server" "$name" drop <<'PY'
import asyncio, sys
import asyncpg
async def main(server: str, name: str, action: str) -> None:
    conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
asyncio.run(main(*sys.argv[1:]))
PY
  rm -rf "$tmp"
}
trap drop EXIT
$alembic -x url="$server/$name" upgrade head >/dev/null
$alembic -x url="$server/$name" check
echo "alembic check: postgresql OK"

#!/bin/sh
# The container's entrypoint: migrate the database, then run the bot.
#
#   (no arguments)          oncall-bot run
#   doctor, oncall, ...     an oncall-bot subcommand (any first word that is not a program on
#                           PATH): `docker compose run --rm bot-1 doctor`
#   a program               run as is (`docker run -it IMAGE sh`)
#
# Before `oncall-bot run` it runs `oncall-bot db upgrade --lock`: on PostgreSQL the migration
# runs under a transaction-level advisory lock, so replicas starting together migrate once and
# the others wait for it; it retries the first connection for ONCALL_DB_WAIT_SECONDS (60) while
# the database starts. ONCALL_MIGRATE_ON_START=0 skips it (migrate as a separate release step).
# ONCALL_ENTRYPOINT_EXEC replaces the final command (tests and debugging).
set -eu

if [ "$#" -eq 0 ]; then
  set -- oncall-bot run
elif ! command -v "$1" >/dev/null 2>&1; then
  set -- oncall-bot "$@"
fi

if [ "$1" = oncall-bot ] && [ "${2:-}" = run ] && [ "${ONCALL_MIGRATE_ON_START:-1}" != 0 ]; then
  oncall-bot db upgrade --lock \
    --wait "${ONCALL_DB_WAIT_SECONDS:-60}" \
    --lock-timeout "${ONCALL_MIGRATE_LOCK_TIMEOUT:-300}"
fi

if [ -n "${ONCALL_ENTRYPOINT_EXEC:-}" ]; then
  # shellcheck disable=SC2086 # split on purpose: "sh -c 'echo ran'" style commands
  exec $ONCALL_ENTRYPOINT_EXEC
fi
exec "$@"

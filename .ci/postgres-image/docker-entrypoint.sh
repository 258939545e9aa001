#!/bin/sh
# Entrypoint of the test image recover-texts-test/postgres:15 (built by
# .ci/docker.sh without any registry). It honours what the official postgres
# image's entrypoint honours and testcontainers' PostgreSqlContainer sets:
# POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_INITDB_ARGS, PGDATA.
# The server runs in the foreground as the postgres user, listens on all of
# the container's addresses, and asks TCP clients for a scram password.
set -eu

# `docker run IMAGE -c fsync=off` means `postgres -c fsync=off`, as in the official image.
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "${1:-}" != postgres ]; then exec "$@"; fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ -z "${POSTGRES_PASSWORD:-}" ]; then
  echo 'error: POSTGRES_PASSWORD must be set (this image has no passwordless mode)' >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  # PostgreSQL refuses root: go on as postgres, replacing this process.
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  # A test server: skipping fsync makes the first start seconds faster.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 --no-sync \
    --auth-local=trust --auth-host=scram-sha-256 ${POSTGRES_INITDB_ARGS:-} > /dev/null
  rm -f "$pwfile"
  if [ "$POSTGRES_DB" != postgres ]; then
    # Single-user mode: nothing listens until the real start below.
    quoted="$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')"
    printf 'CREATE DATABASE "%s";\n' "$quoted" | postgres --single -D "$PGDATA" -c fsync=off postgres > /dev/null
  fi
  # Clients come through Docker's port mapping, from outside the container.
  echo 'host all all all scram-sha-256' >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo 'PostgreSQL init process complete; ready for start up.'
fi

shift
exec postgres "$@"

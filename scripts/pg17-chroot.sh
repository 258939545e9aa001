#!/bin/sh
# Build a Debian trixie chroot with PostgreSQL 17's client tools (pg_dump, pg_restore 17), for
# making and checking archive-version 1.16 fixtures on a machine whose own PostgreSQL is older.
# Debian bookworm has no PostgreSQL 17 package; trixie has postgresql-client-17.
#
#   sudo scripts/pg17-chroot.sh [DIR]        (default /work/chroots/trixie; run as root)
#   PG_DUMP_17='chroot /work/chroots/trixie /usr/lib/postgresql/17/bin/pg_dump' npm run fixtures
#
# Idempotent: a chroot that already has pg_dump 17 is left as it is. Keep DIR outside the
# repository. The chroot cannot see the host's sockets, so its pg_dump connects over TCP.
set -eu

DIR=${1:-/work/chroots/trixie}
# The mirror apt already uses here (deb822 "URIs:" or one-line "deb URL"), else Debian's CDN.
MIRROR=${DEBIAN_MIRROR:-$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources | awk '{print $2; exit}'
    grep -hs '^deb .*debian' /etc/apt/sources.list | awk '{print $2; exit}'; } | grep -v security | head -n 1
)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PG_DUMP="$DIR/usr/lib/postgresql/17/bin/pg_dump"

if [ "$(id -u)" -ne 0 ]; then
  echo "pg17-chroot: run as root (debootstrap and chroot need it)" >&2
  exit 1
fi

if [ -x "$PG_DUMP" ] && chroot "$DIR" /usr/lib/postgresql/17/bin/pg_dump --version | grep -q ' 17\.'; then
  echo "pg17-chroot: $DIR already has $(chroot "$DIR" /usr/lib/postgresql/17/bin/pg_dump --version)" >&2
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  apt-get update
  apt-get install -y debootstrap
fi

# A half-made chroot (an interrupted debootstrap) is finished by running debootstrap again;
# a complete base system only needs the package.
if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  mkdir -p "$DIR"
  debootstrap --variant=minbase trixie "$DIR" "$MIRROR"
fi
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
chroot "$DIR" apt-get update
chroot "$DIR" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client-17
chroot "$DIR" /usr/lib/postgresql/17/bin/pg_dump --version

#!/bin/sh
# Build a minimal Debian chroot with a newer PostgreSQL's client tools (pg_dump, pg_restore), for
# making and checking archive fixtures on a machine whose own PostgreSQL is older:
#   17 from Debian trixie (postgresql-client-17), 18 from Debian sid (postgresql-client-18).
#
#   sudo scripts/pg-chroot.sh 17 [DIR]      (default /work/chroots/trixie; run as root)
#   sudo scripts/pg-chroot.sh 18 [DIR]      (default /work/chroots/sid)
#   PG_DUMP_17='chroot /work/chroots/trixie /usr/lib/postgresql/17/bin/pg_dump' \
#   PG_DUMP_18='chroot /work/chroots/sid /usr/lib/postgresql/18/bin/pg_dump' npm run fixtures
#
# Idempotent: a chroot that already has that pg_dump is left as it is. Keep DIR outside the
# repository. The chroot cannot see the host's sockets, so its pg_dump connects over TCP.
set -eu

MAJOR=${1:-}
case "$MAJOR" in
  17) SUITE=trixie ;;
  18) SUITE=sid ;;
  *) echo "usage: pg-chroot.sh 17|18 [DIR]" >&2; exit 2 ;;
esac
DIR=${2:-/work/chroots/$SUITE}
# The mirror apt already uses here (deb822 "URIs:" or one-line "deb URL"), else Debian's CDN.
MIRROR=${DEBIAN_MIRROR:-$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources | awk '{print $2; exit}'
    grep -hs '^deb .*debian' /etc/apt/sources.list | awk '{print $2; exit}'; } | grep -v security | head -n 1
)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BIN=/usr/lib/postgresql/$MAJOR/bin
# sid's Release file may be older than its Valid-Until when a mirror lags: accept it.
APT="apt-get -o Acquire::Check-Valid-Until=false"

if [ "$(id -u)" -ne 0 ]; then
  echo "pg-chroot: run as root (debootstrap and chroot need it)" >&2
  exit 1
fi

if [ -x "$DIR$BIN/pg_dump" ] && chroot "$DIR" "$BIN/pg_dump" --version | grep -q " $MAJOR\."; then
  echo "pg-chroot: $DIR already has $(chroot "$DIR" "$BIN/pg_dump" --version)" >&2
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
  debootstrap --variant=minbase "$SUITE" "$DIR" "$MIRROR"
fi
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
chroot "$DIR" $APT update
chroot "$DIR" env DEBIAN_FRONTEND=noninteractive $APT install -y --no-install-recommends "postgresql-client-$MAJOR"
chroot "$DIR" "$BIN/pg_dump" --version

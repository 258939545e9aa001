#!/bin/sh
# pg_restore 17 from the chroot scripts/pg17-chroot.sh builds, usable as a host pg_restore:
# every argument naming an existing file or directory (the archive, a -L list) is copied
# into the chroot and its path rewritten; output goes to stdout as usual. For checking the
# archive-version 1.16 fixtures with pg_restore 17, e.g. the exports test:
#
#   mkdir -p /tmp/pg17bin && ln -sf "$PWD/scripts/pg17-restore.sh" /tmp/pg17bin/pg_restore
#   PATH=/tmp/pg17bin:$PATH npx vitest run test/fixture-exports.test.ts
#
# PG17_CHROOT overrides the chroot (default /work/chroots/trixie). Run as root.
set -eu

ROOT=${PG17_CHROOT:-/work/chroots/trixie}
BIN=/usr/lib/postgresql/17/bin/pg_restore
WORK=$(mktemp -d "$ROOT/tmp/pg17-restore-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 143' INT TERM
INNER=${WORK#"$ROOT"}

n=0
for arg in "$@"; do
  if [ "$n" -eq 0 ]; then set --; fi
  n=$((n + 1))
  case "$arg" in
    -*) set -- "$@" "$arg" ;;
    *)
      if [ -e "$arg" ]; then
        cp -R "$arg" "$WORK/$n-$(basename "$arg")"
        set -- "$@" "$INNER/$n-$(basename "$arg")"
      else
        set -- "$@" "$arg"
      fi
      ;;
  esac
done
chroot "$ROOT" "$BIN" "$@"

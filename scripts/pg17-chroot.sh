#!/bin/sh
# pg_dump/pg_restore 17 in a Debian trixie chroot: scripts/pg-chroot.sh 17 [DIR].
exec "$(dirname "$0")/pg-chroot.sh" 17 "$@"

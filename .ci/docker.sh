#!/usr/bin/env bash
# CI for the docker engine: make sure a Docker engine runs, and build the
# PostgreSQL image its tests use, recover-texts-test/postgres:15, without any
# registry (CI machines reach only Debian's mirror and npm). Run as root;
# idempotent: a second run finds the daemon up and the image current and
# does nothing.
#
# The image is a minimal Debian root file system (debootstrap minbase) with
# Debian's postgresql-15 and an entrypoint that behaves like the official
# postgres image's (.ci/postgres-image/docker-entrypoint.sh), imported with
# `docker import`. Its recipe hash is a label on the image: when the recipe
# changes the image is rebuilt, otherwise it is reused. The root file system
# tarball and the downloaded .debs are kept in /var/cache/recover-texts, so
# the image comes back quickly after the daemon's storage is wiped.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=recover-texts-test/postgres:15
CACHE=/var/cache/recover-texts
SUITE=bookworm
DOCKERD_LOG=/var/log/recover-texts-dockerd.log
ENTRYPOINT_FILE=.ci/postgres-image/docker-entrypoint.sh

say() { echo "docker.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  say "must run as root (it installs packages and starts dockerd)"
  exit 1
fi

daemon_up() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_daemon() {
  daemon_up && return 0
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    say "installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  daemon_up && return 0
  if ! pgrep -x dockerd >/dev/null; then
    # No systemd here: run the daemon in the background, detached from this shell.
    say "starting dockerd (log: $DOCKERD_LOG)"
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    daemon_up && return 0
    sleep 1
  done
  say "dockerd did not come up within 60 s; its log ends with:"
  tail -n 5 "$DOCKERD_LOG" >&2 || true
  return 1
}

# The first mirror in apt's sources that serves $SUITE (one-line or deb822 format).
debian_mirror() {
  local found
  found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v s="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == s) { print $i; exit } } }')
  if [ -z "$found" ]; then
    found=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
      awk -v s="$SUITE" '/^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s && uri) { print uri; exit } } /^$/ { uri = "" }')
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

# Everything that decides the image's content. Its text is part of the recipe hash.
build_rootfs() {
  local root=$1
  debootstrap --variant=minbase --include=postgresql-15 --cache-dir="$CACHE/debs" \
    "$SUITE" "$root" "$(debian_mirror)" >"$CACHE/debootstrap.log" 2>&1 || {
    say "debootstrap failed; the end of $CACHE/debootstrap.log:"
    tail -n 20 "$CACHE/debootstrap.log" >&2
    return 1
  }
  # Debian's package makes a cluster "main"; the entrypoint makes its own in PGDATA.
  rm -rf "$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15
  # Smaller image, faster import: no docs, manuals, translations or apt caches.
  rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* \
    "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/usr/share/i18n
  # No JIT (the server never needs it for the tool's small queries): LLVM is a third of the image.
  rm -rf "$root"/usr/lib/postgresql/15/lib/llvmjit* "$root"/usr/lib/postgresql/15/lib/bitcode \
    "$root"/usr/lib/*/libLLVM-* "$root"/usr/lib/*/libz3.so*
}

# How the root file system becomes an image (docker import --change; Docker 20.10 knows no STOPSIGNAL here).
IMPORT_CHANGES=(
  'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]'
  'CMD ["postgres"]'
  'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV PGDATA=/var/lib/postgresql/data'
  'ENV LANG=C.UTF-8'
  'EXPOSE 5432'
)

rootfs_hash() {
  { declare -f build_rootfs; echo "$SUITE"; } | sha256sum | cut -c1-16
}

image_hash() {
  { rootfs_hash; cat "$ENTRYPOINT_FILE"; printf '%s\n' "${IMPORT_CHANGES[@]}"; } | sha256sum | cut -c1-16
}

ensure_image() {
  local recipe rootfs current start old changes=()
  recipe=$(image_hash)
  rootfs=$(rootfs_hash)
  current=$(docker image inspect -f '{{index .Config.Labels "org.recover-texts.recipe"}}' "$IMAGE" 2>/dev/null || true)
  if [ "$current" = "$recipe" ]; then
    say "$IMAGE is current (recipe $recipe)"
    return 0
  fi
  start=$SECONDS
  mkdir -p "$CACHE/debs"
  # Globals: the EXIT trap below runs after this function has returned.
  tarball="$CACHE/rootfs-$rootfs.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || {
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    say "building a $SUITE root file system with postgresql-15 (recipe $rootfs)"
    root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    # A failed build leaves no half root file system behind.
    trap 'rm -rf "${root:-}" "${tarball:-}.tmp"' EXIT
    build_rootfs "$root"
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    trap - EXIT
    find "$CACHE" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$rootfs.tar" -delete
  fi
  say "importing $IMAGE"
  old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  for c in "${IMPORT_CHANGES[@]}" "LABEL org.recover-texts.recipe=$recipe"; do changes+=(--change "$c"); done
  # The entrypoint is added to a copy of the cached root file system, so changing it costs seconds, not a debootstrap.
  cp "$tarball" "$tarball.tmp"
  tar --owner=0 --group=0 --mode=755 --transform='s,^,./usr/local/bin/,' \
    -C "$(dirname "$ENTRYPOINT_FILE")" -rf "$tarball.tmp" docker-entrypoint.sh
  trap 'rm -f "${tarball:-}.tmp"' EXIT
  docker import "${changes[@]}" "$tarball.tmp" "$IMAGE" >/dev/null
  rm -f "$tarball.tmp"
  trap - EXIT
  # The previous recipe's image, now untagged; kept if a container still uses it.
  [ -z "$old" ] || docker image rm "$old" >/dev/null 2>&1 || true
  say "$IMAGE ready in $((SECONDS - start)) s"
}

ensure_daemon
ensure_image

#!/usr/bin/env bash
# Builds the TEST STAND-INS for the images that docker-compose.yml and the Dockerfile name
# (node:24-bookworm-slim, postgres:16, redis:7: no registry for images is reachable here) and tags
# them with those names, so that both build and run unchanged with --pull=never. See the
# Containerfiles in stand-in-*/. Once per machine: the images carry a content hash of everything
# they are made of, and a run whose hash is already built only re-tags them. The debootstrap root
# and the npm tarball are kept under $CACHE_DIR/<hash>/ so that a wiped podman store is rebuilt
# without debootstrap.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="$here/containers.conf"

CACHE_DIR="${LIVECUT_TEST_BASE_CACHE:-/var/cache/livecut-test-base}"
ROOTFS_TAG=localhost/livecut-test-bookworm-minbase
NPM_VERSION=11.21.2
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
node_bin="$(readlink -f "$root/node_modules/.bin/node")"
# stand-in folder = the name it stands in for
declare -A STAND_INS=(
  [stand-in-node]=docker.io/library/node:24-bookworm-slim
  [stand-in-postgres]=docker.io/library/postgres:16
  [stand-in-redis]=docker.io/library/redis:7
)

for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "stand-ins: $tool is missing (apt-get install podman runc debootstrap)" >&2; exit 1; }
done
[ -x "$node_bin" ] || { echo "stand-ins: no pinned Node binary at $node_bin (run npm ci)" >&2; exit 1; }

hash="$(
  {
    cat "$0" "$here"/stand-in-*/*
    echo "npm $NPM_VERSION"
    sha256sum "$node_bin" "$CA_BUNDLE" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
)"
local_tag() { echo "localhost/livecut-test-${1#stand-in-}:$hash"; }

mkdir -p "$CACHE_DIR"
# Two runs on one machine build them once.
exec 9>"$CACHE_DIR/.lock"
flock 9

built() { [ "$(podman image inspect --format '{{ index .Labels "livecut.test-stand-in.hash" }}' "$(local_tag "$1")" 2>/dev/null)" = "$hash" ]; }
tag_all() { for dir in "${!STAND_INS[@]}"; do podman tag "$(local_tag "$dir")" "${STAND_INS[$dir]}"; done; }

missing=()
for dir in "${!STAND_INS[@]}"; do built "$dir" || missing+=("$dir"); done
if [ ${#missing[@]} -eq 0 ]; then
  tag_all
  echo "stand-ins: ${STAND_INS[*]} (cached, $hash)"
  exit 0
fi

started=$SECONDS
cache="$CACHE_DIR/$hash"
# Older hashes' roots and images are of no further use.
find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" -exec rm -rf {} +
podman images --format '{{.Repository}}:{{.Tag}}' | grep -E '^localhost/livecut-test-' | grep -v ":$hash\$" | xargs -r podman rmi --force >/dev/null || true
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ ! -s "$cache/rootfs.tar" ]; then
  echo "stand-ins: debootstrap --variant=minbase bookworm"
  debootstrap --variant=minbase bookworm "$work/rootfs" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$work/rootfs" -cf "$cache/rootfs.tar.part" .
  mv "$cache/rootfs.tar.part" "$cache/rootfs.tar"
fi
if [ ! -s "$cache/npm.tgz" ]; then
  (cd "$cache" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mv "npm-$NPM_VERSION.tgz" npm.tgz)
fi
podman import --quiet "$cache/rootfs.tar" "$ROOTFS_TAG:$hash" >/dev/null

for dir in "${missing[@]}"; do
  context="$work/$dir"
  cp -r "$here/$dir" "$context"
  if [ "$dir" = stand-in-node ]; then
    cp "$node_bin" "$context/node"
    cp "$cache/npm.tgz" "$context/npm.tgz"
    cp "$CA_BUNDLE" "$context/ca-certificates.crt"
  fi
  podman build --quiet --network=host --build-arg "ROOTFS_IMAGE=$ROOTFS_TAG:$hash" \
    --label "livecut.test-stand-in.hash=$hash" --tag "$(local_tag "$dir")" "$context" >/dev/null
done
tag_all
echo "stand-ins: built ${missing[*]} in $((SECONDS - started)) s ($hash)"

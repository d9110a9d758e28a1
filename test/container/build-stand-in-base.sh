#!/usr/bin/env bash
# Builds the TEST STAND-IN for docker.io/library/node:24-bookworm-slim (see stand-in-base/Containerfile)
# and tags it with that name, so that the project's Dockerfile builds unchanged with --pull=never.
# Once per machine: the image carries a content hash of everything it is made of, and a run
# whose hash is already built only re-tags it. The debootstrap root and the npm tarball are kept
# under $CACHE_DIR/<hash>/ so that a wiped podman store is rebuilt without the network.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="$here/containers.conf"

CACHE_DIR="${LIVECUT_TEST_BASE_CACHE:-/var/cache/livecut-test-base}"
BASE_TAG=docker.io/library/node:24-bookworm-slim
ROOTFS_TAG=localhost/livecut-test-bookworm-minbase
STAND_IN_TAG=localhost/livecut-test-node-base
NPM_VERSION=11.21.2
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
node_bin="$(readlink -f "$root/node_modules/.bin/node")"

for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "stand-in base: $tool is missing (apt-get install podman runc debootstrap)" >&2; exit 1; }
done
[ -x "$node_bin" ] || { echo "stand-in base: no pinned Node binary at $node_bin (run npm ci)" >&2; exit 1; }

hash="$(
  {
    cat "$here/stand-in-base/Containerfile" "$0"
    echo "npm $NPM_VERSION"
    sha256sum "$node_bin" "$CA_BUNDLE" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
)"

mkdir -p "$CACHE_DIR"
# Two runs on one machine build it once.
exec 9>"$CACHE_DIR/.lock"
flock 9

if [ "$(podman image inspect --format '{{ index .Labels "livecut.test-base.hash" }}' "$STAND_IN_TAG:$hash" 2>/dev/null)" = "$hash" ]; then
  podman tag "$STAND_IN_TAG:$hash" "$BASE_TAG"
  echo "stand-in base: $BASE_TAG = $STAND_IN_TAG:$hash (cached)"
  exit 0
fi

started=$SECONDS
cache="$CACHE_DIR/$hash"
# Older hashes' roots are of no further use.
find "$CACHE_DIR" -mindepth 1 -maxdepth 1 -type d ! -name "$hash" -exec rm -rf {} +
mkdir -p "$cache"
if [ ! -s "$cache/rootfs.tar" ]; then
  echo "stand-in base: debootstrap --variant=minbase bookworm"
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" >"$cache/debootstrap.log" 2>&1 ||
    { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
  tar -C "$rootfs" -cf "$cache/rootfs.tar.part" .
  mv "$cache/rootfs.tar.part" "$cache/rootfs.tar"
fi
if [ ! -s "$cache/npm.tgz" ]; then
  (cd "$cache" && npm pack --silent "npm@$NPM_VERSION" >/dev/null && mv "npm-$NPM_VERSION.tgz" npm.tgz)
fi

podman import --quiet "$cache/rootfs.tar" "$ROOTFS_TAG:$hash" >/dev/null
context="$(mktemp -d)"
trap 'rm -rf "$context" "${rootfs:-}"' EXIT
cp "$here/stand-in-base/Containerfile" "$context/"
ln "$node_bin" "$context/node" 2>/dev/null || cp "$node_bin" "$context/node"
cp "$cache/npm.tgz" "$context/npm.tgz"
cp "$CA_BUNDLE" "$context/ca-certificates.crt"
podman build --quiet --network=host --build-arg "ROOTFS_IMAGE=$ROOTFS_TAG:$hash" \
  --label "livecut.test-base.hash=$hash" --tag "$STAND_IN_TAG:$hash" "$context" >/dev/null
podman tag "$STAND_IN_TAG:$hash" "$BASE_TAG"
echo "stand-in base: built $BASE_TAG = $STAND_IN_TAG:$hash in $((SECONDS - started)) s"

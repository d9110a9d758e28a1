#!/usr/bin/env bash
# podman-compose 1.0.3 adds `--net <project>_default --network-alias <service>` even to a service
# with network_mode: host, which podman refuses; the compose network is dropped here.
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --net|--network-alias) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
exec podman "${args[@]}"

#!/usr/bin/env bash
# Tears down what up.sh started: host containers, the registry container, the lab
# network, and the docker engine when up.sh started it. Images, volumes (the hosts'
# image caches, registry data) and keys stay for the next run unless --purge.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

purge=0
case "${1:-}" in
  --purge) purge=1 ;;
  '') ;;
  *) lab_die "usage: down.sh [--purge]" ;;
esac

if docker info >/dev/null 2>&1; then
  t=$(lab_now_ms)
  ids=$(docker ps -aq --filter "label=$LAB_LABEL=1")
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null
  fi
  if [ "$(docker network inspect -f "{{ index .Labels \"$LAB_LABEL\" }}" "$LAB_NETWORK" 2>/dev/null || true)" = 1 ]; then
    docker network rm "$LAB_NETWORK" >/dev/null
  fi
  lab_step containers "$t" "removed: $(echo "$ids" | wc -w)"
  if [ "$purge" = 1 ]; then
    t=$(lab_now_ms)
    vols=$(docker volume ls -q --filter "label=$LAB_LABEL=1")
    # shellcheck disable=SC2086
    [ -z "$vols" ] || docker volume rm -f $vols >/dev/null
    imgs=$(docker image ls --format '{{.Repository}} {{.ID}}' |
      awk -v r="^(lab/(busybox|debian-root|host|registry|kamal-proxy)|$REGISTRY_SERVER/lab/)" '$1 ~ r {print $2}' | sort -u)
    # shellcheck disable=SC2086
    [ -z "$imgs" ] || docker rmi -f $imgs >/dev/null 2>&1 || true
    lab_step purge "$t" "volumes: $(echo "$vols" | wc -w), images: $(echo "$imgs" | wc -w)"
  fi
fi

pid_file=$LAB_DIR/dockerd.pid
if [ -f "$pid_file" ]; then
  pid=$(cat "$pid_file")
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q dockerd; then
    t=$(lab_now_ms)
    kill -TERM "$pid"
    lab_wait 60 0.2 "dockerd (pid $pid) to exit" sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    lab_step "docker engine" "$t" "stopped (pid $pid)"
  fi
  rm -f "$pid_file"
fi

if [ "$purge" = 1 ]; then
  if grep -q '# kamal-lab$' /etc/hosts; then
    grep -v '# kamal-lab$' /etc/hosts >"$LAB_DIR/hosts.tmp" && cat "$LAB_DIR/hosts.tmp" >/etc/hosts
  fi
  rm -rf "$LAB_DIR"
fi
rm -f "$LAB_DIR/lab.json" "$LAB_DIR/article.json"
if [ "$purge" = 1 ]; then lab_log "lab is down (purged)"; else lab_log "lab is down"; fi

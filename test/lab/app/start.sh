#!/bin/sh
# Lab test app: busybox httpd serving the version and a health check.
#   GET /          -> version string
#   GET /version   -> version string
#   GET /up        -> 200 "OK" (404 when FAIL_HEALTH=1)
#   GET /cgi-bin/slow?SECONDS -> waits, then the version (for drain tests)
# Env: PORT (80), VERSION, FAIL_HEALTH (0|1), BOOT_DELAY (seconds before listening).
set -eu
PORT=${PORT:-80}
VERSION=${VERSION:-dev}
FAIL_HEALTH=${FAIL_HEALTH:-0}
WWW=/srv/app
mkdir -p "$WWW"
printf '%s\n' "$VERSION" >"$WWW/index.html"
printf '%s\n' "$VERSION" >"$WWW/version"
if [ "$FAIL_HEALTH" = 1 ] || [ "$FAIL_HEALTH" = true ]; then
  rm -f "$WWW/up"
else
  printf 'OK\n' >"$WWW/up"
fi
if [ -n "${BOOT_DELAY:-}" ]; then sleep "$BOOT_DELAY"; fi
echo "app version=$VERSION port=$PORT fail_health=$FAIL_HEALTH host=$(hostname) starting"
httpd -f -vv -p "$PORT" -h "$WWW" &
pid=$!
trap 'echo "app stopping"; kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
wait "$pid"

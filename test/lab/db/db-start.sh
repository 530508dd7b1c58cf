#!/bin/sh
# Lab "db" accessory: reads a config file, records each boot in its data dir,
# and serves them over HTTP on DB_PORT:
#   GET /up      -> OK
#   GET /config  -> the config file it was given (plus files of /etc/db/conf.d)
#   GET /boots   -> one line per start (kept in DB_DATA/boots)
#   GET /env     -> DB_* and custom env, sorted
set -eu
PORT=${DB_PORT:-5432}
CONFIG=${DB_CONFIG:-/etc/db/db.conf}
DATA=${DB_DATA:-/var/lib/db}
WWW=/run/db-www
mkdir -p "$DATA" "$WWW"
echo "boot $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname)" >>"$DATA/boots"
: >"$WWW/config"
if [ -f "$CONFIG" ]; then cat "$CONFIG" >>"$WWW/config"; fi
if [ -d /etc/db/conf.d ]; then
  for f in /etc/db/conf.d/*; do [ -f "$f" ] && cat "$f" >>"$WWW/config"; done
fi
cp "$DATA/boots" "$WWW/boots"
env | sort >"$WWW/env"
echo OK >"$WWW/up"
echo "db starting port=$PORT config=$CONFIG data=$DATA boots=$(wc -l <"$DATA/boots")"
httpd -f -vv -p "$PORT" -h "$WWW" &
pid=$!
trap 'echo "db stopping"; kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
wait "$pid"

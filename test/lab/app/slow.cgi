#!/bin/sh
secs=${QUERY_STRING:-2}
case "$secs" in *[!0-9.]*|'') secs=2 ;; esac
sleep "$secs"
printf 'Content-Type: text/plain\r\n\r\n%s slept %s\n' "$VERSION" "$secs"

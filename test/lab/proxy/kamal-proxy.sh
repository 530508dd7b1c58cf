#!/bin/sh
exec /usr/bin/node /opt/kamal-proxy/kamal-proxy.mjs "$@"

#!/bin/bash
# MariaDB from Debian's packages, started the way the official mysql/mariadb images start:
# arguments that begin with '-' are options for mariadbd; on an empty data directory the
# server is initialised and root's password is set from MYSQL_ROOT_PASSWORD.
set -eu
if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
if [ "$1" = mariadbd ] || [ "$1" = mysqld ]; then
  datadir=/var/lib/mysql
  mkdir -p "$datadir" /run/mysqld
  chown -R mysql:mysql "$datadir" /run/mysqld
  if [ ! -d "$datadir/mysql" ]; then
    [ -n "${MYSQL_ROOT_PASSWORD:-}" ] || { echo "MYSQL_ROOT_PASSWORD is not set" >&2; exit 1; }
    echo "initialising $datadir"
    mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=normal >/dev/null
    mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    for _ in $(seq 1 100); do mariadb --socket=/run/mysqld/init.sock -uroot -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
    mariadb --socket=/run/mysqld/init.sock -uroot <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD//\'/\'\'}';
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD//\'/\'\'}';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
    kill "$pid"; wait "$pid" || true
  fi
  shift
  exec mariadbd --user=mysql --datadir="$datadir" --bind-address=0.0.0.0 "$@"
fi
exec "$@"

ARG BASE
FROM ${BASE}
RUN set -e; export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -q; \
    apt-get install -y -q --no-install-recommends mariadb-server mariadb-client; \
    rm -rf /var/lib/apt/lists/* /var/lib/mysql/*; \
    mkdir -p /run/mysqld /etc/mysql/conf.d; chown mysql:mysql /run/mysqld
COPY mariadb-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV MYSQL_ROOT_PASSWORD=
EXPOSE 3306
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["mariadbd"]

ARG BASE
FROM ${BASE}
RUN set -e; export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -q; \
    apt-get install -y -q --no-install-recommends cron busybox; \
    rm -rf /var/lib/apt/lists/*; \
    ln -s /bin/busybox /usr/local/bin/httpd; \
    sed -i "/pam_loginuid/s/^/#/" /etc/pam.d/cron
ARG VERSION=dev
ENV VERSION=$VERSION PORT=80 FAIL_HEALTH=0
WORKDIR /app
COPY start.sh /usr/local/bin/app-start
COPY slow.cgi /srv/app/cgi-bin/slow
COPY crontab /app/config/crontab
COPY job.sh /app/bin/job
EXPOSE 80
CMD ["/usr/local/bin/app-start"]

ARG BASE
FROM ${BASE}
RUN set -e; export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -q; \
    apt-get install -y -q --no-install-recommends rsyslog; \
    rm -rf /var/lib/apt/lists/*
COPY rsyslog.conf /etc/rsyslog.conf
EXPOSE 514 514/udp
CMD ["rsyslogd", "-n", "-f", "/etc/rsyslog.conf"]

#!/bin/sh
# The cron job: one line with the time and the app's environment it sees.
echo "cron-job ran at $(date -u +%H:%M:%S) VERSION=${VERSION:-} JOB_TOKEN=${JOB_TOKEN:-} ROLE_NAME=${ROLE_NAME:-}" | tee -a /tmp/cron.log

#!/bin/bash
# PID 1 of a lab host: installs the host key and authorized key given in /lab,
# starts sshd, then runs dockerd under a small supervisor so dockerd can be
# restarted (kill it) or held down (touch /run/lab/dockerd.hold) while sshd stays up.
set -u

rm -rf /run/docker /run/docker.pid /var/run/docker.pid /run/containerd /run/sshd.pid
mkdir -p /run/sshd /run/lab

install -m 600 /lab/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key
install -m 644 /lab/ssh_host_ed25519_key.pub /etc/ssh/ssh_host_ed25519_key.pub
for user in root deploy; do
  home=$(getent passwd "$user" | cut -d: -f6)
  mkdir -p "$home/.ssh"
  install -m 600 -o "$user" -g "$user" /lab/authorized_keys "$home/.ssh/authorized_keys"
  chown "$user:$user" "$home/.ssh"
  chmod 700 "$home/.ssh"
done

/usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log
echo "lab-host $(hostname): sshd started"

stopping=0
dockerd_pid=
on_term() {
  stopping=1
  if [ -n "$dockerd_pid" ]; then kill -TERM "$dockerd_pid" 2>/dev/null; fi
}
trap on_term TERM INT

while [ "$stopping" = 0 ]; do
  if [ -e /run/lab/dockerd.hold ]; then
    sleep 0.2
    continue
  fi
  rm -f /var/run/docker.pid
  dockerd --insecure-registry registry:5000 --host unix:///var/run/docker.sock &
  dockerd_pid=$!
  echo "$dockerd_pid" >/run/lab/dockerd.pid
  echo "lab-host $(hostname): dockerd started (pid $dockerd_pid)"
  # wait returns early when a trapped signal arrives; keep waiting until dockerd is gone
  while kill -0 "$dockerd_pid" 2>/dev/null; do
    wait "$dockerd_pid" 2>/dev/null
  done
  dockerd_pid=
  rm -f /run/lab/dockerd.pid
  echo "lab-host $(hostname): dockerd exited"
  [ "$stopping" = 0 ] && sleep 0.3
done
if [ -f /run/sshd.pid ]; then kill -TERM "$(cat /run/sshd.pid)" 2>/dev/null; fi
echo "lab-host $(hostname): stopped"

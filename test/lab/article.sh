#!/usr/bin/env bash
# The lab's additions for the article's cases (idempotent; run after up.sh):
#   registry:5000/lab/mariadb:10.11      MariaDB from Debian's packages, started like the official images
#   registry:5000/lab/article:v1, :v2    the lab app on the Debian root, with cron and the article's crontab
#   lab-syslog                           rsyslog receiving on lab-syslog:514 (tcp and udp), written to /var/log/remote.log
#   lab-host-userns (vm9, 127.0.0.10)    a lab host whose dockerd runs with userns-remap=default
# Writes $LAB_DIR/article.json and $LAB_DIR/ssh/known_hosts_article.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
[ -f "$LAB_DIR/lab.json" ] || lab_die "the lab is not up: run test/lab/up.sh first"
exec 9>"$LAB_DIR/article.lock"
flock -w 1800 9 || lab_die "another article.sh holds $LAB_DIR/article.lock"
LAB_T0=$(lab_now_ms)

DEBIAN_IMAGE=$(docker images --format '{{.Repository}}:{{.Tag}}' lab/debian-root | head -n 1)
[ -n "$DEBIAN_IMAGE" ] || lab_die "lab/debian-root is missing: run test/lab/up.sh first"
HOST_IMAGE=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).hostImage)' "$LAB_DIR/lab.json")
SRC=$LAB_SRC/article

# build_push IMAGE DOCKERFILE RECIPE [build args...]: builds from a context of article/ (plus the app's start.sh) unless pushed
build_push() {
  local image=$1 dockerfile=$2 recipe=$3; shift 3
  local repo=${image#"$REGISTRY_SERVER"/}; repo=${repo%:*}
  local tag=${image##*:}
  if [ "$(lab_image_label "$image" lab.recipe)" = "$recipe" ] && lab_registry_has "$image" "$repo" "$tag"; then
    echo cached; return 0
  fi
  local ctx; ctx=$(mktemp -d "$LAB_DIR/build/article.XXXXXX")
  cp -a "$SRC/." "$ctx/"
  cp "$LAB_SRC/app/start.sh" "$LAB_SRC/app/slow.cgi" "$ctx/"
  lab_docker_build -f "$ctx/$dockerfile" --build-arg "BASE=$DEBIAN_IMAGE" --label "lab.recipe=$recipe" "$@" -t "$image" "$ctx"
  rm -rf "$ctx"
  lab_push "$image"
  echo built
}

t=$(lab_now_ms)
MARIADB_IMAGE=$REGISTRY_SERVER/lab/mariadb:10.11
note=$(build_push "$MARIADB_IMAGE" mariadb.Dockerfile "$(lab_recipe_hash mariadb-v1 "$DEBIAN_IMAGE" "$SRC/mariadb.Dockerfile" "$SRC/mariadb-entrypoint.sh")")
lab_step "image lab/mariadb" "$t" "$note"

t=$(lab_now_ms)
notes=()
for v in v1 v2; do
  recipe=$(lab_recipe_hash article-app-v1 "$DEBIAN_IMAGE" "$SRC/app.Dockerfile" "$SRC/crontab" "$SRC/job.sh" "$LAB_SRC/app/start.sh" "$LAB_SRC/app/slow.cgi" "$v")
  notes+=("$v:$(build_push "$REGISTRY_SERVER/lab/article:$v" app.Dockerfile "$recipe" --label service=article --build-arg "VERSION=$v")")
done
lab_step "image lab/article" "$t" "${notes[*]}"

t=$(lab_now_ms)
SYSLOG_RECIPE=$(lab_recipe_hash rsyslog-v1 "$DEBIAN_IMAGE" "$SRC/rsyslog.Dockerfile" "$SRC/rsyslog.conf")
SYSLOG_IMAGE=lab/rsyslog:$SYSLOG_RECIPE
if ! lab_image_exists "$SYSLOG_IMAGE"; then
  ctx=$(mktemp -d "$LAB_DIR/build/rsyslog.XXXXXX")
  cp "$SRC/rsyslog.Dockerfile" "$SRC/rsyslog.conf" "$ctx/"
  lab_docker_build -f "$ctx/rsyslog.Dockerfile" --build-arg "BASE=$DEBIAN_IMAGE" -t "$SYSLOG_IMAGE" "$ctx"
  rm -rf "$ctx"
fi
spec=$(printf '%s\n' "$SYSLOG_IMAGE" | lab_sha)
cur=$(docker inspect -f '{{ index .Config.Labels "kamal-lab.spec" }} {{.State.Status}}' lab-syslog 2>/dev/null || true)
if [ "${cur%% *}" != "$spec" ]; then
  [ -z "$cur" ] || docker rm -f lab-syslog >/dev/null
  docker run -d --name lab-syslog --hostname lab-syslog --network "$LAB_NETWORK" --network-alias lab-syslog \
    --label "$LAB_LABEL=1" --label "kamal-lab.spec=$spec" "$SYSLOG_IMAGE" >/dev/null
elif [ "${cur#* }" != running ]; then
  docker start lab-syslog >/dev/null
fi
lab_wait 30 0.2 "lab-syslog listening on 514" docker exec lab-syslog bash -c 'exec 3<>/dev/tcp/127.0.0.1/514'
lab_step "syslog lab-syslog" "$t" "$SYSLOG_IMAGE"

# The userns-remapped host: the lab host image with a daemon.json, on 127.0.0.10
t=$(lab_now_ms)
hd=$LAB_DIR/hosts/vm9
mkdir -p "$hd"
[ -f "$hd/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C vm9 -f "$hd/ssh_host_ed25519_key"
cmp -s "$LAB_DIR/ssh/id_ed25519.pub" "$hd/authorized_keys" || cp "$LAB_DIR/ssh/id_ed25519.pub" "$hd/authorized_keys"
printf '{"userns-remap": "default"}\n' >"$LAB_DIR/hosts/vm9-daemon.json"
key=$(cut -d' ' -f1,2 "$hd/ssh_host_ed25519_key.pub")
{ cat "$LAB_DIR/ssh/known_hosts"; printf '127.0.0.10 %s\nvm9 %s\n' "$key" "$key"; } >"$LAB_DIR/ssh/known_hosts_article.tmp"
mv "$LAB_DIR/ssh/known_hosts_article.tmp" "$LAB_DIR/ssh/known_hosts_article"
# the spec names the lab folder and the host key it mounts: another lab's vm9 is not this one
spec=$(printf '%s\n' "$HOST_IMAGE" userns-v1 "$hd" "$key" | lab_sha)
cur=$(docker inspect -f '{{ index .Config.Labels "kamal-lab.spec" }} {{.State.Status}}' lab-host-userns 2>/dev/null || true)
# A running vm9 of this spec is kept; otherwise vm9 starts over on an empty /var/lib/docker:
# its dockerd would restart whatever containers an earlier run left (a mariadb, a proxy, apps
# with restart policies) in the remapped namespace, and nothing here is worth that wait.
vm9_note=kept
if [ "$cur" != "$spec running" ]; then
  [ -z "$cur" ] || docker rm -f lab-host-userns >/dev/null
  docker volume rm -f lab-host-userns-docker >/dev/null 2>&1 || true
  docker volume create --label "$LAB_LABEL=1" lab-host-userns-docker >/dev/null
  docker run -d --name lab-host-userns --hostname vm9 --network "$LAB_NETWORK" --network-alias vm9 \
    --label "$LAB_LABEL=1" --label "kamal-lab.spec=$spec" \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --security-opt systempaths=unconfined --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    -v lab-host-userns-docker:/var/lib/docker \
    -v "$hd:/lab:ro" -v "$LAB_DIR/hosts/vm9-daemon.json:/etc/docker/daemon.json:ro" \
    -p 127.0.0.10:22:22 -p 127.0.0.10:80:80 -p 127.0.0.10:443:443 \
    "$HOST_IMAGE" >/dev/null
  vm9_note=created
fi
SSH_OPTS=(-F /dev/null -i "$LAB_DIR/ssh/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$LAB_DIR/ssh/known_hosts_article"
  -o ConnectTimeout=3 -o LogLevel=ERROR)
userns_ready() {
  ssh "${SSH_OPTS[@]}" root@127.0.0.10 "docker info --format '{{.SecurityOptions}}'" </dev/null 2>/dev/null | grep -q userns
}
userns_diagnose() {
  echo "--- ssh root@127.0.0.10 docker info:" >&2
  ssh "${SSH_OPTS[@]}" root@127.0.0.10 "docker info --format '{{.SecurityOptions}}'" </dev/null >&2 2>&1 || true
  echo "--- lab-host-userns supervisor lines:" >&2
  docker logs lab-host-userns 2>&1 | grep '^lab-host' | tail -n 10 >&2 || true
  echo "--- lab-host-userns last lines:" >&2
  docker logs --tail 30 lab-host-userns >&2 2>&1 || true
}
lab_wait 120 0.2 "vm9: ssh root@127.0.0.10 docker info (userns)" userns_ready || { userns_diagnose; exit 1; }
lab_step "host vm9 (127.0.0.10)" "$t" "$vm9_note, userns-remap=default"

MARIADB_IMAGE=$MARIADB_IMAGE node -e '
const fs = require("fs"), dir = process.argv[1];
const info = {
  mariadbImage: process.env.MARIADB_IMAGE,
  appRepo: "registry:5000/lab/article",
  appVersions: ["v1", "v2"],
  syslog: { container: "lab-syslog", address: "tcp://lab-syslog:514", file: "/var/log/remote.log" },
  usernsHost: { name: "vm9", container: "lab-host-userns", ip: "127.0.0.10", port: 22, internalName: "vm9" },
  knownHosts: `${dir}/ssh/known_hosts_article`,
};
fs.writeFileSync(`${dir}/article.json`, JSON.stringify(info, null, 2) + "\n");
' "$LAB_DIR"
lab_step "article lab ready" "$LAB_T0" "$LAB_DIR/article.json"

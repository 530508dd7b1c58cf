#!/usr/bin/env bash
# Brings the end-to-end lab up (idempotent) and waits until every part answers.
#   LAB_DIR    state folder (default: <repo>/.lab)
#   LAB_HOSTS  number of hosts, 1..8 (default 3)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

LAB_HOSTS=${LAB_HOSTS:-3}
case "$LAB_HOSTS" in [1-8]) ;; *) lab_die "LAB_HOSTS must be 1..8 (got '$LAB_HOSTS')" ;; esac

mkdir -p "$LAB_DIR" "$LAB_DIR/build"
exec 9>"$LAB_DIR/up.lock"
flock -w 1800 9 || lab_die "another up.sh holds $LAB_DIR/up.lock"

# ---------------------------------------------------------------- packages
t=$(lab_now_ms)
PACKAGES=(docker.io openssh-server openssh-client docker-registry apache2-utils debootstrap busybox-static iproute2 curl openssl util-linux)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  lab_log "installing: ${missing[*]}"
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # keep package scripts from starting the machine's own sshd/dockerd
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$LAB_DIR/apt.log" 2>&1; then
    apt-get update -q >>"$LAB_DIR/apt.log" 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LAB_DIR/apt.log" 2>&1 ||
      { tail -n 30 "$LAB_DIR/apt.log" >&2; lab_die "apt-get install failed"; }
  fi
  if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
lab_step packages "$t" "${missing[*]:-all present}"

# ---------------------------------------------------------------- outer docker engine
t=$(lab_now_ms)
DOCKERD_PID_FILE=$LAB_DIR/dockerd.pid
lab_started_dockerd() {
  [ -f "$DOCKERD_PID_FILE" ] || return 1
  local pid; pid=$(cat "$DOCKERD_PID_FILE")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q dockerd
}
if lab_started_dockerd || ! docker info >/dev/null 2>&1; then
  if ! lab_started_dockerd; then
    rm -f "$DOCKERD_PID_FILE"
    if ! docker info >/dev/null 2>&1; then
      command -v dockerd >/dev/null || lab_die "dockerd not found"
      setsid dockerd >>"$LAB_DIR/dockerd.log" 2>&1 </dev/null 9>&- &
      echo $! >"$DOCKERD_PID_FILE"
      engine_note="started (pid $(cat "$DOCKERD_PID_FILE"), log $LAB_DIR/dockerd.log)"
    fi
  else
    engine_note="running (started by the lab, pid $(cat "$DOCKERD_PID_FILE"))"
  fi
  lab_wait 60 0.2 "docker engine" docker info || { tail -n 20 "$LAB_DIR/dockerd.log" >&2; exit 1; }
else
  engine_note="already running (not managed by the lab)"
fi
lab_step "docker engine" "$t" "${engine_note:-}"
STARTED_DOCKERD=false
lab_started_dockerd && STARTED_DOCKERD=true

# ---------------------------------------------------------------- names and keys
t=$(lab_now_ms)
if ! grep -qE '^127\.0\.0\.1[[:space:]]+registry([[:space:]]|$)' /etc/hosts; then
  echo '127.0.0.1 registry # kamal-lab' >>/etc/hosts
fi

mkdir -p "$LAB_DIR/ssh" "$LAB_DIR/registry" "$LAB_DIR/hosts"
chmod 700 "$LAB_DIR/ssh"
if [ ! -f "$LAB_DIR/ssh/id_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C kamal-lab -f "$LAB_DIR/ssh/id_ed25519"
fi
if [ ! -s "$LAB_DIR/registry/password" ]; then
  (umask 077; openssl rand -hex 16 >"$LAB_DIR/registry/password")
fi
if [ ! -s "$LAB_DIR/registry/htpasswd" ] ||
   ! htpasswd -vb "$LAB_DIR/registry/htpasswd" "$REGISTRY_USER" "$(lab_registry_password)" >/dev/null 2>&1; then
  htpasswd -Bbn "$REGISTRY_USER" "$(lab_registry_password)" >"$LAB_DIR/registry/htpasswd"
fi

known=""
for i in $(seq 1 8); do
  hd=$LAB_DIR/hosts/vm$i
  mkdir -p "$hd"
  if [ ! -f "$hd/ssh_host_ed25519_key" ]; then
    ssh-keygen -q -t ed25519 -N '' -C "vm$i" -f "$hd/ssh_host_ed25519_key"
  fi
  cmp -s "$LAB_DIR/ssh/id_ed25519.pub" "$hd/authorized_keys" || cp "$LAB_DIR/ssh/id_ed25519.pub" "$hd/authorized_keys"
done
for i in $(seq 1 "$LAB_HOSTS"); do
  key=$(cut -d' ' -f1,2 "$LAB_DIR/hosts/vm$i/ssh_host_ed25519_key.pub")
  known+="127.0.0.$((1 + i)) $key"$'\n'
done
for i in $(seq 1 "$LAB_HOSTS"); do
  key=$(cut -d' ' -f1,2 "$LAB_DIR/hosts/vm$i/ssh_host_ed25519_key.pub")
  known+="vm$i $key"$'\n'
done
if [ "$known" != "$(cat "$LAB_DIR/ssh/known_hosts" 2>/dev/null)"$'\n' ] || [ ! -s "$LAB_DIR/ssh/known_hosts_hashed" ]; then
  printf '%s' "$known" >"$LAB_DIR/ssh/known_hosts"
  printf '%s' "$known" >"$LAB_DIR/ssh/known_hosts_hashed"
  ssh-keygen -q -H -f "$LAB_DIR/ssh/known_hosts_hashed" >/dev/null 2>&1
  rm -f "$LAB_DIR/ssh/known_hosts_hashed.old"
fi
lab_step "keys and names" "$t"

# ---------------------------------------------------------------- images
t=$(lab_now_ms)
lab_ensure_busybox_image
lab_step "image lab/busybox" "$t" "$(docker image inspect -f '{{.Size}}' "$BUSYBOX_IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"

# Debian root for the hosts
t=$(lab_now_ms)
DEBIAN_HASH=$(lab_recipe_hash "debian-root-v1" "$DEBIAN_SUITE" "$DEBIAN_INCLUDE")
DEBIAN_IMAGE=lab/debian-root:$DEBIAN_HASH
if ! lab_image_exists "$DEBIAN_IMAGE"; then
  mirror=${LAB_DEBIAN_MIRROR:-}
  if [ -z "$mirror" ]; then
    mirror=$(awk '/^URIs:/{print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
  fi
  if [ -z "$mirror" ]; then
    mirror=$(awk '$1=="deb" && $0 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  rootfs=$LAB_DIR/build/debian-root
  rm -rf "$rootfs"
  lab_log "debootstrap $DEBIAN_SUITE from $mirror (takes a few minutes)"
  if ! debootstrap --variant=minbase --include="$DEBIAN_INCLUDE" "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$LAB_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$LAB_DIR/debootstrap.log" >&2
    lab_die "debootstrap failed (log: $LAB_DIR/debootstrap.log)"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
lab_step "image lab/debian-root" "$t" "$(docker image inspect -f '{{.Size}}' "$DEBIAN_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# Host image: the Debian root plus users, sshd config and the start script
t=$(lab_now_ms)
# The hosts' docker client: this machine's own when it is a static binary other than Debian's
# (the current Docker CE client, as on servers set up from Docker's packages, which starts in
# half the time of Debian's 20.10 client), else Debian's docker.io from the root.
HOST_CLI=$(readlink -f "$(command -v docker)")
if [ "$HOST_CLI" = "$(readlink -f /usr/bin/docker)" ] || ! { ldd "$HOST_CLI" 2>&1 || true; } | grep -q 'not a dynamic executable'; then
  HOST_CLI=
fi
HOST_CLI_SUM=$([ -n "$HOST_CLI" ] && sha256sum "$HOST_CLI" | cut -c1-64 || echo debian)
HOST_HASH=$(lab_recipe_hash "host-v2" "$DEBIAN_HASH" "$HOST_CLI_SUM" "$LAB_SRC/host/Dockerfile" "$LAB_SRC/host/sshd_config" "$LAB_SRC/host/start.sh")
HOST_IMAGE=lab/host:$HOST_HASH
if ! lab_image_exists "$HOST_IMAGE"; then
  ctx=$(mktemp -d "$LAB_DIR/build/host.XXXXXX")
  cp "$LAB_SRC/host/Dockerfile" "$LAB_SRC/host/sshd_config" "$LAB_SRC/host/start.sh" "$ctx/"
  mkdir -p "$ctx/cli"
  [ -z "$HOST_CLI" ] || cp "$HOST_CLI" "$ctx/cli/docker"
  lab_docker_build --build-arg "BASE=$DEBIAN_IMAGE" -t "$HOST_IMAGE" "$ctx"
  rm -rf "$ctx"
fi
lab_step "image lab/host" "$t" "$HOST_IMAGE (docker client: ${HOST_CLI:-Debian docker.io})"

# registry_image CONFIG IMAGE: a busybox root with Debian's docker-registry serving CONFIG
registry_image() {
  local dir
  dir=$(mktemp -d "$LAB_DIR/build/registry.XXXXXX")
  lab_busybox_root "$dir"
  lab_copy_bin_with_libs /usr/bin/docker-registry "$dir"
  mkdir -p "$dir/etc/docker/registry" "$dir/var/lib/registry" "$dir/auth"
  cp "$1" "$dir/etc/docker/registry/config.yml"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'EXPOSE 5000' \
    -c 'CMD ["/usr/bin/docker-registry","serve","/etc/docker/registry/config.yml"]' - "$2" >/dev/null
  rm -rf "$dir"
}

# Registry image: busybox root plus Debian's docker-registry
t=$(lab_now_ms)
REGISTRY_HASH=$(lab_recipe_hash "registry-v1" "$(sha256sum /usr/bin/docker-registry | cut -c1-64)" "$LAB_SRC/registry/config.yml" "$(lab_busybox_recipe)")
REGISTRY_IMAGE=lab/registry:$REGISTRY_HASH
lab_image_exists "$REGISTRY_IMAGE" || registry_image "$LAB_SRC/registry/config.yml" "$REGISTRY_IMAGE"
lab_step "image lab/registry" "$t" "$REGISTRY_IMAGE"

# Stand-in for `registry:3`, the image Kamal runs as kamal-docker-registry for a local registry
# (registry.server: localhost:PORT). Tagged only where no other registry:3 exists.
t=$(lab_now_ms)
OPEN_REGISTRY_HASH=$(lab_recipe_hash "registry-open-v1" "$(sha256sum /usr/bin/docker-registry | cut -c1-64)" "$LAB_SRC/registry/open.yml" "$(lab_busybox_recipe)")
OPEN_REGISTRY_IMAGE=lab/registry-open:$OPEN_REGISTRY_HASH
lab_image_exists "$OPEN_REGISTRY_IMAGE" || registry_image "$LAB_SRC/registry/open.yml" "$OPEN_REGISTRY_IMAGE"
open_note="registry:3 is this image"
if ! lab_image_exists registry:3; then
  docker tag "$OPEN_REGISTRY_IMAGE" registry:3
elif [ "$(docker image inspect -f '{{.Id}}' registry:3)" != "$(docker image inspect -f '{{.Id}}' "$OPEN_REGISTRY_IMAGE")" ]; then
  # an older stand-in of ours (it carries a lab/registry-open tag) moves to this one; any other is left as is
  if docker image inspect -f '{{join .RepoTags " "}}' registry:3 | grep -q 'lab/registry-open:'; then
    docker tag "$OPEN_REGISTRY_IMAGE" registry:3
  else
    open_note="registry:3 exists and is not ours: left as is"
  fi
fi
lab_step "image registry:3" "$t" "$open_note"

# kamal-proxy stand-in: busybox root, the machine's node binary and kamal-proxy.mjs
t=$(lab_now_ms)
NODE_BIN=$(readlink -f "$(command -v node)")
PROXY_HASH=$(lab_recipe_hash "proxy-v1" "$(node --version)" "$(stat -c %s "$NODE_BIN")" "$LAB_SRC/proxy/kamal-proxy.mjs" "$LAB_SRC/proxy/kamal-proxy.sh" "$(lab_busybox_recipe)")
PROXY_LOCAL=lab/kamal-proxy:$PROXY_HASH
PROXY_IMAGE=$REGISTRY_SERVER/$PROXY_REPO:$PROXY_VERSION
if ! lab_image_exists "$PROXY_LOCAL"; then
  dir=$(mktemp -d "$LAB_DIR/build/proxy.XXXXXX")
  lab_busybox_root "$dir"
  lab_copy_bin_with_libs "$NODE_BIN" "$dir"
  if [ "$NODE_BIN" != /usr/bin/node ]; then ln -sf "$NODE_BIN" "$dir/usr/bin/node"; fi
  mkdir -p "$dir/opt/kamal-proxy" "$dir/usr/local/bin" "$dir/home/kamal-proxy/.config/kamal-proxy" "$dir/home/kamal-proxy/.apps-config"
  cp "$LAB_SRC/proxy/kamal-proxy.mjs" "$dir/opt/kamal-proxy/kamal-proxy.mjs"
  install -m 755 "$LAB_SRC/proxy/kamal-proxy.sh" "$dir/usr/local/bin/kamal-proxy"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj /CN=kamal-proxy-lab -keyout "$dir/opt/kamal-proxy/default.key" -out "$dir/opt/kamal-proxy/default.crt" >/dev/null 2>&1
  printf 'kamal-proxy:x:1000:1000::/home/kamal-proxy:/bin/sh\n' >>"$dir/etc/passwd"
  printf 'kamal-proxy:x:1000:\n' >>"$dir/etc/group"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV HOME=/home/kamal-proxy' \
    -c 'WORKDIR /home/kamal-proxy' \
    -c 'LABEL org.opencontainers.image.title=kamal-proxy' \
    -c "LABEL lab.recipe=$PROXY_HASH" \
    -c 'EXPOSE 80 443' \
    -c 'CMD ["kamal-proxy","run"]' - "$PROXY_LOCAL" >/dev/null
  rm -rf "$dir"
fi
lab_step "image lab/kamal-proxy" "$t" "$(docker image inspect -f '{{.Size}}' "$PROXY_LOCAL" | awk '{printf "%.0f MB", $1/1e6}')"

# ---------------------------------------------------------------- network and registry
# lab_ensure_container NAME -- docker run args...: keeps a matching container, else recreates it.
lab_ensure_container() {
  local name=$1; shift; [ "$1" = -- ] && shift
  local spec; spec=$(printf '%s\n' "$@" | lab_sha)
  local cur state
  cur=$(docker inspect -f '{{ index .Config.Labels "kamal-lab.spec" }} {{.State.Status}}' "$name" 2>/dev/null || true)
  state=${cur#* }
  if [ -n "$cur" ] && [ "${cur%% *}" = "$spec" ]; then
    if [ "$state" != running ]; then docker start "$name" >/dev/null; echo started; else echo running; fi
    return 0
  fi
  if [ -n "$cur" ]; then docker rm -f "$name" >/dev/null; fi
  docker run -d --name "$name" --label "$LAB_LABEL=1" --label "kamal-lab.spec=$spec" "$@" >/dev/null
  echo created
}

lab_check_port_free() {
  # fails when something other than docker publishes ADDR:PORT
  local addr=$1 port=$2
  local line; line=$(ss -Hltnp "sport = :$port" 2>/dev/null | awk -v a="$addr" -v p="$port" '$4==a":"p || $4=="0.0.0.0:"p || $4=="*:"p || $4=="[::]:"p' | head -n 1)
  if [ -n "$line" ] && ! grep -q docker-proxy <<<"$line"; then
    lab_die "$addr:$port is taken by another program: $line"
  fi
}

t=$(lab_now_ms)
docker network inspect "$LAB_NETWORK" >/dev/null 2>&1 ||
  docker network create --label "$LAB_LABEL=1" "$LAB_NETWORK" >/dev/null
docker volume inspect lab-registry-data >/dev/null 2>&1 ||
  docker volume create --label "$LAB_LABEL=1" lab-registry-data >/dev/null
reg_state=$(docker inspect -f '{{ index .Config.Labels "kamal-lab.spec" }}' "$REGISTRY_NAME" 2>/dev/null || true)
[ -n "$reg_state" ] || lab_check_port_free 127.0.0.1 5000
reg_note=$(lab_ensure_container "$REGISTRY_NAME" -- \
  --network "$LAB_NETWORK" --network-alias registry \
  -p 127.0.0.1:5000:5000 \
  -v lab-registry-data:/var/lib/registry \
  -v "$LAB_DIR/registry/htpasswd:/auth/htpasswd:ro" \
  --label "kamal-lab.auth=$(lab_sha <"$LAB_DIR/registry/htpasswd")" \
  "$REGISTRY_IMAGE")

# ---------------------------------------------------------------- hosts (started now, checked later)
t_hosts=$(lab_now_ms)
for i in $(seq 1 8); do
  name=lab-host-$i
  if ((i > LAB_HOSTS)); then
    if docker inspect "$name" >/dev/null 2>&1; then docker rm -f "$name" >/dev/null; fi
    continue
  fi
  ip=127.0.0.$((1 + i))
  if ! docker inspect "$name" >/dev/null 2>&1; then
    for port in 22 80 443; do lab_check_port_free "$ip" "$port"; done
  fi
  docker volume inspect "lab-host-$i-docker" >/dev/null 2>&1 ||
    docker volume create --label "$LAB_LABEL=1" "lab-host-$i-docker" >/dev/null
  note=$(lab_ensure_container "$name" -- \
    --hostname "vm$i" --network "$LAB_NETWORK" --network-alias "vm$i" \
    --cap-add ALL --cap-drop SYS_RESOURCE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --security-opt systempaths=unconfined --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    -v "lab-host-$i-docker:/var/lib/docker" \
    -v "$LAB_DIR/hosts/vm$i:/lab:ro" \
    -p "$ip:22:22" -p "$ip:80:80" -p "$ip:443:443" \
    "$HOST_IMAGE")
  host_notes+="vm$i:$note "
done

# ---------------------------------------------------------------- registry readiness
lab_wait 60 0.2 "registry /v2/ (401 without auth, 200 with auth)" lab_registry_ready || {
  docker logs --tail 20 "$REGISTRY_NAME" >&2; exit 1; }
lab_step registry "$t" "$reg_note; /v2/ 401 unauth, 200 auth"

# ---------------------------------------------------------------- images in the registry
t=$(lab_now_ms)
lab_docker_login
pushed=()
if ! lab_registry_has "$PROXY_LOCAL" "$PROXY_REPO" "$PROXY_VERSION"; then
  docker tag "$PROXY_LOCAL" "$PROXY_IMAGE"
  lab_push "$PROXY_IMAGE"
  pushed+=(kamal-proxy)
fi
docker tag "$PROXY_LOCAL" "$PROXY_IMAGE"
lab_step "push lab/kamal-proxy" "$t" "${pushed[*]:-cached}"

t=$(lab_now_ms)
lab_build_app v1 0
lab_build_app v2 0
lab_build_app bad 1
lab_step "push lab/app" "$t" "v1 v2 bad"

t=$(lab_now_ms)
DB_IMAGE=$REGISTRY_SERVER/lab/db:$DB_IMAGE_TAG
DB_HASH=$(lab_recipe_hash "db-v1" "$LAB_SRC/db/Dockerfile" "$LAB_SRC/db/db-start.sh" "$(lab_busybox_recipe)")
if ! { [ "$(lab_image_label "$DB_IMAGE" lab.recipe)" = "$DB_HASH" ] && lab_registry_has "$DB_IMAGE" lab/db "$DB_IMAGE_TAG"; }; then
  lab_docker_build -t "$DB_IMAGE" --label "lab.recipe=$DB_HASH" "$LAB_SRC/db"
  lab_push "$DB_IMAGE"
fi
lab_step "push lab/db" "$t"

# ---------------------------------------------------------------- host readiness
SSH_OPTS=(-F /dev/null -i "$LAB_DIR/ssh/id_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
  -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$LAB_DIR/ssh/known_hosts"
  -o ConnectTimeout=3 -o LogLevel=ERROR)
lab_host_ready() {
  local ip=$1 user
  for user in root deploy; do
    ssh "${SSH_OPTS[@]}" "$user@$ip" "docker info --format '{{.ServerVersion}}'" >/dev/null 2>&1 </dev/null || return 1
  done
}
pids=()
for i in $(seq 1 "$LAB_HOSTS"); do
  ( lab_wait 90 0.2 "vm$i: ssh root@/deploy@127.0.0.$((1 + i)) docker info" lab_host_ready "127.0.0.$((1 + i))" ||
      { docker logs --tail 20 "lab-host-$i" >&2; exit 1; }
    lab_step "host vm$i (127.0.0.$((1 + i)))" "$t_hosts" "ssh root+deploy, docker info" ) &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || lab_die "some hosts did not become ready"
lab_step hosts "$t_hosts" "${host_notes:-}"

# ---------------------------------------------------------------- lab.json
LAB_HOSTS=$LAB_HOSTS LAB_DIR=$LAB_DIR STARTED_DOCKERD=$STARTED_DOCKERD REGISTRY_SERVER=$REGISTRY_SERVER \
REGISTRY_USER=$REGISTRY_USER REGISTRY_PASSWORD=$(lab_registry_password) PROXY_REPO=$PROXY_REPO \
PROXY_VERSION=$PROXY_VERSION APP_REPO=$REGISTRY_SERVER/$APP_REPO APP_CONTEXT=$LAB_SRC/app \
DB_IMAGE=$DB_IMAGE HOST_IMAGE=$HOST_IMAGE LAB_SRC=$LAB_SRC BUSYBOX_IMAGE=$BUSYBOX_IMAGE node -e '
const e = process.env, n = Number(e.LAB_HOSTS), dir = e.LAB_DIR;
const hosts = Array.from({ length: n }, (_, k) => ({
  name: `vm${k + 1}`, container: `lab-host-${k + 1}`, ip: `127.0.0.${k + 2}`, port: 22, internalName: `vm${k + 1}`,
}));
const fs = require("fs"), path = require("path"), crypto = require("crypto");
const src = e.LAB_SRC;
const files = [];
const walk = (d) => { for (const f of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, f.name); if (f.isDirectory()) walk(p); else if (f.isFile() && !f.name.endsWith(".ts")) files.push(path.relative(src, p)); } };
walk(src);
files.sort();
const h = crypto.createHash("sha256");
for (const f of files) { h.update(f + "\0"); h.update(fs.readFileSync(path.join(src, f))); h.update("\0"); }
const lab = {
  version: 1,
  sourceHash: h.digest("hex").slice(0, 16),
  labDir: dir,
  hosts,
  network: "lab",
  registry: { server: e.REGISTRY_SERVER, username: e.REGISTRY_USER, password: e.REGISTRY_PASSWORD, container: "registry", url: "http://127.0.0.1:5000" },
  ssh: { key: `${dir}/ssh/id_ed25519`, publicKey: `${dir}/ssh/id_ed25519.pub`, knownHosts: `${dir}/ssh/known_hosts`, knownHostsHashed: `${dir}/ssh/known_hosts_hashed`, users: ["root", "deploy"] },
  proxyImage: { registry: e.REGISTRY_SERVER, repository: e.PROXY_REPO, version: e.PROXY_VERSION, image: `${e.REGISTRY_SERVER}/${e.PROXY_REPO}:${e.PROXY_VERSION}` },
  appRepo: e.APP_REPO,
  appContext: e.APP_CONTEXT,
  appVersions: { healthy: ["v1", "v2"], failing: "bad" },
  dbImage: e.DB_IMAGE,
  baseImage: e.BUSYBOX_IMAGE,
  hostImage: e.HOST_IMAGE,
  startedDockerd: e.STARTED_DOCKERD === "true",
  updatedAt: new Date().toISOString(),
};
fs.writeFileSync(`${dir}/lab.json.tmp`, JSON.stringify(lab, null, 2) + "\n");
fs.renameSync(`${dir}/lab.json.tmp`, `${dir}/lab.json`);
'
lab_step "lab ready" "$LAB_T0" "$LAB_DIR/lab.json ($LAB_HOSTS hosts)"

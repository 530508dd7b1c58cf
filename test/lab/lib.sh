# Shared helpers for the lab scripts (sourced by up.sh, down.sh, build-app.sh).
# shellcheck shell=bash

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=$(cd "$LAB_SRC/../.." && pwd)
LAB_DIR=${LAB_DIR:-$LAB_ROOT/.lab}
LAB_NETWORK=lab
LAB_LABEL=kamal-lab
REGISTRY_NAME=registry
REGISTRY_SERVER=registry:5000
REGISTRY_USER=lab
PROXY_REPO=lab/kamal-proxy
PROXY_VERSION=v0.9.2
APP_REPO=lab/app
DB_IMAGE_TAG=1
BUSYBOX_IMAGE=lab/busybox:latest
DEBIAN_SUITE=bookworm
DEBIAN_INCLUDE=docker.io,openssh-server,openssh-client,iptables,ca-certificates,curl,socat,procps,iproute2,less

# The legacy builder works with every docker client on these machines; BuildKit needs buildx.
export DOCKER_BUILDKIT=0
# Keep the lab's registry login out of the user's own docker config.
export LAB_DOCKER_CONFIG=$LAB_DIR/docker-config

lab_now_ms() { date +%s%3N; }

LAB_T0=$(lab_now_ms)
lab_log() { printf '[lab] %s\n' "$*" >&2; }
lab_die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# lab_step NAME START_MS [DETAIL]: one line per component with its duration.
lab_step() {
  local name=$1 start=$2 detail=${3:-}
  local end; end=$(lab_now_ms)
  printf '[lab] %-26s %6.1fs  %s\n' "$name" "$(awk "BEGIN{print ($end-$start)/1000}")" "$detail" >&2
}

lab_sha() { sha256sum | cut -c1-16; }

# Hash of the listed files' contents plus extra strings (used as image recipe tags).
lab_recipe_hash() {
  local f
  {
    for f in "$@"; do
      if [ -f "$f" ]; then printf 'file %s\n' "$(basename "$f")"; cat "$f"; else printf 'str %s\n' "$f"; fi
    done
  } | lab_sha
}

lab_image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

lab_image_label() {
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

lab_registry_password() { cat "$LAB_DIR/registry/password"; }

# Poll a command until it succeeds: lab_wait SECONDS INTERVAL DESCRIPTION CMD...
lab_wait() {
  local timeout=$1 interval=$2 what=$3; shift 3
  local deadline=$(( $(lab_now_ms) + timeout * 1000 ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if (( $(lab_now_ms) > deadline )); then
      lab_log "timed out after ${timeout}s waiting for: $what"
      return 1
    fi
    sleep "$interval"
  done
}

lab_registry_status() {
  # prints the HTTP status of GET /v2/ (with auth when $1 = auth)
  local auth=()
  if [ "${1:-}" = auth ]; then auth=(-u "$REGISTRY_USER:$(lab_registry_password)"); fi
  curl -s -o /dev/null -w '%{http_code}' --max-time 3 "${auth[@]}" http://127.0.0.1:5000/v2/ 2>/dev/null || true
}

lab_registry_ready() {
  [ "$(lab_registry_status)" = 401 ] && [ "$(lab_registry_status auth)" = 200 ]
}

lab_docker_login() {
  mkdir -p "$LAB_DOCKER_CONFIG"
  if ! grep -q "$REGISTRY_SERVER" "$LAB_DOCKER_CONFIG/config.json" 2>/dev/null; then
    lab_registry_password | DOCKER_CONFIG=$LAB_DOCKER_CONFIG docker login "$REGISTRY_SERVER" -u "$REGISTRY_USER" --password-stdin >/dev/null 2>&1
  fi
}

# Digest the registry holds for REPO:TAG (empty when absent).
lab_registry_digest() {
  local repo=$1 tag=$2
  curl -s -I --max-time 5 -u "$REGISTRY_USER:$(lab_registry_password)" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:5000/v2/$repo/manifests/$tag" 2>/dev/null |
    tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

# True when the registry's REPO:TAG is the local image IMAGE (same digest).
lab_registry_has() {
  local image=$1 repo=$2 tag=$3 digest
  digest=$(lab_registry_digest "$repo" "$tag")
  [ -n "$digest" ] || return 1
  docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$image" 2>/dev/null |
    grep -qx "$REGISTRY_SERVER/$repo@$digest"
}

# docker build (legacy builder), quiet unless it fails
lab_docker_build() {
  local out
  if ! out=$(docker build "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

lab_push() {
  lab_docker_login
  local out
  if ! out=$(DOCKER_CONFIG=$LAB_DOCKER_CONFIG docker push "$1" 2>&1); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

# Copy a binary and the shared libraries it loads into DEST (a root folder).
lab_copy_bin_with_libs() {
  local bin=$1 dest=$2 lib
  mkdir -p "$dest$(dirname "$bin")"
  cp -L "$bin" "$dest$bin"
  for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\s*\/[^ ]+ \(/{print $1}'); do
    mkdir -p "$dest$(dirname "$lib")"
    cp -L "$lib" "$dest$lib"
  done
  # The loader is looked up by its canonical path.
  if [ -e /lib64/ld-linux-x86-64.so.2 ] && [ ! -e "$dest/lib64/ld-linux-x86-64.so.2" ]; then
    mkdir -p "$dest/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$dest/lib64/"
  fi
}

# A minimal root folder: busybox with its applets, passwd/group, tmp.
lab_busybox_root() {
  local dest=$1 applet
  mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin" "$dest/etc" "$dest/tmp" "$dest/root" "$dest/var/tmp" "$dest/proc" "$dest/sys" "$dest/dev"
  chmod 1777 "$dest/tmp" "$dest/var/tmp"
  cp -L /bin/busybox "$dest/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dest/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dest/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dest/etc/group"
  printf 'hosts: files dns\n' >"$dest/etc/nsswitch.conf"
}

lab_busybox_recipe() {
  lab_recipe_hash "busybox-root-v1" "$(sha256sum /bin/busybox | cut -c1-64)"
}

lab_ensure_busybox_image() {
  local hash; hash=$(lab_busybox_recipe)
  if lab_image_exists "lab/busybox:$hash"; then
    lab_image_exists "$BUSYBOX_IMAGE" || docker tag "lab/busybox:$hash" "$BUSYBOX_IMAGE"
    [ "$(docker image inspect -f '{{.Id}}' "lab/busybox:$hash")" = "$(docker image inspect -f '{{.Id}}' "$BUSYBOX_IMAGE")" ] ||
      docker tag "lab/busybox:$hash" "$BUSYBOX_IMAGE"
    return 0
  fi
  local dir; dir=$(mktemp -d "$LAB_DIR/build/busybox.XXXXXX")
  lab_busybox_root "$dir"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["/bin/sh"]' - "lab/busybox:$hash" >/dev/null
  docker tag "lab/busybox:$hash" "$BUSYBOX_IMAGE"
  rm -rf "$dir"
}

# build_app VERSION FAIL(0|1) [IMAGE]: builds from test/lab/app and pushes unless already there.
lab_build_app() {
  local version=$1 fail=$2 image=${3:-$REGISTRY_SERVER/$APP_REPO:$1}
  local repo=${image#"$REGISTRY_SERVER"/}; repo=${repo%:*}
  local tag=${image##*:}
  local hash
  hash=$(lab_recipe_hash "app-v2" "$LAB_SRC/app/Dockerfile" "$LAB_SRC/app/start.sh" "$LAB_SRC/app/slow.cgi" "version=$version" "fail=$fail")
  if [ "$(lab_image_label "$image" lab.recipe)" = "$hash" ] && lab_registry_has "$image" "$repo" "$tag"; then
    return 0
  fi
  lab_ensure_busybox_image
  # the service label Kamal builds add (and checks before a deploy), so `--skip-push` deploys can use these
  lab_docker_build -t "$image" --label "lab.recipe=$hash" --label "service=${repo##*/}" \
    --build-arg "VERSION=$version" --build-arg "FAIL_HEALTH=$fail" "$LAB_SRC/app"
  lab_push "$image"
}

#!/usr/bin/env bash
# Builds the lab test app image from test/lab/app and pushes it to the lab registry.
# Usage: build-app.sh VERSION [--fail-health] [--image registry:5000/lab/app:TAG] [--no-push]
# Prints the image name. Skips the build when the same recipe is already pushed.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

version=""
fail=0
image=""
push=1
while (($#)); do
  case "$1" in
    --fail-health) fail=1 ;;
    --image) image=$2; shift ;;
    --image=*) image=${1#--image=} ;;
    --no-push) push=0 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    -*) lab_die "unknown option: $1" ;;
    *) [ -z "$version" ] || lab_die "one VERSION expected"; version=$1 ;;
  esac
  shift
done
[ -n "$version" ] || lab_die "usage: build-app.sh VERSION [--fail-health] [--image NAME] [--no-push]"
image=${image:-$REGISTRY_SERVER/$APP_REPO:$version}

if [ "$push" = 0 ]; then
  lab_ensure_busybox_image
  lab_docker_build -t "$image" --build-arg "VERSION=$version" --build-arg "FAIL_HEALTH=$fail" "$LAB_SRC/app"
else
  case "$image" in "$REGISTRY_SERVER"/*:*) ;; *) lab_die "--image must be $REGISTRY_SERVER/REPO:TAG (or use --no-push)" ;; esac
  [ -s "$LAB_DIR/registry/password" ] || lab_die "the lab is not up: run test/lab/up.sh"
  lab_registry_ready || lab_die "the lab registry does not answer on 127.0.0.1:5000: run test/lab/up.sh"
  mkdir -p "$LAB_DIR/build"
  lab_build_app "$version" "$fail" "$image"
fi
echo "$image"

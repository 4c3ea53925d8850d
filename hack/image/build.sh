#!/usr/bin/env bash
# `make image`: builds the operator image from the Dockerfile and prints its reference as the
# last line (the line before it names the builder: `builder: docker` or `builder: buildah`).
#
# - docker, when its engine answers: `docker build` on the python base image of the Dockerfile.
# - otherwise buildah (no daemon). buildah, mmdebstrap and runc are installed with apt-get when
#   missing (as root). The python base image needs a container registry, so a Debian bookworm
#   root file system made by mmdebstrap, with python3.11 from Debian, stands in for it
#   (--build-arg PYTHON_IMAGE). The build runs in chroot isolation on the host network and sees the
#   host's CA bundle (a TLS-inspecting proxy in front of PyPI then works too).
#
# Cached like the control plane: the base root file system is a tarball in ${IMAGE_CACHE} named
# after a digest of its recipe, the base and the operator image are tagged with digests of their
# inputs (the Dockerfile, .dockerignore, pyproject.toml, README.md, requirements/*.lock,
# operator/), so an image whose inputs have not changed is not built again, and `--layers` reuses
# the dependency layers when only the operator's code changed.
#
# Environment: IMAGE_BUILDER=docker|buildah forces one; IMAGE_CACHE moves the cache;
# DEBIAN_MIRROR replaces http://deb.debian.org. With --where, prints the reference the current
# inputs would get and builds nothing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "${repo}"
cache="${IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-guardrails/image}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org}"
suite=bookworm
base_packages=(python3.11 python3.11-venv python-is-python3 ca-certificates)
repository=localhost/sagemaker-guardrails

log() { echo "image: $*" >&2; }

# Digest of the build context (what .dockerignore lets in) and of the Dockerfile.
inputs_digest() {
  {
    find operator -type f ! -path '*/__pycache__/*' ! -name '*.py[co]' ! -path '*.egg-info/*' -print0
    printf '%s\0' Dockerfile .dockerignore pyproject.toml README.md requirements/*.lock
  } | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16
}

docker_ok() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }

builder="${IMAGE_BUILDER:-}"
if [[ -z "${builder}" ]]; then
  if docker_ok; then builder=docker; else builder=buildah; fi
fi

if [[ "${1:-}" == "--where" ]]; then
  echo "builder: ${builder}"
  echo "${repository}:dev-$(inputs_digest)"
  exit 0
fi

# --- docker ---------------------------------------------------------------------------------------
if [[ "${builder}" == docker ]]; then
  docker_ok || { log "IMAGE_BUILDER=docker, but the docker engine does not answer"; exit 1; }
  tag="${repository}:dev-$(inputs_digest)"
  if docker image inspect "${tag}" >/dev/null 2>&1; then
    log "${tag} is up to date"
  else
    start=$(date +%s)
    docker build --tag "${tag}" --file Dockerfile . >&2
    log "built ${tag} in $(( $(date +%s) - start ))s"
  fi
  echo "builder: docker"
  echo "${tag}"
  exit 0
fi

# --- buildah --------------------------------------------------------------------------------------
[[ "${builder}" == buildah ]] || { log "IMAGE_BUILDER must be docker or buildah, not ${builder}"; exit 2; }
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v runc >/dev/null || missing+=(runc)
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
if (( ${#missing[@]} )); then
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    log "needs ${missing[*]}: install them (Debian/Ubuntu: apt-get install ${missing[*]}), or run docker"
    exit 3
  fi
  log "installing ${missing[*]} with apt-get (first run only) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2
fi

mkdir -p "${cache}/debs"
recipe="${suite} ${mirror} ${base_packages[*]} v1"
base_digest="$(echo "${recipe}" | sha256sum | cut -c1-12)"
rootfs="${cache}/rootfs-${suite}-python3.11-${base_digest}.tar"
base="${repository}-base:${suite}-python3.11-${base_digest}"
if [[ ! -f "${rootfs}" ]]; then
  log "making the ${suite} root file system with mmdebstrap (first run only; minutes) ..."
  start=$(date +%s)
  # The downloaded packages are kept in ${cache}/debs, so a new recipe downloads only what changed.
  mmdebstrap --variant=minbase --format=tar --include="$(IFS=,; echo "${base_packages[*]}")" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --skip=download/empty \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in ${cache}/debs /var/cache/apt/archives" \
    --customize-hook="sync-out /var/cache/apt/archives ${cache}/debs" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    "${suite}" "${rootfs}.tmp" \
    "deb ${mirror}/debian ${suite} main" \
    "deb ${mirror}/debian ${suite}-updates main" \
    "deb ${mirror}/debian-security ${suite}-security main" >&2
  mv "${rootfs}.tmp" "${rootfs}"
  log "made ${rootfs} in $(( $(date +%s) - start ))s"
fi
if ! buildah inspect --type image "${base}" >/dev/null 2>&1; then
  log "importing ${rootfs} as ${base} ..."
  container="$(buildah from scratch)"
  buildah add --quiet "${container}" "${rootfs}" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 "${container}"
  buildah commit --quiet --rm "${container}" "${base}" >/dev/null
fi

tag="${repository}:dev-$(inputs_digest)"
if buildah inspect --type image "${tag}" >/dev/null 2>&1; then
  log "${tag} is up to date"
else
  start=$(date +%s)
  volumes=()
  ca="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
  [[ -f "${ca}" ]] && volumes+=(--volume "${ca}:/etc/ssl/certs/ca-certificates.crt:ro")
  buildah bud --layers --isolation chroot --network host "${volumes[@]}" \
    --build-arg "PYTHON_IMAGE=${base}" --tag "${tag}" --file Dockerfile . >&2
  # Older dev images of this checkout go; their layers stay as the build cache.
  for old in $(buildah images --format '{{.Name}}:{{.Tag}}' --filter "reference=${repository}:dev-*"); do
    [[ "${old}" == "${tag}" ]] || buildah rmi "${old}" >/dev/null 2>&1 || true
  done
  log "built ${tag} in $(( $(date +%s) - start ))s"
fi
echo "builder: buildah"
echo "${tag}"

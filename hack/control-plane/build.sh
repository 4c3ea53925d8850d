#!/usr/bin/env bash
# Builds kube-apiserver and etcd from their Go modules into a cached folder laid out like
# envtest's KUBEBUILDER_ASSETS, and prints that folder as the last line.
# - KUBEBUILDER_ASSETS set and holding both binaries: use them, build nothing.
# - otherwise: reuse ${CONTROL_PLANE_CACHE} if both binaries are there; build only what is missing.
# With --where, only prints the folder this checkout's versions use, building nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/kube-apiserver" && -x "${KUBEBUILDER_ASSETS}/etcd" ]]; then
  echo "using KUBEBUILDER_ASSETS" >&2
  (cd "${KUBEBUILDER_ASSETS}" && pwd)
  exit 0
fi
k8s_version="$(awk '$1=="k8s.io/kubernetes"{print $2}' "${here}/go.mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2}' "${here}/go.mod")"
cache="${CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-guardrails/control-plane/k8s-${k8s_version}-etcd-${etcd_version}}"
if [[ "${1:-}" == "--where" ]]; then
  echo "${cache}"
  exit 0
fi
mkdir -p "${cache}"
for bin in kube-apiserver etcd; do
  if [[ ! -x "${cache}/${bin}" ]]; then
    command -v go >/dev/null || { echo "go is needed to build ${bin} (or set KUBEBUILDER_ASSETS)" >&2; exit 1; }
    echo "building ${bin} (first run only; minutes) ..." >&2
    start=$(date +%s)
    ldflags="-s -w"
    if [[ "${bin}" == kube-apiserver ]]; then
      # Stamp the real version: the API server derives its feature-gate emulation version from it.
      minor="$(echo "${k8s_version}" | cut -d. -f2)"
      pkg=k8s.io/component-base/version
      ldflags+=" -X ${pkg}.gitVersion=${k8s_version} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
      ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
    fi
    (cd "${here}" && go build -trimpath -ldflags="${ldflags}" -o "${cache}/${bin}.tmp" "./cmd/${bin}") >&2
    mv "${cache}/${bin}.tmp" "${cache}/${bin}"
    echo "built ${bin} in $(( $(date +%s) - start ))s" >&2
  fi
done
echo "${cache}"

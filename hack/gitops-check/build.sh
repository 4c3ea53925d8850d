#!/usr/bin/env bash
# Builds the GitOps check programs (argocd-check from ./argocd, kstatus-check from ./kstatus) from
# their Go modules into a cached folder, and prints the path of each binary asked for, one a line
# (the last line is the last one asked for).
#   build.sh argocd kstatus     build what is missing, print the paths
#   build.sh --where argocd     print the path only, building nothing
# The cache key is the upstream version and a digest of the program's go.mod, go.sum and sources,
# so a changed program or dependency builds anew and an unchanged one never does.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
where=false
if [[ "${1:-}" == "--where" ]]; then
  where=true
  shift
fi
[[ $# -gt 0 ]] || { echo "usage: build.sh [--where] argocd|kstatus ..." >&2; exit 2; }
base="${GITOPS_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-guardrails/gitops-check}"
for program in "$@"; do
  case "${program}" in
    argocd) version="argo-cd-$(awk '$1=="github.com/argoproj/argo-cd/v3"{print $2; exit}' "${here}/argocd/go.mod")" ;;
    kstatus) version="cli-utils-$(awk '$1=="sigs.k8s.io/cli-utils"{print $2; exit}' "${here}/kstatus/go.mod")" ;;
    *) echo "unknown program ${program} (argocd or kstatus)" >&2; exit 2 ;;
  esac
  digest="$(cd "${here}/${program}" && cat go.mod go.sum $(ls *.go | LC_ALL=C sort) | sha256sum | cut -c1-12)"
  folder="${base}/${program}-${version}-${digest}"
  binary="${folder}/${program}-check"
  if [[ "${where}" == false && ! -x "${binary}" ]]; then
    command -v go >/dev/null || { echo "go is needed to build ${program}-check" >&2; exit 1; }
    echo "building ${program}-check (first run only; minutes) ..." >&2
    start=$(date +%s)
    mkdir -p "${folder}"
    (cd "${here}/${program}" && go build -trimpath -ldflags="-s -w" -o "${binary}.tmp" .) >&2
    mv "${binary}.tmp" "${binary}"
    echo "built ${program}-check in $(( $(date +%s) - start ))s" >&2
  fi
  echo "${binary}"
done

#!/usr/bin/env bash
# Builds kube-score (github.com/zegl/kube-score, the `tool` of ./go.mod) into a cached folder and
# prints the path of the binary as the last line. The folder is named after the kube-score version
# and a digest of go.mod and go.sum, so a version bump builds anew and nothing else ever does.
# KUBE_SCORE set to an executable: used as it is. With --where, prints the path, building nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [[ -n "${KUBE_SCORE:-}" && -x "${KUBE_SCORE}" ]]; then
  echo "${KUBE_SCORE}"
  exit 0
fi
version="$(awk '$1=="github.com/zegl/kube-score"{print $2; exit}' "${here}/go.mod")"
digest="$(cat "${here}/go.mod" "${here}/go.sum" | sha256sum | cut -c1-12)"
folder="${KUBE_SCORE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sagemaker-guardrails/kube-score}/kube-score-${version}-${digest}"
binary="${folder}/kube-score"
if [[ "${1:-}" == "--where" ]]; then
  echo "${binary}"
  exit 0
fi
if [[ ! -x "${binary}" ]]; then
  command -v go >/dev/null || { echo "go is needed to build kube-score (or set KUBE_SCORE)" >&2; exit 1; }
  echo "building kube-score ${version} (first run only) ..." >&2
  start=$(date +%s)
  mkdir -p "${folder}"
  (cd "${here}" && go build -trimpath -ldflags="-s -w -X main.version=${version}" -o "${binary}.tmp" \
    github.com/zegl/kube-score/cmd/kube-score) >&2
  mv "${binary}.tmp" "${binary}"
  echo "built kube-score in $(( $(date +%s) - start ))s" >&2
fi
echo "${binary}"

#!/usr/bin/env bash
# Builds a pinned Helm 3 from the Go module proxy into the dubbomesh tool cache (outside the repo),
# for the chart tests (helm lint / helm template). There is no Helm in Debian's main archive and no
# network beyond package registries, so `go install` of the release tag is the honest source.
# Idempotent: returns at once when the pinned version is already built. Niced (shared machine).
#
# Env: DUBBOMESH_CACHE (default ~/.cache/dubbomesh), HELM_VERSION, GO (default go).
# Prints the binary path on its last line.
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.21.4}
CACHE=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
GO=${GO:-go}
BIN="$CACHE/bin"
OUT="$BIN/helm"
STAMP="$BIN/.helm-$HELM_VERSION"

if [ -x "$OUT" ] && [ -f "$STAMP" ]; then
  echo "build-helm: cached: $OUT ($HELM_VERSION)"
  echo "$OUT"
  exit 0
fi
if ! command -v "$GO" >/dev/null 2>&1; then
  echo "build-helm: ERROR: no Go toolchain ('$GO'); install Go or put helm $HELM_VERSION at $OUT" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$BIN"
tmp=$(mktemp -d "$BIN/.helm-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The version stamp is what `helm version` prints; release builds set it the same way.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
echo "build-helm: go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION (niced)"
CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN="$tmp" \
  nice -n 10 "$GO" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mv "$tmp/helm" "$OUT"
rm -f "$BIN"/.helm-v*
touch "$STAMP"
"$OUT" version --short
echo "build-helm: built $HELM_VERSION in $(( $(date +%s) - start ))s"
echo "$OUT"

#!/usr/bin/env bash
# Builds a REAL kube-apiserver and etcd for the Kubernetes integration tests and benchmarks, from the
# Go module proxy, at pinned versions, into a cache OUTSIDE the repo. Idempotent: returns at once
# when the binaries are cached. Prints where they are and how long the build took.
#
# Why a wrapper module: kube-apiserver lives in k8s.io/kubernetes, whose go.mod maps every k8s.io/*
# staging module to a local path (./staging/src/...), so `go install ...@version` refuses it. A small
# main module that requires k8s.io/kubernetes and maps each staging module to its published twin
# (k8s.io/api v0.35.4 for Kubernetes 1.35.4, and so on) builds it. etcd's server module has the same
# shape (replace => ../api), and Kubernetes 1.35 is built and tested against etcd 3.6, so we build the
# etcd server it pins (Debian's etcd-server is 3.4) with a second wrapper module.
#
# Env: DUBBOMESH_CACHE (default ~/.cache/dubbomesh), KUBE_VERSION, ETCD_VERSION, GO (default go).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}
CACHE=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
GO=${GO:-go}
OUT="$CACHE/kube/$KUBE_VERSION"
STAMP="$OUT/.complete-etcd-$ETCD_VERSION"

if [ -f "$STAMP" ] && [ -x "$OUT/kube-apiserver" ] && [ -x "$OUT/etcd" ]; then
  echo "build-kube: cached: $OUT (kube-apiserver $KUBE_VERSION, etcd $ETCD_VERSION)"
  exit 0
fi

if ! command -v "$GO" >/dev/null 2>&1; then
  echo "build-kube: ERROR: no Go toolchain ('$GO'); Kubernetes $KUBE_VERSION needs Go >= 1.25" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$OUT"
WORK="$CACHE/kube/work-$KUBE_VERSION"
mkdir -p "$WORK/apiserver" "$WORK/etcd"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
NICE=(nice -n 10)

minor=${KUBE_VERSION#v1.}      # 35.4
staging_version="v0.$minor"    # v0.35.4

# --- kube-apiserver ------------------------------------------------------------------------------
if [ ! -x "$OUT/kube-apiserver" ]; then
  echo "build-kube: fetching k8s.io/kubernetes@$KUBE_VERSION go.mod"
  gomod=$("$GO" mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
    echo "build-kube: ERROR: could not download k8s.io/kubernetes@$KUBE_VERSION" >&2
    exit 1
  fi
  go_line=$(grep -m1 '^go ' "$gomod")
  {
    echo "module dubbomesh.local/kubebuild"
    echo
    echo "$go_line"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Every `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X v0.<minor>.<patch>`.
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*$#\t\1 => \1 '"$staging_version"'#p' "$gomod"
    echo ")"
  } >"$WORK/apiserver/go.mod"
  rm -f "$WORK/apiserver/go.sum"
  echo "build-kube: building kube-apiserver $KUBE_VERSION (slow on few cores; niced)"
  ldflags="-s -w"
  for v in gitVersion=$KUBE_VERSION gitMajor=1 gitMinor=${minor%%.*} gitTreeState=clean; do
    ldflags="$ldflags -X k8s.io/component-base/version.$v -X k8s.io/client-go/pkg/version.$v"
  done
  (cd "$WORK/apiserver" && "${NICE[@]}" "$GO" build -mod=mod -trimpath -ldflags "$ldflags" \
    -o "$OUT/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$OUT/kube-apiserver.tmp" "$OUT/kube-apiserver"
fi

# --- etcd ----------------------------------------------------------------------------------------
if [ ! -x "$OUT/etcd" ] || [ ! -f "$STAMP" ]; then
  cat >"$WORK/etcd/go.mod" <<EOF
module dubbomesh.local/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
EOF
  rm -f "$WORK/etcd/go.sum"
  echo "build-kube: building etcd $ETCD_VERSION"
  (cd "$WORK/etcd" && "${NICE[@]}" "$GO" build -mod=mod -trimpath -ldflags "-s -w" \
    -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
fi

"$OUT/kube-apiserver" --version
"$OUT/etcd" --version | head -1
touch "$STAMP"
echo "build-kube: built into $OUT in $(( $(date +%s) - start ))s"

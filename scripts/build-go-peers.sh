#!/usr/bin/env bash
# Builds every Go program the tests run against, in ONE `go build`, from the Go module proxy at
# pinned versions, into the cache outside the repo (${DUBBOMESH_CACHE:-~/.cache/dubbomesh}):
#
#   kube/$KUBE_VERSION/kube-apiserver, etcd     k8s.io/kubernetes, and the etcd server it pins
#   peers/istiod-current/bin/pilot-discovery    istio.io/istio at ISTIOD_CURRENT_REF
#   bin/helm                                    helm.sh/helm/v3 at HELM_VERSION
#
# Why one build: the three share about 1,400 packages (the Kubernetes API types, client-go,
# apimachinery, grpc, protobuf, OpenTelemetry), but each pins its own patch versions, so separate
# builds compile those packages once per program: on a fresh 2-core machine that was most of the CI
# run. A small main module that requires all three lets Go's minimal version selection choose one
# version of each shared module (the highest any of them requires; the versions are pinned so the
# three agree on the Kubernetes 1.35 libraries), and every package is compiled once. What each
# program is built with is written next to it (BUILD-INFO, go.mod of the build).
#
# go.sum is the union of the three projects' own go.sum files, so every module they pinned is
# checked against their own hashes (some of Istio's pseudo-versions are not in the checksum
# database); the published Kubernetes staging modules are checked through the database.
#
# Why the wrapper at all: k8s.io/kubernetes maps every k8s.io/* staging module to a local path
# (./staging/src/...), so `go install ...@version` refuses it; here each one maps to its published
# twin (k8s.io/api v0.35.4 for Kubernetes 1.35.4, and so on).
#
# Idempotent: returns at once when the cache holds this exact combination (one stamp, keyed by every
# pinned version, covers all four programs). Prints how long it took.
# Env: DUBBOMESH_CACHE, KUBE_VERSION, ETCD_VERSION, ISTIOD_CURRENT_REF, ISTIOD_CURRENT_LABEL,
#      HELM_VERSION, GO (default go).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.35.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.5}
# The 1.30.3 release commit and every release-1.30 commit on this machine's module proxy are refused
# (403 on the source or on pinned dependencies); this master commit (two weeks after the 1.30
# branch cut, VERSION 1.31) is the newest istiod whose whole dependency graph the proxy serves.
ISTIOD_CURRENT_REF=${ISTIOD_CURRENT_REF:-v0.0.0-20260423205519-b01690e6db7d}
ISTIOD_CURRENT_LABEL=${ISTIOD_CURRENT_LABEL:-1.31-dev+b01690e6db7d}
# Helm 3.20 is built on the Kubernetes 1.35 libraries, as the two others are (3.21 needs 1.36).
HELM_VERSION=${HELM_VERSION:-v3.20.2}
CACHE=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
GO=${GO:-go}

KUBE_OUT=$CACHE/kube/$KUBE_VERSION
ISTIOD_OUT=$CACHE/peers/istiod-current
HELM_OUT=$CACHE/bin
WORK=$CACHE/build/go-peers
key="kube=$KUBE_VERSION etcd=$ETCD_VERSION istio=$ISTIOD_CURRENT_REF/$ISTIOD_CURRENT_LABEL helm=$HELM_VERSION"
STAMP=$WORK/.complete

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ] \
  && [ -x "$KUBE_OUT/kube-apiserver" ] && [ -x "$KUBE_OUT/etcd" ] \
  && [ -x "$ISTIOD_OUT/bin/pilot-discovery" ] && [ -f "$ISTIOD_OUT/BUILD-INFO" ] \
  && [ -x "$HELM_OUT/helm" ]; then
  echo "build-go-peers: cached ($key)"
  exit 0
fi
command -v "$GO" >/dev/null 2>&1 || {
  echo "build-go-peers: ERROR: no Go toolchain ('$GO'); Kubernetes $KUBE_VERSION needs Go >= 1.25" >&2
  exit 2
}

start=$(date +%s)
rm -rf "$WORK"
mkdir -p "$WORK/out" "$KUBE_OUT" "$ISTIOD_OUT/bin" "$HELM_OUT"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

download() {  # module@version -> prints the directory of its source
  local json
  json=$("$GO" mod download -json "$1") || { echo "$json" >&2; return 1; }
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" | head -1
}
echo "build-go-peers: downloading k8s.io/kubernetes@$KUBE_VERSION istio.io/istio@$ISTIOD_CURRENT_REF helm.sh/helm/v3@$HELM_VERSION"
kube_dir=$(download "k8s.io/kubernetes@$KUBE_VERSION")
istio_dir=$(download "istio.io/istio@$ISTIOD_CURRENT_REF")
helm_dir=$(download "helm.sh/helm/v3@$HELM_VERSION")

minor=${KUBE_VERSION#v1.}  # 35.4
goline=$(grep -h '^go ' "$kube_dir/go.mod" "$istio_dir/go.mod" "$helm_dir/go.mod" | sort -V | tail -1)
{
  echo "module dubbomesh.local/gopeers"
  echo
  echo "$goline"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes $KUBE_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  echo "	istio.io/istio $ISTIOD_CURRENT_REF"
  echo "	helm.sh/helm/v3 $HELM_VERSION"
  echo ")"
  echo
  echo "replace ("
  # Every `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X v0.<minor>.<patch>`.
  sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*$#\t\1 => \1 v0.'"$minor"'#p' \
    "$kube_dir/go.mod"
  echo ")"
} >"$WORK/go.mod"
cat "$kube_dir/go.sum" "$istio_dir/go.sum" "$helm_dir/go.sum" | sort -u >"$WORK/go.sum"

ldflags="-s -w"
for v in gitVersion=$KUBE_VERSION gitMajor=1 gitMinor=${minor%%.*} gitTreeState=clean; do
  ldflags="$ldflags -X k8s.io/component-base/version.$v -X k8s.io/client-go/pkg/version.$v"
done
ldflags="$ldflags -X istio.io/istio/pkg/version.buildVersion=$ISTIOD_CURRENT_LABEL"
ldflags="$ldflags -X istio.io/istio/pkg/version.buildGitRevision=$ISTIOD_CURRENT_REF"
ldflags="$ldflags -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"

echo "build-go-peers: building kube-apiserver, etcd, pilot-discovery and helm (niced; cold: about 6 min on 2 cores)"
(cd "$WORK" && nice -n 10 "$GO" build -mod=mod -trimpath -ldflags "$ldflags" -o "$WORK/out/" \
  k8s.io/kubernetes/cmd/kube-apiserver go.etcd.io/etcd/server/v3 \
  istio.io/istio/pilot/cmd/pilot-discovery helm.sh/helm/v3/cmd/helm)

install -m 0755 "$WORK/out/kube-apiserver" "$KUBE_OUT/kube-apiserver"
install -m 0755 "$WORK/out/server" "$KUBE_OUT/etcd"  # go names go.etcd.io/etcd/server/v3 "server"
install -m 0755 "$WORK/out/pilot-discovery" "$ISTIOD_OUT/bin/pilot-discovery"
install -m 0755 "$WORK/out/helm" "$HELM_OUT/helm"
cp "$WORK/go.mod" "$ISTIOD_OUT/build-go.mod"
secs=$(( $(date +%s) - start ))
{
  echo "peer=istiod-current"
  echo "ref=$ISTIOD_CURRENT_REF"
  echo "module=istio.io/istio@$ISTIOD_CURRENT_REF"
  echo "label=$ISTIOD_CURRENT_LABEL"
  echo "source_version_file=$(cat "$istio_dir/VERSION" 2>/dev/null || echo unknown)"
  echo "go=$("$GO" env GOVERSION)"
  echo "built_with=kube-apiserver $KUBE_VERSION, helm $HELM_VERSION (one module: build-go.mod)"
  echo "build_seconds=$secs"
} >"$ISTIOD_OUT/BUILD-INFO"
rm -rf "$WORK/out"
echo "$key" >"$STAMP"

"$KUBE_OUT/kube-apiserver" --version
"$KUBE_OUT/etcd" --version | head -1
"$HELM_OUT/helm" version --short
echo "build-go-peers: built in ${secs}s"

#!/usr/bin/env bash
# Builds one real istiod (pilot-discovery) from the Go module proxy into the peer cache.
#
# usage: istiod.sh NAME REF LABEL
#   NAME   cache directory name under $DUBBOMESH_CACHE/peers (e.g. istiod-current)
#   REF    istio.io/istio version for the module proxy: a pseudo-version, a commit hash, or a
#          release tag such as 1.23.6 (Istio tags have no "v": the public proxy resolves them as
#          revisions, a curated mirror may not)
#   LABEL  version stamped into the binary (istio.io/istio/pkg/version.buildVersion)
#
# Why not `go install istio.io/istio/pilot/cmd/pilot-discovery@REF`: `go install` also probes the
# sub-module paths (istio.io/istio/pilot/cmd/...); a mirror that answers those with 403 instead of
# 404 makes that fatal. We download the module and build inside it, so Istio's own go.mod and
# go.sum decide every dependency, as a release build does. Releases whose go.mod has `replace`
# directives (1.23 and earlier) are built from a small wrapper module that carries the replaces,
# because `go install pkg@version` refuses such modules.
#
# Exit codes: 0 built or cached; 3 BLOCKED (the proxy does not serve the source or a dependency):
# the exact error is kept in NAME/BLOCKED for the report and the tests' skip reason.
set -euo pipefail
name=$1 ref=$2 label=$3
cache=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
out=$cache/peers/$name
bin=$out/bin/pilot-discovery

if [ -x "$bin" ] && [ -f "$out/BUILD-INFO" ] && grep -qx "ref=$ref" "$out/BUILD-INFO"; then
  echo "peers: $name cached ($bin)"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out/bin"
start=$(date +%s)

blocked() {
  { echo "step: $1"; echo "command: $2"; echo "error:"; cat "$3"; } > "$out/BLOCKED"
  echo "peers: $name: BLOCKED at $1:" >&2
  sed 's/^/    /' "$out/BLOCKED" >&2
  exit 3
}

log=$out/build.log
echo "peers: $name: go mod download istio.io/istio@$ref (GOPROXY=$(go env GOPROXY))"
cmd="go mod download -json istio.io/istio@$ref"
if ! $cmd > "$out/download.json" 2> "$log"; then
  cat "$out/download.json" >> "$log"
  blocked download "$cmd" "$log"
fi
field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}$/\\1/p" "$out/download.json" | head -1; }
dir=$(field Dir)
resolved=$(field Version)
gomod=$(field GoMod)

ldflags="-s -w -X istio.io/istio/pkg/version.buildVersion=$label"
ldflags="$ldflags -X istio.io/istio/pkg/version.buildGitRevision=$resolved"
if grep -q '^replace\|^[[:space:]]*[^ ]* => ' "$gomod"; then
  wrap=$cache/build/$name-wrapper
  rm -rf "$wrap" && mkdir -p "$wrap"
  goline=$(grep '^go ' "$gomod" | head -1)
  {
    echo "module dubbomesh.local/istiod-wrapper"
    echo
    echo "$goline"
    echo
    echo "require istio.io/istio $resolved"
    echo
    # Replaces only apply in the main module: carry Istio's own over verbatim.
    awk '/^replace \(/{r=1;print;next} r&&/^\)/{r=0;print;next} r{print;next} /^replace /{print}' "$gomod"
  } > "$wrap/go.mod"
  printf 'package main\n\nimport _ "istio.io/istio/pilot/cmd/pilot-discovery"\n' > "$wrap/tools.go"
  echo "peers: $name: Istio's go.mod has replace directives: building via wrapper $wrap"
  cmd="(cd $wrap && go mod tidy && go build istio.io/istio/pilot/cmd/pilot-discovery)"
  if ! (cd "$wrap" && go mod tidy && CGO_ENABLED=0 nice -n 10 go build -trimpath \
        -ldflags "$ldflags" -o "$bin.tmp" istio.io/istio/pilot/cmd/pilot-discovery) >> "$log" 2>&1; then
    blocked build "$cmd" "$log"
  fi
else
  echo "peers: $name: building pilot-discovery in $dir (slow: a cold build is most of a CPU hour)"
  cmd="(cd $dir && CGO_ENABLED=0 go build ./pilot/cmd/pilot-discovery)"
  if ! (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly nice -n 10 \
        go build -trimpath -ldflags "$ldflags" -o "$bin.tmp" ./pilot/cmd/pilot-discovery) >> "$log" 2>&1; then
    blocked build "$cmd" "$log"
  fi
fi
mv "$bin.tmp" "$bin"
secs=$(( $(date +%s) - start ))
{
  echo "peer=$name"
  echo "ref=$ref"
  echo "module=istio.io/istio@$resolved"
  echo "label=$label"
  echo "source_version_file=$(cat "$dir/VERSION" 2>/dev/null || echo unknown)"
  echo "go=$(go env GOVERSION)"
  echo "build_seconds=$secs"
} > "$out/BUILD-INFO"
echo "peers: $name built in ${secs}s -> $bin"

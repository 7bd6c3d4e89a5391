#!/usr/bin/env bash
# Builds the real programs the conformance tests run against, once, into a cache outside the repo
# (${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}/peers). Idempotent: cached peers are skipped in
# seconds. Every peer comes from this machine's package registries at a pinned version:
#
#   istiod-current  istio.io/istio pilot-discovery from the Go module proxy, built together with
#                   kube-apiserver and helm by build-go-peers.sh (ISTIOD_CURRENT_REF is set there)
#   istiod-1.23     the last release line with v1alpha3 MCP type URLs (ISTIOD_LEGACY_REF)
#   dubbo33         Apache Dubbo 3.3 provider (dubbo + tri IDL, register-mode=all), Maven Central
#   dubbo27         Apache Dubbo 2.7 provider (dubbo), Maven Central
#
# usage: scripts/build-peers.sh [PEER...]      (default: all)
# A peer the registries cannot provide is reported BLOCKED (exact command and error in
# peers/NAME/BLOCKED); that is not fatal here, the tests skip it with that reason. Any other build
# failure is fatal. Prints each peer's build time.
set -uo pipefail
cd "$(dirname "$0")/.."
here=scripts/peers

ISTIOD_LEGACY_REF=${ISTIOD_LEGACY_REF:-1.23.6}
ISTIOD_LEGACY_LABEL=${ISTIOD_LEGACY_LABEL:-1.23.6}

all=(istiod-current istiod-1.23 dubbo33 dubbo27)
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=("${all[@]}")

need() { command -v "$1" >/dev/null 2>&1 || { echo "build-peers: '$1' not found: $2" >&2; exit 2; }; }
total_start=$(date +%s)
failed=() blocked=()
for peer in "${peers[@]}"; do
  t0=$(date +%s)
  case $peer in
    istiod-current)
      need go "install Go >= 1.25.9"
      bash scripts/build-go-peers.sh ;;
    istiod-1.23)
      need go "install Go >= 1.22"
      bash "$here/istiod.sh" istiod-1.23 "$ISTIOD_LEGACY_REF" "$ISTIOD_LEGACY_LABEL" ;;
    dubbo33|dubbo27)
      need mvn "install Maven 3.8+ (Debian: maven)"; need java "install a JDK 17"
      bash "$here/java.sh" "$peer" ;;
    *) echo "build-peers: unknown peer $peer (known: ${all[*]})" >&2; false ;;
  esac
  rc=$?
  case $rc in
    0) ;;
    3) blocked+=("$peer") ;;
    *) failed+=("$peer") ;;
  esac
  echo "build-peers: $peer: rc=$rc in $(( $(date +%s) - t0 ))s"
done
echo "build-peers: done in $(( $(date +%s) - total_start ))s; blocked: ${blocked[*]:-none}; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]

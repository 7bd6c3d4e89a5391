#!/usr/bin/env bash
# Fetches Prometheus for the dashboard tests into the dubbomesh tool cache (outside the repo), without
# installing or starting any system service (helm, the chart tests' other tool, is built with the
# Go peers by scripts/build-go-peers.sh):
#   - prometheus + promtool from Debian's `prometheus` package. The package is DOWNLOADED and
#     unpacked (`apt-get download` + `dpkg-deb -x`), not installed: installing it would create a
#     system user and start a Prometheus daemon on :9090 (the agent's default HTTP port), and it
#     drags in a dozen web-UI packages the tests never use. The two binaries are static Go programs.
# Idempotent; each part is skipped when cached. Tests find the tools through tests/charts/tools.py
# (same cache layout); when a tool is missing, the tests that need it fail with this script's name.
#
# Env: DUBBOMESH_CACHE (default ~/.cache/dubbomesh), SKIP_PROMETHEUS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
start=$(date +%s)

if [ "${SKIP_PROMETHEUS:-0}" != 1 ]; then
  PROM="$CACHE/prometheus"
  if [ -x "$PROM/bin/prometheus" ] && [ -x "$PROM/bin/promtool" ] && [ -f "$PROM/VERSION" ]; then
    echo "setup-ci-extras: prometheus cached: $PROM ($(cat "$PROM/VERSION"))"
  else
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "setup-ci-extras: ERROR: no apt-get; put prometheus and promtool in $PROM/bin" >&2
      exit 2
    fi
    if ! apt-cache show prometheus >/dev/null 2>&1; then
      if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
      else
        echo "setup-ci-extras: ERROR: apt lists have no 'prometheus'; run apt-get update" >&2
        exit 2
      fi
    fi
    work=$(mktemp -d)
    chmod 0755 "$work"  # apt-get download runs as the _apt user when it can
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download -qq prometheus)
    deb=$(ls "$work"/prometheus_*.deb)
    dpkg-deb -x "$deb" "$work/root"
    mkdir -p "$PROM/bin"
    install -m 0755 "$work/root/usr/bin/prometheus" "$PROM/bin/prometheus"
    install -m 0755 "$work/root/usr/bin/promtool" "$PROM/bin/promtool"
    dpkg-deb -f "$deb" Version >"$PROM/VERSION"
    echo "setup-ci-extras: prometheus $(cat "$PROM/VERSION") unpacked into $PROM/bin"
  fi
  "$PROM/bin/promtool" --version 2>&1 | head -1
fi
echo "setup-ci-extras: done in $(( $(date +%s) - start ))s"

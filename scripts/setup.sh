#!/usr/bin/env bash
# Sets up a development machine from nothing: a virtualenv with dubbomesh and its test/lint tools,
# and the Debian ZooKeeper server that the demo and the integration tests start when no Docker
# engine is reachable. Idempotent; safe to run on every `make` call.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
VENV=${VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test,lint]"

# A real ZooKeeper server for tests and the demo (the fixture prefers Docker when reachable).
if [ ! -f /usr/share/java/zookeeper.jar ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian's zookeeper package (server for tests and the demo)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper >/dev/null
  else
    echo "setup: WARNING: /usr/share/java/zookeeper.jar missing; install Debian's 'zookeeper' package" >&2
  fi
fi

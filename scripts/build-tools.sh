#!/usr/bin/env bash
# Everything `make test` needs beyond the virtualenv, built or fetched once into the cache outside
# the repo (${DUBBOMESH_CACHE:-~/.cache/dubbomesh}); idempotent, seconds when cached.
#
# On a fresh machine this is most of a CI run, so the parts overlap by what they wait on:
#   - CPU: the one Go build of kube-apiserver, etcd, istiod and helm (build-go-peers.sh) runs in
#     the foreground and has both cores;
#   - network: the Maven builds of the Apache Dubbo providers (mostly downloads from Maven Central)
#     and Prometheus from Debian's archive run beside it, niced, with their output kept in
#     $CACHE/logs and printed when they are done.
# Any failure is fatal (a peer the registries refuse is BLOCKED, not failed: see build-peers.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
CACHE=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
logs=$CACHE/logs
mkdir -p "$logs"
start=$(date +%s)

bash scripts/setup-ci-extras.sh >"$logs/tools-prometheus.log" 2>&1 &
prom=$!
bash scripts/build-peers.sh dubbo33 dubbo27 >"$logs/tools-java.log" 2>&1 &
java=$!

failed=()
bash scripts/build-go-peers.sh || failed+=(go-peers)
bash scripts/build-peers.sh istiod-1.23 || failed+=(istiod-1.23)

for job in "prom:$prom:tools-prometheus" "java:$java:tools-java"; do
  IFS=: read -r name pid log <<<"$job"
  rc=0
  wait "$pid" || rc=$?
  sed "s/^/[$name] /" "$logs/$log.log"
  [ "$rc" = 0 ] || failed+=("$name")
done
echo "build-tools: done in $(( $(date +%s) - start ))s; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]

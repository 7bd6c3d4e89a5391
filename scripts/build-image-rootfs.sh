#!/usr/bin/env bash
# The container image's build steps, as one script that BOTH the Dockerfile and CI run, so CI proves
# the image's contents install and start without a Docker engine (there is none on CI machines).
#
#   build-image-rootfs.sh wheels  SRC WHEELS   build stage: wheels of dubbomesh and every dependency
#   build-image-rootfs.sh install WHEELS PREFIX runtime stage: a venv at PREFIX from those wheels
#                                              only (no index, no sdists: nothing is compiled there),
#                                              then pip/setuptools removed from it
#   build-image-rootfs.sh check   PREFIX       smoke test: --version, decode, options, and `run`
#                                              answering /healthz, then a clean SIGTERM exit
#   build-image-rootfs.sh all     SRC PREFIX   the three in a row (CI), wheels in a temp dir
#
# SRC is a build context (the repo, or what .dockerignore lets through); it is copied to a temp
# dir first so an in-tree build never writes into it. Env: PYTHON (default python3), PIP_CACHE_DIR.
set -euo pipefail

PYTHON=${PYTHON:-python3}
log() { echo "build-image-rootfs: $*" >&2; }

wheels() {
  local src=$1 out=$2 tmp
  tmp=$(mktemp -d)
  # Copy the context (not the caller's build/ or egg-info leftovers) and build from the copy.
  (cd "$src" && tar --exclude=./build --exclude='./*.egg-info' --exclude=./.venv -cf - .) \
    | (cd "$tmp" && tar -xf -)
  mkdir -p "$out"
  log "pip wheel $src -> $out"
  "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --prefer-binary \
    --wheel-dir "$out" "$tmp"
  rm -rf "$tmp"
  ls "$out"/dubbomesh-*.whl >/dev/null
  log "$(ls "$out" | wc -l) wheels in $out"
}

install() {
  local wheels=$1 prefix=$2
  log "venv at $prefix from $wheels (no index, binary only)"
  "$PYTHON" -m venv "$prefix"
  "$prefix/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --no-index --only-binary=:all: --find-links "$wheels" dubbomesh
  # The runtime needs no installer: drop pip and setuptools from the venv.
  "$prefix/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y pip setuptools \
    >/dev/null 2>&1 || true
  rm -f "$prefix"/bin/pip*
}

check() {
  local prefix=$1 py bin out
  py="$prefix/bin/python"
  bin="$prefix/bin/dubbomesh"
  "$bin" --version
  if "$py" -c 'import grpc_tools' 2>/dev/null; then
    log "FAIL: build-only grpcio-tools is installed in the runtime"
    return 1
  fi
  out=$("$bin" decode --json \
    'dubbo://10.0.0.7:20880/org.example.Greeter?application=demo&side=provider&version=1.0')
  echo "$out"
  case $out in *org.example.Greeter*) ;; *) log "FAIL: decode printed no interface"; return 1 ;; esac
  "$bin" options | grep -q -- '--zk' || { log "FAIL: options table lacks --zk"; return 1; }
  # Start the agent for real. Nothing listens on the ZooKeeper port: the agent must still start,
  # serve /healthz (liveness does not depend on ZooKeeper) and stop cleanly on SIGTERM.
  "$py" - "$bin" <<'PY' || { log "FAIL: the installed agent did not start and stop cleanly"; return 1; }
import signal, socket, subprocess, sys, time, urllib.request

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

http, xds, zk = free_port(), free_port(), free_port()
agent = subprocess.Popen([sys.argv[1], "run", "--zk", f"127.0.0.1:{zk}",
                          "--http-listen", f"127.0.0.1:{http}",
                          "--xds-listen", f"127.0.0.1:{xds}", "--log-format", "json"])
url = f"http://127.0.0.1:{http}/healthz"
deadline = time.monotonic() + 60
try:
    while True:
        if agent.poll() is not None:
            sys.exit(f"the agent exited with {agent.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200 and r.read().strip() == b"ok":
                    print(f"GET {url}: 200 ok", flush=True)
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"no answer from {url} within 60s")
        time.sleep(0.2)  # polling interval
    agent.send_signal(signal.SIGTERM)
    code = agent.wait(30)
    if code != 0:
        sys.exit(f"the agent exited with {code} after SIGTERM")
    print("SIGTERM: clean exit", flush=True)
finally:
    if agent.poll() is None:
        agent.kill()
PY
  log "check passed: $prefix"
}

cmd=${1:-}
case $cmd in
  wheels) wheels "$2" "$3" ;;
  install) install "$2" "$3" ;;
  check) check "$2" ;;
  all)
    start=$(date +%s)
    w=$(mktemp -d)
    trap 'rm -rf "$w"' EXIT
    wheels "$2" "$w"
    install "$w" "$3"
    check "$3"
    log "all steps in $(( $(date +%s) - start ))s"
    ;;
  *)
    echo "usage: $0 wheels SRC WHEELS | install WHEELS PREFIX | check PREFIX | all SRC PREFIX" >&2
    exit 2
    ;;
esac

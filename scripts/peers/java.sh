#!/usr/bin/env bash
# Builds one of our Java Dubbo provider peers (tests/conformance/peers/NAME) with Maven from Maven
# Central into the peer cache: NAME/app.jar plus NAME/lib/*.jar (copied dependencies), so the test
# fixture runs it with `java -cp app.jar:lib/*`. The build happens in a copy under the cache so the
# work tree never gets a target/ directory. Cached by a hash of the peer's sources.
#
# usage: java.sh NAME
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/tests/conformance/peers/$name
cache=${DUBBOMESH_CACHE:-$HOME/.cache/dubbomesh}
out=$cache/peers/$name
work=$cache/build/$name

[ -f "$src/pom.xml" ] || { echo "peers: $name: no $src/pom.xml" >&2; exit 2; }
hash=$(cd "$src" && find . -type f ! -path './target/*' -print0 | sort -z | xargs -0 sha256sum \
  | sha256sum | cut -c1-16)
if [ -f "$out/app.jar" ] && [ -f "$out/BUILD-INFO" ] && grep -qx "source_hash=$hash" "$out/BUILD-INFO"; then
  echo "peers: $name cached ($out)"
  exit 0
fi
start=$(date +%s)
rm -rf "$work" "$out"
mkdir -p "$work" "$out"
(cd "$src" && tar --exclude=./target -cf - .) | (cd "$work" && tar -xf -)
echo "peers: $name: mvn -q -B package (Maven Central)"
if ! (cd "$work" && nice -n 10 mvn -q -B package) > "$out/build.log" 2>&1; then
  echo "peers: $name: BUILD FAILED; last lines of $out/build.log:" >&2
  tail -40 "$out/build.log" >&2
  exit 1
fi
jar=$(ls "$work"/target/*.jar | head -1)
cp "$jar" "$out/app.jar"
cp -r "$work/target/lib" "$out/lib"
rm -f "$out"/lib/*.pom
secs=$(( $(date +%s) - start ))
{
  echo "peer=$name"
  echo "source_hash=$hash"
  echo "java=$(java -version 2>&1 | head -1)"
  echo "maven=$(mvn -v 2>/dev/null | head -1 | sed 's/\x1b\[[0-9;]*m//g')"
  echo "build_seconds=$secs"
} > "$out/BUILD-INFO"
echo "peers: $name built in ${secs}s -> $out"

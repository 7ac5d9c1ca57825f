#!/usr/bin/env bash
# `make bench-reshard`: how fast a resharding moves keys, and the client throughput during the move
# next to the throughput just before it (see node-image/.../bench/ReshardBench.java). One shard of 2
# members (sync) holds 2 x KEYS keys of 100 bytes; it goes to 2 shards, which moves about KEYS keys,
# while 16 clients read and write through the coordinator. Runs KEYS=100000 and KEYS=1000000 (the
# second preloads 2M keys: a few minutes on 2 cores). Writes bench/results/reshard-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=node-image/target/limedb-node.jar
[ -f "$JAR" ] || { echo "bench-reshard: $JAR missing; run make build" >&2; exit 1; }
mkdir -p bench/results
out="bench/results/reshard-$(date -u +%Y%m%dT%H%M%SZ).txt"
echo "# LimeDB resharding benchmark, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)" | tee "$out"
for keys in ${KEYS:-100000 1000000}; do
  echo "## --keys=$keys" | tee -a "$out"
  "$JAVA_HOME/bin/java" -jar "$JAR" bench-reshard --keys="$keys" 2>/dev/null | grep -v -E ' (INFO|WARN|DEBUG) ' | tee -a "$out"
done
cp "$out" bench/results/reshard-latest.txt

#!/usr/bin/env bash
# `make bench-memory`: does a shard member stay inside its container's memory limit under load?
# Runs one shard the way a pod runs it (the operator's JVM options and environment, nothing sized by
# hand) inside a memory cgroup with the given limit, a coordinator in front of it outside the
# cgroup, and redis-benchmark writes and reads through the coordinator. Prints the cgroup's memory
# after each load, its peak, the shard's heap and native sizes as it reports them, and whether the
# kernel killed it (the OOM kill a pod would see as OOMKilled). Exits 1 if it was killed.
#
# Usage: bench/memory.sh                 (LIMIT_MB=512)
# Knobs: LIMIT_MB, SIZE (1024), REQUESTS (300000 per load), ROUNDS (4), KEYSPACE (1000000),
#        JAVA_OPTS (default: what the operator gives a shard container), JAR, EXTRA_ENV ("LIMEDB_X=1 ...").
# Needs root (it makes a cgroup) and redis-benchmark (bench/install-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=${JAR:-node-image/target/limedb-node.jar}
LIMIT_MB=${LIMIT_MB:-512} SIZE=${SIZE:-1024} REQUESTS=${REQUESTS:-300000} ROUNDS=${ROUNDS:-4} KEYSPACE=${KEYSPACE:-1000000}
# The operator's shard container options, read from operator/.../NodePods.java (the DNS ones left out).
pods=operator/src/main/java/io/limedb/operator/model/NodePods.java
JAVA_OPTS=${JAVA_OPTS:-$(sed -n 's/.*SHARD_JAVA_TOOL_OPTIONS = "\(.*\) " + JVM_COMMON;$/\1/p' $pods) $(sed -n 's/.*JVM_COMMON = "\(.*\) "$/\1/p' $pods)}
EXTRA_ENV=${EXTRA_ENV:-}
[ -f "$JAR" ] || { echo "bench-memory: $JAR missing (make build)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || bench/install-tools.sh
[ -n "$JAVA_OPTS" ] || { echo "bench-memory: could not read the operator's JVM options" >&2; exit 1; }

RESP=16580 COORD_HTTP=16581 COORD_GRPC=16582 SHARD_GRPC=16583 SHARD_HTTP=16584
work=$(mktemp -d /tmp/limedb-memory.XXXXXX)
cg= ; pids=()
# cgroup v2 (one hierarchy) or v1 (a memory hierarchy of its own)
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg=/sys/fs/cgroup/limedb-memory-$$; mkdir "$cg"
  echo $((LIMIT_MB << 20)) > "$cg/memory.max"; echo 0 > "$cg/memory.swap.max" 2>/dev/null || true
  usage() { cat "$cg/memory.current"; }; peak() { cat "$cg/memory.peak" 2>/dev/null || echo 0; }
  inactive_file() { awk '/^inactive_file /{print $2}' "$cg/memory.stat"; }
  kills() { awk '/^oom_kill /{print $2}' "$cg/memory.events"; }
else
  cg=/sys/fs/cgroup/memory/limedb-memory-$$; mkdir "$cg"
  echo $((LIMIT_MB << 20)) > "$cg/memory.limit_in_bytes"
  echo 0 > "$cg/memory.swappiness" 2>/dev/null || true
  usage() { cat "$cg/memory.usage_in_bytes"; }; peak() { cat "$cg/memory.max_usage_in_bytes"; }
  inactive_file() { awk '/^total_inactive_file /{print $2}' "$cg/memory.stat"; }
  kills() { awk '/^oom_kill /{print $2}' "$cg/memory.oom_control"; }
fi
cleanup() {
  # The shard first, hard: a JVM stalled at its memory limit may never finish shutting down.
  for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.5; rmdir "$cg" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT INT TERM
mb() { echo $(( $1 >> 20 )); }

# The shard: in the cgroup from its first instruction, so the JVM sees the limit as a pod's would.
( echo $BASHPID > "$cg/cgroup.procs"
  for kv in $EXTRA_ENV; do export "${kv?}"; done
  export JAVA_TOOL_OPTIONS="$JAVA_OPTS${NMT:+ -XX:NativeMemoryTracking=summary}"
  exec "$JAVA_HOME/bin/java" -jar "$JAR" shard --node.id=shard-0 --bind.host=127.0.0.1 --grpc.port=$SHARD_GRPC \
    --http.port=$SHARD_HTTP --data.dir="$work/shard-0" ) > "$work/shard.log" 2>&1 &
shard=$!; pids+=($shard)
echo "{\"version\": 1, \"shards\": [{\"id\": \"shard-0\", \"address\": \"127.0.0.1:$SHARD_GRPC\"}]}" > "$work/topology.json"
"$JAVA_HOME/bin/java" -jar "$JAR" coordinator --node.id=coordinator --bind.host=127.0.0.1 --grpc.port=$COORD_GRPC \
  --http.port=$COORD_HTTP --resp.port=$RESP --topology.file="$work/topology.json" > "$work/coordinator.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do redis-cli -p $RESP set memory-probe 1 2>/dev/null | grep -q OK && break; sleep 0.5; done
redis-cli -p $RESP set memory-probe 1 | grep -q OK || { tail -n 20 "$work/shard.log" "$work/coordinator.log"; echo "bench-memory: no cluster" >&2; exit 1; }

echo "shard under a ${LIMIT_MB} MiB memory limit; JVM options: $JAVA_OPTS ${EXTRA_ENV:+; env: $EXTRA_ENV}"
grep -m1 -i 'memory' "$work/shard.log" || true
echo "load: SET then GET, -P 16 -c 50 -d $SIZE -n $REQUESTS, keys over $KEYSPACE, $ROUNDS rounds"
alive=1 ws_peak=0 failed=0
for r in $(seq 1 "$ROUNDS"); do
  for op in set get; do
    kill -0 "$shard" 2>/dev/null || { alive=0; break 2; }
    rps=$(timeout 300 redis-benchmark -p $RESP -t $op -n "$REQUESTS" -c 50 -d "$SIZE" -r "$KEYSPACE" -P 16 --csv 2>/dev/null \
      | awk -F, 'NR>1{gsub(/"/,""); print $2}' || true)
    rss=$(awk '/^VmRSS/{print int($2/1024)}' /proc/$shard/status 2>/dev/null || echo gone)
    [ -n "$rps" ] || failed=$((failed + 1))
    u=$(usage); ws=$((u - $(inactive_file)))
    [ "$ws" -gt "$ws_peak" ] && ws_peak=$ws
    printf "round %d %-3s %9s req/s   cgroup %4d MiB, working set %4d MiB   shard RSS %s MiB\n" "$r" "$op" "${rps:-failed}" \
      "$(mb "$u")" "$(mb "$ws")" "$rss"
  done
done
kill -0 "$shard" 2>/dev/null || alive=0
if [ "$alive" = 1 ]; then
  echo "where the shard's memory is (its metrics; native memory tracking with NMT=1):"
  curl -s "http://127.0.0.1:$SHARD_HTTP/metrics" | awk '
    /^limedb_rocksdb_block_cache_usage/ {b += $NF} /^limedb_rocksdb_cur_size_all_mem_tables/ {m += $NF}
    /^jvm_buffer_memory_used_bytes.*id="direct"/ {d += $NF}
    /^jvm_memory_used_bytes.*area="heap"/ {h += $NF} /^jvm_memory_used_bytes.*area="nonheap"/ {n += $NF}
    END { printf "  block cache %.0f MiB, memtables %.0f MiB, direct buffers (value cache, Netty) %.0f MiB, heap used %.0f MiB, non-heap %.0f MiB\n", b/1048576, m/1048576, d/1048576, h/1048576, n/1048576 }' || true
  [ -n "${NMT:-}" ] && "$JAVA_HOME/bin/jcmd" "$shard" VM.native_memory summary scale=MB 2>/dev/null | grep -E '^(Total|-)' | sed 's/^/  /' || true
fi
echo "peak: cgroup $(mb "$(peak)") MiB (page cache included), working set $(mb "$ws_peak") MiB (after a load; what the kubelet reads) of the ${LIMIT_MB} MiB limit; OOM kills: $(kills)"
if [ "$alive" = 0 ] || [ "$(kills)" != 0 ]; then
  echo "bench-memory: FAILED: the shard was killed (out of memory) under a ${LIMIT_MB} MiB limit; its last lines:"
  tail -n 5 "$work/shard.log"
  exit 1
fi
if [ "$failed" != 0 ]; then
  echo "bench-memory: FAILED: $failed load(s) got no answers: the shard stalled at its ${LIMIT_MB} MiB limit (alive, not serving)"
  exit 1
fi
echo "the shard stayed inside the limit and served every load"

#!/usr/bin/env bash
# `make bench-memory`: does a shard member stay inside its container's memory limit under load?
# Runs one shard the way a pod runs it (the operator's JVM options and environment, nothing sized by
# hand) inside a memory cgroup with the given limit, a coordinator in front of it outside the
# cgroup, and redis-benchmark writes and reads through the coordinator. Prints the cgroup's memory
# after each load, its peak, the shard's heap and native sizes as it reports them, and whether the
# kernel killed it (the OOM kill a pod would see as OOMKilled). Exits 1 if it was killed.
#
# Usage: bench/memory.sh                 (LIMIT_MB=512)
#        REPLICAS=3 bench/memory.sh      one shard of three members (sync replication, min-in-sync 2), each
#                                        member in a cgroup of its own; in every round one replica is
#                                        paused (SIGSTOP) for PAUSE seconds (10) during the SET load, so the
#                                        primary writes on and the replica catches up after.
# Knobs: LIMIT_MB, SIZE (1024), REQUESTS (300000 per load), ROUNDS (4), KEYSPACE (1000000),
#        JAVA_OPTS (default: what the operator gives a shard container), JAR, EXTRA_ENV ("LIMEDB_X=1 ...").
# With REPLICAS > 1 the members are started by `limedb dev` and moved into their cgroups once up (cgroup
# v1 moves what they had charged with them; v2 does not, so a little is missed there); the heap and the
# memory budget are given as the limit would make them (-Xmx LIMIT_MB/4, limedb.memory.limit.mb).
# Needs root (it makes a cgroup) and redis-benchmark (bench/install-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=${JAR:-node-image/target/limedb-node.jar}
LIMIT_MB=${LIMIT_MB:-512} SIZE=${SIZE:-1024} REQUESTS=${REQUESTS:-300000} ROUNDS=${ROUNDS:-4} KEYSPACE=${KEYSPACE:-1000000}
# The operator's shard container options, read from operator/.../NodePods.java (the DNS ones left out).
pods=operator/src/main/java/io/limedb/operator/model/NodePods.java
JAVA_OPTS=${JAVA_OPTS:-$(sed -n 's/.*SHARD_JAVA_TOOL_OPTIONS = "\(.*\) " + JVM_COMMON;$/\1/p' $pods) $(sed -n 's/.*JVM_COMMON = "\(.*\) "$/\1/p' $pods)}
# ... and the environment it gives every node container (NodePods.hugePages: glibc's malloc in huge pages).
POD_ENV=$(sed -n 's/.*env("\(GLIBC_TUNABLES\)", "\(.*\)");$/\1=\2/p' $pods)
EXTRA_ENV=${EXTRA_ENV:-}
[ -f "$JAR" ] || { echo "bench-memory: $JAR missing (make build)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || bench/install-tools.sh
[ -n "$JAVA_OPTS" ] && [ -n "$POD_ENV" ] || { echo "bench-memory: could not read the operator's JVM options and environment" >&2; exit 1; }

RESP=16580 COORD_HTTP=16581 COORD_GRPC=16582 SHARD_GRPC=16583 SHARD_HTTP=16584
work=$(mktemp -d /tmp/limedb-memory.XXXXXX)
cgs=() ; pids=()
# cgroup v2 (one hierarchy) or v1 (a memory hierarchy of its own); one per shard member: cg_make NAME
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cg_root=/sys/fs/cgroup
  cg_make() { cg=$cg_root/limedb-memory-$$-$1; mkdir "$cg"; echo $((LIMIT_MB << 20)) > "$cg/memory.max"
              echo 0 > "$cg/memory.swap.max" 2>/dev/null || true; cgs+=("$cg"); }
  usage() { cat "$1/memory.current"; }; peak() { cat "$1/memory.peak" 2>/dev/null || echo 0; }
  inactive_file() { awk '/^inactive_file /{print $2}' "$1/memory.stat"; }
  kills() { awk '/^oom_kill /{print $2}' "$1/memory.events"; }
else
  cg_root=/sys/fs/cgroup/memory
  cg_make() { cg=$cg_root/limedb-memory-$$-$1; mkdir "$cg"; echo $((LIMIT_MB << 20)) > "$cg/memory.limit_in_bytes"
              echo 0 > "$cg/memory.swappiness" 2>/dev/null || true
              echo 3 > "$cg/memory.move_charge_at_immigrate" 2>/dev/null || true; cgs+=("$cg"); }
  usage() { cat "$1/memory.usage_in_bytes"; }; peak() { cat "$1/memory.max_usage_in_bytes"; }
  inactive_file() { awk '/^total_inactive_file /{print $2}' "$1/memory.stat"; }
  kills() { awk '/^oom_kill /{print $2}' "$1/memory.oom_control"; }
fi
cleanup() {
  # The shard members first, hard: a JVM stalled at its memory limit may never finish shutting down.
  for c in "${cgs[@]}"; do for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  sleep 0.5; for c in "${cgs[@]}"; do rmdir "$c" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT INT TERM
mb() { echo $(( $1 >> 20 )); }

REPLICAS=${REPLICAS:-1} PAUSE=${PAUSE:-10}
members=() ; names=() ; https=()
if [ "$REPLICAS" = 1 ]; then
  # The shard: in the cgroup from its first instruction, so the JVM sees the limit as a pod's would.
  cg_make shard-0
  ( echo $BASHPID > "$cg/cgroup.procs"
    for kv in $POD_ENV $EXTRA_ENV; do export "${kv?}"; done
    export JAVA_TOOL_OPTIONS="$JAVA_OPTS${NMT:+ -XX:NativeMemoryTracking=summary}"
    exec "$JAVA_HOME/bin/java" -jar "$JAR" shard --node.id=shard-0 --bind.host=127.0.0.1 --grpc.port=$SHARD_GRPC \
      --http.port=$SHARD_HTTP --data.dir="$work/shard-0" ) > "$work/shard-0.log" 2>&1 &
  members+=($!); names+=(shard-0); https+=($SHARD_HTTP); pids+=($!)
  echo "{\"version\": 1, \"shards\": [{\"id\": \"shard-0\", \"address\": \"127.0.0.1:$SHARD_GRPC\"}]}" > "$work/topology.json"
  "$JAVA_HOME/bin/java" -jar "$JAR" coordinator --node.id=coordinator --bind.host=127.0.0.1 --grpc.port=$COORD_GRPC \
    --http.port=$COORD_HTTP --resp.port=$RESP --topology.file="$work/topology.json" > "$work/coordinator.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 240); do redis-cli -p $RESP set memory-probe 1 2>/dev/null | grep -q OK && break; sleep 0.5; done
else
  # A dev cluster of one replicated shard; no member restarted when it dies (that is what is measured).
  heap=$(( LIMIT_MB / 4 < 128 ? 128 : LIMIT_MB / 4 ))
  JAVA_OPTS="-Xmx${heap}m -XX:MaxDirectMemorySize=${heap}m -XX:+UseSerialGC -Dlimedb.memory.limit.mb=$LIMIT_MB"
  for kv in $EXTRA_ENV; do export "${kv?}"; done
  "$JAVA_HOME/bin/java" "-Dlimedb.dev.node.jvm=$JAVA_OPTS${NMT:+ -XX:NativeMemoryTracking=summary}" -jar "$JAR" dev \
    --shards=1 --replicas="$REPLICAS" --restart-delay-ms=-1 --data-dir="$work/lime" --resp-port=$RESP \
    --http-port=$COORD_HTTP --grpc-port=$COORD_GRPC --shard-grpc-base=$SHARD_GRPC --shard-http-base=$((SHARD_HTTP + 10)) \
    --control-port=$((SHARD_HTTP + 30)) > "$work/dev.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 240); do grep -q 'cluster is up' "$work/dev.log" 2>/dev/null && break; sleep 0.5; done
  grep -q 'cluster is up' "$work/dev.log" || { tail -n 30 "$work/dev.log"; echo "bench-memory: no cluster" >&2; exit 1; }
  for p in $(pgrep -f -- " shard --node.id=.*$work/lime"); do
    name=$(tr '\0' '\n' < /proc/$p/cmdline | sed -n 's/^--node.id=//p')
    http=$(tr '\0' '\n' < /proc/$p/cmdline | sed -n 's/^--http.port=//p')
    cg_make "$name"; echo "$p" > "$cg/cgroup.procs"
    members+=($p); names+=("$name"); https+=("$http")
    ln -sf "$work/lime/logs/$name.log" "$work/$name.log"
  done
fi
redis-cli -p $RESP set memory-probe 1 | grep -q OK || { tail -n 20 "$work"/*.log; echo "bench-memory: no cluster" >&2; exit 1; }

role() { # member index: replica, or other (primary, standalone, unknown), as the member reports it
  curl -s "http://127.0.0.1:${https[$1]}/metrics" | grep -qE '^limedb_replication_role\{.*\} 2(\.0)?$' && echo replica || echo other
}
echo "${#members[@]} shard member(s), each under a ${LIMIT_MB} MiB memory limit; JVM options: $JAVA_OPTS ${EXTRA_ENV:+; env: $EXTRA_ENV}"
for i in "${!members[@]}"; do echo "  ${names[$i]}: $(grep -m1 -i 'memory limit\|memory:' "$work/${names[$i]}.log" || echo '?')"; done
echo "load: SET then GET, -P 16 -c 50 -d $SIZE -n $REQUESTS, keys over $KEYSPACE, $ROUNDS rounds"
pausing=
if [ "$REPLICAS" != 1 ]; then
  for i in "${!members[@]}"; do [ "$(role "$i")" = replica ] && { pausing=$i; break; }; done
  [ -n "$pausing" ] && echo "each round, ${names[$pausing]} (a replica) is paused for ${PAUSE}s during the SET load" \
    || echo "bench-memory: no member reports being a replica (limedb_replication_role 2); nothing is paused"
fi
declare -A ws_peak
for i in "${!members[@]}"; do ws_peak[$i]=0; done
alive=1 failed=0
for r in $(seq 1 "$ROUNDS"); do
  for op in set get; do
    for p in "${members[@]}"; do kill -0 "$p" 2>/dev/null || { alive=0; break 3; }; done
    if [ "$op" = set ] && [ -n "$pausing" ]; then
      ( sleep 2; kill -STOP "${members[$pausing]}"; sleep "$PAUSE"; kill -CONT "${members[$pausing]}" ) &
      pauser=$!
    fi
    rps=$(timeout 300 redis-benchmark -p $RESP -t $op -n "$REQUESTS" -c 50 -d "$SIZE" -r "$KEYSPACE" -P 16 --csv 2>"$work/load.err" \
      | awk -F, 'NR>1{gsub(/"/,""); print $2}' || true)
    [ -n "$rps" ] || echo "  redis-benchmark: $(tr '\r' '\n' < "$work/load.err" | grep -v '^ *$' | tail -n 2 | tr '\n' ' ')"
    [ -n "${pauser:-}" ] && { wait "$pauser" 2>/dev/null || true; kill -CONT "${members[$pausing]}" 2>/dev/null || true; pauser=; }
    [ -n "$rps" ] || failed=$((failed + 1))
    printf "round %d %-3s %9s req/s\n" "$r" "$op" "${rps:-failed}"
    for i in "${!members[@]}"; do
      c=${cgs[$i]}
      rss=$(awk '/^VmRSS/{print int($2/1024)}' /proc/${members[$i]}/status 2>/dev/null || echo gone)
      u=$(usage "$c"); ws=$((u - $(inactive_file "$c")))
      [ "$ws" -gt "${ws_peak[$i]}" ] && ws_peak[$i]=$ws
      printf "    %-12s cgroup %4d MiB, working set %4d MiB   RSS %s MiB\n" "${names[$i]}" "$(mb "$u")" "$(mb "$ws")" "$rss"
    done
  done
done
killed=0
for i in "${!members[@]}"; do
  kill -0 "${members[$i]}" 2>/dev/null || alive=0
  [ "$(kills "${cgs[$i]}")" != 0 ] && killed=1
done
for i in "${!members[@]}"; do
  kill -0 "${members[$i]}" 2>/dev/null || continue
  echo "where ${names[$i]}'s memory is (its metrics; native memory tracking with NMT=1):"
  curl -s "http://127.0.0.1:${https[$i]}/metrics" | awk '
    /^limedb_rocksdb_block_cache_usage/ {b += $NF} /^limedb_rocksdb_cur_size_all_mem_tables/ {m += $NF}
    /^jvm_buffer_memory_used_bytes.*id="direct"/ {d += $NF}
    /^jvm_memory_used_bytes.*area="heap"/ {h += $NF} /^jvm_memory_used_bytes.*area="nonheap"/ {n += $NF}
    END { printf "  block cache %.0f MiB, memtables %.0f MiB, direct buffers (value cache, Netty) %.0f MiB, heap used %.0f MiB, non-heap %.0f MiB\n", b/1048576, m/1048576, d/1048576, h/1048576, n/1048576 }' || true
  [ -n "${NMT:-}" ] && "$JAVA_HOME/bin/jcmd" "${members[$i]}" VM.native_memory summary scale=MB 2>/dev/null | grep -E '^(Total|-)' | sed 's/^/  /' || true
done
for i in "${!members[@]}"; do
  echo "peak of ${names[$i]}: cgroup $(mb "$(peak "${cgs[$i]}")") MiB (page cache included), working set $(mb "${ws_peak[$i]}") MiB (after a load; what the kubelet reads) of the ${LIMIT_MB} MiB limit; OOM kills: $(kills "${cgs[$i]}")"
done
if [ "$alive" = 0 ] || [ "$killed" = 1 ]; then
  echo "bench-memory: FAILED: a shard member was killed (out of memory) under a ${LIMIT_MB} MiB limit; the last lines:"
  for n in "${names[@]}"; do tail -n 5 "$work/$n.log"; done
  exit 1
fi
if [ "$failed" != 0 ]; then
  echo "bench-memory: FAILED: $failed load(s) got no answers, or an error (the redis-benchmark lines above); a member that stalled at its limit stays alive and does not serve"
  exit 1
fi
echo "every shard member stayed inside the limit and the cluster served every load"

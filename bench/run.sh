#!/usr/bin/env bash
# `make bench`: redis-benchmark through LimeDB's RESP port and, in the same run, against a local
# redis-server, side by side with the ratio; then one shard's gRPC throughput next to raw RocksDB.
# Prints the figures and writes them to bench/results/<time>.txt (and latest.txt).
#
# Knobs (environment): REQUESTS (100000), CLIENTS (50), VALUE_SIZE (100), KEYSPACE (1000000),
# PIPELINES ("1 16"), SHARD_SECONDS (5), WARMUP (400000 requests before measuring),
# REPLICATION (1: also compare sync and async replication with 3 members per shard; 0: skip).
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-100000} CLIENTS=${CLIENTS:-50} VALUE_SIZE=${VALUE_SIZE:-100}
KEYSPACE=${KEYSPACE:-1000000} PIPELINES=${PIPELINES:-"1 16"} SHARD_SECONDS=${SHARD_SECONDS:-5}
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=node-image/target/limedb-node.jar
[ -f "$JAR" ] || { echo "bench: $JAR missing; run make build" >&2; exit 1; }
for tool in redis-server redis-benchmark; do
  command -v $tool >/dev/null || { echo "bench: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

REDIS_PORT=16379 LIME_RESP=16380 LIME_HTTP=18080 LIME_GRPC=19090 SHARD_GRPC=19091 SHARD_HTTP=18081
work=$(mktemp -d /tmp/limedb-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Redis with a comparable durability setting: an append-only log written on every write, not fsynced
# (LimeDB writes RocksDB's WAL on every write, not fsynced, by default).
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly yes --appendfsync no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
"$JAVA_HOME/bin/java" -jar "$JAR" dev --shards=3 --data-dir="$work/lime" --resp-port=$LIME_RESP \
  --http-port=$LIME_HTTP --grpc-port=$LIME_GRPC --shard-grpc-base=$SHARD_GRPC --shard-http-base=$SHARD_HTTP \
  > "$work/dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  grep -q 'cluster is up' "$work/dev.log" 2>/dev/null && redis-cli -p $REDIS_PORT ping >/dev/null 2>&1 && break
  sleep 0.5
done
grep -q 'cluster is up' "$work/dev.log" || { cat "$work/dev.log"; echo "bench: LimeDB did not start" >&2; exit 1; }

# JIT warm-up: the JVMs were just started; measure steady state, as for any JVM service.
echo "bench: warming up LimeDB (${WARMUP:-400000} pipelined requests, not measured) ..."
redis-benchmark -h 127.0.0.1 -p $LIME_RESP -t set,get -n "${WARMUP:-400000}" -c "$CLIENTS" -d "$VALUE_SIZE" \
  -r "$KEYSPACE" -P 16 -q >/dev/null 2>&1
redis-benchmark -h 127.0.0.1 -p $LIME_RESP -t set,get -n 50000 -c "$CLIENTS" -d "$VALUE_SIZE" -r "$KEYSPACE" -q >/dev/null 2>&1

mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
{
  echo "# LimeDB benchmark, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r)"
  echo "# redis-benchmark: -n $REQUESTS -c $CLIENTS -d $VALUE_SIZE -r $KEYSPACE; LimeDB = coordinator + 3 shards (dev); Redis = redis-server $(redis-server --version | grep -o 'v=[0-9.]*')"
  echo "# LimeDB durability: RocksDB WAL written per write, no fsync; Redis: appendonly yes, appendfsync no"
  printf '%-10s %-5s %14s %9s %9s %14s %9s %9s %8s\n' pipeline op limedb_rps p50_ms p99_ms redis_rps p50_ms p99_ms ratio
} | tee "$out"

bench() { # port pipeline -> lines "OP rps p50 p99"
  redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -n "$REQUESTS" -c "$CLIENTS" -d "$VALUE_SIZE" -r "$KEYSPACE" \
    -P "$2" --csv 2>/dev/null | awk -F, 'NR>1 {gsub(/"/,""); print $1, $2, $5, $7}'
}
for p in $PIPELINES; do
  lime=$(bench $LIME_RESP "$p")
  redis=$(bench $REDIS_PORT "$p")
  for op in SET GET; do
    read -r _ lr l50 l99 <<<"$(grep "^$op " <<<"$lime")"
    read -r _ rr r50 r99 <<<"$(grep "^$op " <<<"$redis")"
    ratio=$(awk -v a="$lr" -v b="$rr" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
    printf '%-10s %-5s %14s %9s %9s %14s %9s %9s %8s\n' "P$p" "$op" "$lr" "$l50" "$l99" "$rr" "$r50" "$r99" "$ratio" | tee -a "$out"
  done
done

echo "" | tee -a "$out"
echo "# one shard's gRPC paths (shard-0 of the same cluster) vs raw RocksDB puts in the bench process" | tee -a "$out"
"$JAVA_HOME/bin/java" -jar "$JAR" bench-shard --target=127.0.0.1:$SHARD_GRPC --http=127.0.0.1:$SHARD_HTTP --seconds="$SHARD_SECONDS" \
  --value-size="$VALUE_SIZE" 2>/dev/null | tee -a "$out"

# Replication cost: the same SET load on 3 shards x 3 members, sync (min-in-sync 2) vs async.
if [ "${REPLICATION:-1}" = 1 ]; then
  echo "" | tee -a "$out"
  echo "# replication: redis-benchmark SET through the coordinator, 3 shards x 3 members, sync (min-in-sync 2) vs async" | tee -a "$out"
  printf '%-10s %14s %9s %9s %14s %9s %9s %8s\n' pipeline sync_rps p50_ms p99_ms async_rps p50_ms p99_ms ratio | tee -a "$out"
  kill "${pids[1]}" 2>/dev/null; wait "${pids[1]}" 2>/dev/null || true
  declare -A rr
  for mode in sync async; do
    rm -rf "$work/repl"
    "$JAVA_HOME/bin/java" -jar "$JAR" dev --shards=3 --replicas=3 --replication=$mode --data-dir="$work/repl" \
      --resp-port=$LIME_RESP --http-port=$LIME_HTTP --grpc-port=$LIME_GRPC --shard-grpc-base=$SHARD_GRPC \
      --shard-http-base=$SHARD_HTTP > "$work/repl-$mode.log" 2>&1 &
    rpid=$!
    for _ in $(seq 1 120); do grep -q 'cluster is up' "$work/repl-$mode.log" 2>/dev/null && break; sleep 0.5; done
    redis-benchmark -h 127.0.0.1 -p $LIME_RESP -t set -n "${WARMUP:-400000}" -c "$CLIENTS" -d "$VALUE_SIZE" \
      -r "$KEYSPACE" -P 16 -q >/dev/null 2>&1
    for p in $PIPELINES; do
      rr[$mode$p]=$(redis-benchmark -h 127.0.0.1 -p $LIME_RESP -t set -n "$REQUESTS" -c "$CLIENTS" -d "$VALUE_SIZE" \
        -r "$KEYSPACE" -P "$p" --csv 2>/dev/null | awk -F, 'NR>1 {gsub(/"/,""); print $2, $5, $7}')
    done
    kill $rpid; wait $rpid 2>/dev/null || true
  done
  for p in $PIPELINES; do
    read -r sr s50 s99 <<<"${rr[sync$p]}"
    read -r ar a50 a99 <<<"${rr[async$p]}"
    ratio=$(awk -v a="$sr" -v b="$ar" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
    printf '%-10s %14s %9s %9s %14s %9s %9s %8s\n' "P$p SET" "$sr" "$s50" "$s99" "$ar" "$a50" "$a99" "$ratio" | tee -a "$out"
  done
fi
cp "$out" bench/results/latest.txt
echo "bench: results in $out"

#!/usr/bin/env bash
# `make profile`: where the time goes under redis-benchmark load through the coordinator.
# Starts LimeDB dev (coordinator + 3 shards, REPLICAS members each), warms it up, then runs one load
# (OP, PIPELINE, SIZE) and reports:
#   - requests per second;
#   - CPU time per request of the coordinator, the shards (all members) and redis-benchmark, from
#     /proc/<pid>/stat (this VM has no hardware counters, so CPU time stands in for instructions);
#   - operations per batch the shards received (limedb_batch_ops);
#   - bytes allocated per request in the coordinator and shard-0 (JFR allocation samples);
#   - the hottest symbols (kernel, RocksDB, JIT-compiled Java, JVM) and threads of the coordinator and
#     shard-0 from `perf record -e cpu-clock` when perf is installed, and JFR's hottest Java methods.
# Recordings stay in bench/results/profile/ (coordinator.jfr, shard-0.jfr, *.perf).
#
# Knobs: OP (set), PIPELINE (1), SIZE (100), CLIENTS (50), REQUESTS (300000), REPLICAS (1),
# KEYSPACE (1000000), WARMUP (400000).
set -euo pipefail
cd "$(dirname "$0")/.."
OP=${OP:-set} PIPELINE=${PIPELINE:-1} SIZE=${SIZE:-100} CLIENTS=${CLIENTS:-50} REQUESTS=${REQUESTS:-300000}
REPLICAS=${REPLICAS:-1} KEYSPACE=${KEYSPACE:-1000000} WARMUP=${WARMUP:-400000}
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=node-image/target/limedb-node.jar
[ -f "$JAR" ] || { echo "profile: $JAR missing; run make build" >&2; exit 1; }
bench/install-tools.sh
LIME_RESP=16380 LIME_HTTP=18080 LIME_GRPC=19090 SHARD_GRPC=19091 SHARD_HTTP=18081 LIME_CONTROL=18070
out=bench/results/profile
mkdir -p "$out"
work=$(mktemp -d /tmp/limedb-profile.XXXXXX)
dev=
cleanup() { [ -n "$dev" ] && kill "$dev" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

"$JAVA_HOME/bin/java" -jar "$JAR" dev --shards=3 --replicas="$REPLICAS" --data-dir="$work/lime" --resp-port=$LIME_RESP \
  --http-port=$LIME_HTTP --grpc-port=$LIME_GRPC --shard-grpc-base=$SHARD_GRPC --shard-http-base=$SHARD_HTTP \
  --control-port=$LIME_CONTROL > "$work/dev.log" 2>&1 &
dev=$!
for _ in $(seq 1 240); do grep -q 'cluster is up' "$work/dev.log" 2>/dev/null && break; sleep 0.5; done
grep -q 'cluster is up' "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
# JFR starts before the warm-up: starting a recording makes the JIT recompile for a while, which
# would otherwise land in the measured window. Only the measured window is dumped.
for p in $(pgrep -f -- "limedb-node.jar (shard|coordinator) "); do
  jcmd "$p" JFR.start name=profile settings=profile >/dev/null
done
echo "profile: warming up ..." >&2
redis-benchmark -p $LIME_RESP -t set,get -n "$WARMUP" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -P 16 -q >/dev/null 2>&1
redis-benchmark -p $LIME_RESP -t set,get -n 50000 -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -q >/dev/null 2>&1

node_pid() { pgrep -f -- "--node.id=$1 " | head -1; }
coord=$(node_pid coordinator)
shards=$(pgrep -f -- "limedb-node.jar shard " | tr '\n' ' ')
# shard-0's primary (the member that takes the writes), from the coordinator's view of the cluster
shard0=$(curl -s "http://127.0.0.1:$LIME_HTTP/api/v1/cluster/state" \
  | grep -oE '"id":"shard-0(-[0-9]+)?","address":"[^"]*","role":"(primary|standalone)"[^}]*"pid":[0-9]+' \
  | grep -oE '[0-9]+$' | head -1 || true)
[ -n "$shard0" ] || shard0=$(pgrep -f -- "--node.id=shard-0" | head -1)
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
batches() { # sum count of limedb_batch_ops over the shards' primaries
  local s=0 c=0
  for i in $(seq 0 $((3 * REPLICAS - 1))); do
    read -r a b < <(curl -s "http://127.0.0.1:$((SHARD_HTTP + i))/metrics" | awk '/^limedb_batch_ops_sum/ {s=$2} /^limedb_batch_ops_count/ {c=$2} END {print s+0, c+0}')
    s=$(awk -v x="$s" -v y="$a" 'BEGIN {print x + y}'); c=$(awk -v x="$c" -v y="$b" 'BEGIN {print x + y}')
  done
  echo "$s $c"
}

read -r bs0 bc0 < <(batches)
c0=$(ticks $coord); s0=$(ticks $shards); t0=$(date +%s%N)
redis-benchmark -p $LIME_RESP -t "$OP" -n "$REQUESTS" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -P "$PIPELINE" --csv \
  > "$work/bench.csv" 2>/dev/null &
bench=$!
perfs=()
sleep 0.3
bpid=$(pgrep -n redis-benchmark || true); b0=$( [ -n "$bpid" ] && ticks "$bpid" || echo 0); bt0=$(date +%s%N)
if command -v perf >/dev/null; then
  perf record -q -e cpu-clock -F 499 -g -p "$coord" -o "$out/coordinator.perf" -- sleep 4 >/dev/null 2>&1 &
  perfs+=($!)
  perf record -q -e cpu-clock -F 499 -g -p "$shard0" -o "$out/shard-0.perf" -- sleep 4 >/dev/null 2>&1 &
  perfs+=($!)
fi
sleep 2
b1=$( [ -n "$bpid" ] && ticks "$bpid" 2>/dev/null || echo "$b0"); bt1=$(date +%s%N)
wait $bench
t1=$(date +%s%N); c1=$(ticks $coord); s1=$(ticks $shards)
read -r bs1 bc1 < <(batches)
for p in "${perfs[@]}"; do wait "$p" 2>/dev/null || true; done
window=$(( (t1 - t0) / 1000000000 + 1 ))
for p in $coord $shard0; do jcmd "$p" JFR.dump name=profile begin=-${window}s filename="$work/$p.jfr" >/dev/null; done
cp "$work/$coord.jfr" "$out/coordinator.jfr"; cp "$work/$shard0.jfr" "$out/shard-0.jfr"

set +o pipefail # the reports below are cut short with head
hz=$(getconf CLK_TCK)
rps=$(awk -F, 'NR>1 {gsub(/"/,""); print $2}' "$work/bench.csv")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b - a) / 1e9}')
per() { awk -v t="$1" -v hz="$hz" -v n="$REQUESTS" 'BEGIN {printf "%.1f", t / hz / n * 1e6}'; }
alloc() { # bytes per request from JFR allocation samples (weights estimate all allocation)
  "$JAVA_HOME/bin/jfr" print --events jdk.ObjectAllocationSample "$1" | awk -v n="$REQUESTS" -v secs="$secs" '
    /weight = / { v = $3; u = $4; m = (u ~ /kB/) ? 1024 : (u ~ /MB/) ? 1048576 : (u ~ /GB/) ? 1073741824 : 1; gsub(/[^0-9.]/, "", v); s += v * m }
    END { printf "%.0f", s / n }'
}
{
  echo "# LimeDB profile, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
  echo "# redis-benchmark -t $OP -P $PIPELINE -c $CLIENTS -d $SIZE -r $KEYSPACE -n $REQUESTS; 3 shards x $REPLICAS"
  echo "requests/s                        $rps"
  echo "CPU per request, coordinator      $(per $((c1 - c0))) us"
  echo "CPU per request, shards (all)     $(per $((s1 - s0))) us"
  echo "CPU, redis-benchmark              $(awk -v t=$((b1 - b0)) -v hz="$hz" -v a="$bt0" -v b="$bt1" 'BEGIN {printf "%.0f%% of a core", t / hz / ((b - a) / 1e9) * 100}')"
  echo "operations per batch at shards    $(awk -v a=$((${bs1%.*} - ${bs0%.*})) -v b=$((${bc1%.*} - ${bc0%.*})) 'BEGIN {printf "%.1f (%d batches)", b ? a / b : 0, b}')"
  echo "allocated per request             coordinator $(alloc "$out/coordinator.jfr") B, shard-0 $(alloc "$out/shard-0.jfr") B (x3 shards)"
  if [ -f "$out/coordinator.perf" ]; then
    for n in coordinator shard-0; do
      echo; echo "## $n: CPU by library (perf cpu-clock)"
      perf report -i "$out/$n.perf" --no-children --sort dso -g none 2>/dev/null | grep -E '^ +[0-9]' | head -6 | sed -E 's/[0-9]{6,}\.so/.so/'
      echo "## $n: by thread"
      perf report -i "$out/$n.perf" --no-children --sort comm -g none 2>/dev/null | grep -E '^ +[0-9]' | head -5
      echo "## $n: hottest symbols"
      perf report -i "$out/$n.perf" --no-children --sort sym -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12
    done
  fi
  for n in coordinator shard-0; do
    echo; echo "## $n: JFR hottest Java methods"
    "$JAVA_HOME/bin/jfr" view --width 160 hot-methods "$out/$n.jfr" | grep -E '[0-9]+\.[0-9]+%' | head -12
  done
} | tee "$out/summary.txt"

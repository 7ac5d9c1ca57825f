#!/usr/bin/env bash
# `make profile`: where the time goes under redis-benchmark load through the coordinator.
# Starts LimeDB dev (coordinator + 3 shards, REPLICAS members each), warms it up, then runs one load
# (OP, PIPELINE, SIZE) twice and reports:
#   - requests per second;
#   - CPU time per request of the coordinator, the shards (all members) and redis-benchmark, from
#     /proc/<pid>/stat (instructions and cycles per request of each tier: make bench-cost);
#   - operations per batch the shards received (limedb_batch_ops);
#   - where the CPU goes in the coordinator, shard-0's primary and (REPLICAS > 1) one of its replicas, from async-profiler: Java, JVM,
#     RocksDB and kernel frames in one stack, given as the inclusive share of named steps (memtable,
#     WAL, HTTP/2, socket writes, JIT, ...) and the hottest frames (first run);
#   - bytes allocated per request in the same processes and where (async-profiler's allocation
#     sampling, second run).
# async-profiler (the version pinned in pom.xml) comes from Maven Central. It attaches after the
# warm-up; unlike a JFR recording it does not make the JIT recompile, so the measured window is
# the steady state. Stacks stay in bench/results/profile/ (*.collapsed, for flame graph tools).
#
# Knobs: OP (set), PIPELINE (1), SIZE (100), CLIENTS (50), REQUESTS (300000; 1500000 pipelined), REPLICAS (1),
# KEYSPACE (1000000), WARMUP (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
OP=${OP:-set} PIPELINE=${PIPELINE:-1} SIZE=${SIZE:-100} CLIENTS=${CLIENTS:-50}
REQUESTS=${REQUESTS:-$(( PIPELINE > 1 ? 1500000 : 300000 ))} # so the load lasts well past redis-benchmark's 2 s sample
REPLICAS=${REPLICAS:-1} KEYSPACE=${KEYSPACE:-1000000} WARMUP=${WARMUP:-1000000}
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=node-image/target/limedb-node.jar
[ -f "$JAR" ] || { echo "profile: $JAR missing; run make build" >&2; exit 1; }
bench/install-tools.sh
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "profile: async-profiler is fetched for linux-x64 only" >&2; exit 1; }
ap_version=$(sed -n 's:.*<async-profiler.version>\(.*\)</async-profiler.version>.*:\1:p' pom.xml)
ap_jar="$HOME/.m2/repository/tools/profiler/async-profiler/$ap_version/async-profiler-$ap_version-linux-x64.jar"
if [ ! -f "$ap_jar" ]; then
  echo "profile: fetching async-profiler $ap_version from Maven Central" >&2
  mvn -B -q -ntp dependency:get -Dartifact="tools.profiler:async-profiler:$ap_version:jar:linux-x64" >/dev/null \
    || { echo "profile: could not fetch tools.profiler:async-profiler:$ap_version" >&2; exit 1; }
fi
LIME_RESP=16380 LIME_HTTP=18080 LIME_GRPC=19090 SHARD_GRPC=19091 SHARD_HTTP=18081 LIME_CONTROL=18070
out=bench/results/profile
mkdir -p "$out"
work=$(mktemp -d /tmp/limedb-profile.XXXXXX)
dev=
cleanup() { [ -n "$dev" ] && kill "$dev" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
(cd "$work" && "$JAVA_HOME/bin/jar" xf "$ap_jar" linux-x64/libasyncProfiler.so)
aplib="$work/linux-x64/libasyncProfiler.so"
ap() { # pid command: one async-profiler command (the inner quotes keep jcmd from splitting at '=')
  "$JAVA_HOME/bin/jcmd" "$1" JVMTI.agent_load "$aplib" "\"$2\"" >/dev/null
}

"$JAVA_HOME/bin/java" -jar "$JAR" dev --shards=3 --replicas="$REPLICAS" --data-dir="$work/lime" --resp-port=$LIME_RESP \
  --http-port=$LIME_HTTP --grpc-port=$LIME_GRPC --shard-grpc-base=$SHARD_GRPC --shard-http-base=$SHARD_HTTP \
  --control-port=$LIME_CONTROL > "$work/dev.log" 2>&1 &
dev=$!
for _ in $(seq 1 240); do grep -q 'cluster is up' "$work/dev.log" 2>/dev/null && break; sleep 0.5; done
grep -q 'cluster is up' "$work/dev.log" || { cat "$work/dev.log"; exit 1; }
echo "profile: warming up ..." >&2
WARMUP=$WARMUP CLIENTS=$CLIENTS KEYSPACE=$KEYSPACE SIZES=$SIZE PIPELINES="1 16" bench/warmup.sh $LIME_RESP "$work/lime" >/dev/null

node_pid() { pgrep -f -- "--node.id=$1 " | head -1; }
coord=$(node_pid coordinator)
shards=$(pgrep -f -- "limedb-node.jar shard " | tr '\n' ' ')
# shard-0's primary (the member that takes the writes), from the coordinator's view of the cluster
state=$(curl -s "http://127.0.0.1:$LIME_HTTP/api/v1/cluster/state")
shard0=$(echo "$state" \
  | grep -oE '"id":"shard-0(-[0-9]+)?","address":"[^"]*","role":"(primary|standalone)"[^}]*"pid":[0-9]+' \
  | grep -oE '[0-9]+$' | head -1 || true)
[ -n "$shard0" ] || shard0=$(pgrep -f -- "--node.id=shard-0" | head -1)
# with replication, one of shard-0's replicas as well (profiled the same way, named shard-0-replica)
replica0=
if [ "$REPLICAS" -gt 1 ]; then
  replica0=$(echo "$state" \
    | grep -oE '"id":"shard-0-[0-9]+","address":"[^"]*","role":"replica"[^}]*"pid":[0-9]+' \
    | grep -oE '[0-9]+$' | head -1 || true)
  [ -n "$replica0" ] || { echo "profile: no replica of shard-0 found in the cluster state" >&2; exit 1; }
fi
profiled="$coord $shard0 $replica0"
ticks() { # CPU ticks of the processes (a process gone counts 0)
  local t=0 v
  for p in "$@"; do v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || true); t=$((t + ${v:-0})); done
  echo $t
}
batches() { # sum count of limedb_batch_ops over the shards' primaries
  local s=0 c=0
  for i in $(seq 0 $((3 * REPLICAS - 1))); do
    read -r a b < <(curl -s "http://127.0.0.1:$((SHARD_HTTP + i))/metrics" | awk '/^limedb_batch_ops_sum/ {s=$2} /^limedb_batch_ops_count/ {c=$2} END {print s+0, c+0}')
    s=$(awk -v x="$s" -v y="$a" 'BEGIN {print x + y}'); c=$(awk -v x="$c" -v y="$b" 'BEGIN {print x + y}')
  done
  echo "$s $c"
}
load() { # the measured load, writing redis-benchmark's CSV to $1
  redis-benchmark -p $LIME_RESP -t "$OP" -n "$REQUESTS" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -P "$PIPELINE" --csv \
    > "$1" 2>/dev/null
}

# Run 1: CPU. Samples every 500 us of CPU time, all threads, with kernel frames. Attaching the
# profiler makes the JIT compile again for a while; a first pass under it is not recorded.
for p in $profiled; do ap "$p" start,event=cpu,interval=500us; done
redis-benchmark -p $LIME_RESP -t "$OP" -n "$WARMUP" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -P "$PIPELINE" -q >/dev/null 2>&1
for p in $profiled; do ap "$p" stop; ap "$p" start,event=cpu,interval=500us; done
read -r bs0 bc0 < <(batches)
c0=$(ticks $coord); s0=$(ticks $shards)
load "$work/bench.csv" &
bench=$!
sleep 0.3
bpid=$(pgrep -n redis-benchmark || true); b0=$( [ -n "$bpid" ] && ticks "$bpid" || echo 0); bt0=$(date +%s%N)
sleep 2
b1=$( [ -n "$bpid" ] && ticks "$bpid" 2>/dev/null || echo "$b0"); bt1=$(date +%s%N)
wait $bench
c1=$(ticks $coord); s1=$(ticks $shards)
read -r bs1 bc1 < <(batches)
ap "$coord" "stop,file=$PWD/$out/coordinator.collapsed,collapsed"
ap "$shard0" "stop,file=$PWD/$out/shard-0.collapsed,collapsed"
[ -z "$replica0" ] || ap "$replica0" "stop,file=$PWD/$out/shard-0-replica.collapsed,collapsed"

# Run 2: allocations (sampled about every 512 KiB; "total" weighs each sample by the bytes it stands for).
for p in $profiled; do ap "$p" start,event=alloc,alloc=512k; done
load "$work/bench2.csv"
ap "$coord" "stop,file=$PWD/$out/coordinator-alloc.collapsed,collapsed,total"
ap "$shard0" "stop,file=$PWD/$out/shard-0-alloc.collapsed,collapsed,total"
[ -z "$replica0" ] || ap "$replica0" "stop,file=$PWD/$out/shard-0-replica-alloc.collapsed,collapsed,total"

set +o pipefail # the reports below are cut short with head
hz=$(getconf CLK_TCK)
rps=$(awk -F, 'NR>1 {gsub(/"/,""); print $2}' "$work/bench.csv")
per() { awk -v t="$1" -v hz="$hz" -v n="$REQUESTS" 'BEGIN {printf "%.1f", t / hz / n * 1e6}'; }
# Named steps of a request, each as the share of samples with that frame on the stack.
STEPS='rocksdb::MemTable::Add=memtable insert
rocksdb::MemTable::Get=memtable lookup
rocksdb::Version::Get=SST lookup
rocksdb::DBImpl::WriteGroupToWAL=WAL write
rocksdb::FlushJob::Run=memtable flush
rocksdb::CompactionJob::Run=compaction
io/limedb/node/shard/ShardGrpcService.run=shard: running batches
io/limedb/node/replication/PrimarySessions$Session.pump=shard: sending to replicas
io/limedb/node/replication/Follower.apply=replica: applying records
io/netty/handler/codec/http2/Http2ConnectionHandler.decode=HTTP/2 (gRPC) reads, with what they trigger
io/grpc/netty/WriteQueue.flush=gRPC writes
io/netty/handler/flush/FlushConsolidationHandler$1.run=RESP reply writes
io/limedb/node/resp/RespDecoder.decode=RESP decoding
io/limedb/node/coordinator/ShardLink.flush=coordinator: batching to shards
io/netty/channel/epoll/Native.epollWait=epoll_wait (going idle)
tcp_sendmsg_[k]=kernel: TCP send (on loopback it includes the receiving side)
tcp_recvmsg_[k]=kernel: TCP receive
CompileBroker::compiler_thread_loop=JIT compiler
VMThread::run=JVM VM thread (GC pauses, safepoints)'
steps() {
  awk -v steps="$STEPS" '
    BEGIN { n = split(steps, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], kv, "="); key[i] = kv[1]; name[i] = kv[2] } }
    { c = $NF; total += c; for (i = 1; i <= n; i++) if (index($0, key[i] ";") || index($0, key[i] " ")) hit[i] += c }
    END { for (i = 1; i <= n; i++) if (hit[i] > 0) printf "  %5.1f%%  %s\n", 100 * hit[i] / total, name[i] }' "$1"
}
hottest() { # frames by their own share (the last frame of each stack)
  awk '{ c = $NF; total += c; sub(/ [0-9]+$/, ""); k = split($0, f, ";"); self[f[k]] += c }
    END { for (s in self) printf "  %5.1f%%  %s\n", 100 * self[s] / total, s }' "$1" | sort -rn | head -"${2:-12}"
}
bytes_per_request() { awk -v n="$REQUESTS" '{ s += $NF } END { printf "%.0f", s / n }' "$1"; }
{
  echo "# LimeDB profile, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
  echo "# redis-benchmark -t $OP -P $PIPELINE -c $CLIENTS -d $SIZE -r $KEYSPACE -n $REQUESTS; 3 shards x $REPLICAS"
  echo "requests/s                        $rps (under the CPU profiler; $(awk -F, 'NR>1 {gsub(/"/,""); print $2}' "$work/bench2.csv") under the allocation profiler)"
  echo "CPU per request, coordinator      $(per $((c1 - c0))) us"
  echo "CPU per request, shards (all)     $(per $((s1 - s0))) us"
  echo "CPU, redis-benchmark              $(awk -v t=$((b1 - b0)) -v hz="$hz" -v a="$bt0" -v b="$bt1" 'BEGIN {printf "%.0f%% of a core", t / hz / ((b - a) / 1e9) * 100}')"
  echo "operations per batch at shards    $(awk -v a=$((${bs1%.*} - ${bs0%.*})) -v b=$((${bc1%.*} - ${bc0%.*})) 'BEGIN {printf "%.1f (%d batches)", b ? a / b : 0, b}')"
  echo "allocated per request             coordinator $(bytes_per_request "$out/coordinator-alloc.collapsed") B, shard-0 $(bytes_per_request "$out/shard-0-alloc.collapsed") B (x3 shards)"
  for n in coordinator shard-0 ${replica0:+shard-0-replica}; do
    echo; echo "## $n: where the CPU goes (inclusive share of its samples)"
    steps "$out/$n.collapsed"
    echo "## $n: hottest frames (own share)"
    hottest "$out/$n.collapsed"
    echo "## $n: what allocates (share of bytes)"
    hottest "$out/$n-alloc.collapsed" 6
  done
} | tee "$out/summary.txt"

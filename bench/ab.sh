#!/usr/bin/env bash
# `make bench-ab`: two LimeDB builds (or two settings) side by side, both running at once, measured in
# alternation: A, B, A, B, ... Each round runs the same redis-benchmark load against one cluster
# while the other idles, so a machine that slows down for a while (this VM's speed drifts by 20%
# between minutes) slows both. Prints each round's throughput and CPU per request (shards, and the
# coordinator, from /proc), then the medians and B/A. CPU per request is the steadier figure.
#
# Usage: A_JAR=old.jar B_JAR=new.jar bench/ab.sh        (two builds)
#        A_ENV="" B_ENV="LIMEDB_X=1" bench/ab.sh         (one build, two settings: env of the cluster)
# Prints, per round, also the bytes compactions wrote per request and redis-benchmark's p99.
# Knobs: OP (get), PIPELINE (16), REQUESTS (200000), SIZE (100), CLIENTS (50), KEYSPACE (1000000),
# ROUNDS (5), REPLICAS (1), PASSES (3: warm-up passes of bench/warmup.sh, the same for both).
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
A_JAR=${A_JAR:-node-image/target/limedb-node.jar} B_JAR=${B_JAR:-$A_JAR} A_ENV=${A_ENV:-} B_ENV=${B_ENV:-}
OP=${OP:-get} PIPELINE=${PIPELINE:-16} REQUESTS=${REQUESTS:-200000} SIZE=${SIZE:-100} CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-1000000} ROUNDS=${ROUNDS:-5} REPLICAS=${REPLICAS:-1} PASSES=${PASSES:-3}
for j in "$A_JAR" "$B_JAR"; do [ -f "$j" ] || { echo "bench-ab: $j missing" >&2; exit 1; }; done
command -v redis-benchmark >/dev/null || bench/install-tools.sh
work=$(mktemp -d /tmp/limedb-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

port() { [ "$1" = A ] && echo 16480 || echo 26480; } # RESP port; the cluster's other ports follow it
start() { # A|B
  local side=$1 base jar env
  base=$(port "$side"); jar=A_JAR; env=A_ENV
  [ "$side" = B ] && { jar=B_JAR; env=B_ENV; }
  mkdir -p "$work/$side"
  ( for kv in ${!env}; do export "${kv?}"; done
    exec "$JAVA_HOME/bin/java" -jar "${!jar}" dev --shards=3 --replicas="$REPLICAS" --data-dir="$work/$side" \
      --resp-port="$base" --http-port=$((base + 100)) --grpc-port=$((base + 200)) --shard-grpc-base=$((base + 201)) \
      --shard-http-base=$((base + 101)) --control-port=$((base + 300)) >"$work/$side.log" 2>&1 ) &
  pids+=($!)
}
ready() { # A|B
  for _ in $(seq 1 240); do grep -q 'cluster is up' "$work/$1.log" && return 0; sleep 0.5; done
  echo "bench-ab: cluster $1 did not come up; its log:" >&2; tail -20 "$work/$1.log" >&2; exit 1
}
ticks() { # side, node-id prefix: CPU ticks of that cluster's matching nodes
  local t=0 p v
  for p in $(pgrep -f -- "$work/$1/" || true); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "--node.id=$2" || continue
    v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0); t=$((t + v))
  done
  echo $t
}
shard_metric() { # side, metric: its value summed over the cluster's shard members
  local base i t=0 v
  base=$(port "$1")
  for i in $(seq 0 $((3 * REPLICAS - 1))); do
    v=$(curl -s "http://127.0.0.1:$((base + 101 + i))/metrics" | awk -v m="$2" '{n = $1; sub(/[{].*/, "", n)} n == m {printf "%.0f", $NF}')
    t=$((t + ${v:-0}))
  done
  echo $t
}
compacted() { shard_metric "$1" limedb_rocksdb_compact_write_bytes_total; } # bytes compactions wrote so far
sst() { echo $(( $(shard_metric "$1" limedb_rocksdb_total_sst_files_size) >> 20 )); } # MiB of SST files

echo "A: $A_JAR ${A_ENV:-(default settings)}"
echo "B: $B_JAR ${B_ENV:-(default settings)}"
echo "load: -t $OP -P $PIPELINE -d $SIZE -c $CLIENTS -n $REQUESTS, keys over $KEYSPACE; $ROUNDS rounds each, alternating"
# One cluster after the other: twenty cold JVMs starting at once on two cores left a replicated shard's
# first writes waiting longer than the coordinator's 3 s deadline (an UNKNOWN reply ends redis-benchmark).
for side in A B; do
  start "$side"; ready "$side"
  PASSES=$PASSES bench/warmup.sh "$(port $side)" >"$work/warmup-$side.log" 2>&1 || {
    echo "bench-ab: the warm-up of cluster $side failed (redis-benchmark stops at the first error reply); its output:" >&2
    tr '\r' '\n' <"$work/warmup-$side.log" | grep -v 'rps=' | tail -5 >&2; exit 1; }
done
hz=$(getconf CLK_TCK)
kA0=$(compacted A); kB0=$(compacted B)
for r in $(seq 1 "$ROUNDS"); do
  for side in $( [ $((r % 2)) = 1 ] && echo "A B" || echo "B A"); do
    s0=$(ticks $side shard); c0=$(ticks $side coordinator); k0=$(compacted $side)
    read -r rps p99 < <(redis-benchmark -p "$(port $side)" -t "$OP" -n "$REQUESTS" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" \
      -P "$PIPELINE" --csv | awk -F, 'NR>1{gsub(/"/,""); print $2, $7}')
    s1=$(ticks $side shard); c1=$(ticks $side coordinator); k1=$(compacted $side)
    awk -v side=$side -v r=$r -v rps="$rps" -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v n="$REQUESTS" -v hz="$hz" -v k=$((k1 - k0)) -v p99="$p99" \
      'BEGIN{printf "round %d %s: %9.0f req/s   shards %6.2f us/req   coordinator %6.2f us/req   compaction %6.0f B/req   p99 %6.2f ms\n", r, side, rps, s*1e6/hz/n, c*1e6/hz/n, k/n, p99}'
  done
done | tee "$work/rounds.txt"
awk '{side=$3; sub(":","",side); n[side]++; rps[side,n[side]]=$4; sh[side,n[side]]=$7; co[side,n[side]]=$10; pp[side,n[side]]=$16
    sr[side]+=$4; ss[side]+=$7; sc[side]+=$10}
  function med(arr, s, k,   i, j, t, v) { for (i=1;i<=k;i++) v[i]=arr[s,i]; for (i=1;i<=k;i++) for (j=i+1;j<=k;j++) if (v[j]<v[i]) {t=v[i];v[i]=v[j];v[j]=t}; return v[int((k+1)/2)] }
  END { a=n["A"]; b=n["B"]
    printf "median   A: %9.0f req/s   shards %6.2f us/req   coordinator %6.2f us/req\n", med(rps,"A",a), med(sh,"A",a), med(co,"A",a)
    printf "median   B: %9.0f req/s   shards %6.2f us/req   coordinator %6.2f us/req\n", med(rps,"B",b), med(sh,"B",b), med(co,"B",b)
    printf "B / A:      %9.2fx req/s  shards %6.2fx CPU      coordinator %6.2fx CPU\n", med(rps,"B",b)/med(rps,"A",a), med(sh,"B",b)/med(sh,"A",a), med(co,"B",b)/med(co,"A",a)
    printf "p99, median of the rounds: A %.2f ms, B %.2f ms\n", med(pp,"A",a), med(pp,"B",b)
    # A load whose rounds do or do not catch a compaction (SETs of large values) spreads in two
    # groups; over the whole run the means, and the bytes compactions wrote, are the steadier figures.
    printf "mean     A: %9.0f req/s   shards %6.2f us/req   coordinator %6.2f us/req\n", sr["A"]/a, ss["A"]/a, sc["A"]/a
    printf "mean     B: %9.0f req/s   shards %6.2f us/req   coordinator %6.2f us/req\n", sr["B"]/b, ss["B"]/b, sc["B"]/b
    printf "B / A:      %9.2fx req/s  shards %6.2fx CPU      coordinator %6.2fx CPU\n", sr["B"]/sr["A"], ss["B"]/ss["A"], sc["B"]/sc["A"] }' "$work/rounds.txt"
# Compactions run in the background, partly during the other cluster's rounds: their bytes over the whole run.
kA1=$(compacted A); kB1=$(compacted B)
awk -v a=$((kA1 - kA0)) -v b=$((kB1 - kB0)) -v n=$((ROUNDS * REQUESTS)) \
  'BEGIN {printf "compaction writes over all rounds: A %.0f B/req, B %.0f B/req, B / A %.2fx\n", a/n, b/n, a ? b/a : 0}'
echo "SST files after the rounds: A $(sst A) MiB, B $(sst B) MiB"

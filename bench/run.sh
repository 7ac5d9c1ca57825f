#!/usr/bin/env bash
# `make bench`: redis-benchmark through LimeDB's coordinator next to two baselines, in the same run on
# the same machine:
#   - twemproxy (nutcracker, ketama) in front of three redis-servers: a sharding proxy, our peer;
#   - one redis-server: the ceiling of the protocol on this machine.
# Both Redis baselines write an append-only file on every write without fsync, as LimeDB writes its
# RocksDB WAL on every write without fsync. Each (value size, pipeline) cell runs ROUNDS times, the
# systems in a rotating order, and the table gives the medians and the ratios of the medians; every
# round's figures are in the results file too. Then the same with replication: LimeDB with 3 members
# per shard (sync, min-in-sync 2) against twemproxy over three redis-servers that each have a replica.
# Last, one shard's gRPC paths next to raw RocksDB puts.
# Writes bench/results/<time>.txt and bench/results/latest.txt. See bench/README.md.
#
# Knobs (environment): REQUESTS (100000), CLIENTS (50), SIZES ("100 1024"), KEYSPACE (1000000),
# PIPELINES ("1 16"), ROUNDS (3), WARMUP (1000000 pipelined requests, then bench/warmup.sh's passes until
# the JIT has settled, before measuring LimeDB), REPLICATION (1: also the
# replicated comparison; 0: skip), SHARD (1: also bench-shard; 0: skip), SHARD_SECONDS (5), VALUE_CACHE_MB
# (512: each LimeDB shard's value cache, enough for its third of the keyspace at 1 KB, as each redis-server
# holds its third in memory; the memory each system ends with is printed next to the table).
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-100000} CLIENTS=${CLIENTS:-50} SIZES=${SIZES:-"100 1024"} KEYSPACE=${KEYSPACE:-1000000}
PIPELINES=${PIPELINES:-"1 16"} ROUNDS=${ROUNDS:-3} WARMUP=${WARMUP:-1000000} SHARD_SECONDS=${SHARD_SECONDS:-5}
VALUE_CACHE_MB=${VALUE_CACHE_MB:-512}
export LIMEDB_VALUE_CACHE_MB=$VALUE_CACHE_MB # read by the shards that `dev` starts
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=${JAR:-node-image/target/limedb-node.jar}
[ -f "$JAR" ] || { echo "bench: $JAR missing; run make build" >&2; exit 1; }
bench/install-tools.sh
. bench/lib.sh
scratch bench
memory() { # label name: resident memory of LimeDB's processes and of the Redis baselines, after the measured rounds
  echo "# memory after the $1 rounds (resident): limedb $(rss_mb "$work/$2") MiB (value cache $VALUE_CACHE_MB MiB per shard member);" \
    "twemproxy + its redis-servers $(( $(rss_mb "nutcracker -c $work") + $(rss_mb "redis-server 127.0.0.1:16[34][09][1-3]") )) MiB"
}

run() { # port size pipeline -> "SET rps p50 p99" and "GET rps p50 p99"
  redis-benchmark -h 127.0.0.1 -p "$1" -t set,get -n "$REQUESTS" -c "$CLIENTS" -d "$2" -r "$KEYSPACE" \
    -P "$3" --csv 2>/dev/null | awk -F, 'NR>1 {gsub(/"/,""); print $1, $2, $5, $7}'
}

mkdir -p bench/results
out="bench/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
raw="$work/raw.txt" # system size pipeline op rps p50 p99, one line per round
: > "$raw"

measure() { # label: system:port ... ; fills $raw with ROUNDS rounds of every cell, rotating the order
  local label=$1; shift
  local systems=("$@") n=${#systems[@]}
  for r in $(seq 1 "$ROUNDS"); do
    for size in $SIZES; do
      for p in $PIPELINES; do
        for i in $(seq 0 $((n - 1))); do
          local s=${systems[$(( (i + r) % n ))]}
          run "${s#*:}" "$size" "$p" | while read -r op rps p50 p99; do
            echo "$label ${s%%:*} $size $p $op $rps $p50 $p99 $r" >> "$raw"
          done
        done
      done
    done
    echo "bench: $label round $r of $ROUNDS done" >&2
  done
}

table() { # label base1 [base2]: medians per cell and the ratios LimeDB / base
  local label=$1 b1=$2 b2=${3:-}
  awk -v label="$label" -v b1="$b1" -v b2="$b2" '
    function median(list,   a, i, k, n, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (a[k] + 0 < a[i] + 0) { t = a[i]; a[i] = a[k]; a[k] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    $1 == label { key = $3 " " $4 " " $5; cells[key] = 1; rps[$2, key] = rps[$2, key] " " $6; p99[$2, key] = p99[$2, key] " " $8; p50[$2, key] = p50[$2, key] " " $7 }
    END {
      printf "%-6s %-4s %-4s %10s %7s %7s %10s %7s %7s", "size", "pipe", "op", "limedb/s", "p50", "p99", b1 "/s", "p50", "p99"
      if (b2 != "") printf " %10s %7s", b2 "/s", "p99"
      printf " %8s", "/" b1; if (b2 != "") printf " %8s", "/" b2; printf "\n"
      n = 0; for (k in cells) keys[++n] = k
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) { split(keys[i], x, " "); split(keys[j], y, " ")
        if (x[1] + 0 > y[1] + 0 || (x[1] == y[1] && (x[2] + 0 > y[2] + 0 || (x[2] == y[2] && x[3] < y[3])))) { t = keys[i]; keys[i] = keys[j]; keys[j] = t } }
      for (i = 1; i <= n; i++) { k = keys[i]; split(k, c, " ")
        l = median(rps["limedb", k]); a = median(rps[b1, k])
        printf "%-6s P%-3s %-4s %10.0f %7.3f %7.3f %10.0f %7.3f %7.3f", c[1], c[2], c[3], l, median(p50["limedb", k]), median(p99["limedb", k]), a, median(p50[b1, k]), median(p99[b1, k])
        if (b2 != "") { b = median(rps[b2, k]); printf " %10.0f %7.3f", b, median(p99[b2, k]) }
        printf " %7.2fx", (a > 0 ? l / a : 0); if (b2 != "") printf " %7.2fx", (b > 0 ? l / b : 0); printf "\n" } }' "$raw"
}

{
  echo "# LimeDB benchmark, $(date -u +%FT%TZ), $(nproc) cores, $(uname -r), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# redis-benchmark -n $REQUESTS -c $CLIENTS -r $KEYSPACE, values of $SIZES bytes, pipelines $PIPELINES; medians of $ROUNDS rounds"
  echo "# limedb: coordinator + 3 shards (make dev); twemproxy: $(nutcracker --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1), ketama over 3 redis-servers; redis: one redis-server $(redis-server --version | grep -o 'v=[0-9.]*')"
  echo "# durability: LimeDB writes the RocksDB WAL on every write (no fsync); redis-servers appendonly yes, appendfsync no"
  echo "# memory: each LimeDB shard member has a value cache of $VALUE_CACHE_MB MiB (value.cache.mb) in front of RocksDB; redis-servers hold all their data in memory"
} | tee "$out"

# 1. No replication.
redis $REDIS_PORT
for i in 1 2 3; do redis $((BACKEND_BASE + i)); done
for port in $REDIS_PORT $((BACKEND_BASE + 1)) $((BACKEND_BASE + 2)) $((BACKEND_BASE + 3)); do wait_ping "$port"; done
twemproxy
lime_start lime --shards=3
baseline_warm $TWEM_PORT
baseline_warm $REDIS_PORT
measure single limedb:$LIME_RESP twemproxy:$TWEM_PORT redis:$REDIS_PORT
mem=$(memory single lime)
lime_stop
{ echo; echo "## 3 shards, no replication"; table single twemproxy redis; echo "$mem"; } | tee -a "$out"

# 2. Replication: 3 members per shard (sync, min-in-sync 2) vs twemproxy over primaries with a replica each.
if [ "${REPLICATION:-1}" = 1 ]; then
  backend_replicas
  lime_start repl --shards=3 --replicas=3 --replication=sync
  baseline_warm $TWEM_PORT
  measure replicated limedb:$LIME_RESP twemproxy:$TWEM_PORT
  mem=$(memory replicated repl)
  { echo; echo "## replicated: LimeDB 3 shards x 3 members (sync, min-in-sync 2); twemproxy over 3 redis-servers with a replica each (async)"; table replicated twemproxy; echo "$mem"; } | tee -a "$out"
  if [ "${SHARD:-1}" = 1 ]; then lime_stop; fi
fi

# 3. One shard's gRPC paths next to raw RocksDB.
if [ "${SHARD:-1}" = 1 ]; then
  lime_start shard --shards=3
  echo "" | tee -a "$out"
  echo "## one shard's gRPC paths (shard-0 of a 3-shard dev cluster) vs raw RocksDB puts in the bench process" | tee -a "$out"
  "$JAVA_HOME/bin/java" -jar "$JAR" bench-shard --target=127.0.0.1:$SHARD_GRPC --http=127.0.0.1:$SHARD_HTTP \
    --seconds="$SHARD_SECONDS" --value-size=100 2>/dev/null | tee -a "$out"
fi

{ echo; echo "## every round (label system size pipeline op rps p50_ms p99_ms round)"; cat "$raw"; } >> "$out"
cp "$out" bench/results/latest.txt
echo "bench: results in $out"

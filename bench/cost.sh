#!/usr/bin/env bash
# `make bench-cost`: what one request costs each tier, LimeDB against twemproxy over three
# redis-servers, on the same loads after the same warm-up: instructions and cycles (perf stat, the
# CPU's own counters) and CPU time (/proc/<pid>/stat) per request, for the proxy tier (LimeDB's
# coordinator, nutcracker) and the server tier (LimeDB's shard members, the redis-servers and their
# replicas). Requests per second say which system is faster; these say in which tier the difference
# lies, and whether it is work done (instructions) or time spent on it (cycles: cache misses, thread
# switches).
#
# Knobs (environment): OPS ("get set"), PIPELINES ("1 16"), SIZE (100), REPLICAS (1; 3: LimeDB 3 x 3
# sync against backends with an async replica each), REQUESTS (200000 at pipeline 1, 5x that
# pipelined), CLIENTS (50), KEYSPACE (1000000), WARMUP (1000000), VALUE_CACHE_MB (512, as make bench).
# perf's per-thread counting slows every context switch on this VM, so req/s under it are not
# make bench's figures; both systems pay it. Writes bench/results/cost-<time>.txt. Needs perf (Debian
# linux-perf; installed when missing) and a machine whose CPU counters reach the VM (`perf stat -e
# instructions true` tells); without them the instruction columns read n/a and the CPU time columns
# still hold.
set -euo pipefail
cd "$(dirname "$0")/.."
OPS=${OPS:-"get set"} PIPELINES=${PIPELINES:-"1 16"} SIZE=${SIZE:-100} REPLICAS=${REPLICAS:-1}
REQUESTS=${REQUESTS:-200000} CLIENTS=${CLIENTS:-50} KEYSPACE=${KEYSPACE:-1000000} WARMUP=${WARMUP:-1000000}
VALUE_CACHE_MB=${VALUE_CACHE_MB:-512} SIZES=$SIZE
export LIMEDB_VALUE_CACHE_MB=$VALUE_CACHE_MB
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
JAR=${JAR:-node-image/target/limedb-node.jar}
[ -f "$JAR" ] || { echo "bench-cost: $JAR missing; run make build" >&2; exit 1; }
[ "$REPLICAS" = 1 ] || [ "$REPLICAS" = 3 ] || { echo "bench-cost: REPLICAS must be 1 or 3, not $REPLICAS" >&2; exit 2; }
bench/install-tools.sh
if ! command -v perf >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "bench-cost: perf missing; install it (apt-get install linux-perf)" >&2; exit 1; }
  echo "bench-cost: installing linux-perf" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi
. bench/lib.sh
scratch cost

hz=$(getconf CLK_TCK)
ticks() { # CPU ticks of the processes (user + system)
  local t=0 p v
  for p in "$@"; do v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0); t=$((t + v)); done
  echo $t
}
counted() { # file event: the count perf stat wrote for that event, or n/a
  awk -F, -v e="$2" '$3 == e || $3 ~ "^" e ":" { v = $1 } END { print (v ~ /^[0-9.]+$/ ? v : "n/a") }' "$1"
}
measure() { # system proxy-pids server-pids: one line per load
  local system=$1 proxy=$2 servers=$3 op p n rps t0p t0s t1p t1s pp ps
  for p in $PIPELINES; do
    for op in $OPS; do
      n=$(( p > 1 ? REQUESTS * 5 : REQUESTS ))
      t0p=$(ticks $proxy); t0s=$(ticks $servers)
      # Each tier's threads counted from now on (perf stat -p follows the threads that exist when it
      # attaches; the CPU time from /proc is the check that none were missed).
      perf stat -x, -e instructions,cycles,task-clock -p "$(echo $proxy | tr ' ' ,)" -o "$work/perf-proxy" &
      pp=$!
      perf stat -x, -e instructions,cycles,task-clock -p "$(echo $servers | tr ' ' ,)" -o "$work/perf-servers" &
      ps=$!
      sleep 0.5
      rps=$(redis-benchmark -p "$4" -t "$op" -n "$n" -c "$CLIENTS" -d "$SIZE" -r "$KEYSPACE" -P "$p" --csv 2>/dev/null \
        | awk -F, 'NR>1 {gsub(/"/,""); print $2}')
      kill -INT $pp $ps; wait $pp $ps 2>/dev/null || true
      t1p=$(ticks $proxy); t1s=$(ticks $servers)
      echo "$system $p $op $n $rps $(counted "$work/perf-proxy" instructions) $(counted "$work/perf-proxy" cycles)" \
        "$(counted "$work/perf-servers" instructions) $(counted "$work/perf-servers" cycles) $((t1p - t0p)) $((t1s - t0s))" \
        "$(counted "$work/perf-proxy" task-clock) $(counted "$work/perf-servers" task-clock)" >> "$work/raw"
      echo "bench-cost: $system -P $p -t $op: $rps req/s" >&2
    done
  done
}

out="bench/results/cost-$(date -u +%Y%m%dT%H%M%SZ).txt"
: > "$work/raw"

# LimeDB: coordinator + 3 shards (x REPLICAS members), warmed up to steady state.
if [ "$REPLICAS" = 3 ]; then lime_start lime --shards=3 --replicas=3 --replication=sync; else lime_start lime --shards=3; fi
coord=$(pgrep -f -- "limedb-node.jar coordinator .*$work/lime" | tr '\n' ' ')
shards=$(pgrep -f -- "limedb-node.jar shard .*$work/lime" | tr '\n' ' ')
[ -n "$coord" ] && [ -n "$shards" ] || { echo "bench-cost: LimeDB's processes not found" >&2; exit 1; }
measure limedb "$coord" "$shards" $LIME_RESP
lime_stop

# twemproxy over three redis-servers (each with a replica when REPLICAS=3), given the same warm-up traffic.
for i in 1 2 3; do redis $((BACKEND_BASE + i)); done
for i in 1 2 3; do wait_ping $((BACKEND_BASE + i)); done
[ "$REPLICAS" = 3 ] && backend_replicas
twemproxy
baseline_warm $TWEM_PORT
nut=$(pgrep -f -- "nutcracker -c $work" | tr '\n' ' ')
backends=$(pgrep -f -- "redis-server 127.0.0.1:16[34][09][1-3]" | tr '\n' ' ')
measure twemproxy "$nut" "$backends" $TWEM_PORT

{
  echo "# LimeDB cost per request, $(date -u +%FT%TZ), $(nproc) cores, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# redis-benchmark -c $CLIENTS -d $SIZE -r $KEYSPACE; $( [ "$REPLICAS" = 3 ] && echo "LimeDB 3 shards x 3 members (sync) vs twemproxy over 3 redis-servers with an async replica each" || echo "LimeDB 3 shards vs twemproxy over 3 redis-servers")"
  echo "# per request: ins = instructions, cyc = cycles (perf stat, user + kernel), us = CPU time (/proc; perf's per-thread counting adds to it, more for the system with more thread switches)"
  echo "# proxy = LimeDB coordinator / nutcracker; server = LimeDB shard members / redis-servers"
  awk -v hz="$hz" '
    function per(x, n) { return x == "n/a" ? "n/a" : sprintf("%.0f", x / n) }
    function ratio(a, b) { return (a == "n/a" || b == "n/a" || b == 0) ? "n/a" : sprintf("%.2fx", a / b) }
    { k = $2 " " $3; keys[k] = 1; rps[$1, k] = $5; n[$1, k] = $4; pi[$1, k] = $6; pc[$1, k] = $7; si[$1, k] = $8; sc[$1, k] = $9
      pt[$1, k] = $10 / hz / $4 * 1e6; st[$1, k] = $11 / hz / $4 * 1e6; order[++m] = k
      # perf counts the threads that existed when it attached: its CPU time against /proc tells whether it saw all
      if ($12 != "n/a" && $10 > 0) { cov = $12 / 1000 / ($10 / hz); if (cov < mincov || mincov == "") mincov = cov }
      if ($13 != "n/a" && $11 > 0) { cov = $13 / 1000 / ($11 / hz); if (cov < mincov || mincov == "") mincov = cov } }
    END {
      printf "%-9s %-11s %9s %10s %10s %10s %10s %9s %9s\n", "load", "system", "req/s", "proxy ins", "proxy cyc", "server ins", "server cyc", "proxy us", "server us"
      for (j = 1; j <= m; j++) { k = order[j]; if (done[k]++) continue; split(k, c, " ")
        for (s = 0; s < 2; s++) { sys = s ? "twemproxy" : "limedb"; x = sys SUBSEP k
          printf "P%-2s %-5s %-11s %9.0f %10s %10s %10s %10s %9.2f %9.2f\n", c[1], toupper(c[2]), sys, rps[x], per(pi[x], n[x]), per(pc[x], n[x]), per(si[x], n[x]), per(sc[x], n[x]), pt[x], st[x] }
        a = "limedb" SUBSEP k; b = "twemproxy" SUBSEP k
        printf "%-9s %-11s %9s %10s %10s %10s %10s %9s %9s\n", "", "LimeDB/twem", sprintf("%.2fx", rps[a] / rps[b]), ratio(per(pi[a], n[a]), per(pi[b], n[b])), ratio(per(pc[a], n[a]), per(pc[b], n[b])), ratio(per(si[a], n[a]), per(si[b], n[b])), ratio(per(sc[a], n[a]), per(sc[b], n[b])), sprintf("%.2fx", pt[a] / pt[b]), sprintf("%.2fx", st[a] / st[b]) }
      if (mincov != "") printf "# perf counted at least %.0f%% of the CPU time /proc reports for every tier and load%s\n", 100 * mincov, (mincov < 0.9 ? " (below 90%: threads started after perf attached were missed; instructions are low)" : "") }' "$work/raw"
} | tee "$out"
echo "bench-cost: results in $out" >&2

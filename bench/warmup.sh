#!/usr/bin/env bash
# Warms up a LimeDB dev cluster before it is measured: the JVMs were just started, and what a
# long-running server does (the JIT compiles the paths it runs, for the batch sizes it sees) has to be
# done before the figures mean steady state. Measured on the 2-core VM (bench/README.md, third
# round): after the old warm-up (1M pipelined requests, then 50k unpipelined) the replicated
# cluster's JIT compilers still took 38% of its CPU during unpipelined SETs, and those ran at 7.5k/s;
# five passes later the compilers took 6% and the same load ran at 15k/s.
#
# So: WARMUP pipelined requests first, then passes over every shape the benchmark measures (pipeline
# 1 and 16, each value size, SET and GET) until, over a whole pass, the JIT compiler threads of the
# cluster's JVMs took less than JIT_SHARE percent of their CPU (at least MIN_PASSES, at most
# MAX_PASSES passes). Each pass is printed on stderr.
#
# The warm-up writes data (random keys, both value sizes), and what a GET finds depends on it (a hit
# returns a value, a miss does not). So a baseline measured next to LimeDB gets the same traffic:
# PASSES=n runs exactly n passes at any server, without looking at the JIT.
#
# Usage: bench/warmup.sh PORT DATA_DIR   (the cluster's processes are those with DATA_DIR in their
# command line: `limedb-node.jar dev --data-dir=DATA_DIR` and the nodes it starts)
#        PASSES=n bench/warmup.sh PORT   (any Redis-protocol server: the same traffic, n passes)
# Prints the number of passes run on stdout.
# Knobs (environment): WARMUP (1000000), CLIENTS (50), KEYSPACE (1000000), SIZES ("100 1024"),
# PIPELINES ("1 16"), PASS_REQUESTS (50000 per cell, 2x at pipeline > 1), JIT_SHARE (8), MIN_PASSES (2),
# MAX_PASSES (10), PASSES (unset).
set -euo pipefail
port=${1:?usage: bench/warmup.sh PORT DATA_DIR}
WARMUP=${WARMUP:-1000000} CLIENTS=${CLIENTS:-50} KEYSPACE=${KEYSPACE:-1000000} SIZES=${SIZES:-"100 1024"}
PIPELINES=${PIPELINES:-"1 16"} PASS_REQUESTS=${PASS_REQUESTS:-50000} JIT_SHARE=${JIT_SHARE:-8}
MIN_PASSES=${MIN_PASSES:-2} MAX_PASSES=${MAX_PASSES:-10} PASSES=${PASSES:-}
if [ -n "$PASSES" ]; then MIN_PASSES=$PASSES MAX_PASSES=$PASSES; dir=; else dir=${2:?usage: bench/warmup.sh PORT DATA_DIR}; fi

pids() { pgrep -f -- "$dir" || true; }
ticks() { # total CPU ticks of the cluster's processes, and of their JIT compiler threads
  local all=0 jit=0 p t v
  for p in $(pids); do
    v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0); all=$((all + v))
    for t in /proc/$p/task/*; do
      case "$(cat "$t/comm" 2>/dev/null)" in
        C1\ Compiler*|C2\ Compiler*) v=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0); jit=$((jit + v)) ;;
      esac
    done
  done
  echo "$all $jit"
}
[ -z "$dir" ] || [ -n "$(pids)" ] || { echo "warmup: no process with $dir in its command line" >&2; exit 1; }

out=$(redis-benchmark -p "$port" -t set,get -n "$WARMUP" -c "$CLIENTS" -d 100 -r "$KEYSPACE" -P 16 -q 2>&1) || {
  echo "warmup: redis-benchmark failed at port $port:" >&2
  printf '%s\n' "$out" | tr '\r' '\n' | grep -v 'rps=' | grep -v '^ *$' | tail -3 >&2; exit 1; }
for pass in $(seq 1 "$MAX_PASSES"); do
  a0=0 j0=0; [ -z "$dir" ] || read -r a0 j0 < <(ticks)
  figures=""
  for size in $SIZES; do
    for p in $PIPELINES; do
      n=$PASS_REQUESTS; [ "$p" -gt 1 ] && n=$((2 * PASS_REQUESTS))
      figures="$figures $(redis-benchmark -p "$port" -t set,get -n "$n" -c "$CLIENTS" -d "$size" -r "$KEYSPACE" -P "$p" --csv 2>/dev/null \
        | awk -F, -v c="${size}B/P$p" 'NR > 1 {gsub(/"/, ""); s = s sprintf(" %s %.0fk", $1, $2 / 1000)} END {print c s ";"}')"
    done
  done
  if [ -z "$dir" ]; then
    echo "warmup: port $port: pass $pass of $PASSES;$figures" >&2
    continue
  fi
  read -r a1 j1 < <(ticks)
  share=$(( a1 > a0 ? 100 * (j1 - j0) / (a1 - a0) : 0 ))
  echo "warmup: pass $pass: JIT compilers took ${share}% of the cluster's CPU;$figures" >&2
  if [ "$pass" -ge "$MIN_PASSES" ] && [ "$share" -lt "$JIT_SHARE" ]; then echo "$pass"; exit 0; fi
done
[ -z "$dir" ] || echo "warmup: JIT compilers still above ${JIT_SHARE}% after $MAX_PASSES passes; measuring anyway" >&2
echo "$MAX_PASSES"

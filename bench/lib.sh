# Helpers shared by the benchmark scripts that run LimeDB next to its Redis baselines (run.sh, cost.sh):
# the ports, a scratch directory cleaned up on exit, a redis-server, twemproxy over three of them, a
# LimeDB dev cluster warmed up to steady state. Sourced, not run. The caller sets JAVA_HOME, JAR and the
# load's shape for the warm-up (WARMUP CLIENTS KEYSPACE SIZES PIPELINES), then calls `scratch NAME`.

export PATH="$PATH:/usr/sbin" # nutcracker
REDIS_PORT=16379 LIME_RESP=16380 LIME_HTTP=18080 LIME_GRPC=19090 SHARD_GRPC=19091 SHARD_HTTP=18081
TWEM_PORT=22121 TWEM_STATS=22222 BACKEND_BASE=16390 REPLICA_BASE=16400 LIME_CONTROL=18070

scratch() { # name: $work, a directory under /tmp; every process started here is killed and $work removed on exit
  work=$(mktemp -d "/tmp/limedb-$1.XXXXXX")
  pids=()
  lime_pid=
  trap cleanup EXIT INT TERM
}
cleanup() {
  for p in "${pids[@]}" $lime_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

redis() { # port [extra args]: a redis-server with LimeDB's durability (log per write, no fsync)
  local port=$1; shift
  mkdir -p "$work/redis-$port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync no \
    --dir "$work/redis-$port" --logfile "$work/redis-$port/log" "$@" &
  pids+=($!)
}
wait_ping() { for _ in $(seq 1 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "bench: nothing answers on $1" >&2; exit 1; }

twemproxy() { # the three backends (16391-16393) behind nutcracker on TWEM_PORT
  cat > "$work/nutcracker.yml" <<EOF
limedb_bench:
  listen: 127.0.0.1:$TWEM_PORT
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  timeout: 5000
  servers:
   - 127.0.0.1:$((BACKEND_BASE + 1)):1 s1
   - 127.0.0.1:$((BACKEND_BASE + 2)):1 s2
   - 127.0.0.1:$((BACKEND_BASE + 3)):1 s3
EOF
  nutcracker -c "$work/nutcracker.yml" -s $TWEM_STATS -a 127.0.0.1 -o "$work/nutcracker.log" &
  pids+=($!)
  wait_ping $TWEM_PORT
}

backend_replicas() { # a replica (async, as Redis replicates) of each of twemproxy's backends, on REPLICA_BASE + 1..3
  for i in 1 2 3; do redis $((REPLICA_BASE + i)) --replicaof 127.0.0.1 $((BACKEND_BASE + i)); done
  for i in 1 2 3; do
    wait_ping $((REPLICA_BASE + i))
    for _ in $(seq 1 100); do redis-cli -p $((REPLICA_BASE + i)) info replication | grep -q 'master_link_status:up' && break; sleep 0.1; done
  done
}

lime_start() { # name [dev args]: LimeDB dev (coordinator + shards) on LIME_RESP
  local name=$1; shift
  rm -rf "$work/$name"
  "$JAVA_HOME/bin/java" -jar "$JAR" dev --data-dir="$work/$name" --resp-port=$LIME_RESP --http-port=$LIME_HTTP \
    --grpc-port=$LIME_GRPC --shard-grpc-base=$SHARD_GRPC --shard-http-base=$SHARD_HTTP --control-port=$LIME_CONTROL \
    "$@" > "$work/$name.log" 2>&1 &
  lime_pid=$!
  for _ in $(seq 1 240); do grep -q 'cluster is up' "$work/$name.log" 2>/dev/null && break; sleep 0.5; done
  grep -q 'cluster is up' "$work/$name.log" || { cat "$work/$name.log"; echo "bench: LimeDB did not start" >&2; exit 1; }
  # The JVMs were just started: measure steady state, as for any JVM service (bench/warmup.sh).
  echo "bench: warming up LimeDB ($name: $WARMUP pipelined requests, then passes of every measured shape until the JIT has settled; not measured) ..." >&2
  lime_passes=$(WARMUP=$WARMUP CLIENTS=$CLIENTS KEYSPACE=$KEYSPACE SIZES="$SIZES" PIPELINES="$PIPELINES" bench/warmup.sh $LIME_RESP "$work/$name")
}
baseline_warm() { # port: the same warm-up traffic LimeDB got (the data it leaves decides what GETs find)
  echo "bench: giving port $1 the same warm-up traffic ($WARMUP pipelined requests, $lime_passes passes) ..." >&2
  PASSES=$lime_passes WARMUP=$WARMUP CLIENTS=$CLIENTS KEYSPACE=$KEYSPACE SIZES="$SIZES" PIPELINES="$PIPELINES" bench/warmup.sh "$1" >/dev/null
}
rss_mb() { # pattern: resident memory of the processes whose command line matches, in MiB
  local kb=0 p
  for p in $(pgrep -f -- "$1" || true); do kb=$((kb + $(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  echo $((kb / 1024))
}
lime_stop() { kill "$lime_pid" 2>/dev/null || true; wait "$lime_pid" 2>/dev/null || true; lime_pid=; }

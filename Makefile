# LimeDB entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Newest JDK >= 21 under /usr/lib/jvm unless JAVA_HOME already points at one.
JAVA_HOME ?= $(shell scripts/find-jdk.sh)
export JAVA_HOME
export PATH := $(JAVA_HOME)/bin:$(PATH)
MVN ?= mvn -B -ntp
SHARDS ?= 3
REPLICAS ?= 2
DATA ?= $(CURDIR)/data/dev

.PHONY: help build test crds dev bench bench-ab bench-cost bench-memory bench-reads bench-writes bench-reshard profile clean
help: ## this list
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## compile and package the node (node-image/target/limedb-node.jar)
	$(MVN) -DskipTests package

test: ## unit + integration tests (real RocksDB, real processes, redis-cli)
	$(MVN) verify

crds: ## regenerate the LimeCluster CRD (crds/, charts/limedb-operator/crds/) from operator/.../crd/
	$(MVN) -pl operator -am test -Dtest=CrdUpToDateTest -Dsurefire.failIfNoSpecifiedTests=false -Dlimedb.crd.write=true

dev: build ## local cluster: coordinator + $(SHARDS) shards x $(REPLICAS) members on 127.0.0.1, data in $(DATA)
	java -jar node-image/target/limedb-node.jar dev --shards=$(SHARDS) --replicas=$(REPLICAS) --data-dir=$(DATA)

bench: build ## redis-benchmark: LimeDB vs twemproxy over 3 redis-servers vs redis-server, medians of 3 (bench/README.md)
	bench/run.sh

profile: build ## where the time goes under redis-benchmark load: CPU and bytes per request, batch size, async-profiler
	bench/profile.sh

bench-ab: build ## two builds or two settings side by side, alternating rounds: A_JAR=old.jar B_JAR=new.jar, or B_ENV="LIMEDB_X=..." (bench/ab.sh)
	bench/ab.sh

bench-cost: build ## instructions and CPU time per request of each tier, LimeDB vs twemproxy: OPS, PIPELINES, SIZE, REPLICAS=1|3 (bench/cost.sh)
	bench/cost.sh

bench-memory: build ## a shard under a container memory limit (LIMIT_MB, default 512) and load, as a pod runs it: peak memory, OOM kills; REPLICAS=3: a replicated shard, one replica paused per round (bench/memory.sh)
	bench/memory.sh

bench-reads: build ## CPU per point read in a shard's RocksDB: one Get per key vs one MultiGet per batch (bench/README.md)
	"$(JAVA_HOME)/bin/java" -jar node-image/target/limedb-node.jar bench-reads

bench-writes: build ## CPU per key written to a shard's RocksDB: batches inserted in key order vs in arrival order (bench/README.md)
	"$(JAVA_HOME)/bin/java" -jar node-image/target/limedb-node.jar bench-writes

bench-reshard: build ## time to move 100,000 and 1,000,000 keys between shards, client throughput during the move
	bench/reshard.sh

clean: ## remove build output (keeps dev data)
	$(MVN) -q clean

-include e2e/e2e.mk

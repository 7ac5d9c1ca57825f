#!/usr/bin/env bash
# LimeDB's kind cluster for end-to-end tests, on machines with or without a container registry.
#
#   e2e/cluster.sh up            docker engine, tools, node image (cached), cluster, kubeconfig
#   e2e/cluster.sh down          delete the cluster
#   e2e/cluster.sh load IMAGE..  copy local docker images into the cluster's containerd
#   e2e/cluster.sh node-image    only build (or find cached) the kind node image
#   e2e/cluster.sh jre-image     only build the offline JRE base image (prints its name)
#   e2e/cluster.sh limedb-image  build node-image/ (the jar must exist) as $LIMEDB_E2E_IMAGE and
#                                load it into the cluster if it is up
#   e2e/cluster.sh operator-image  build operator/ (target/quarkus-app must exist) as
#                                $LIMEDB_E2E_OPERATOR_IMAGE and load it into the cluster if it is up
#   e2e/cluster.sh kubeconfig-default  merge the cluster's context into ~/.kube/config (as plain kind
#                                does) and make it current; e2e tests keep e2e/target/kubeconfig
#   e2e/cluster.sh status        what exists and where the cache is
#   e2e/cluster.sh env           exports for a shell: eval "$(e2e/cluster.sh env)"; kubectl get pods
#   e2e/cluster.sh prune         drop the Go module and build caches (~7 GiB); the built
#                                binaries stay, a version change then rebuilds from cold
#
# Without a registry the kind node image is assembled here (see lib/images.sh) and cached under
# $LIMEDB_E2E_CACHE (default /var/cache/limedb-e2e) and in the docker engine, keyed by versions.
# LIMEDB_E2E_STOCK_NODE=1 uses kind's own kindest/node image instead (needs a registry, or the
# image already present locally).

# shellcheck source=lib/images.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/images.sh"
# shellcheck source=lib/docker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/docker.sh"

STOCK_NODE_IMAGE=kindest/node:v1.34.0
LIMEDB_IMAGE=${LIMEDB_E2E_IMAGE:-limedb/node:e2e}
OPERATOR_IMAGE=${LIMEDB_E2E_OPERATOR_IMAGE:-limedb/operator:e2e}
PUBLIC_JRE_IMAGE=eclipse-temurin:21-jre

cluster_exists() { kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; }
node_container() { echo "$CLUSTER_NAME-control-plane"; }
running_node_image() { docker inspect -f '{{.Image}}' "$(node_container)" 2>/dev/null || true; }

install_kubectl() {
  [ -x "$BIN/kubectl" ] && return 0
  build_kube_binaries
  install -m 0755 "$CACHE/k8s/$K8S_VERSION/bin/kubectl" "$BIN/kubectl"
}

tools() {
  timed "kind/helm" install_host_tools
  timed "kubectl" install_kubectl
}

# Sets NODE_IMAGE_USED: kind's stock image where asked for (or present), else ours, built now
# unless cached. debootstrap waits on the network and disks, the Go builds on the CPU, so the
# root filesystems are made in the background while kubectl, etcd and CoreDNS compile.
node_image() {
  if [ "${LIMEDB_E2E_STOCK_NODE:-0}" = 1 ] || docker image inspect "$STOCK_NODE_IMAGE" >/dev/null 2>&1; then
    NODE_IMAGE_USED=$STOCK_NODE_IMAGE
    tools
    return 0
  fi
  NODE_IMAGE_USED=$NODE_IMAGE
  if node_image_cached; then
    log "node image $NODE_IMAGE is cached"
    tools
    return 0
  fi
  apt_install debootstrap
  local rootfs_log=$CACHE/rootfs/prefetch.log
  mkdir -p "$CACHE/rootfs"
  (rootfs_tar node "$NODE_PKGS" && rootfs_tar slim "$SLIM_PKGS") >"$rootfs_log" 2>&1 &
  local rootfs_pid=$!
  tools
  timed "Kubernetes binaries" build_kube_binaries
  timed "etcd" build_etcd
  timed "CoreDNS" build_coredns
  timed "waiting for debootstrap" wait "$rootfs_pid" || { cat "$rootfs_log" >&2; die "debootstrap failed"; }
  timed "node image" build_node_image
}

write_kubeconfig() {
  mkdir -p "$(dirname "$KUBECONFIG_OUT")"
  kind get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_OUT"
  log "kubeconfig: $KUBECONFIG_OUT"
}

wait_ready() {
  export KUBECONFIG=$KUBECONFIG_OUT
  log "waiting for the node and CoreDNS"
  kubectl wait --for=condition=Ready node --all --timeout=300s >/dev/null
  kubectl -n kube-system rollout status deployment/coredns --timeout=300s >/dev/null
  kubectl get storageclass standard >/dev/null
}

up() {
  local t0=$SECONDS
  timed "docker engine" ensure_docker
  node_image
  local image=$NODE_IMAGE_USED
  mkdir -p "$(dirname "$KUBECONFIG_OUT")"
  if cluster_exists && [ "$(running_node_image)" = "$(docker image inspect -f '{{.Id}}' "$image")" ] &&
     kind get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_OUT.tmp" 2>/dev/null &&
     kubectl --kubeconfig "$KUBECONFIG_OUT.tmp" get --raw /readyz >/dev/null 2>&1; then
    log "cluster $CLUSTER_NAME is already up"
  else
    cluster_exists && kind delete cluster --name "$CLUSTER_NAME"
    log "creating kind cluster $CLUSTER_NAME from $image"
    timed "kind create cluster" kind create cluster --name "$CLUSTER_NAME" --image "$image" \
      --config "$E2E_DIR/kind-config.yaml" --kubeconfig "$KUBECONFIG_OUT" --retain
  fi
  rm -f "$KUBECONFIG_OUT.tmp"
  write_kubeconfig
  timed "node and CoreDNS ready" wait_ready
  log "cluster up in $((SECONDS - t0))s"
}

down() {
  command -v kind >/dev/null || return 0
  docker info >/dev/null 2>&1 || return 0
  if cluster_exists; then kind delete cluster --name "$CLUSTER_NAME"; fi
}

load() {
  [ $# -gt 0 ] || die "usage: cluster.sh load IMAGE..."
  cluster_exists || die "cluster $CLUSTER_NAME is not up"
  log "loading $* into $(node_container)"
  docker save "$@" | docker exec -i "$(node_container)" ctr --namespace=k8s.io images import --no-unpack=false -
}

# The JRE base of LimeDB's images (BASE_IMAGE): a public JRE where one is at hand (set
# LIMEDB_E2E_BASE_IMAGE, or have it locally), otherwise the JRE image built offline here.
jre_base() {
  JRE_BASE=${LIMEDB_E2E_BASE_IMAGE:-}
  [ -n "$JRE_BASE" ] && return 0
  if docker image inspect "$PUBLIC_JRE_IMAGE" >/dev/null 2>&1; then JRE_BASE=$PUBLIC_JRE_IMAGE
  else timed "JRE image" build_jre_image; JRE_BASE=$JRE_IMAGE; fi
}

# docker_build_and_load WHAT IMAGE CONTEXT: docker build on the JRE base, then load into the cluster if up.
docker_build_and_load() {
  local what=$1 image=$2 ctx=$3
  ensure_docker
  jre_base
  log "docker build $image on $JRE_BASE"
  timed "$what image" docker build -q --build-arg "BASE_IMAGE=$JRE_BASE" -t "$image" "$ctx" \
    2> >(quiet_legacy_builder >&2) >/dev/null
  if cluster_exists; then timed "image load" load "$image"; fi
}

limedb_image() {
  local repo; repo=$(cd "$E2E_DIR/.." && pwd)
  [ -f "$repo/node-image/target/limedb-node.jar" ] || die "node-image/target/limedb-node.jar is missing: make build"
  docker_build_and_load LimeDB "$LIMEDB_IMAGE" "$repo/node-image"
}

operator_image() {
  local repo; repo=$(cd "$E2E_DIR/.." && pwd)
  [ -f "$repo/operator/target/quarkus-app/quarkus-run.jar" ] ||
    die "operator/target/quarkus-app is missing: mvn -pl operator -am -DskipTests package (or make images)"
  docker_build_and_load operator "$OPERATOR_IMAGE" "$repo/operator"
}

# The cluster's context in the user's kubeconfig (~/.kube/config, or $LIMEDB_USER_KUBECONFIG), made
# current, as `kind create cluster` does without --kubeconfig.
kubeconfig_default() {
  cluster_exists || die "cluster $CLUSTER_NAME is not up: e2e/cluster.sh up"
  local target=${LIMEDB_USER_KUBECONFIG:-$HOME/.kube/config}
  mkdir -p "$(dirname "$target")"
  kind export kubeconfig --name "$CLUSTER_NAME" --kubeconfig "$target"
}

prune() {
  log "removing $GOMODCACHE and $GOCACHE"
  chmod -R u+w "$GOMODCACHE" 2>/dev/null || true
  rm -rf "$GOMODCACHE" "$GOCACHE" "$CACHE/build"
}

status() {
  echo "cache: $CACHE ($(du -sh "$CACHE" 2>/dev/null | cut -f1))"
  echo "node image: $NODE_IMAGE $(docker image inspect -f '{{.Size}}' "$NODE_IMAGE" 2>/dev/null || echo absent)"
  echo "cluster: $CLUSTER_NAME $(cluster_exists && echo up || echo absent)"
  echo "kubeconfig: $KUBECONFIG_OUT"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  load) shift; load "$@" ;;
  node-image) ensure_docker; node_image ;;
  jre-image) ensure_docker; build_jre_image; echo "$JRE_IMAGE" ;;
  limedb-image) limedb_image ;;
  operator-image) operator_image ;;
  kubeconfig-default) kubeconfig_default ;;
  status) status ;;
  prune) prune ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_OUT PATH=$BIN:\$PATH" ;;
  *) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

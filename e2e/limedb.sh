#!/usr/bin/env bash
# LimeDB on the kind cluster the way a user runs it: the operator from charts/limedb-operator, then
# the example LimeCluster. `make up` runs `cluster.sh up`, `make images`, then `limedb.sh install`;
# `make down` runs `limedb.sh uninstall`.
#
#   e2e/limedb.sh operator    the CRD, then helm upgrade --install of the operator with the local
#                             images (pullPolicy Never) into limedb-system, and its rollout (`make e2e`)
#   e2e/limedb.sh install     operator, then the example LimeCluster in namespace default and a wait
#                             until it is Ready, with progress every 10 s (`make up`)
#   e2e/limedb.sh uninstall   delete the example, helm uninstall, delete the operator's namespace;
#                             the kind cluster, the CRD and the example's volumes stay
#
# Settings (environment): LIMEDB_E2E_IMAGE, LIMEDB_E2E_OPERATOR_IMAGE (the local images),
# LIMEDB_UP_TIMEOUT (seconds to wait for Ready, default 600), LIMEDB_UP_T0 (epoch seconds that
# `make up` started at, for the total time).

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REPO=$(cd "$E2E_DIR/.." && pwd)
CHART=$REPO/charts/limedb-operator
EXAMPLE=$CHART/examples/limecluster.yaml
RELEASE=limedb-operator
OPERATOR_NS=limedb-system
EXAMPLE_NS=default
NODE_IMAGE_LOCAL=${LIMEDB_E2E_IMAGE:-limedb/node:e2e}
OPERATOR_IMAGE_LOCAL=${LIMEDB_E2E_OPERATOR_IMAGE:-limedb/operator:e2e}
TIMEOUT=${LIMEDB_UP_TIMEOUT:-600}
export KUBECONFIG=$KUBECONFIG_OUT

[ -f "$KUBECONFIG" ] || die "no kubeconfig at $KUBECONFIG: e2e/cluster.sh up"

# The CRD the chart carries, applied on every install: helm installs crds/ only once and never
# upgrades it, and the model changes often during development. Until the chart has its copy, the
# one the operator build just generated.
apply_crd() {
  local crd=$CHART/crds/limeclusters.limedb.io-v1.yml
  if [ ! -f "$crd" ]; then
    crd=$REPO/operator/target/kubernetes/limeclusters.limedb.io-v1.yml
    [ -f "$crd" ] || die "no LimeCluster CRD in $CHART/crds/ nor operator/target/kubernetes/: make images"
    log "the chart has no CRD yet: using $crd"
  fi
  kubectl apply --server-side --force-conflicts -f "$crd" >/dev/null
  kubectl wait --for=condition=Established crd/limeclusters.limedb.io --timeout=60s >/dev/null
}

# The local tag stays the same from build to build: the image's id in a pod annotation makes helm
# roll the operator exactly when its image changed.
image_id() { docker image inspect -f '{{.Id}}' "$OPERATOR_IMAGE_LOCAL" 2>/dev/null | sed 's/^sha256://' | cut -c1-20; }

install_operator() {
  local repo=${OPERATOR_IMAGE_LOCAL%:*} tag=${OPERATOR_IMAGE_LOCAL##*:}
  log "helm upgrade --install $RELEASE (operator $OPERATOR_IMAGE_LOCAL, nodes $NODE_IMAGE_LOCAL) in $OPERATOR_NS"
  helm upgrade --install "$RELEASE" "$CHART" -n "$OPERATOR_NS" --create-namespace \
    --set image.repository="$repo" --set-string image.tag="$tag" --set image.pullPolicy=Never \
    --set nodeImage="$NODE_IMAGE_LOCAL" --set-string "podAnnotations.limedb\.io/image-id=$(image_id)" >/dev/null
  if ! kubectl -n "$OPERATOR_NS" rollout status "deployment/$RELEASE" --timeout=180s; then
    kubectl -n "$OPERATOR_NS" get pods -o wide >&2
    kubectl -n "$OPERATOR_NS" logs "deployment/$RELEASE" --tail=40 >&2 || true
    die "the operator did not become ready"
  fi
}

# Waits for Ready, printing `kubectl get lime` and the example's pods every 10 s.
wait_ready() {
  local t0=$SECONDS
  log "waiting up to ${TIMEOUT}s for limecluster/example to be Ready"
  until kubectl -n "$EXAMPLE_NS" wait --for=condition=Ready limecluster/example --timeout=10s >/dev/null 2>&1; do
    local waited=$((SECONDS - t0)) pods
    pods=$(kubectl -n "$EXAMPLE_NS" get pods --no-headers 2>/dev/null |
      awk '$1 ~ /^example-/ { n++; split($2, r, "/"); if (r[1] == r[2] && $3 == "Running") ok++ }
           END { printf "%d/%d pods ready", ok, n }')
    printf '%s e2e: %4ds  example: %s; %s\n' "$(date +%H:%M:%S)" "$waited" "$(kubectl -n "$EXAMPLE_NS" get lime example \
      -o jsonpath='phase {.status.phase}, ready shards {.status.ready}, ring {.status.ringVersion}, Ready={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}' \
      2>/dev/null)" "$pods" >&2
    if [ "$waited" -ge "$TIMEOUT" ]; then
      log "limecluster/example is not Ready after ${TIMEOUT}s; to see why:"
      echo "  kubectl describe lime example" >&2
      echo "  kubectl -n $OPERATOR_NS logs deployment/$RELEASE" >&2
      exit 1
    fi
  done
}

operator() {
  timed "CRD" apply_crd
  timed "operator" install_operator
}

install() {
  local t0=${LIMEDB_UP_T0:-$(date +%s)}
  operator
  kubectl -n "$EXAMPLE_NS" apply -f "$EXAMPLE" >/dev/null
  log "applied $EXAMPLE in namespace $EXAMPLE_NS"
  timed "LimeCluster example Ready" wait_ready
  local endpoint svc
  endpoint=$(kubectl -n "$EXAMPLE_NS" get lime example -o jsonpath='{.status.coordinatorEndpoint}' 2>/dev/null || true)
  svc=${endpoint%%.*}; svc=${svc%%:*}; svc=${svc:-example-coordinator}
  kubectl -n "$EXAMPLE_NS" get lime example
  cat >&2 <<TEXT

LimeDB is up in $(($(date +%s) - t0))s: LimeCluster example (3 shards x 3 replicas) in namespace $EXAMPLE_NS,
the operator in $OPERATOR_NS. kubectl's current context is kind-$CLUSTER_NAME.

  kubectl port-forward service/$svc 6379:6379 &
  redis-cli -p 6379 set hello world
  kubectl get lime                    # shards, replicas, ready, phase, ring version
  kubectl describe lime example       # conditions, each shard's primary, epoch and lag; events
  kubectl -n $OPERATOR_NS logs deployment/$RELEASE

  make down                           # remove the example and the operator, keep the cluster
TEXT
}

uninstall() {
  if kubectl get crd limeclusters.limedb.io >/dev/null 2>&1; then
    log "deleting limecluster/example in $EXAMPLE_NS (while the operator still runs to finalize it)"
    kubectl -n "$EXAMPLE_NS" delete -f "$EXAMPLE" --ignore-not-found --wait --timeout=180s ||
      log "WARNING: limecluster/example is still there: kubectl describe lime example"
  fi
  log "helm uninstall $RELEASE -n $OPERATOR_NS"
  helm uninstall "$RELEASE" -n "$OPERATOR_NS" --ignore-not-found --wait --timeout=120s >/dev/null
  kubectl delete namespace "$OPERATOR_NS" --ignore-not-found --timeout=120s >/dev/null
  cat >&2 <<TEXT
$(date +%H:%M:%S) e2e: removed. Still there: the kind cluster (make cluster-down), the LimeCluster CRD
  (kubectl delete crd limeclusters.limedb.io deletes every LimeCluster) and the example's volumes,
  kept by whenDeleted: Retain for a later make up (kubectl -n $EXAMPLE_NS get pvc).
TEXT
}

case "${1:-}" in
  operator) operator ;;
  install) install ;;
  uninstall) uninstall ;;
  *) sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

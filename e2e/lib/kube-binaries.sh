# Builds the Kubernetes, etcd and CoreDNS binaries from the Go module proxy into
# $CACHE/k8s/$K8S_VERSION/bin (and etcd/coredns dirs), once per version.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KUBE_CMDS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

# k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging paths, so it cannot be
# built with `go install`. A wrapper module requires it and points every staging module at the
# version published for the same release (v1.34.4 -> v0.34.4).
write_kube_wrapper() {
  local dir=$1 staging=v0.${K8S_VERSION#v1.}
  mkdir -p "$dir"
  local upstream_mod
  upstream_mod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "module limedb.io/e2e/kubebuild"
    echo
    echo "go $(sed -n 's/^go //p' "$upstream_mod")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging"'#p' "$upstream_mod"
    echo ")"
  } > "$dir/go.mod"
}

kube_ldflags() {
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local f=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date -X $pkg.gitCommit=limedb-modproxy-build"
  done
  echo "-s -w$f"
}

build_kube_binaries() {
  local out=$CACHE/k8s/$K8S_VERSION/bin
  [ -x "$out/kubeadm" ] && [ -x "$out/kube-proxy" ] && return 0
  need_go
  local work=$CACHE/k8s/$K8S_VERSION/src
  write_kube_wrapper "$work"
  mkdir -p "$out.tmp"
  local pkgs=()
  for c in "${KUBE_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  log "building Kubernetes $K8S_VERSION: ${KUBE_CMDS[*]} (slow on a cold cache)"
  (cd "$work" && CGO_ENABLED=0 heavy go build -mod=mod -trimpath -tags=providerless \
      -ldflags "$(kube_ldflags)" -o "$out.tmp/" "${pkgs[@]}")
  rm -rf "$out" && mv "$out.tmp" "$out"
}

# etcd's server module replaces its sibling modules with ../ paths; same wrapper trick.
build_etcd() {
  local out=$CACHE/etcd/$ETCD_VERSION/bin
  [ -x "$out/etcd" ] && return 0
  need_go
  local work=$CACHE/etcd/$ETCD_VERSION/src
  mkdir -p "$work" "$out"
  cat > "$work/go.mod" <<MOD
module limedb.io/e2e/etcdbuild

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
MOD
  log "building etcd $ETCD_VERSION"
  (cd "$work" && CGO_ENABLED=0 heavy go build -mod=mod -trimpath -ldflags "-s -w" \
      -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_coredns() {
  local out=$CACHE/coredns/$COREDNS_VERSION/bin
  [ -x "$out/coredns" ] && return 0
  need_go
  log "building CoreDNS $COREDNS_VERSION"
  mkdir -p "$out"
  CGO_ENABLED=0 GOBIN=$out heavy go install -trimpath -ldflags "-s -w" \
    "github.com/coredns/coredns@$COREDNS_VERSION"
}

# Host tools: kind, kubectl (from the Kubernetes build), helm.
install_host_tools() {
  mkdir -p "$BIN"
  if ! [ -x "$BIN/kind" ]; then
    need_go
    log "installing kind $KIND_VERSION"
    CGO_ENABLED=0 GOBIN=$BIN heavy go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
  fi
  if ! [ -x "$BIN/helm" ]; then
    need_go
    log "installing helm $HELM_VERSION"
    CGO_ENABLED=0 GOBIN=$BIN heavy go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  fi
}

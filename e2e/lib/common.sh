# Shared settings for the e2e cluster scripts: versions, cache layout, logging.
# Sourced, never run. Everything the cluster is built from lands under $CACHE, keyed by version.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../versions.env
source "$E2E_DIR/versions.env"

CACHE=${LIMEDB_E2E_CACHE:-/var/cache/limedb-e2e}
CLUSTER_NAME=${LIMEDB_E2E_CLUSTER:-limedb-e2e}
KUBECONFIG_OUT=${LIMEDB_E2E_KUBECONFIG:-$E2E_DIR/target/kubeconfig}
BIN=$CACHE/bin                      # kind, kubectl, helm for the host
export GOPATH=$CACHE/go GOMODCACHE=$CACHE/go/mod GOCACHE=$CACHE/go/build-cache
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
export PATH=$BIN:/usr/local/go/bin:$PATH

NODE_IMAGE=limedb/kind-node:${K8S_VERSION}-limedb1
JRE_IMAGE=  # set by build_jre_image: limedb/jre:<java feature version>-<debian suite>
IMAGE_PREFIX=registry.k8s.io

log() { printf '%s e2e: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Runs "$@" and logs how long it took, so every cold-build step is measured.
timed() {
  local what=$1; shift
  local t0=$SECONDS
  "$@"
  log "$what took $((SECONDS - t0))s"
}

# Niceness for heavy builds, so that other work on a 2-core machine stays responsive.
heavy() { nice -n 10 "$@"; }

# Go >= GO_MIN for building Kubernetes. If the machine's go is missing or older, the toolchain
# comes from the Go module proxy as the module golang.org/toolchain (what `go` itself does with
# GOTOOLCHAIN), into $CACHE/go-toolchain.
GO_MIN=${LIMEDB_E2E_GO_MIN:-1.24}
need_go() {
  local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)
  if [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V | head -1)" = "$GO_MIN" ]; then
    return 0
  fi
  local arch; arch=$(dpkg --print-architecture)
  local mod=golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch
  local dir=$CACHE/go-toolchain/$mod
  if [ ! -x "$dir/bin/go" ]; then
    apt_install curl unzip ca-certificates
    local proxy; proxy=$(go env GOPROXY 2>/dev/null || true)
    proxy=${proxy:-${GOPROXY:-https://proxy.golang.org}}; proxy=${proxy%%,*}
    log "fetching Go $GO_TOOLCHAIN from the module proxy (found ${v:-no go})"
    mkdir -p "$CACHE/go-toolchain"
    curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-$arch.zip" -o "$CACHE/go-toolchain/tc.zip"
    unzip -q -o "$CACHE/go-toolchain/tc.zip" -d "$CACHE/go-toolchain"
    rm "$CACHE/go-toolchain/tc.zip"
    chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
  fi
  export PATH=$dir/bin:$PATH GOROOT=$dir
}

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

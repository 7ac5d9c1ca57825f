# Container images built without a registry: the control plane images kubeadm asks for, tagged
# exactly as `kubeadm config images list` names them, the kind node image that carries them,
# and the offline JRE base image for LimeDB's own node image.
# shellcheck source=kube-binaries.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-binaries.sh"
# shellcheck source=rootfs.sh
source "$(dirname "${BASH_SOURCE[0]}")/rootfs.sh"

export DOCKER_BUILDKIT=0

image_label() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# import_rootfs IMAGE TARBALL: a base image straight from a debootstrap tarball.
import_rootfs() {
  local image=$1 tar=$2 key; key=$(basename "$tar")
  [ "$(image_label "$image" limedb.e2e.key)" = "$key" ] && return 0
  log "docker import $image"
  docker import --change "LABEL limedb.e2e.key=$key" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tar" "$image" >/dev/null
}

# build_image IMAGE KEY CONTEXT: docker build of CONTEXT/Dockerfile unless IMAGE has label KEY.
build_image() {
  local image=$1 key=$2 ctx=$3
  [ "$(image_label "$image" limedb.e2e.key)" = "$key" ] && return 0
  log "docker build $image"
  docker build -q --label "limedb.e2e.key=$key" -t "$image" "$ctx" 2> >(quiet_legacy_builder >&2) >/dev/null
  # The context is a copy of cached files: keep only the image.
  case "$ctx" in "$CACHE"/build/*) rm -rf "$ctx" ;; esac
}

# The legacy builder (no registry is needed for it) announces its deprecation on every build.
quiet_legacy_builder() { grep -vE 'DEPRECATED: The legacy builder|BuildKit is currently disabled|DOCKER_BUILDKIT=0|^\s*environment-variable\.?\s*$|^\s*$' || true; }

build_pause() {
  local out=$CACHE/pause/bin/pause
  [ -x "$out" ] && [ "$out" -nt "$E2E_DIR/images/pause/main.go" ] && return 0
  need_go
  mkdir -p "$(dirname "$out")"
  (cd "$E2E_DIR/images/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out" .)
}

# One image per static binary, FROM scratch: name, binary path, entrypoint style.
scratch_image() {
  local image=$1 bin=$2 entry=$3
  local ctx=$CACHE/build/$(echo "$image" | tr '/:' '__')
  rm -rf "$ctx"; mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/tmp" "$ctx/rootfs/etc"
  cp "$bin" "$ctx/rootfs/usr/local/bin/"
  echo 'root:x:0:0:root:/:/usr/local/bin/nologin' > "$ctx/rootfs/etc/passwd"
  echo 'nonroot:x:65532:65532:nonroot:/:/usr/local/bin/nologin' >> "$ctx/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$ctx/rootfs/etc/group"
  chmod 1777 "$ctx/rootfs/tmp"
  {
    echo "FROM scratch"
    echo "COPY rootfs/ /"
    echo "ENV PATH=/usr/local/bin"
    [ -n "$entry" ] && echo "ENTRYPOINT [\"$entry\"]"
  } > "$ctx/Dockerfile"
  build_image "$image" "$(sha256sum "$bin" "$ctx/Dockerfile" | sha256sum | cut -c1-16)" "$ctx"
}

control_plane_images() {
  local k=$CACHE/k8s/$K8S_VERSION/bin
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    scratch_image "$IMAGE_PREFIX/$c:$K8S_VERSION" "$k/$c" ""
  done
  scratch_image "$IMAGE_PREFIX/etcd:$ETCD_IMAGE_TAG" "$CACHE/etcd/$ETCD_VERSION/bin/etcd" ""
  scratch_image "$IMAGE_PREFIX/coredns/coredns:$COREDNS_VERSION" "$CACHE/coredns/$COREDNS_VERSION/bin/coredns" /usr/local/bin/coredns
  scratch_image "$IMAGE_PREFIX/pause:$PAUSE_TAG" "$CACHE/pause/bin/pause" /usr/local/bin/pause
  # kube-proxy programs iptables, so it needs the tools and glibc: Debian slim underneath.
  import_rootfs limedb/debian-slim:$DEBIAN_SUITE "$(rootfs_tar slim "$SLIM_PKGS")"
  local ctx=$CACHE/build/kube-proxy
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$k/kube-proxy" "$ctx/"
  printf 'FROM limedb/debian-slim:%s\nCOPY kube-proxy /usr/local/bin/kube-proxy\n' "$DEBIAN_SUITE" > "$ctx/Dockerfile"
  build_image "$IMAGE_PREFIX/kube-proxy:$K8S_VERSION" \
    "$(cat "$ctx/Dockerfile" "$ctx/kube-proxy" | sha256sum | cut -c1-16)" "$ctx"
}

control_plane_image_names() {
  echo "$IMAGE_PREFIX/kube-apiserver:$K8S_VERSION $IMAGE_PREFIX/kube-controller-manager:$K8S_VERSION"
  echo "$IMAGE_PREFIX/kube-scheduler:$K8S_VERSION $IMAGE_PREFIX/kube-proxy:$K8S_VERSION"
  echo "$IMAGE_PREFIX/etcd:$ETCD_IMAGE_TAG $IMAGE_PREFIX/coredns/coredns:$COREDNS_VERSION"
  echo "$IMAGE_PREFIX/pause:$PAUSE_TAG"
}

# The image names kubeadm will use must be exactly the ones we built.
check_image_names() {
  local want have
  want=$("$CACHE/k8s/$K8S_VERSION/bin/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null | sort)
  have=$(control_plane_image_names | tr ' ' '\n' | sort)
  [ "$want" = "$have" ] || die "kubeadm wants images:"$'\n'"$want"$'\n'"but versions.env gives:"$'\n'"$have"
}

# The kind node image: Debian node rootfs + our units and configs + kubeadm/kubelet/kubectl +
# the control plane images as one tarball that a boot-time unit imports into containerd.
node_image_key() {
  (cd "$E2E_DIR" && { cat versions.env lib/images.sh; find node images/pause -type f | sort | xargs cat; } | sha256sum | cut -c1-16)
}
node_image_cached() { [ "$(image_label "$NODE_IMAGE" limedb.e2e.key)" = "$(node_image_key)" ]; }

build_node_image() {
  local k=$CACHE/k8s/$K8S_VERSION/bin
  local key; key=$(node_image_key)
  [ "$(image_label "$NODE_IMAGE" limedb.e2e.key)" = "$key" ] && { log "node image $NODE_IMAGE is cached"; return 0; }
  build_pause
  check_image_names
  control_plane_images
  import_rootfs limedb/debian-node:$DEBIAN_SUITE "$(rootfs_tar node "$NODE_PKGS")"
  local ctx=$CACHE/build/node
  rm -rf "$ctx"; mkdir -p "$ctx/bin" "$ctx/images"
  cp -a "$E2E_DIR/node" "$ctx/files"
  sed -i "s/@PAUSE_TAG@/$PAUSE_TAG/" "$ctx/files/etc/containerd/config.toml"
  echo "$K8S_VERSION" > "$ctx/files/kind/version"
  cp "$k/kubeadm" "$k/kubelet" "$k/kubectl" "$ctx/bin/"
  log "saving control plane images"
  # shellcheck disable=SC2046
  docker save -o "$ctx/images/control-plane.tar" $(control_plane_image_names)
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM limedb/debian-node:$DEBIAN_SUITE
COPY files/ /
COPY bin/ /usr/bin/
COPY images/ /kind/images/
RUN echo -n > /etc/machine-id \
 && systemctl enable containerd.service kubelet.service limedb-images.service \
 && systemctl mask getty@tty1.service console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service systemd-modules-load.service systemd-logind.service \
      apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
 && update-alternatives --set iptables /usr/sbin/iptables-nft \
 && update-alternatives --set ip6tables /usr/sbin/ip6tables-nft
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
DOCKERFILE
  build_image "$NODE_IMAGE" "$key" "$ctx"
}

# The offline JRE base for LimeDB's node image: Debian slim + a jlink runtime from the newest JDK.
# The operator (Quarkus) also needs jdk.zipfs (its class loader reads jars through the zip file system),
# java.desktop (java.beans) and the JGSS/SASL/DNS modules the Kubernetes client may load.
JRE_MODULES=java.base,java.logging,java.management,java.naming,java.net.http,jdk.unsupported,java.xml,jdk.crypto.ec,java.sql,jdk.management,java.instrument,jdk.jfr,jdk.zipfs,java.desktop,java.security.jgss,java.security.sasl,jdk.naming.dns,java.compiler
build_jre_image() {
  local jdk; jdk=$(ls -d /usr/lib/jvm/*/ 2>/dev/null | while read -r d; do
      [ -x "$d/bin/jlink" ] && echo "$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p') $d"; done |
      sort -n | tail -1 | cut -d' ' -f2)
  [ -n "$jdk" ] || die "no JDK with jlink under /usr/lib/jvm"
  local feature; feature=$("$jdk/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
  JRE_IMAGE=limedb/jre:$feature-$DEBIAN_SUITE
  local key; key=$(echo "$jdk $JRE_MODULES $("$jdk/bin/java" -version 2>&1 | head -2)" | sha256sum | cut -c1-16)
  [ "$(image_label "$JRE_IMAGE" limedb.e2e.key)" = "$key" ] && return 0
  import_rootfs limedb/debian-slim:$DEBIAN_SUITE "$(rootfs_tar slim "$SLIM_PKGS")"
  local ctx=$CACHE/build/jre
  rm -rf "$ctx"; mkdir -p "$ctx"
  log "jlink runtime from $jdk"
  "$jdk/bin/jlink" --add-modules "$JRE_MODULES" --strip-debug --no-man-pages --no-header-files \
    --compress=zip-6 --output "$ctx/jre"
  cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM limedb/debian-slim:$DEBIAN_SUITE
COPY jre/ /opt/java/
ENV JAVA_HOME=/opt/java PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
DOCKERFILE
  build_image "$JRE_IMAGE" "$key" "$ctx"
}

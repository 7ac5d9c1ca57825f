# Debian root filesystems made with debootstrap from the machine's Debian mirror, cached as
# tarballs: "node" (systemd, containerd, runc, CNI plugins, iptables) for the kind node and
# "slim" (minbase + iptables/conntrack) for kube-proxy and the JRE image.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NODE_PKGS=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,iptables,iproute2,conntrack,ethtool,socat,ca-certificates,mount,util-linux,kmod,procps,libseccomp2,ebtables,nftables,curl,less
SLIM_PKGS=ca-certificates,iptables,conntrack,netbase,tzdata

# The mirror apt already uses on this machine (deb822 or one-line sources), else Debian's default.
debian_mirror() {
  local m
  m=$(grep -hoE '^URIs:\s*\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$m" ] || m=$(grep -hoE '^deb\s+\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# rootfs_tar NAME PACKAGES -> prints the path of a cached tarball of that root filesystem.
rootfs_tar() {
  local name=$1 pkgs=$2
  local key; key=$(echo "$DEBIAN_SUITE $pkgs" | sha256sum | cut -c1-12)
  local out=$CACHE/rootfs/$name-$DEBIAN_SUITE-$key.tar
  if [ ! -f "$out" ]; then
    apt_install debootstrap
    local dir=$CACHE/rootfs/$name.tmp
    rm -rf "$dir"; mkdir -p "$dir" "$CACHE/debootstrap-debs"
    log "debootstrap $name rootfs ($DEBIAN_SUITE)"
    heavy debootstrap --variant=minbase --include="$pkgs" --cache-dir="$CACHE/debootstrap-debs" \
      "$DEBIAN_SUITE" "$dir" "$(debian_mirror)" > "$CACHE/rootfs/$name.debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/rootfs/$name.debootstrap.log" >&2; die "debootstrap $name failed"; }
    chroot "$dir" apt-get clean
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log "$dir"/usr/share/doc/* "$dir"/usr/share/man/*
    tar -C "$dir" --numeric-owner -cf "$out.tmp" .
    mv "$out.tmp" "$out"
    rm -rf "$dir"
  fi
  echo "$out"
}

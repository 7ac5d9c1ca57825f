# Makes sure a Docker engine answers: uses a running one, or installs Debian's docker.io and
# starts dockerd, with the capability workaround when the host needs it.
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# CAP_SYS_RESOURCE is bit 24 of the bounding set.
host_lacks_sys_resource() {
  local bnd; bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
  (( (0x$bnd >> 24 & 1) == 0 ))
}

ensure_docker() {
  if docker info >/dev/null 2>&1; then
    if host_lacks_sys_resource && [ "$(docker info -f '{{.DefaultRuntime}}')" != limedb-runc ]; then
      log "WARNING: this host lacks CAP_SYS_RESOURCE and the running dockerd was not started with"
      log "  --add-runtime limedb-runc=/usr/local/sbin/limedb-runc --default-runtime limedb-runc"
      log "  (e2e/host/limedb-runc): privileged kind nodes will fail to start. Stop it and rerun."
    fi
    return 0
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  apt_install jq iptables
  local args=(--host unix:///var/run/docker.sock)
  if host_lacks_sys_resource; then
    log "host lacks CAP_SYS_RESOURCE: registering runtime limedb-runc that drops it"
    install -m 0755 "$E2E_DIR/host/limedb-runc" /usr/local/sbin/limedb-runc
    args+=(--add-runtime limedb-runc=/usr/local/sbin/limedb-runc --default-runtime limedb-runc)
  fi
  log "starting dockerd (log: /var/log/limedb-dockerd.log)"
  setsid nohup dockerd "${args[@]}" >/var/log/limedb-dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  tail -20 /var/log/limedb-dockerd.log >&2
  die "dockerd did not answer within 60s"
}

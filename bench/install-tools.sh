#!/usr/bin/env bash
# The benchmark's outside tools, installed from Debian packages when missing (as .ci/run does):
# redis-server and redis-benchmark (redis-server, redis-tools) and twemproxy (nutcracker).
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v nutcracker >/dev/null || [ -x /usr/sbin/nutcracker ] || need+=(nutcracker)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "bench: missing ${need[*]}; install them (apt-get install ${need[*]})" >&2; exit 1; }
  echo "bench: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The Debian package starts system services; the benchmark runs its own on other ports.
for svc in nutcracker redis-server; do
  systemctl is-active --quiet "$svc" 2>/dev/null && systemctl stop "$svc" 2>/dev/null || true
done
exit 0

#!/usr/bin/env bash
# Podman engine mode for agent-conformance: rootful `podman system service` on a unix socket,
# spoken to through its Docker-compatible API (docker CLI, docker-py).
#
#   podman.sh up              install podman if missing, start the service, print DOCKER_HOST
#   podman.sh load IMAGE...   copy images from the Docker engine into podman's storage
#   podman.sh down            stop the service; remove its containers, pods, volumes, networks
#                             and the images `load` brought in
#
# Environment: PODMAN_SOCKET (default /run/podman/podman.sock), PODMAN_STATE (default
# /var/tmp/agent-conformance-podman: pid, log, containers.conf, loaded-image list),
# OUTER_DOCKER_HOST (the Docker engine images are copied from; default: the default socket).
set -euo pipefail

SOCK=${PODMAN_SOCKET:-/run/podman/podman.sock}
STATE=${PODMAN_STATE:-/var/tmp/agent-conformance-podman}
CONF=$STATE/containers.conf
say() { printf '[podman] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
export CONTAINERS_CONF=$CONF   # for the podman commands below as for the service
answers() { curl -sf --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }

service_pid() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null && cat "$STATE/pid"; }

# runc must set the rlimits podman asks for; podman asks for more than the host's hard limits when
# the host lacks CAP_SYS_RESOURCE ("error setting rlimit type 7/6: operation not permitted"). The
# defaults become the service process's own hard limits (podman lowers nproc for itself: they are
# read from the running service, not from this shell).
write_conf() {  # $1: nofile, $2: nproc
  mkdir -p "$STATE"
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$1" "$1" "$2" "$2" >"$CONF"
}

start_service() {
  mkdir -p "$(dirname "$SOCK")" "$STATE"
  rm -f "$SOCK"
  nohup podman system service --time=0 "unix://$SOCK" >>"$STATE/service.log" 2>&1 &
  echo $! >"$STATE/pid"
  for _ in $(seq 1 60); do answers && return 0; sleep 0.25; done
  say "the service did not answer; see $STATE/service.log"; tail -5 "$STATE/service.log" >&2; exit 1
}

stop_service() {
  local pid; pid=$(service_pid) || return 0
  kill "$pid"; for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$STATE/pid"
}

up() {
  if ! command -v podman >/dev/null; then
    say "installing podman (Debian's package)"
    as_root apt-get install -y -q podman >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null; as_root apt-get install -y -q podman >/dev/null; }
  fi
  if ! service_pid >/dev/null || ! answers; then
    stop_service
    [ -f "$CONF" ] || write_conf "$(ulimit -Hn)" "$(ulimit -Hu)"
    start_service
    local pid nofile nproc; pid=$(service_pid)
    nofile=$(awk '/^Max open files/ {print $5}' "/proc/$pid/limits")
    nproc=$(awk '/^Max processes/ {print $4}' "/proc/$pid/limits")
    if ! grep -q "nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"" "$CONF"; then
      write_conf "$nofile" "$nproc"; stop_service; start_service
    fi
    say "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version) serving on $SOCK (log: $STATE/service.log)"
  fi
  echo "DOCKER_HOST=unix://$SOCK"
}

load() {
  [ $# -gt 0 ] || { say "usage: podman.sh load IMAGE..."; exit 2; }
  mkdir -p "$STATE"
  # podman stores a docker-archive's names as localhost/NAME:TAG; short names resolve to them.
  DOCKER_HOST="${OUTER_DOCKER_HOST:-}" docker save "$@" | podman load
  printf '%s\n' "$@" >>"$STATE/loaded"
}

down() {
  if command -v podman >/dev/null; then
    stop_service
    # Dependants first: podman refuses to remove a container another one joins (network_mode=container:).
    podman pod rm -af >/dev/null 2>&1 || true
    podman rm -af -t 0 -v >/dev/null 2>&1 || true
    podman volume rm -af >/dev/null 2>&1 || true
    podman network prune -f >/dev/null 2>&1 || true
    if [ -f "$STATE/loaded" ]; then
      sort -u "$STATE/loaded" | while read -r img; do podman rmi -f "$img" >/dev/null 2>&1 || true; done
      rm -f "$STATE/loaded"
    fi
  fi
  rm -f "$SOCK"
  say "stopped and cleaned"
}

case "${1:-}" in
  up) up ;;
  load) shift; load "$@" ;;
  down) down ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac

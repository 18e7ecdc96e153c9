#!/usr/bin/env bash
# Docker-in-Docker engine mode for agent-conformance: a dockerd inside a container of the host's
# engine, reached from the host over plain TCP (no TLS) at the container's bridge address.
#
#   dind.sh up              build the image if missing, start the daemon, print DOCKER_HOST
#   dind.sh load IMAGE...   copy images from the host engine into the inner one
#   dind.sh down [--purge]  remove the container and its volume (--purge: the image too)
#   dind.sh host            print the DOCKER_HOST of the running inner daemon
#
# Environment: DIND_STORAGE_DRIVER (overlay2 | fuse-overlayfs | vfs; default overlay2, with
# /var/lib/docker on a volume), DIND_NAME (default agent-conformance-dind), OUTER_DOCKER_HOST (the
# host engine; default: the default socket; DOCKER_HOST is ignored so that an exported inner
# DOCKER_HOST never turns `load` into a copy from the inner engine onto itself).
# Everything created carries the label agent-conformance.engine-mode=dind.
set -euo pipefail

LABEL=agent-conformance.engine-mode=dind
NAME=${DIND_NAME:-agent-conformance-dind}
IMAGE=${DIND_IMAGE:-agent-conformance/dind:bookworm}
BASE=${DIND_BASE_IMAGE:-agent-conformance/debian-python:bookworm}
DRIVER=${DIND_STORAGE_DRIVER:-overlay2}
PORT=2375
RECIPE=3   # bump when the Dockerfile or entrypoint below changes: `up` then rebuilds the image

say() { printf '[dind] %s\n' "$*" >&2; }
outer() { DOCKER_HOST="${OUTER_DOCKER_HOST:-}" docker "$@"; }   # empty DOCKER_HOST: the default socket

ip_of() { outer inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$NAME" 2>/dev/null | awk '{print $1}'; }
inner_host() { local ip; ip=$(ip_of); [ -n "$ip" ] || { say "$NAME is not running (dind.sh up)"; return 1; }; echo "tcp://$ip:$PORT"; }

build() {
  local ctx; ctx=$(mktemp -d)
  cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
# Debian's docker.io (dockerd, containerd, runc, the CLI); procps: \`docker top\` runs ps on the
# daemon's host, i.e. in this container. Plain http mirror: the base image has no CA bundle yet.
RUN set -eux; \\
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do [ -f "\$f" ] && sed -i 's#https://#http://#g' "\$f"; done; \\
    apt-get update -q; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \\
        docker.io procps iptables fuse-overlayfs ca-certificates; \\
    apt-get clean; rm -rf /var/lib/apt/lists/*
VOLUME /var/lib/docker
EXPOSE $PORT
COPY entrypoint.sh /usr/local/bin/dind-entrypoint
ENTRYPOINT ["/usr/local/bin/dind-entrypoint"]
EOF
  cat >"$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
# The inner dockerd: tcp://0.0.0.0:2375 without TLS (reachable only on the host's bridge).
set -e
# Started without --privileged (see dind.sh), cgroup v1 controllers and /sys are read-only bind
# mounts: make them writable (CAP_SYS_ADMIN). Harmless when they already are.
mount -o remount,bind,rw /sys 2>/dev/null || true
for d in /sys/fs/cgroup/*/; do
  [ -d "$d" ] && { mount -o remount,bind,rw "$d" 2>/dev/null || true; }
done
# cgroup v2 hosts: leave the root cgroup so that controllers can be delegated.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
fi
exec dockerd --host=tcp://0.0.0.0:2375 --host=unix:///var/run/docker.sock --tls=false \
  --storage-driver="${DIND_STORAGE_DRIVER:-overlay2}" ${DIND_MTU:+--mtu=$DIND_MTU} \
  --bip="${DIND_BIP:-10.213.0.1/24}" --default-address-pool "base=${DIND_POOL:-10.213.0.0/16},size=24" "$@"
EOF
  chmod +x "$ctx/entrypoint.sh"
  say "building $IMAGE from $BASE (apt-get inside the build)"
  outer build -q --label "$LABEL" --label "agent-conformance.dind-recipe=$RECIPE" -t "$IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# --privileged needs every capability in the host dockerd's bounding set; where one is missing
# (here: CAP_SYS_RESOURCE) runc fails with "unable to apply caps: operation not permitted". Then:
# all capabilities but the missing ones, no seccomp/AppArmor confinement, unmasked /proc, every
# device allowed in the device cgroup, and /dev/fuse for fuse-overlayfs.
missing_caps() {
  local bnd; bnd=$(outer run --rm --entrypoint sh --cap-add ALL "$IMAGE" -c 'grep CapBnd /proc/self/status' 2>/dev/null | awk '{print $2}') || true
  [ -n "$bnd" ] || { echo SYS_RESOURCE; return; }   # the probe failed: the usual culprit
  python3 - "$bnd" <<'EOF'
import sys
names = ["CHOWN","DAC_OVERRIDE","DAC_READ_SEARCH","FOWNER","FSETID","KILL","SETGID","SETUID","SETPCAP",
 "LINUX_IMMUTABLE","NET_BIND_SERVICE","NET_BROADCAST","NET_ADMIN","NET_RAW","IPC_LOCK","IPC_OWNER",
 "SYS_MODULE","SYS_RAWIO","SYS_CHROOT","SYS_PTRACE","SYS_PACCT","SYS_ADMIN","SYS_BOOT","SYS_NICE",
 "SYS_RESOURCE","SYS_TIME","SYS_TTY_CONFIG","MKNOD","LEASE","AUDIT_WRITE","AUDIT_CONTROL","SETFCAP",
 "MAC_OVERRIDE","MAC_ADMIN","SYSLOG","WAKE_ALARM","BLOCK_SUSPEND","AUDIT_READ","PERFMON","BPF","CHECKPOINT_RESTORE"]
bnd = int(sys.argv[1], 16)
print(" ".join(n for i, n in enumerate(names) if not bnd >> i & 1))
EOF
}

start() {  # $@: the confinement options
  outer run -d --name "$NAME" --label "$LABEL" --hostname dind \
    -e DIND_STORAGE_DRIVER="$DRIVER" ${DIND_MTU:+-e DIND_MTU="$DIND_MTU"} \
    -v "$NAME-data:/var/lib/docker" "$@" "$IMAGE" >/dev/null
}

up() {
  [ "$(outer image inspect -f '{{index .Config.Labels "agent-conformance.dind-recipe"}}' "$IMAGE" 2>/dev/null)" = "$RECIPE" ] || build
  if outer container inspect "$NAME" >/dev/null 2>&1; then
    [ "$(outer inspect -f '{{.State.Running}}' "$NAME")" = true ] || outer start "$NAME" >/dev/null
  else
    outer volume inspect "$NAME-data" >/dev/null 2>&1 || outer volume create --label "$LABEL" "$NAME-data" >/dev/null
    # The inner containers' MTU must not exceed the outer bridge's (1400 on some hosts).
    : "${DIND_MTU:=$(outer network inspect bridge -f '{{index .Options "com.docker.network.driver.mtu"}}' 2>/dev/null || true)}"
    if ! start --privileged 2>/tmp/dind-start.err; then
      grep -q "apply caps" /tmp/dind-start.err || { cat /tmp/dind-start.err >&2; exit 1; }
      outer rm -f "$NAME" >/dev/null 2>&1 || true
      local drop=() c; for c in $(missing_caps); do drop+=(--cap-drop "$c"); done
      say "--privileged refused by the host (missing capability: ${drop[*]:-?}); starting with an explicit capability set"
      start --cap-add ALL "${drop[@]}" --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm' \
        $( [ -e /dev/fuse ] && echo --device /dev/fuse )
    fi
  fi
  local host; host=$(inner_host)
  for _ in $(seq 1 120); do
    if DOCKER_HOST=$host docker version >/dev/null 2>&1; then
      say "inner daemon answers ($DRIVER)"; reach_inner_networks; echo "DOCKER_HOST=$host"; return 0
    fi
    [ "$(outer inspect -f '{{.State.Running}}' "$NAME")" = true ] || break
    sleep 0.5
  done
  say "the inner daemon did not answer; its log:"; outer logs --tail 30 "$NAME" >&2; exit 1
}

# The inner containers' own addresses (the inner bridge and the networks the suite creates, e.g.
# the internal one of --no-egress) are reached from the host through a route via the DinD
# container, and inner iptables that let the host's packets (and their answers) through: Docker's
# FORWARD rules only pass published ports. DIND_ROUTE=0: leave the host's routes alone.
POOL=${DIND_POOL:-10.213.0.0/16}
reach_inner_networks() {
  outer exec "$NAME" sh -c 'iptables -C DOCKER-USER -i eth0 -j ACCEPT 2>/dev/null || {
      iptables -I DOCKER-USER -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
      iptables -I DOCKER-USER -i eth0 -j ACCEPT; }'
  [ "${DIND_ROUTE:-1}" = 1 ] && [ "$(id -u)" = 0 ] && [ -z "${OUTER_DOCKER_HOST:-}" ] || return 0
  ip route replace "$POOL" via "$(ip_of)" && say "host route: $POOL via $(ip_of)"
}

load() {
  [ $# -gt 0 ] || { say "usage: dind.sh load IMAGE..."; exit 2; }
  local host; host=$(inner_host)
  outer save "$@" | DOCKER_HOST=$host docker load
}

down() {
  [ "$(id -u)" = 0 ] && ip route show "$POOL" 2>/dev/null | grep -q via && ip route del "$POOL" 2>/dev/null || true
  local ids; ids=$(outer ps -aq --filter "label=$LABEL")
  [ -z "$ids" ] || outer rm -f -v $ids >/dev/null
  ids=$(outer volume ls -q --filter "label=$LABEL")
  [ -z "$ids" ] || outer volume rm -f $ids >/dev/null
  if [ "${1:-}" = --purge ]; then outer rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  say "removed"
}

case "${1:-}" in
  up) up ;;
  load) shift; load "$@" ;;
  down) shift; down "$@" ;;
  host) echo "DOCKER_HOST=$(inner_host)" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac

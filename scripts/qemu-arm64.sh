#!/usr/bin/env bash
# linux/arm64 containers on an x86_64 Docker host, offline: QEMU user emulation through binfmt_misc.
#
#   scripts/qemu-arm64.sh          # install / mount / register what is missing, then prove it
#   scripts/qemu-arm64.sh check    # exit 0 if arm64 binaries run here, else 1 and one line saying what is missing
#
# Debian's qemu-user-static gives /usr/bin/qemu-aarch64-static and /usr/lib/binfmt.d/qemu-aarch64.conf
# (flags OPF). Nothing registers that file on a machine without systemd as PID 1 (binfmt-support is
# only a recommendation), so this script writes the line to /proc/sys/fs/binfmt_misc/register itself.
# The F (fix-binary) flag makes the kernel open the interpreter now, so it also runs inside containers,
# whose root filesystems have no qemu. Registrations do not survive a reboot: run this again.
#
# The proof runs `uname -m` in agent-conformance/debian-python:bookworm-arm64
# (python3 -m samplekit.debian_base --arch arm64), or in $QEMU_ARM64_IMAGE; it is skipped when neither exists.
# Silent when everything is already in place, except the final "arm64 emulation: ready (…)" line.

set -euo pipefail

BINFMT=/proc/sys/fs/binfmt_misc
NAME=qemu-aarch64
ENTRY=$BINFMT/$NAME
QEMU=/usr/bin/qemu-aarch64-static
CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
BINFMTS_DATA=/usr/share/binfmts/qemu-aarch64
ARM64_IMAGE=${QEMU_ARM64_IMAGE:-agent-conformance/debian-python:bookworm-arm64}
# ELF64, little-endian, EM_AARCH64 (0xb7): the same magic and mask as Debian's and QEMU's scripts.
MAGIC='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
MASK='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'

step() { echo "[qemu-arm64] $*"; }
die() { echo "[qemu-arm64] $*" >&2; exit 1; }

mounted() { grep -qs " $BINFMT binfmt_misc " /proc/mounts; }

# The registered handler is usable: enabled, F flag, interpreter still present.
registered_ok() {
  [[ -r $ENTRY ]] || return 1
  grep -qx enabled "$ENTRY" || return 1
  grep -q '^flags:.*F' "$ENTRY" || return 1
  local interp
  interp=$(sed -n 's/^interpreter //p' "$ENTRY")
  [[ -n $interp && -e $interp ]]
}

# The register line, from Debian's binfmt.d file, else its update-binfmts data, else our own; F forced.
register_line() {
  local line=""
  if [[ -r $CONF ]]; then
    line=$(grep -v '^[#;]' "$CONF" | grep -m1 "^:$NAME:" || true)
  fi
  if [[ -z $line && -r $BINFMTS_DATA ]]; then
    local interp magic mask offset flags=""
    interp=$(sed -n 's/^interpreter //p' "$BINFMTS_DATA")
    magic=$(sed -n 's/^magic //p' "$BINFMTS_DATA")
    mask=$(sed -n 's/^mask //p' "$BINFMTS_DATA")
    offset=$(sed -n 's/^offset //p' "$BINFMTS_DATA")
    grep -qx 'preserve yes' "$BINFMTS_DATA" && flags+=P
    grep -qx 'credentials yes' "$BINFMTS_DATA" && flags+=C
    [[ -n $interp && -n $magic ]] && line=":$NAME:M:${offset:-0}:$magic:$mask:$interp:${flags}F"
  fi
  [[ -n $line ]] || line=":$NAME:M::$MAGIC:$MASK:$QEMU:PF"
  local flags=${line##*:}
  [[ $flags == *F* ]] || line+=F
  printf '%s' "$line"
}

qemu_version() { "$QEMU" --version 2>/dev/null | head -1 | sed 's/^qemu-aarch64 version //'; }

have_image() { docker image inspect "$ARM64_IMAGE" >/dev/null 2>&1; }

run_uname() { docker run --rm --platform linux/arm64 --network none "$ARM64_IMAGE" uname -m 2>&1; }

check() {
  [[ -x $QEMU ]] || die "missing: $QEMU (apt-get install -y qemu-user-static, or run scripts/qemu-arm64.sh)"
  mounted || die "missing: binfmt_misc is not mounted on $BINFMT (run scripts/qemu-arm64.sh)"
  [[ -r $ENTRY ]] || die "missing: no $NAME handler in $BINFMT (run scripts/qemu-arm64.sh)"
  registered_ok || die "unusable: $ENTRY is disabled, lacks the F flag or its interpreter is gone (run scripts/qemu-arm64.sh)"
  "$QEMU" --version >/dev/null 2>&1 || die "broken: $QEMU --version failed"
  if command -v docker >/dev/null && have_image; then
    local out
    out=$(run_uname) || die "broken: docker run --platform linux/arm64 $ARM64_IMAGE uname -m failed: ${out//$'\n'/ }"
    [[ $out == aarch64 ]] || die "broken: $ARM64_IMAGE uname -m printed '${out//$'\n'/ }', not aarch64"
  fi
  echo "arm64 emulation: ready (qemu-aarch64 $(qemu_version))"
}

setup() {
  [[ $(id -u) == 0 ]] || die "needs root (apt-get, mount, $BINFMT/register)"
  if [[ ! -x $QEMU ]]; then
    step "installing qemu-user-static"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends qemu-user-static >/tmp/qemu-arm64-apt.log 2>&1; then
      apt-get update -qq >>/tmp/qemu-arm64-apt.log 2>&1 || true
      apt-get install -y --no-install-recommends qemu-user-static >>/tmp/qemu-arm64-apt.log 2>&1 \
        || die "apt-get install qemu-user-static failed: $(tail -1 /tmp/qemu-arm64-apt.log)"
    fi
  fi
  if ! mounted; then
    step "mounting binfmt_misc on $BINFMT"
    mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc (an unprivileged container?)"
  fi
  if ! registered_ok; then
    if [[ -e $ENTRY ]]; then
      step "removing the $NAME handler without F or a working interpreter: $(grep -E '^(interpreter|flags)' "$ENTRY" | tr '\n' ' ')"
      echo -1 >"$ENTRY"
    fi
    local line
    line=$(register_line)
    step "registering $NAME with flags ${line##*:} ($(echo "$line" | cut -d: -f7))"
    printf '%s\n' "$line" >"$BINFMT/register" || die "cannot write $BINFMT/register"
    registered_ok || die "registered, but $ENTRY is not enabled with F: $(tr '\n' ' ' <"$ENTRY")"
  fi
  if command -v docker >/dev/null && have_image; then
    local out
    out=$(run_uname) || die "proof failed: docker run --rm --platform linux/arm64 $ARM64_IMAGE uname -m: ${out//$'\n'/ }"
    [[ $out == aarch64 ]] || die "proof failed: $ARM64_IMAGE uname -m printed '${out//$'\n'/ }'"
  fi
  echo "arm64 emulation: ready (qemu-aarch64 $(qemu_version))"
}

case ${1:-setup} in
  setup) setup ;;
  check) check ;;
  *) echo "usage: $0 [check]" >&2; exit 2 ;;
esac

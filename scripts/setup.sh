#!/usr/bin/env bash
# Everything the suite and its tests need, idempotent: a virtualenv with the package, a Docker
# daemon that answers, and the sample agents built offline (local base image + wheelhouse).
# Usage: setup.sh [SAMPLE …]   (default: every sample; e.g. `setup.sh reference`)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "Python 3.11+ is needed (found $("$PYTHON" --version 2>&1))"; exit 2; }

apt_install() {
  command -v apt-get >/dev/null || { say "$1 is missing and apt-get is not available: install $1"; exit 2; }
  say "installing $1 from Debian's packages"
  as_root apt-get install -y -q "$1" >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q "$1" >/dev/null; }
}

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || apt_install docker.io
  say "starting dockerd"
  as_root sh -c 'nohup dockerd >/tmp/agent-conformance-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { say "the Docker daemon did not answer within 60 s; see /tmp/agent-conformance-dockerd.log"; exit 2; }
fi

# The Debian base image is the longest step on a fresh machine: it starts first, in the background
# with the system's Python (samplekit.debian_base needs nothing else), while .venv is made.
base_pid=""
if ! docker image inspect agent-conformance/debian-python:bookworm >/dev/null 2>&1; then
  if ! command -v mmdebstrap >/dev/null; then  # twice as fast as debootstrap, which still serves
    if command -v apt-get >/dev/null; then apt_install mmdebstrap
    elif ! command -v debootstrap >/dev/null; then say "mmdebstrap or debootstrap is needed to build the base image"; exit 2; fi
  fi
  "$PYTHON" -m samplekit.debian_base & base_pid=$!
  trap 'kill "$base_pid" 2>/dev/null || true' EXIT  # a failed step below stops the build too
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c 'import conformance, xdist, importlinter' 2>/dev/null || [ pyproject.toml -nt .venv/.installed ]; then
  say "installing the suite (and its development tools) into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' && touch .venv/.installed
fi

if [ -n "$base_pid" ]; then
  wait "$base_pid" || { say "the local base image could not be built (see above)"; exit 2; }
fi

# The project's tests load the HTML report in a real browser; a first verdict needs none.
if [ $# -eq 0 ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  apt_install chromium
fi
# They also run the samples under Podman (tests/integration/test_engine_modes.py).
if [ $# -eq 0 ] && ! command -v podman >/dev/null; then
  apt_install podman
fi

# The samples named (certify-reference.sh: the reference alone, for a fast first verdict), else all.
say "building the sample agents${1:+: $*} (cached after the first time)"
.venv/bin/python -m samplekit build "$@"

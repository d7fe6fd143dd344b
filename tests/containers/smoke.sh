#!/usr/bin/env bash
# Proves the container path on this machine: builds an image from one built test
# binary (make_image.sh) and runs it in a container with a private IPC namespace and
# a private /dev/shm, as a non-root uid, with no network, printing its test results.
# The binary is the socket mode's unit test, so the sealed-region checks also run
# inside the container. Removes the container and the image it made.
#
# Usage: tests/containers/smoke.sh [BIN_DIR]   (default build/bin)
# Exit status: 0 the container ran and its tests passed; 1 otherwise; 77 when this
# machine cannot run a container at all (the message says why).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin_dir="${1:-$here/../../build/bin}"
binary="$bin_dir/shmsnap_socket_mode_unit_test"
image="localhost/shmsnap-smoke:$$"
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)

if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "skipped: podman and runc are not installed (apt-get install podman runc)"
  exit 77
fi
[[ -x $binary ]] || { echo "$0: build $binary first (cmake --build --preset dev --target shmsnap_socket_mode_unit_test)" >&2; exit 1; }

cleanup() { "${PODMAN[@]}" rmi --force "$image" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$here/make_image.sh" "$image" "$binary"
# --ipc private: its own IPC namespace and /dev/shm; --user: not root inside;
# --ulimit: podman's defaults (nofile and nproc 1048576) exceed what these machines
# let a container raise them to (no CAP_SYS_RESOURCE), so runc fails to start it.
"${PODMAN[@]}" run --rm --network none --ipc private --user 65534:65534 --read-only \
  --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$image" /usr/local/bin/shmsnap_socket_mode_unit_test --gtest_brief=1

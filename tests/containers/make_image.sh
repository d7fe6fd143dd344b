#!/usr/bin/env bash
# Builds a minimal container image from built binaries, with no registry: copies
# each binary and every library `ldd` names (the dynamic loader included) into a
# fresh root filesystem, adds an empty /tmp and /dev/shm, and imports it with
# `podman import`. The socket-mode container tests (issue 20) start the publisher
# and subscribers from such an image.
#
# Usage: tests/containers/make_image.sh IMAGE BINARY...
#   The binaries land in /usr/local/bin of the image, under their own names.
# Needs podman and runc (Debian packages `podman runc`). On these machines podman
# must run with --runtime runc --cgroup-manager cgroupfs (crun fails on their cgroup
# layout), which PODMAN below passes; `podman run` also needs explicit --ulimit
# nofile=... and nproc=... (tests/containers/smoke.sh shows a whole run).
# Exit status: 0 imported, 1 failed (the message says why), 2 usage.
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 IMAGE BINARY..." >&2
  exit 2
fi
image=$1
shift
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
command -v podman >/dev/null || { echo "$0: podman is not installed (apt-get install podman runc)" >&2; exit 1; }
command -v runc >/dev/null || { echo "$0: runc is not installed (apt-get install runc)" >&2; exit 1; }

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/usr/local/bin" "$rootfs/tmp" "$rootfs/dev/shm" "$rootfs/proc" "$rootfs/etc"
chmod 1777 "$rootfs/tmp" "$rootfs/dev/shm"
# Users for messages that name them; the image has no other /etc.
printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

copy_with_parents() {  # copy_with_parents FILE: into the root filesystem at the same path
  local file=$1
  mkdir -p "$rootfs$(dirname "$file")"
  cp -L "$file" "$rootfs$file"
}

for binary in "$@"; do
  [[ -x $binary ]] || { echo "$0: $binary is not an executable file" >&2; exit 1; }
  cp -L "$binary" "$rootfs/usr/local/bin/$(basename "$binary")"
  # ldd lines: "libx.so => /path/libx.so (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)";
  # "not found" means the binary could not run in the image either.
  if ldd "$binary" | grep -q 'not found'; then
    echo "$0: $binary needs a library ldd cannot find:" >&2
    ldd "$binary" | grep 'not found' >&2
    exit 1
  fi
  while read -r library; do
    copy_with_parents "$library"
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
done

tar -C "$rootfs" -c . | "${PODMAN[@]}" import --quiet - "$image" >/dev/null
echo "$image: $(du -sh "$rootfs" | cut -f1) root filesystem, $(($#)) binaries"

#!/usr/bin/env bash
# Packs release benchmark binaries, iox-roudi and every shared library they need
# (except the C library's own, which the target machine has) into one folder, so
# the headline runs can happen on a bare machine with no network and no packages.
#
#   bash benchmarks/headline/bundle.sh OUT_DIR NAME=BINARY [NAME=BINARY ...]
#   e.g. bash benchmarks/headline/bundle.sh build/device bench=build/release/bin/shmsnap-bench
#
# OUT_DIR/bin/NAME is each binary (stripped), OUT_DIR/bin/iox-roudi the iceoryx
# daemon when installed, OUT_DIR/lib their libraries. benchmarks/headline/run.sh
# runs from it. glibc itself is not carried: the target needs glibc >= this one's.
set -euo pipefail

(($# >= 2)) || { echo "usage: bundle.sh OUT_DIR NAME=BINARY [NAME=BINARY ...]" >&2; exit 2; }
out=$1
shift
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"

# Libraries a target machine's glibc provides; carrying ours would mix two C libraries.
is_c_library() {
  case $(basename "$1") in
    libc.so.* | libm.so.* | libpthread.so.* | libdl.so.* | librt.so.* | ld-linux*) return 0 ;;
    *) return 1 ;;
  esac
}

carry_libraries_of() {
  local binary=$1 library
  while read -r library; do
    [[ -n $library ]] || continue
    is_c_library "$library" && continue
    cp -L -n "$library" "$out/lib/"
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
}

for pair in "$@"; do
  name=${pair%%=*}
  binary=${pair#*=}
  [[ -x $binary ]] || { echo "bundle.sh: $binary is not an executable; build it first" >&2; exit 1; }
  strip -o "$out/bin/$name" "$binary"
  carry_libraries_of "$binary"
done

if roudi=$(command -v iox-roudi); then
  cp "$roudi" "$out/bin/iox-roudi"
  carry_libraries_of "$roudi"
else
  echo "bundle.sh: iox-roudi not installed here; the iceoryx rows will be n/a" >&2
fi
du -sh "$out"

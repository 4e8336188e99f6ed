#!/bin/sh
# capi.abi: libedict's ABI has not changed against the committed baseline
# (tools/libedict/abi/libedict.so.0.abi, `abidw` output of the exported interface).
#
#   sh abi_test.sh LIBEDICT_SO BASELINE HEADERS_DIR
#
# Any difference abidiff reports fails: an incompatible change must never happen within
# SONAME libedict.so.0, and a compatible one (a new function) is taken into the baseline on
# purpose, with `cmake --build build --target update-abi`, in the commit that makes it.
# Exit 77 (skipped) only when abigail-tools is not installed.
set -u
lib=${1:?usage: abi_test.sh LIBEDICT_SO BASELINE HEADERS_DIR}
baseline=${2:?}
headers=${3:?}
if ! command -v abidiff >/dev/null 2>&1; then
  echo "abi_test: abidiff (Debian package abigail-tools) is not installed; skipped"
  exit 77
fi
[ -f "$baseline" ] || { echo "abi_test: no baseline $baseline" >&2; exit 1; }
report=$(abidiff --headers-dir2 "$headers" "$baseline" "$lib" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  echo "$report"
  if [ $((rc & 8)) -ne 0 ]; then
    echo "abi_test: INCOMPATIBLE change to libedict's ABI (abidiff exit $rc)" >&2
  elif [ $((rc & 4)) -ne 0 ]; then
    echo "abi_test: libedict's ABI changed (abidiff exit $rc: e.g. an added function); if" >&2
    echo "that is intended, update the baseline: cmake --build build --target update-abi" >&2
  else
    echo "abi_test: abidiff failed (exit $rc)" >&2
  fi
  exit 1
fi
echo "abi_test: $(grep -c '<elf-symbol ' "$baseline") exported symbols, ABI unchanged against $baseline"

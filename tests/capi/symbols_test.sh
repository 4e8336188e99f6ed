#!/bin/sh
# The exported dynamic symbols of libedict.so are exactly the functions edict.h declares
# (all edict_*), each with its version node (libedict.map); the SONAME is as expected.
# Usage: symbols_test.sh LIBEDICT_SO EDICT_H WANT_SONAME LIBEDICT_MAP
set -u
lib=$1; header=$2; want_soname=$3; map=$4
fails=0
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$exported" ] || { echo "FAIL: no exported symbols in $lib"; exit 1; }
bad=$(echo "$exported" | grep -v '^edict_' || true)
if [ -n "$bad" ]; then
  echo "FAIL: symbols outside edict_* are exported:"; echo "$bad" | head -20; fails=$((fails + 1))
fi
declared=$(tr '\n' ' ' < "$header" | grep -o 'EDICT_API [^;(]*(' | grep -o 'edict_[a-z0-9_]*($' |
           tr -d '(' | sort -u)
missing=$(for s in $declared; do echo "$exported" | grep -qx "$s" || echo "$s"; done)
extra=$(for s in $exported; do echo "$declared" | grep -qx "$s" || echo "$s"; done)
[ -z "$missing" ] || { echo "FAIL: declared in edict.h but not exported: $missing"; fails=$((fails + 1)); }
[ -z "$extra" ] || { echo "FAIL: exported but not declared in edict.h: $extra"; fails=$((fails + 1)); }
# Every exported symbol carries its version node: the one of libedict.map that lists it by
# name (functions added after the first release, e.g. EDICT_0.2), else EDICT_0.
expected=$(awk '/^EDICT_0[.0-9]* *\{/ { node = $1; next }
                node != "" && node != "EDICT_0" && /^ *edict_[a-z0-9_]*;/ { gsub(/[ ;]/, ""); print $0 "@@" node }
                /^\}/ { node = "" }' "$map")
wrong=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | while read -r sym; do
  name=${sym%%@*}
  want=$(echo "$expected" | grep "^$name@@" || echo "$name@@EDICT_0")
  [ "$sym" = "$want" ] || echo "$sym (want $want)"
done)
[ -z "$wrong" ] || { echo "FAIL: symbols with the wrong version node: $wrong"; fails=$((fails + 1)); }
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$want_soname" ] || { echo "FAIL: SONAME '$soname', want '$want_soname'"; fails=$((fails + 1)); }
# No undefined reference to our own internals (everything is linked in).
internal=$(nm -D --undefined-only "$lib" | grep -i 'edict' || true)
[ -z "$internal" ] || { echo "FAIL: undefined edict symbols: $internal"; fails=$((fails + 1)); }
n=$(echo "$exported" | wc -l)
[ "$fails" = 0 ] && echo "symbols_test: $n symbols, all edict_*, exactly edict.h's; SONAME $soname"
exit "$fails"

#!/bin/sh
# cmake --install into a temporary prefix, then configure, build and run two separate
# consumer projects against it: examples/agent-integration with find_package(edict) (once
# with edict::edict, once with edict::edict_static) and tests/capi/consumer-pkgconfig with
# pkg-config. The example answers the seed questions from a bundle signed with the installed
# edictctl. Usage: install_test.sh BUILD_DIR SOURCE_DIR WORKDIR CMAKE GENERATOR
set -u
build=$1; src=$2; t=$3; cmake=$4; gen=$5
rm -rf "$t" && mkdir -p "$t" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
prefix=$t/prefix

"$cmake" --install "$build" --prefix "$prefix" >"$t/install.log" 2>&1 ||
  { cat "$t/install.log"; echo "FAIL: cmake --install"; exit 1; }
for f in include/edict/edict.h include/edict/edict.hpp; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
libdir=$(cd "$prefix" && ls -d lib lib64 lib/* 2>/dev/null | while read -r d; do
  [ -e "$prefix/$d/libedict.so" ] && echo "$d"; done | head -1)
[ -n "$libdir" ] || { fail "libedict.so not installed"; exit 1; }
for f in libedict.so libedict.a pkgconfig/edict.pc cmake/edict/edictConfig.cmake \
         cmake/edict/edictConfigVersion.cmake; do
  [ -e "$prefix/$libdir/$f" ] || fail "$libdir/$f not installed"
done
ls "$prefix/$libdir"/libedict.so.0 >/dev/null 2>&1 || fail "SONAME link libedict.so.0 missing"
ctl=$prefix/bin/edictctl
[ -x "$ctl" ] || fail "bin/edictctl not installed"

# A signed bundle and its trust document, made with the installed edictctl.
cd "$t" || exit 1
"$ctl" keygen --out root >/dev/null && "$ctl" keygen --out signer >/dev/null || fail "keygen"
"$ctl" trust init --root root.pub --signer signer.pub --sign-key root \
  --now 2027-01-01T00:00:00Z --valid-days 365 -o trust.edict >/dev/null || fail "trust init"
"$ctl" compile "$src/policy/examples/baseline.json" -o baseline.bin >/dev/null || fail "compile"
"$ctl" sign baseline.bin --key signer -o baseline.edict >/dev/null || fail "sign"
now=1800000000  # 2027-01-15T08:00:00Z: inside the baseline's validity

# Consumer 1: find_package(edict), shared and static.
for kind in shared static; do
  extra=""
  [ "$kind" = static ] && extra="-DEDICT_EXAMPLE_STATIC=ON"
  "$cmake" -S "$src/examples/agent-integration" -B "$t/c1-$kind" -G "$gen" \
    -DCMAKE_PREFIX_PATH="$prefix" $extra >"$t/c1-$kind.log" 2>&1 &&
    "$cmake" --build "$t/c1-$kind" >>"$t/c1-$kind.log" 2>&1 ||
    { cat "$t/c1-$kind.log"; fail "find_package consumer ($kind) did not build"; continue; }
  out=$("$t/c1-$kind/agent_integration" --bundle baseline.edict --trust trust.edict \
        --tenant contoso --now $now 2>&1) || fail "find_package consumer ($kind) failed: $out"
  echo "$out" | sed "s/^/  [$kind] /"
  echo "$out" | grep -q '^serial=1001 ' || fail "($kind) not serial 1001"
  echo "$out" | grep -q '^ceip_locked_off=yes$' || fail "($kind) CEIP is not locked off"
  echo "$out" | grep -q '^usage_data_for_correspondence=denied$' ||
    fail "($kind) usage data for correspondence not denied"
  # Wrong tenant: rejected with the transport error in the message.
  bad=$("$t/c1-$kind/agent_integration" --bundle baseline.edict --trust trust.edict \
        --tenant fabrikam --now $now 2>&1) && fail "($kind) wrong tenant accepted"
  echo "$bad" | grep -q ERR_TARGET_TENANT || fail "($kind) wrong tenant: '$bad'"
done
if [ "$fails" = 0 ]; then
  readelf -d "$t/c1-static/agent_integration" | grep -q 'libedict' &&
    fail "static consumer still needs libedict.so"
  readelf -d "$t/c1-shared/agent_integration" | grep -q 'libedict.so.0' ||
    fail "shared consumer does not need libedict.so.0"
fi

# Consumer 2: pkg-config only.
PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" "$cmake" -S "$src/tests/capi/consumer-pkgconfig" \
  -B "$t/c2" -G "$gen" >"$t/c2.log" 2>&1 &&
  "$cmake" --build "$t/c2" >>"$t/c2.log" 2>&1 ||
  { cat "$t/c2.log"; fail "pkg-config consumer did not build"; }
out=$("$t/c2/pkgconfig_consumer" 2>&1) || fail "pkg-config consumer failed: $out"
echo "  [pkg-config] $out"
echo "$out" | grep -q 'source=default' || fail "pkg-config consumer: '$out'"
cf=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs edict)
case "$cf" in *"$prefix"*) ;; *) fail "pkg-config flags do not point into the prefix: $cf" ;; esac

[ "$fails" = 0 ] && echo "install_test: installed tree OK; find_package (shared, static) and pkg-config consumers built and ran"
exit "$fails"

#!/bin/sh
# Builds the Debian packages with CPack, checks their names, fields and contents, unpacks
# them with `dpkg -x` into a scratch root (no root needed, nothing installed on the system)
# and runs the programs from there: edictctl's keygen -> trust -> compile -> sign -> verify
# demo, edict-agent --help, the man pages, and a find_package consumer built against the
# unpacked libedict-dev. Runs lintian when it is installed (skipped otherwise).
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR WORKDIR CPACK CMAKE   (exit 77: no dpkg-deb)
set -u
build=$1; src=$2; t=$3; cpack=$4; cmake=$5
command -v dpkg-deb >/dev/null 2>&1 || { echo "SKIP: dpkg-deb is not installed"; exit 77; }
rm -rf "$t" && mkdir -p "$t/sysroot" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$cpack" --config "$build/CPackConfig.cmake" -B "$t/pkgs" >"$t/cpack.log" 2>&1 ||
  { cat "$t/cpack.log"; echo "FAIL: cpack"; exit 1; }
ls "$t/pkgs"/*.deb | sed 's|.*/|  built |'
deb() { ls "$t/pkgs/$1"_*.deb 2>/dev/null | head -1; }
for p in libedict0 libedict-dev edictctl; do
  [ -n "$(deb $p)" ] || fail "package $p not built"
done
agent_built=0
if grep -q '"agent"' "$build/CPackConfig.cmake"; then
  agent_built=1
  [ -n "$(deb edict-agent)" ] || fail "package edict-agent not built"
fi
[ "$fails" = 0 ] || exit "$fails"

field() { dpkg-deb -f "$(deb "$1")" "$2"; }
contents() { dpkg-deb -c "$(deb "$1")" | awk '{print $6}'; }
has() {  # has PACKAGE PATH-REGEX
  contents "$1" | grep -Eq "$2" || fail "$1 lacks $2"
}
lacks() {
  contents "$1" | grep -Eq "$2" && fail "$1 must not contain $2"
}
[ "$(field libedict0 Section)" = libs ] || fail "libedict0 section '$(field libedict0 Section)'"
field libedict-dev Depends | grep -q 'libedict0 (= ' || fail "libedict-dev does not depend on libedict0"
field edictctl Depends | grep -q 'libc6' || fail "edictctl Depends lacks shlibdeps: $(field edictctl Depends)"
dpkg-deb -I "$(deb libedict0)" shlibs >/dev/null 2>&1 || fail "libedict0 has no shlibs file"
has libedict0 '^\./usr/lib/.*libedict\.so\.0$'
has libedict0 '^\./usr/lib/.*libedict\.so\.0\.[0-9]*\.[0-9]*$'
has libedict0 'usr/share/doc/libedict0/copyright$'
lacks libedict0 'include/|\.a$|libedict\.so$'
has libedict-dev 'usr/include/edict/edict\.h$'
has libedict-dev 'usr/include/edict/edict\.hpp$'
has libedict-dev 'usr/lib/.*libedict\.so$'
has libedict-dev 'usr/lib/.*libedict\.a$'
has libedict-dev 'usr/lib/.*cmake/edict/edictConfig\.cmake$'
has libedict-dev 'usr/lib/.*cmake/edict/edictConfigVersion\.cmake$'
has libedict-dev 'usr/lib/.*pkgconfig/edict\.pc$'
has edictctl '^\./usr/bin/edictctl$'
has edictctl 'usr/share/man/man1/edictctl\.1\.gz$'
if [ "$agent_built" = 1 ]; then
  has edict-agent '^\./usr/bin/edict-agent$'
  has edict-agent 'usr/share/man/man8/edict-agent\.8\.gz$'
  if [ -f "$src/packaging/edict-agent.service" ]; then
    has edict-agent 'lib/systemd/system/edict-agent\.service$'
  else
    echo "NOTE: packaging/edict-agent.service does not exist yet; edict-agent ships without a unit"
  fi
fi

for d in "$t/pkgs"/*.deb; do dpkg -x "$d" "$t/sysroot" || fail "dpkg -x $d"; done
r=$t/sysroot

# The unit's ExecStart must name the program the package ships.
unit=$(find "$r" -name edict-agent.service | head -1)
if [ -n "$unit" ]; then
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit" | head -1)
  [ -x "$r$exe" ] || fail "edict-agent.service ExecStart=$exe is not in the package"
  echo "  unit ${unit#$r}: ExecStart=$exe is shipped"
  if command -v systemd-analyze >/dev/null 2>&1; then
    # Verify the unit as shipped (ExecStart pointed into the scratch root).
    sed "s|^ExecStart=$exe|ExecStart=$r$exe|" "$unit" > "$t/edict-agent.service"
    systemd-analyze verify "$t/edict-agent.service" >"$t/analyze.log" 2>&1 ||
      echo "NOTE: systemd-analyze verify: $(grep -v '^$' "$t/analyze.log" | head -3)"
  fi
fi

# The demo, run from the unpacked tree.
ctl=$r/usr/bin/edictctl
cd "$t" || exit 1
"$ctl" --help >/dev/null || fail "edictctl --help from the package"
"$ctl" keygen --out root >/dev/null && "$ctl" keygen --out signer >/dev/null || fail "keygen"
"$ctl" trust init --root root.pub --signer signer.pub --sign-key root \
  --now 2027-01-01T00:00:00Z --valid-days 365 -o trust.edict >/dev/null || fail "trust init"
"$ctl" compile "$src/policy/examples/baseline.json" -o baseline.bin >/dev/null || fail "compile"
"$ctl" sign baseline.bin --key signer -o baseline.edict >/dev/null || fail "sign"
out=$("$ctl" verify baseline.edict --trust trust.edict --tenant contoso \
      --now 2027-01-15T00:00:00Z 2>&1) || fail "verify: $out"
echo "$out" | grep -q '"serial":1001' || fail "verify output: $out"
out=$("$ctl" eval --policy baseline.bin setting communicator.ceip --ctx identity=managed \
      --ctx domain_joined=true 2>&1) || fail "eval: $out"
echo "  edictctl from the package: $out"
echo "$out" | grep -q '"locked":true' || fail "eval from the package: $out"
if [ "$agent_built" = 1 ]; then
  "$r/usr/bin/edict-agent" --help >/dev/null || fail "edict-agent --help from the package"
fi
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$r/usr/share/man/man1/edictctl.1.gz" 2>/dev/null | grep -q 'edictctl' ||
    fail "edictctl(1) does not render"
fi

# libedict-dev from the unpacked root: the example builds and runs against it.
if true; then
  "$cmake" -S "$src/examples/agent-integration" -B "$t/example" -DCMAKE_PREFIX_PATH="$r/usr" \
    >"$t/example.log" 2>&1 && "$cmake" --build "$t/example" >>"$t/example.log" 2>&1 ||
    { cat "$t/example.log"; fail "example against the unpacked libedict-dev"; }
  out=$("$t/example/agent_integration" --bundle baseline.edict --trust trust.edict \
        --tenant contoso --now 1800000000 2>&1) || fail "example: $out"
  echo "$out" | grep -q '^ceip_locked_off=yes$' || fail "example from the packages: $out"
  readelf -d "$t/example/agent_integration" | grep -q "RUNPATH\|RPATH" &&
    ldd "$t/example/agent_integration" | grep -q "$r/usr/lib" ||
    fail "example did not load libedict.so.0 from the unpacked package"
fi

# lintian, when available (not installed by CI: it is slow to install).
if command -v lintian >/dev/null 2>&1; then
  for d in "$t/pkgs"/*.deb; do
    lintian --no-tag-display-limit --fail-on error "$d" || fail "lintian errors in $d"
  done
else
  echo "SKIP: lintian is not installed; the packages were not linted"
fi

[ "$fails" = 0 ] && echo "deb_test: $(ls "$t/pkgs"/*.deb | wc -l) packages built, unpacked with dpkg -x and run"
exit "$fails"

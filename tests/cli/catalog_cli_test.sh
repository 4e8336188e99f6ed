#!/bin/sh
# CLI test of `edictctl catalog build|inspect|check` (docs/catalogs.md).
# usage: catalog_cli_test.sh EDICTCTL SOURCE_DIR WORK_DIR
set -u
ctl=$1
src=$2
work=$3
. "$src/tests/lib/cli_test_lib.sh"

fresh_work

# 1. The example catalogue builds; inspect prints it; --json builds back to the same bytes.
run "$ctl" catalog build "$src/examples/catalogs/acmevpn.json" -o "$work/acmevpn.edcat"
[ "$rc" -eq 0 ] || fail "build example: exit $rc: $(cat "$work/err")"
run "$ctl" catalog inspect "$work/acmevpn.edcat"
[ "$rc" -eq 0 ] || fail "inspect: exit $rc"
grep -q '^catalogue acmevpn version 1: Acme VPN by Acme Networks$' "$work/out" ||
  fail "inspect: no header line: $(head -3 "$work/out")"
grep -q 'fnv1a64:[0-9a-f]\{16\}' "$work/out" || fail "inspect: no hash"
grep -q 'acmevpn.network_trust .*Enum .*trusted|untrusted|captive' "$work/out" ||
  fail "inspect: attribute missing"
run "$ctl" catalog inspect --json "$work/acmevpn.edcat"
[ "$rc" -eq 0 ] || fail "inspect --json: exit $rc"
cp "$work/out" "$work/printed.json"
run "$ctl" catalog build "$work/printed.json" -o "$work/again.edcat"
[ "$rc" -eq 0 ] || fail "build printed json: exit $rc: $(cat "$work/err")"
cmp -s "$work/acmevpn.edcat" "$work/again.edcat" ||
  fail "build -> inspect --json -> build is not byte-identical"

# 2. A broken source: exit 1, every error located, nothing written.
cat >"$work/broken.json" <<'JSON'
{
  "version": 1,
  "product": {"id": "demo", "vendor": "Demo Inc", "display_name": "Demo"},
  "settings": [
    {"id": "demo.on", "num": 0, "type": "Bool", "default": "maybe", "setters": "Admin", "description": "On."},
    {"id": "other.x", "num": 1, "type": "Bool", "default": "true", "setters": "Admin", "description": "X."}
  ]
}
JSON
run "$ctl" catalog build "$work/broken.json" -o "$work/broken.edcat"
[ "$rc" -eq 1 ] || fail "broken: exit $rc, want 1"
grep -qxF "$work/broken.json:5:60: demo.on: default \"maybe\" is not a valid Bool value" "$work/err" ||
  fail "broken: default error missing: $(cat "$work/err")"
grep -qxF "$work/broken.json:6:12: setting \"other.x\" is outside product \"demo\": ids must start with \"demo.\"" "$work/err" ||
  fail "broken: product error missing: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 2 ] || fail "broken: want exactly 2 lines on stderr"
[ ! -e "$work/broken.edcat" ] || fail "broken: an output file was written"
printf 'not json' >"$work/nonjson.json"
run "$ctl" catalog build "$work/nonjson.json" -o "$work/nonjson.edcat"
[ "$rc" -eq 1 ] || fail "non-JSON: exit $rc, want 1"
grep -q "^$work/nonjson.json:1:1: " "$work/err" || fail "non-JSON: not located: $(cat "$work/err")"

# 3. check: a compatible next version passes; breaking ones fail naming the id.
v1() {
  cat <<JSON
{
  "version": $1,
  "product": {"id": "demo", "vendor": "Demo Inc", "display_name": "Demo"},
  "settings": [
    {"id": "demo.mode", "num": 0, "type": "$2", "values": [$3], "default": "a", "setters": "Admin", "description": "Mode."}$4
  ]
}
JSON
}
v1 1 Enum '"a", "b"' '' >"$work/v1.json"
v1 2 Enum '"a", "b", "c"' ',
    {"id": "demo.new", "num": 1, "type": "Bool", "default": "true", "setters": "Admin", "description": "New."}' \
  >"$work/v2.json"
v1 2 Enum '"a"' '' >"$work/removed_value.json"
v1 2 Flags '"a", "b"' '' >"$work/type_change.json"
for f in v1 v2 removed_value type_change; do
  run "$ctl" catalog build "$work/$f.json" -o "$work/$f.edcat"
  [ "$rc" -eq 0 ] || fail "build $f: exit $rc: $(cat "$work/err")"
done
run "$ctl" catalog check "$work/v1.edcat" "$work/v2.edcat"
[ "$rc" -eq 0 ] || fail "check v1 v2: exit $rc: $(cat "$work/err")"
grep -q 'compatible' "$work/out" || fail "check v1 v2: no verdict on stdout"
run "$ctl" catalog check "$work/v1.edcat" "$work/removed_value.edcat"
[ "$rc" -eq 1 ] || fail "check removed value: exit $rc, want 1"
grep -qF 'setting demo.mode: value "b" was removed' "$work/err" ||
  fail "check removed value: reason missing: $(cat "$work/err")"
run "$ctl" catalog check "$work/v1.edcat" "$work/type_change.edcat"
[ "$rc" -eq 1 ] || fail "check type change: exit $rc, want 1"
grep -qF 'setting demo.mode: type changed from Enum to Flags' "$work/err" ||
  fail "check type change: reason missing: $(cat "$work/err")"
run "$ctl" catalog check "$work/v2.edcat" "$work/v1.edcat"
[ "$rc" -eq 1 ] || fail "check v2 v1: exit $rc, want 1"
grep -qF 'setting demo.new: removed without first being marked deprecated' "$work/err" ||
  fail "check v2 v1: removal reason missing: $(cat "$work/err")"
grep -qF 'version 1 does not increase on 2' "$work/err" ||
  fail "check v2 v1: version reason missing: $(cat "$work/err")"

# 4. Not a catalogue, truncated, missing: exit 3. Usage errors: exit 2.
printf 'garbage!' >"$work/garbage.edcat"
run "$ctl" catalog inspect "$work/garbage.edcat"
[ "$rc" -eq 3 ] || fail "garbage: exit $rc, want 3"
head -c 100 "$work/acmevpn.edcat" >"$work/truncated.edcat"
run "$ctl" catalog inspect "$work/truncated.edcat"
[ "$rc" -eq 3 ] || fail "truncated: exit $rc, want 3"
run "$ctl" catalog check "$work/v1.edcat" "$work/missing.edcat"
[ "$rc" -eq 3 ] || fail "missing: exit $rc, want 3"
run "$ctl" catalog check "$work/v1.edcat"
[ "$rc" -eq 2 ] || fail "check with one file: exit $rc, want 2"
run "$ctl" catalog build "$work/v1.json"
[ "$rc" -eq 2 ] || fail "build without -o: exit $rc, want 2"
run "$ctl" catalog --help
[ "$rc" -eq 0 ] && grep -q 'edictctl catalog check OLD.edcat NEW.edcat' "$work/out" ||
  fail "catalog --help"

finish "catalog CLI"

#!/bin/sh
# CLI test of `edictctl compile`, `inspect` and `catalog`.
# usage: cli_test.sh EDICTCTL SOURCE_DIR/tests/policy WORK_DIR
set -u
ctl=$1
examples=$2/../../policy/examples
work=$3
. "$2/../../tests/lib/cli_test_lib.sh"

fresh_work

# 1. A broken policy: exit 1, every error located on stderr, no output file.
cat >"$work/broken.json" <<'JSON'
{
  "serial": 0,
  "settings": [
    {"setting": "communicator.cepi", "level": "mandatory", "value": false}
  ]
}
JSON
run "$ctl" compile "$work/broken.json" -o "$work/broken.bin"
[ "$rc" -eq 1 ] || fail "broken policy: exit $rc, want 1"
grep -qxF "$work/broken.json:2:13: \"serial\" must be an integer from 1 to 9223372036854775807" "$work/err" ||
  fail "broken policy: serial error missing from stderr: $(cat "$work/err")"
grep -qxF "$work/broken.json:4:17: unknown setting \"communicator.cepi\"" "$work/err" ||
  fail "broken policy: setting error missing from stderr: $(cat "$work/err")"
[ "$(wc -l <"$work/err")" -eq 2 ] || fail "broken policy: want exactly 2 lines on stderr"
[ ! -e "$work/broken.bin" ] || fail "broken policy: an output file was written"
ls "$work" | grep -q '\.tmp\.' && fail "broken policy: a temporary file was left behind"

# 2. Malformed JSON: one located error.
printf '{"serial": 1,\n  "settings": [}\n' >"$work/malformed.json"
run "$ctl" compile "$work/malformed.json" -o "$work/malformed.bin"
[ "$rc" -eq 1 ] || fail "malformed: exit $rc, want 1"
grep -qxF "$work/malformed.json:2:16: unexpected '}', expected a value" "$work/err" ||
  fail "malformed: $(cat "$work/err")"
[ ! -e "$work/malformed.bin" ] || fail "malformed: an output file was written"

# 3. A valid policy: exit 0, summary on stdout, payload written, nothing on stderr.
run "$ctl" compile "$examples/baseline.json" -o "$work/baseline.bin"
[ "$rc" -eq 0 ] || fail "baseline: exit $rc: $(cat "$work/err")"
grep -q "^wrote $work/baseline.bin ([0-9]* bytes, serial 1001, 15 setting rules, 3 data-use rules, 1 schedule rule)\$" \
  "$work/out" || fail "baseline: unexpected stdout: $(cat "$work/out")"
[ -s "$work/baseline.bin" ] || fail "baseline: no payload"
[ -s "$work/err" ] && fail "baseline: stderr not empty"

# 4. inspect: canonical JSON that compiles back to the same bytes.
run "$ctl" inspect "$work/baseline.bin"
[ "$rc" -eq 0 ] || fail "inspect: exit $rc"
cp "$work/out" "$work/canonical.json"
run "$ctl" compile "$work/canonical.json" -o "$work/again.bin"
[ "$rc" -eq 0 ] || fail "canonical: exit $rc: $(cat "$work/err")"
cmp -s "$work/baseline.bin" "$work/again.bin" || fail "canonical JSON compiles to other bytes"
run "$ctl" inspect "$examples/baseline.json"
[ "$rc" -eq 0 ] || fail "inspect of policy JSON: exit $rc"
cmp -s "$work/out" "$work/canonical.json" || fail "inspect of policy JSON differs"
printf 'not a payload at all' >"$work/garbage.bin"
run "$ctl" inspect "$work/garbage.bin"
[ "$rc" -eq 1 ] || fail "inspect garbage: exit $rc, want 1"
grep -q "file identifier is not EDP1" "$work/err" || fail "inspect garbage: $(cat "$work/err")"
run "$ctl" inspect "$work/broken.json"
[ "$rc" -eq 1 ] || fail "inspect broken policy: exit $rc, want 1"
grep -q "broken.json:4:17: unknown setting" "$work/err" || fail "inspect broken: $(cat "$work/err")"

# 5. Usage errors exit 2; --help exits 0.
run "$ctl" compile "$examples/baseline.json" --frobnicate
[ "$rc" -eq 2 ] || fail "unknown flag: exit $rc, want 2"
run "$ctl" compile
[ "$rc" -eq 2 ] || fail "no input: exit $rc, want 2"
run "$ctl" compile "$examples/baseline.json" -o
[ "$rc" -eq 2 ] || fail "-o without file: exit $rc, want 2"
run "$ctl" inspect a b
[ "$rc" -eq 2 ] || fail "inspect two files: exit $rc, want 2"
run "$ctl" catalog --xml
[ "$rc" -eq 2 ] || fail "catalog --xml: exit $rc, want 2"
for cmd in compile inspect catalog; do
  run "$ctl" "$cmd" --help
  [ "$rc" -eq 0 ] || fail "$cmd --help: exit $rc"
  grep -q "^usage: edictctl $cmd" "$work/out" || fail "$cmd --help: no usage line"
done

# 6. catalog lists every setting, with type, default, setters and scope.
run "$ctl" catalog
[ "$rc" -eq 0 ] || fail "catalog: exit $rc"
grep -Eq '^ +groove\.proxy_auth +enum +"ntlm" +admin +device ' "$work/out" ||
  fail "catalog: no groove.proxy_auth row"
grep -Eq '^ +groove\.send_guids_ip +bool +true +nobody \(fixed\) +device' "$work/out" ||
  fail "catalog: no fixed row"
run "$ctl" catalog --json
[ "$rc" -eq 0 ] || fail "catalog --json: exit $rc"
grep -q '"id": "communicator.ceip", "type": "bool", "default": false' "$work/out" ||
  fail "catalog --json: no communicator.ceip"

finish "CLI"

#!/bin/sh
# The edictctl eval/explain/conformance command-line contract (docs/policy-format.md).
# Usage: edictctl_test.sh EDICTCTL TESTDATA_DIR. Expected outputs are written by hand.
set -u
ctl=$1
data=$2
tmp=${TMPDIR:-/tmp}/edictctl_test.$$
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect_out EXPECTED_STATUS EXPECTED_STDOUT -- ARGS...
expect_out() {
  want_rc=$1; want_out=$2; shift 3
  out=$("$ctl" "$@" 2>"$tmp/err"); rc=$?
  [ "$rc" = "$want_rc" ] || fail "edictctl $*: exit $rc, expected $want_rc ($(cat "$tmp/err"))"
  [ "$out" = "$want_out" ] || fail "edictctl $*:
  got:      $out
  expected: $want_out"
}

# expect_rc EXPECTED_STATUS ARGS...
expect_rc() {
  want_rc=$1; shift
  "$ctl" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ "$rc" = "$want_rc" ] || fail "edictctl $*: exit $rc, expected $want_rc ($(cat "$tmp/err"))"
}

P=$data/policy.json

# --- eval: one query -------------------------------------------------------------------
expect_out 0 '{"setting":"communicator.ceip","value":false,"source":"default","locked":false,"rule":null,"serial":0,"obligations":[]}' -- \
  eval setting communicator.ceip
expect_out 0 '{"setting":"communicator.ceip","value":false,"source":"mandatory","locked":true,"rule":0,"serial":42,"obligations":[],"notes":["choice overridden by lock"]}' -- \
  eval --policy "$P" setting communicator.ceip --ctx identity=managed --ctx domain_joined=true --user-choice true
expect_out 0 '{"setting":"communicator.ceip","value":true,"source":"user","locked":false,"rule":null,"serial":42,"obligations":[]}' -- \
  eval setting communicator.ceip --policy="$P" --ctx=identity=unmanaged --user-choice=true
expect_out 0 '{"setting":"groove.directory.public","value":"name_only","source":"recommended","locked":false,"rule":1,"serial":42,"obligations":["warn_irreversible"]}' -- \
  eval --policy "$P" setting groove.directory.public
expect_out 0 '{"setting":"groove.directory.public","value":"full_contact","source":"user","locked":false,"rule":null,"serial":42,"obligations":["warn_irreversible"]}' -- \
  eval --policy "$P" setting groove.directory.public --user-choice '"full_contact"'
expect_out 0 '{"setting":"communicator.presence_fields","value":["status","note"],"source":"user","locked":false,"rule":null,"serial":0,"obligations":[]}' -- \
  eval setting communicator.presence_fields --user-choice '["note","status"]'
expect_out 0 '{"setting":"groove.password_reset.unmanaged","value":true,"source":"user","locked":false,"rule":null,"serial":0,"obligations":[]}' -- \
  eval setting groove.password_reset.unmanaged --ctx identity=unmanaged --user-choice true --user-choice-at-creation
expect_out 0 '{"setting":"groove.password_reset.unmanaged","value":false,"source":"default","locked":false,"rule":null,"serial":0,"obligations":[],"notes":["choice after creation"]}' -- \
  eval setting groove.password_reset.unmanaged --ctx identity=unmanaged --user-choice true
expect_out 0 '{"allowed":false,"obligations":[],"rule":0,"source":"mandatory"}' -- \
  eval --policy "$P" data-use account_address_book correspondence --ctx plan=small_business
expect_out 0 '{"allowed":true,"obligations":["aggregate_only"],"rule":null,"source":"default"}' -- \
  eval data-use usage_data improve
expect_out 0 '{"schedule":"genuine.validation_interval","interval_seconds":604800,"source":"mandatory","rule":0,"serial":42}' -- \
  eval --policy "$P" schedule genuine.validation_interval --ctx device_state=tampered
expect_out 0 '{"schedule":"genuine.validation_interval","interval_seconds":2592000,"source":"default","rule":null,"serial":0}' -- \
  eval schedule genuine.validation_interval --ctx os_generation=60

# --- usage errors exit 2 ----------------------------------------------------------------
expect_rc 2 eval setting communicator.ceip --frobnicate
expect_rc 2 eval -x setting communicator.ceip
expect_rc 2 eval setting communicator.telepathy
expect_rc 2 eval setting
expect_rc 2 eval setting communicator.ceip extra
expect_rc 2 eval data-use usage_data
expect_rc 2 eval widget communicator.ceip
expect_rc 2 eval
expect_rc 2 eval setting communicator.ceip --ctx plan=free
expect_rc 2 eval setting communicator.ceip --ctx nokey
expect_rc 2 eval setting communicator.ceip --ctx colour=blue
expect_rc 2 eval setting communicator.ceip --ctx plan=trial --ctx plan=enterprise
expect_rc 2 eval setting communicator.ceip --user-choice yes
expect_rc 2 eval setting communicator.ceip --user-choice-at-creation
expect_rc 2 eval data-use usage_data improve --user-choice true
expect_rc 2 eval --batch "$data/queries.jsonl" setting communicator.ceip
expect_rc 2 explain setting communicator.ceip --bogus
expect_rc 2 eval setting communicator.ceip --candidates
expect_rc 2 conformance
expect_rc 2 conformance --fast "$data"

# --- help exits 0 -----------------------------------------------------------------------
for cmd in eval explain conformance; do
  expect_rc 0 $cmd --help
  grep -q "usage: edictctl $cmd" "$tmp/out" || fail "$cmd --help does not print its usage"
done

# --- policy loading errors exit 1, with located diagnostics --------------------------------
expect_rc 1 eval --policy "$data/bad_policy.json" setting communicator.ceip
grep -q "bad_policy.json:[0-9]*:[0-9]*: " "$tmp/err" || fail "compile errors are not located: $(cat "$tmp/err")"
expect_rc 1 eval --policy "$data/does_not_exist.json" setting communicator.ceip
expect_rc 1 eval --policy "$data/queries.jsonl" setting communicator.ceip

# --- batch ------------------------------------------------------------------------------
"$ctl" eval --policy "$P" --batch "$data/queries.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ "$rc" = 1 ] || fail "batch with bad lines: exit $rc, expected 1"
cat >"$tmp/want" <<'WANT'
{"setting":"communicator.ceip","value":false,"source":"mandatory","locked":true,"rule":0,"serial":42,"obligations":[],"notes":["choice overridden by lock"]}
{"allowed":false,"obligations":[],"rule":0,"source":"mandatory"}
{"schedule":"genuine.validation_interval","interval_seconds":604800,"source":"mandatory","rule":0,"serial":42}
WANT
head -n 3 "$tmp/out" | cmp -s - "$tmp/want" || fail "batch answers differ: $(cat "$tmp/out")"
[ "$(wc -l <"$tmp/out")" -eq 6 ] || fail "batch: expected 6 answer lines, got $(wc -l <"$tmp/out")"
sed -n 4p "$tmp/out" | grep -q '^{"error":"line 5: .*plan' || fail "batch: line 5 error: $(sed -n 4p "$tmp/out")"
sed -n 5p "$tmp/out" | grep -q '^{"error":"line 6: ' || fail "batch: line 6 error: $(sed -n 5p "$tmp/out")"
sed -n 6p "$tmp/out" | grep -q '"value":"full_contact","source":"user"' || fail "batch: after errors: $(sed -n 6p "$tmp/out")"
grep -q '^6 queries, [0-9]* queries/s$' "$tmp/err" || fail "batch: no rate line on stderr: $(cat "$tmp/err")"
sed -n '1p;2p;4p' "$data/queries.jsonl" >"$tmp/good.jsonl"
"$ctl" eval --policy "$P" --batch - <"$tmp/good.jsonl" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ "$rc" = 0 ] || fail "batch from stdin without bad lines: exit $rc ($(cat "$tmp/err"))"
[ "$(wc -l <"$tmp/out")" -eq 3 ] || fail "batch from stdin: $(cat "$tmp/out")"

# --- explain ----------------------------------------------------------------------------
expect_rc 0 explain --policy "$P" setting communicator.ceip --ctx identity=managed --ctx domain_joined=true
grep -q "communicator.ceip" "$tmp/out" || fail "explain does not name the setting: $(cat "$tmp/out")"
[ -s "$tmp/out" ] || fail "explain printed nothing"
expect_rc 0 explain --candidates --policy "$P" setting communicator.ceip --ctx identity=unmanaged
[ -s "$tmp/out" ] || fail "explain --candidates printed nothing"
expect_rc 0 explain data-use usage_data advertising
expect_rc 0 explain schedule genuine.validation_interval --ctx os_generation=61

[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all edictctl contract checks passed"

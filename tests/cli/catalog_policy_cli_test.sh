#!/bin/sh
# CLI test of policies on product catalogues (docs/policy-format.md, docs/cli contract):
# `edictctl compile --catalog`, `inspect --catalog`, `eval|explain --catalog` with context
# attributes in --ctx and in --batch query JSON.
# usage: catalog_policy_cli_test.sh EDICTCTL SOURCE_DIR WORK_DIR
set -u
ctl=$1
src=$2
work=$3
. "$src/tests/lib/cli_test_lib.sh"

# expect_out PATTERN WHAT: stdout matches the fixed string PATTERN.
expect_out() {
  grep -qF -- "$1" "$work/out" || fail "$2: stdout lacks '$1': $(cat "$work/out") $(cat "$work/err")"
}
expect_err() {
  grep -qF -- "$1" "$work/err" || fail "$2: stderr lacks '$1': $(cat "$work/err")"
}

fresh_work
ex="$src/examples/catalogs"
cat="$work/acmevpn.edcat"

run "$ctl" catalog build "$ex/acmevpn.json" -o "$cat"
[ "$rc" -eq 0 ] || { echo "FAIL: catalog build: $(cat "$work/err")" >&2; exit 1; }

# 1. Without --catalog the product's names are unknown, located, with a hint.
run "$ctl" compile "$ex/acmevpn-attributes-policy.json"
[ "$rc" -eq 1 ] || fail "compile without --catalog: exit $rc, want 1"
expect_err 'acmevpn-attributes-policy.json:7:18: unknown setting "acmevpn.always_on" (no catalogue of product "acmevpn" is loaded)' \
  "compile without --catalog"
expect_err 'acmevpn-attributes-policy.json:8:17: unknown context attribute "acmevpn.network_trust"' \
  "compile without --catalog"

# 2. Both examples compile with it, deterministically; inspect round-trips.
for p in acmevpn-policy acmevpn-attributes-policy; do
  run "$ctl" compile "$ex/$p.json" --catalog "$cat" -o "$work/$p.bin"
  [ "$rc" -eq 0 ] || fail "compile $p: exit $rc: $(cat "$work/err")"
  run "$ctl" compile --catalog "$cat" "$ex/$p.json" -o "$work/$p.again.bin"
  cmp -s "$work/$p.bin" "$work/$p.again.bin" || fail "compile $p: not deterministic"
  run "$ctl" inspect --catalog "$cat" "$work/$p.bin"
  [ "$rc" -eq 0 ] || fail "inspect $p: exit $rc: $(cat "$work/err")"
  cp "$work/out" "$work/$p.canonical.json"
  run "$ctl" compile "$work/$p.canonical.json" --catalog "$cat" -o "$work/$p.rt.bin"
  [ "$rc" -eq 0 ] || fail "compile canonical $p: exit $rc: $(cat "$work/err")"
  cmp -s "$work/$p.bin" "$work/$p.rt.bin" || fail "$p: compile(inspect(p)) != p"
done
grep -qF '"acmevpn.tunnel_count": {"min": 2, "max": 16}' "$work/acmevpn-attributes-policy.canonical.json" ||
  fail "inspect: attribute term not printed: $(cat "$work/acmevpn-attributes-policy.canonical.json")"

# 3. Errors name the catalogue file.
run "$ctl" compile "$ex/acmevpn-policy.json" --catalog "$work/missing.edcat"
[ "$rc" -eq 1 ] || fail "missing catalogue: exit $rc, want 1"
expect_err "$work/missing.edcat" "missing catalogue"
printf 'not a catalogue at all' >"$work/bad.edcat"
run "$ctl" compile "$ex/acmevpn-policy.json" --catalog "$work/bad.edcat"
[ "$rc" -eq 1 ] || fail "bad catalogue: exit $rc, want 1"
expect_err "$work/bad.edcat" "bad catalogue"
run "$ctl" compile "$ex/acmevpn-policy.json" --catalog "$cat" --catalog "$cat"
[ "$rc" -eq 1 ] || fail "catalogue given twice: exit $rc, want 1"
run "$ctl" compile "$ex/acmevpn-policy.json" --catalog
[ "$rc" -eq 2 ] || fail "--catalog without a value: exit $rc, want 2"

# 4. eval against the set: product settings by name, attributes in --ctx.
pol="$ex/acmevpn-attributes-policy.json"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.always_on \
  --ctx acmevpn.network_trust=captive
[ "$rc" -eq 0 ] || fail "eval captive: exit $rc: $(cat "$work/err")"
expect_out '"setting":"acmevpn.always_on","value":true,"source":"mandatory"' "eval captive"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.always_on \
  --ctx acmevpn.network_trust=trusted
expect_out '"value":false,"source":"mandatory"' "eval trusted"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.always_on
expect_out '"value":false,"source":"default"' "eval, attribute unknown"
run "$ctl" eval --catalog="$cat" --policy "$pol" setting acmevpn.keepalive_interval \
  --ctx acmevpn.on_battery=true
expect_out '"value":120,"source":"mandatory"' "eval on battery"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.max_concurrent_tunnels \
  --ctx acmevpn.tunnel_count=3
expect_out '"value":4,"source":"mandatory"' "eval tunnel_count=3"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.max_concurrent_tunnels \
  --ctx acmevpn.tunnel_count=1
expect_out '"source":"default"' "eval tunnel_count=1"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.gateway_address \
  --ctx acmevpn.gateway_regions=US,EU --ctx device_managed=true
expect_out '"value":"eu.vpn.contoso.example","source":"mandatory"' "eval string set"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.gateway_address \
  --ctx acmevpn.gateway_regions=US --ctx device_managed=true
expect_out '"source":"default"' "eval string set without EU"
run "$ctl" eval --catalog "$cat" --policy "$pol" setting communicator.ceip \
  --ctx acmevpn.on_battery=false
expect_out '"setting":"communicator.ceip","value":false,"source":"mandatory"' "eval built-in"
run "$ctl" eval --catalog "$cat" --policy "$pol" schedule acmevpn.posture_check_interval \
  --ctx acmevpn.tunnel_count=2 --ctx acmevpn.network_trust=captive
expect_out '"schedule":"acmevpn.posture_check_interval","interval_seconds":900' "eval schedule"
# No --policy: the product's defaults.
run "$ctl" eval --catalog "$cat" setting acmevpn.mtu
[ "$rc" -eq 0 ] || fail "eval defaults: exit $rc: $(cat "$work/err")"
expect_out '"setting":"acmevpn.mtu","value":1420,"source":"default"' "eval defaults"
# The payload compiled earlier activates against the set too.
run "$ctl" eval --catalog "$cat" --policy "$work/acmevpn-attributes-policy.bin" \
  setting acmevpn.always_on --ctx acmevpn.network_trust=untrusted
expect_out '"value":true,"source":"mandatory"' "eval payload"
# explain takes the same arguments.
run "$ctl" explain --catalog "$cat" --policy "$pol" setting acmevpn.always_on \
  --ctx acmevpn.network_trust=captive
[ "$rc" -eq 0 ] || fail "explain: exit $rc: $(cat "$work/err")"

# 5. Bad context values are usage errors naming the key.
for bad in acmevpn.network_trust=home acmevpn.tunnel_count=17 acmevpn.tunnel_count=x \
  acmevpn.on_battery=maybe acmevpn.nope=1; do
  run "$ctl" eval --catalog "$cat" --policy "$pol" setting acmevpn.always_on --ctx "$bad"
  [ "$rc" -eq 2 ] || fail "--ctx $bad: exit $rc, want 2"
  expect_err "${bad%%=*}" "--ctx $bad"
done
run "$ctl" eval --policy "$pol" setting communicator.ceip
[ "$rc" -eq 1 ] || fail "eval without --catalog: exit $rc, want 1 (policy does not load)"
expect_err 'unknown setting "acmevpn.always_on" (no catalogue of product "acmevpn" is loaded)' \
  "eval without --catalog"
run "$ctl" eval setting acmevpn.always_on
[ "$rc" -eq 2 ] || fail "eval product setting without --catalog: exit $rc, want 2"
run "$ctl" eval --catalog "$cat" setting acmevpn.nope
[ "$rc" -eq 2 ] || fail "eval unknown product setting: exit $rc, want 2"

# 6. --batch: attributes in the query's ctx JSON.
cat >"$work/batch.jsonl" <<'JSON'
{"setting": "acmevpn.always_on", "ctx": {"acmevpn.network_trust": "untrusted"}}
{"setting": "acmevpn.gateway_address", "ctx": {"acmevpn.gateway_regions": ["EU"], "device_managed": true}}
{"setting": "acmevpn.max_concurrent_tunnels", "ctx": {"acmevpn.tunnel_count": 16}}
{"setting": "acmevpn.keepalive_interval", "ctx": {"acmevpn.on_battery": true}}
JSON
run "$ctl" eval --catalog "$cat" --policy "$pol" --batch "$work/batch.jsonl"
[ "$rc" -eq 0 ] || fail "batch: exit $rc: $(cat "$work/err")"
[ "$(grep -c '"source":"mandatory"' "$work/out")" -eq 4 ] ||
  fail "batch: want 4 policy answers: $(cat "$work/out")"

# 7. --help documents --catalog and attributes.
run "$ctl" compile --help
expect_out '--catalog FILE' "compile --help"
run "$ctl" eval --help
expect_out '--catalog FILE' "eval --help"
expect_out 'acmevpn.network_trust=trusted' "eval --help"

finish "catalog policy CLI"

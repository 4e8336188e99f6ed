#!/bin/sh
# CLI test of `edictctl gen docs|json-schema|admx|gschema` (issue 18, item 7): generates
# everything from the example catalogue and the built-in catalogue's reference (docs
# --builtin), and checks the outputs with the real tools (glib-compile-schemas, xmllint,
# python3-jsonschema); gen_builtin_test.sh checks the other outputs of --builtin. Exits 77
# (skipped) if one of those tools is missing; tools/dev installs them (libglib2.0-bin
# libxml2-utils python3-jsonschema).
# usage: gen_test.sh EDICTCTL SOURCE_DIR WORK_DIR
set -u
ctl=$1
src=$2
work=$3
. "$src/tests/lib/cli_test_lib.sh"

require_gen_tools

fresh_work
cat_src="$src/examples/catalogs/acmevpn.json"
run "$ctl" catalog build "$cat_src" -o "$work/acmevpn.edcat"
[ "$rc" -eq 0 ] || { echo "FAIL: catalog build: $(cat "$work/err")" >&2; exit 1; }

# 1. Every generator writes its files into a directory it creates.
out="$work/gen"
for kind in docs json-schema admx gschema; do
  run "$ctl" gen "$kind" --catalog "$work/acmevpn.edcat" -o "$out"
  [ "$rc" -eq 0 ] || fail "gen $kind: exit $rc: $(cat "$work/err")"
done
for f in acmevpn.md acmevpn.policy.schema.json acmevpn.admx en-US/acmevpn.adml \
         org.edict.acmevpn.gschema.xml; do
  [ -s "$out/$f" ] || fail "gen: $f not written"
done

# 2. gschema: glib-compile-schemas accepts it strictly; both dconf directories are schemas.
mkdir -p "$work/schemas"
cp "$out"/*.gschema.xml "$work/schemas/"
run glib-compile-schemas --strict --dry-run "$work/schemas"
[ "$rc" -eq 0 ] || fail "glib-compile-schemas --strict: $(cat "$work/out" "$work/err")"
grep -q '<schema id="org.edict.acmevpn" path="/org/edict/acmevpn/">' "$out"/*.gschema.xml ||
  fail "gschema: no schema for /org/edict/acmevpn/"
grep -q '<schema id="com.acme.vpn" path="/com/acme/vpn/">' "$out"/*.gschema.xml ||
  fail "gschema: no schema for the explicit /com/acme/vpn/ keys"
grep -q '<key name="always-on" type="b">' "$out"/*.gschema.xml || fail "gschema: always-on"
grep -q '<key name="idle-timeout" type="i">' "$out"/*.gschema.xml || fail "gschema: idle-timeout"

# 3. ADMX/ADML: well-formed XML; every string and presentation the ADMX references exists.
run xmllint --noout "$out/acmevpn.admx" "$out/en-US/acmevpn.adml"
[ "$rc" -eq 0 ] || fail "xmllint: $(cat "$work/err")"
grep -q 'key="Software\\Policies\\Acme Networks\\Acme VPN" valueName="AlwaysOn"' \
  "$out/acmevpn.admx" || fail "admx: AlwaysOn policy under the product key"
run python3 - "$out/acmevpn.admx" "$out/en-US/acmevpn.adml" "$cat_src" <<'EOF'
import json, re, sys
import xml.etree.ElementTree as ET
ns = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
admx, adml, catalogue = ET.parse(sys.argv[1]), ET.parse(sys.argv[2]), json.load(open(sys.argv[3]))
strings = {s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", ns)}
presentations = {p.get("id") for p in adml.iterfind(".//p:presentationTable/p:presentation", ns)}
text = open(sys.argv[1]).read()
missing = [r for r in re.findall(r"\$\(string\.([^)]*)\)", text) if r not in strings]
missing += [r for r in re.findall(r"\$\(presentation\.([^)]*)\)", text) if r not in presentations]
if missing:
    sys.exit("unresolved ADMX references: %s" % missing)
policies = {p.get("name") for p in admx.iterfind(".//p:policy", ns)}
settable = {s["id"].split(".", 1)[1] for s in catalogue["settings"]
            if not s.get("fixed") and "Admin" in s.get("setters", "").split()}
if policies != settable:
    sys.exit("ADMX policies %s differ from admin-settable settings %s" % (
        sorted(policies ^ settable), sorted(settable)))
EOF
[ "$rc" -eq 0 ] || fail "admx/adml consistency: $(cat "$work/err")"

# 4. JSON Schema: valid draft 2020-12; the example policy passes; every bad one fails; and
# the policy structure (conditions, target, times...) admits every example policy of the
# built-in catalogue once the catalogue's ids are relaxed to any string (and still refuses
# the invalid tests/cli/testdata/bad_policy.json).
run python3 - "$out/acmevpn.policy.schema.json" "$src" <<'EOF'
import glob, json, sys
import jsonschema
schema_path, src = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
problems = []
for name in ("acmevpn-policy.json", "acmevpn-attributes-policy.json"):
    good = src + "/examples/catalogs/" + name
    policy = json.load(open(good))
    # The schema is one product's: rules of other products (one bundle may carry several)
    # are left out here.
    for kind, key in (("settings", "setting"), ("schedules", "schedule")):
        policy[kind] = [r for r in policy.get(kind, []) if r[key].startswith("acmevpn.")]
    for e in v.iter_errors(policy):
        problems.append("%s: %s" % (good, e.message))
for case in json.load(open(src + "/tests/cli/testdata/gen/acmevpn-bad-policies.json")):
    if v.is_valid(case["policy"]):
        problems.append("bad policy accepted: " + case["why"])
d = schema["$defs"]
d["setting_rule"]["properties"]["setting"] = {"type": "string"}
d["setting_rule"].pop("allOf", None)
d["data_use_rule"]["properties"]["class"] = {"type": "string"}
d["data_use_rule"]["properties"]["purpose"] = {"type": "string"}
d["data_use_rule"].pop("allOf", None)
d["schedule_rule"]["properties"]["schedule"] = {"type": "string"}
schema["properties"]["compliance"]["items"] = {"type": "string"}
relaxed = jsonschema.Draft202012Validator(schema)
examples = sorted(glob.glob(src + "/policy/examples/*.json")) + [src + "/tests/cli/testdata/policy.json"]
for path in examples:
    for e in relaxed.iter_errors(json.load(open(path))):
        problems.append("%s: %s at %s" % (path, e.message, list(e.absolute_path)))
bad = src + "/tests/cli/testdata/bad_policy.json"  # serial 0: invalid whatever the catalogue
if relaxed.is_valid(json.load(open(bad))):
    problems.append("relaxed schema accepts " + bad)
if problems:
    sys.exit("\n".join(problems))
print("%d example policies checked" % len(examples))
EOF
[ "$rc" -eq 0 ] || fail "json schema: $(cat "$work/err")"

# 5. Markdown: every id of the catalogue appears.
for id in $(sed -n 's/.*"\(id\|name\)": "\(acmevpn\.[a-z0-9_]*\)".*/\2/p' "$cat_src"); do
  grep -q "\`$id\`" "$out/acmevpn.md" || fail "docs: $id missing"
done
grep -q '^| `acmevpn.protocol` | [0-9]* | Enum | `auto` |' "$out/acmevpn.md" || fail "docs: protocol row"
grep -q 'requirements.md' "$out/acmevpn.md" && fail "docs: requirement links in a product's reference"

# 6. docs --builtin: settings.md of the built-in catalogue (docs/settings.md is this output,
# compared by policy.Docs.SettingsReferenceIsUpToDate): every id of catalog.json appears,
# the five products are listed, and every requirement link names an anchor of
# docs/requirements.md.
run "$ctl" gen docs --builtin -o "$work/builtin"
[ "$rc" -eq 0 ] || fail "gen docs --builtin: exit $rc: $(cat "$work/err")"
md="$work/builtin/settings.md"
[ -s "$md" ] || fail "gen docs --builtin: settings.md not written"
grep -q '^# edict built-in catalogue' "$md" || fail "docs --builtin: title"
for p in communicator livemeeting groove genuine online; do
  grep -q "^| \`$p\` | [0-9]" "$md" || fail "docs --builtin: product $p not listed"
done
ids=$(sed -n 's/^ *"id": "\([a-z0-9_.]*\)".*/\1/p' "$src/policy/catalog/catalog.json")
[ -n "$ids" ] || fail "docs --builtin: no ids read from catalog.json"
for id in $ids; do
  grep -q "^| \`$id\` |" "$md" || fail "docs --builtin: $id missing"
done
grep -q '^| `groove.proxy_auth` | 21 | Enum | `ntlm` | `basic`, `ntlm` | admin | Device | .*| \[R3.10\](requirements.md#R3.10), \[R3.12\](requirements.md#R3.12) |$' "$md" ||
  fail "docs --builtin: groove.proxy_auth row"
links=$(grep -o 'requirements.md#R[0-9.]*)' "$md" | sed 's/requirements.md#\(.*\))/\1/' | sort -u)
[ -n "$links" ] || fail "docs --builtin: no requirement links"
for r in $links; do
  grep -q "<a id=\"$r\"></a>" "$src/docs/requirements.md" ||
    fail "docs --builtin: link to $r, not a rule of docs/requirements.md"
done
grep -q 'Native names' "$md" && fail "docs --builtin: native names (the built-in has no product key)"

# 7. Errors: usage, unreadable catalogue, output that is not a directory, and a catalogue
# whose derived dconf key is no GSettings key name.

run "$ctl" gen docs -o "$work/x"
[ "$rc" -eq 2 ] || fail "gen without --catalog: exit $rc, want 2"
for kind in docs json-schema admx gschema; do
  run "$ctl" gen "$kind" --builtin --catalog "$work/acmevpn.edcat" -o "$work/x"
  [ "$rc" -eq 2 ] || fail "gen $kind --builtin --catalog: exit $rc, want 2"
done
run "$ctl" gen --builtin -o "$work/x"
[ "$rc" -eq 2 ] || fail "gen --builtin without a kind: exit $rc, want 2"
[ -e "$work/x" ] && fail "gen: a usage error created the output directory"
run "$ctl" gen pdf --catalog "$work/acmevpn.edcat" -o "$work/x"
[ "$rc" -eq 2 ] || fail "gen pdf: exit $rc, want 2"
run "$ctl" gen docs --catalog "$cat_src" -o "$work/x"
[ "$rc" -eq 3 ] || fail "gen with a JSON source as catalogue: exit $rc, want 3"
: >"$work/plain"
run "$ctl" gen docs --catalog "$work/acmevpn.edcat" -o "$work/plain"
[ "$rc" -eq 1 ] || fail "gen -o FILE: exit $rc, want 1"
grep -q 'not a directory' "$work/err" || fail "gen -o FILE: $(cat "$work/err")"
cat >"$work/tiny.json" <<'EOF'
{"version": 1, "product": {"id": "tiny", "vendor": "Tiny", "display_name": "Tiny"},
 "settings": [{"id": "tiny.odd__name", "num": 0, "type": "Bool", "default": "false",
               "setters": "Admin", "description": "Two underscores."}]}
EOF
run "$ctl" catalog build "$work/tiny.json" -o "$work/tiny.edcat"
if [ "$rc" -eq 0 ]; then
  run "$ctl" gen gschema --catalog "$work/tiny.edcat" -o "$work/tiny"
  [ "$rc" -eq 1 ] || fail "gen gschema with key odd--name: exit $rc, want 1"
  grep -q 'tiny.odd__name' "$work/err" || fail "gen gschema bad key: $(cat "$work/err")"
fi
run "$ctl" gen --help
[ "$rc" -eq 0 ] && grep -q 'json-schema' "$work/out" && grep -q -- '--builtin' "$work/out" ||
  fail "gen --help"

finish "gen"

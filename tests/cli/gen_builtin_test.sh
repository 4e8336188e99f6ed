#!/bin/sh
# CLI test of `edictctl gen json-schema|admx|gschema --builtin`: the outputs of the built-in
# catalogue (the five seed products; no product table), checked with the real tools
# (glib-compile-schemas, xmllint, python3-jsonschema) and against what the agent writes
# natively for built-in settings and what `edictctl compile` accepts (gen_test.sh covers
# `gen docs --builtin` and product catalogues). Exits 77 (skipped) if one of those tools is
# missing; tools/dev installs them (libglib2.0-bin libxml2-utils python3-jsonschema).
# usage: gen_builtin_test.sh EDICTCTL SOURCE_DIR WORK_DIR
set -u
ctl=$1
src=$2
work=$3
. "$src/tests/lib/cli_test_lib.sh"

require_gen_tools

fresh_work

# 1. json-schema|admx|gschema --builtin: the built-in catalogue's settings (no product table:
# five products by id prefix), with the names the agent gives built-in settings natively.
bout="$work/builtin-gen"
for kind in json-schema admx gschema; do
  run "$ctl" gen "$kind" --builtin -o "$bout"
  [ "$rc" -eq 0 ] || fail "gen $kind --builtin: exit $rc: $(cat "$work/err")"
done
for f in edict.policy.schema.json edict.admx en-US/edict.adml org.edict.gschema.xml; do
  [ -s "$bout/$f" ] || fail "gen --builtin: $f not written"
done

# 2. gschema: glib-compile-schemas accepts it strictly; every built-in setting is a key where
# the agent's dconf store writes it (transport/native_entries.cc kGSettings: '_' -> '-';
# ports/linux/dconf_store.h: "a.b.c" is key c in /org/edict/a/b/), with the dconf type of
# its values.
mkdir -p "$work/builtin-schemas"
cp "$bout/org.edict.gschema.xml" "$work/builtin-schemas/"
run glib-compile-schemas --strict --dry-run "$work/builtin-schemas"
[ "$rc" -eq 0 ] || fail "glib-compile-schemas --strict (--builtin): $(cat "$work/out" "$work/err")"
grep -q '<schema id="org.edict.communicator" path="/org/edict/communicator/">' \
  "$bout/org.edict.gschema.xml" || fail "gschema --builtin: no schema for /org/edict/communicator/"
run python3 - "$bout/org.edict.gschema.xml" "$src/policy/catalog/catalog.json" <<'PY'
import json, sys
import xml.etree.ElementTree as ET
tree, catalogue = ET.parse(sys.argv[1]), json.load(open(sys.argv[2]))
keys = {}
for schema in tree.iterfind("schema"):
    if schema.get("id") != schema.get("path").strip("/").replace("/", "."):
        sys.exit("schema id %s is not its path %s" % (schema.get("id"), schema.get("path")))
    for key in schema.iterfind("key"):
        keys[schema.get("path") + key.get("name")] = key.get("type")
types = {"Bool": "b", "Enum": "s", "Flags": "as", "String": "s", "Integer": "i", "Duration": "i"}
want = {}
for s in catalogue["settings"]:
    d, _, k = s["id"].replace("_", "-").rpartition(".")
    want["/org/edict/" + (d.replace(".", "/") + "/" if d else "") + k] = types[s["type"]]
if keys != want:
    sys.exit("gschema keys differ from the agent's dconf keys: extra %s, missing %s, types %s" % (
        sorted(set(keys) - set(want)), sorted(set(want) - set(keys)),
        sorted(k for k in keys if k in want and keys[k] != want[k])))
print("%d keys" % len(keys))
PY
[ "$rc" -eq 0 ] || fail "gschema --builtin keys: $(cat "$work/err")"

# 3. ADMX/ADML: well-formed; references resolve; one policy per setting an admin may set,
# named by its id, its value the id under the agent's default registry key, in the category
# of its product.
run xmllint --noout "$bout/edict.admx" "$bout/en-US/edict.adml"
[ "$rc" -eq 0 ] || fail "xmllint (--builtin): $(cat "$work/err")"
grep -q 'key="Software\\Policies\\edict\\edict" valueName="communicator.ceip"' "$bout/edict.admx" ||
  fail "admx --builtin: communicator.ceip under Software\\Policies\\edict\\edict"
run python3 - "$bout/edict.admx" "$bout/en-US/edict.adml" "$src/policy/catalog/catalog.json" <<'PY'
import json, re, sys
import xml.etree.ElementTree as ET
ns = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
admx, adml, catalogue = ET.parse(sys.argv[1]), ET.parse(sys.argv[2]), json.load(open(sys.argv[3]))
string_list = [s.get("id") for s in adml.iterfind(".//p:stringTable/p:string", ns)]
strings = set(string_list)
if len(strings) != len(string_list):
    sys.exit("duplicate ADML string ids")
presentations = {p.get("id") for p in adml.iterfind(".//p:presentationTable/p:presentation", ns)}
text = open(sys.argv[1]).read()
missing = [r for r in re.findall(r"\$\(string\.([^)]*)\)", text) if r not in strings]
missing += [r for r in re.findall(r"\$\(presentation\.([^)]*)\)", text) if r not in presentations]
if missing:
    sys.exit("unresolved ADMX references: %s" % missing)
categories = {c.get("name"): c for c in admx.iterfind(".//p:category", ns)}
problems = []
settable = {s["id"] for s in catalogue["settings"]
            if not s.get("fixed") and "Admin" in s.get("setters", "").split()}
policies = {p.get("name"): p for p in admx.iterfind(".//p:policy", ns)}
if set(policies) != {i.replace(".", "_") for i in settable}:
    problems.append("ADMX policies %s differ from admin-settable settings" % sorted(policies))
for id in sorted(settable):
    p = policies.get(id.replace(".", "_"))
    if p is None:
        continue
    if p.get("key") != "Software\\Policies\\edict\\edict":
        problems.append("%s: key %s" % (id, p.get("key")))
    names = {p.get("valueName")} | {e.get("valueName") for e in p.iterfind("p:elements/*", ns)}
    if names - {None} != {id}:
        problems.append("%s: value names %s" % (id, sorted(names - {None})))
    ref = p.find("p:parentCategory", ns).get("ref")
    if ref != "product_" + id.split(".")[0]:
        problems.append("%s: category %s" % (id, ref))
for product in sorted({i.split(".")[0] for i in settable}):
    c = categories.get("product_" + product)
    if c is None or c.find("p:parentCategory", ns).get("ref") != "edict":
        problems.append("no category for product %s under edict" % product)
if problems:
    sys.exit("\n".join(problems))
PY
[ "$rc" -eq 0 ] || fail "admx --builtin: $(cat "$work/err")"

# 4. JSON Schema: valid draft 2020-12, no key twice in an object (`when` has each built-in
# context term once, also where the catalogue lists it as an attribute); every example
# policy of the built-in catalogue (policy/examples/*.json, tests/cli/testdata/policy.json)
# passes as it is; every policy of testdata/gen/builtin-bad-policies.json fails, and
# `edictctl compile` refuses each too (the schema is no stricter than the compiler on the
# examples, no looser on the bad ones).
bad_policies="$src/tests/cli/testdata/gen/builtin-bad-policies.json"
run python3 - "$bout/edict.policy.schema.json" "$src" "$bad_policies" <<'PY'
import glob, json, sys
import jsonschema
schema_path, src, bad_path = sys.argv[1:4]
def unique(pairs):  # a key twice in one object: JSON parsers disagree on which one counts
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        sys.exit("%s: a key twice in one object: %s" % (schema_path, keys))
    return dict(pairs)
schema = json.load(open(schema_path), object_pairs_hook=unique)
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
problems = []
examples = sorted(glob.glob(src + "/policy/examples/*.json")) + [src + "/tests/cli/testdata/policy.json"]
for path in examples:
    for e in v.iter_errors(json.load(open(path))):
        problems.append("%s: %s at %s" % (path, e.message, list(e.absolute_path)))
bad = json.load(open(bad_path))
for case in bad:
    if v.is_valid(case["policy"]):
        problems.append("bad policy accepted: " + case["why"])
if problems:
    sys.exit("\n".join(problems))
print("%d example policies pass, %d bad ones fail" % (len(examples), len(bad)))
PY
[ "$rc" -eq 0 ] || fail "json schema --builtin: $(cat "$work/err")"
mkdir -p "$work/bad"
run python3 - "$bad_policies" "$work/bad" <<'PY'
import json, sys
for i, case in enumerate(json.load(open(sys.argv[1]))):
    with open("%s/%02d.json" % (sys.argv[2], i), "w") as f:
        json.dump(case["policy"], f)
PY
[ "$rc" -eq 0 ] || fail "split $bad_policies: $(cat "$work/err")"
for f in "$work"/bad/*.json; do
  run "$ctl" compile "$f"
  [ "$rc" -ne 0 ] || fail "compile accepts $(basename "$f") of builtin-bad-policies.json"
done
for f in "$src"/policy/examples/*.json "$src/tests/cli/testdata/policy.json"; do
  run "$ctl" compile "$f"
  [ "$rc" -eq 0 ] || fail "compile $f: exit $rc: $(cat "$work/err")"
done

# 5. The schema's title and the files' comments name the built-in catalogue.
grep -q '"title": "edict policy for the built-in catalogue"' "$bout/edict.policy.schema.json" ||
  fail "json schema --builtin: title"
grep -q 'from the built-in catalogue version [0-9]* (fnv1a64:[0-9a-f]\{16\})' "$bout/edict.admx" ||
  fail "admx --builtin: source comment"
grep -q 'from the built-in catalogue version [0-9]* (fnv1a64:[0-9a-f]\{16\})' \
  "$bout/org.edict.gschema.xml" || fail "gschema --builtin: source comment"

finish "gen --builtin"

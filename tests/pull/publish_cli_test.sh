#!/bin/sh
# edictctl publish: keygen -> trust init -> compile -> sign -> publish, twice; the index
# names content-addressed files with their size and SHA-256, files are world-readable,
# nothing temporary is left, the index changes (mtime too) on republish, and bad input is
# refused. Usage: publish_cli_test.sh EDICTCTL WORKDIR
set -u
CTL=$1
T=$2
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$CTL" keygen --out root >/dev/null || fail keygen
"$CTL" keygen --out signer >/dev/null || fail keygen
"$CTL" trust init --root root.pub --signer signer.pub --sign-key root \
  --now 2027-01-01T00:00:00Z --valid-days 365 -o trust.edt >/dev/null || fail "trust init"
for s in 4 5; do
  cat > "p$s.json" <<JSON
{ "format": 1, "serial": $s, "issued_at": "2027-01-02T00:00:00Z",
  "expires_at": "2027-06-01T00:00:00Z", "target": { "tenant": "contoso" },
  "settings": [ { "setting": "communicator.ceip", "level": "mandatory", "value": false } ] }
JSON
  "$CTL" compile "p$s.json" -o "p$s.bin" >/dev/null || fail "compile $s"
  "$CTL" sign "p$s.bin" --key signer -o "b$s.edict" >/dev/null || fail "sign $s"
done

(umask 077 && "$CTL" publish --bundle b4.edict --trust trust.edt www > out1.json) ||
  fail "publish 1"
[ -f www/edict-index.json ] || fail "no index"
grep -q '"serial": 4' www/edict-index.json || fail "index lacks serial 4"
grep -q '"version": 1' www/edict-index.json || fail "index lacks trust version 1"
sha=$(sha256sum b4.edict | cut -d' ' -f1)
grep -q "$sha" www/edict-index.json || fail "index lacks the bundle sha256"
size=$(stat -c %s b4.edict)
grep -q "\"size\": $size" www/edict-index.json || fail "index lacks the bundle size"
f="www/bundle-$(printf %s "$sha" | cut -c1-16).edict"
cmp -s "$f" b4.edict || fail "$f differs from b4.edict"
[ "$(stat -c %a "$f")" = 644 ] || fail "$f mode $(stat -c %a "$f"), want 644"
[ "$(stat -c %a www/edict-index.json)" = 644 ] || fail "index not world-readable"
ls www | grep -q tmp && fail "temporary files left: $(ls www)"
cmp -s out1.json www/edict-index.json || fail "printed index differs from the file"
m1=$(stat -c %Y www/edict-index.json)

"$CTL" publish --bundle b5.edict --trust trust.edt www >/dev/null || fail "publish 2"
grep -q '"serial": 5' www/edict-index.json || fail "index lacks serial 5"
m2=$(stat -c %Y www/edict-index.json)
[ "$m2" -gt "$m1" ] || fail "index mtime did not advance ($m1 -> $m2)"
[ "$(ls www/bundle-*.edict | wc -l)" = 2 ] || fail "old bundle not kept: $(ls www)"
"$CTL" publish --keep 0 --bundle b5.edict --trust trust.edt www >/dev/null || fail "publish 3"
[ "$(ls www/bundle-*.edict | wc -l)" = 1 ] || fail "--keep 0 kept: $(ls www)"

"$CTL" publish --bundle p4.bin www >/dev/null 2>&1 && fail "a payload was published"
"$CTL" publish --bundle b4.edict --trust b4.edict www >/dev/null 2>&1 &&
  fail "a bundle was published as trust document"
"$CTL" publish --bundle b4.edict >/dev/null 2>&1; [ $? = 2 ] || fail "no DIR: want exit 2"
"$CTL" publish --help | grep -q "edict-index.json" || fail "help"

[ "$fails" = 0 ] && echo "publish_cli_test: all checks passed"
exit "$fails"

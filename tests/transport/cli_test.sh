#!/bin/sh
# edictctl keygen -> trust init -> compile -> sign -> verify, and the rejections the
# README demo shows (tampered, rolled back, replayed, wrong tenant, revoked after
# rotation), each with its exit status. Usage: cli_test.sh EDICTCTL WORKDIR
set -u
CTL=$1
T=$2
rm -rf "$T" && mkdir -p "$T" && cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() {  # expect WANT_STATUS WANT_ERROR_NAME command...
  want=$1; name=$2; shift 2
  out=$("$@" 2>stderr.txt); got=$?
  [ "$got" = "$want" ] || fail "$* -> exit $got, want $want: $out $(cat stderr.txt)"
  case "$out" in *"$name"*) ;; *) fail "$* -> '$out' lacks $name" ;; esac
}

# keygen: private key mode 0600 whatever the umask; never overwrites.
(umask 000 && "$CTL" keygen --out root >/dev/null) || fail "keygen root"
[ "$(stat -c %a root)" = 600 ] || fail "root key mode $(stat -c %a root), want 600"
(umask 077 && "$CTL" keygen --out signer >/dev/null) || fail "keygen signer"
[ "$(stat -c %a signer)" = 600 ] || fail "signer key mode $(stat -c %a signer), want 600"
grep -q "BEGIN PUBLIC KEY" signer.pub || fail "signer.pub is not a public key"
if grep -q PRIVATE signer.pub; then fail "public file holds a private key"; fi
"$CTL" keygen --out root >/dev/null 2>&1 && fail "keygen overwrote an existing key"

"$CTL" trust init --root root.pub --signer signer.pub --sign-key root \
  --now 2027-01-01T00:00:00Z --valid-days 365 -o trust.edict >/dev/null || fail "trust init"

policy() {  # policy SERIAL TENANT
  cat > "p$1.json" <<JSON
{ "format": 1, "serial": $1, "issued_at": "2027-01-02T00:00:00Z",
  "expires_at": "2027-06-01T00:00:00Z", "target": { "tenant": "$2" },
  "settings": [ { "setting": "communicator.ceip", "level": "mandatory", "value": false } ] }
JSON
  "$CTL" compile "p$1.json" -o "p$1.bin" >/dev/null || fail "compile p$1"
}
policy 4 contoso
policy 5 contoso
policy 6 fabrikam
"$CTL" sign p4.bin --key signer -o b4.edict >/dev/null || fail "sign b4"
"$CTL" sign p5.bin --key signer -o b5.edict >/dev/null || fail "sign b5"
"$CTL" sign p6.bin --key signer -o b6.edict >/dev/null || fail "sign b6"

V="--trust trust.edict --tenant contoso --now 2027-01-15T00:00:00Z"
expect 0 '"ok":true' "$CTL" verify b5.edict $V --last-serial 4
expect 0 '"serial":5' "$CTL" verify b5.edict $V --last-serial 4
# Tampered: one payload byte changed.
cp b5.edict tampered.edict
printf '\377' | dd of=tampered.edict bs=1 seek=120 conv=notrunc 2>/dev/null
expect 11 ERR_SIGNATURE "$CTL" verify tampered.edict $V --last-serial 4
expect 12 ERR_ROLLBACK "$CTL" verify b4.edict $V --last-serial 5
expect 12 ERR_REPLAY "$CTL" verify b5.edict $V --last-serial 5
expect 12 ERR_EXPIRED "$CTL" verify b5.edict --trust trust.edict --tenant contoso \
  --now 2027-07-01T00:00:00Z --last-serial 4
expect 13 ERR_TARGET_TENANT "$CTL" verify b6.edict $V --last-serial 5
expect 10 ERR_TOO_LARGE "$CTL" verify b5.edict $V --max-bytes 100
expect 10 ERR_ENVELOPE "$CTL" verify p5.bin $V
expect 2 "" "$CTL" verify b5.edict

# Rotation: signer2 replaces signer (which becomes revoked).
(umask 000 && "$CTL" keygen --out signer2 >/dev/null) || fail "keygen signer2"
"$CTL" trust rotate --from trust.edict --signer signer2.pub --sign-key root \
  --now 2027-01-10T00:00:00Z -o trust2.edict >/dev/null || fail "trust rotate"
"$CTL" sign p5.bin --key signer2 -o b5v2.edict >/dev/null || fail "sign b5v2"
V2="--trust trust.edict --trust trust2.edict --tenant contoso --now 2027-01-15T00:00:00Z"
expect 11 ERR_KEY_REVOKED "$CTL" verify b5.edict $V2 --last-serial 4
expect 0 '"trust_version":2' "$CTL" verify b5v2.edict $V2 --last-serial 4
# A rotation signed only by a key that is not a root is refused when written.
"$CTL" trust rotate --from trust2.edict --sign-key signer2 -o bad.edict >/dev/null 2>&1 &&
  fail "trust rotate signed by a signer key was written"
# The trust documents and bundle are refused in the wrong slot.
expect 15 ERR_TRUST_MALFORMED "$CTL" verify b5.edict --trust b5.edict --tenant contoso

[ "$fails" = 0 ] && echo "cli_test: all checks passed"
exit "$fails"

#!/bin/sh
# The product-catalogue part of the README demo (issue 18), as a normal user in a temporary
# directory: a vendor's catalogue (examples/catalogs/acmevpn.json) goes end to end with
# nothing but the catalogue file:
#   catalog build -> inspect -> gen (docs, JSON Schema) -> compile a policy with settings
#   and context-attribute conditions against it -> eval/explain with attributes -> sign ->
#   the agent, with the catalogue installed in its catalogue directory, activates the
#   bundle from the spool -> status lists the catalogue -> query/explain a product setting
#   -> the managed JSON and dconf files carry the product's settings under their native
#   names -> a catalogue directory writable by others is refused, with the reason.
# Usage: tools/catalog-demo.sh BUILD_DIR. Exits non-zero if any step does not behave.
set -eu
BUILD=$(cd "${1:?usage: catalog-demo.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
CTL="$BUILD/tools/edictctl"
AGENT="$BUILD/tools/agent/edict-agent"
T=$(mktemp -d "${TMPDIR:-/tmp}/edict-catalog-demo.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
cd "$T"
umask 022

step() { printf '\n$ %s\n' "$*"; }
run() { step "$@"; "$@"; }
die() { echo "catalog-demo: FAILED: $*" >&2; exit 1; }

echo "== product catalogue demo in $T (as $(id -un))"

# 1. The vendor: a catalogue source, compiled into a binary catalogue.
run "$CTL" catalog build "$SRC/examples/catalogs/acmevpn.json" -o acmevpn.edcat
step "$CTL" catalog inspect acmevpn.edcat "| head -8"
"$CTL" catalog inspect acmevpn.edcat | head -8
run "$CTL" gen json-schema --catalog acmevpn.edcat -o gen
run "$CTL" gen docs --catalog acmevpn.edcat -o gen
run ls gen

# 2. The admin: a policy on Acme VPN settings, with conditions on its context attributes.
cp "$SRC/examples/catalogs/acmevpn-attributes-policy.json" policy.json
run "$CTL" compile policy.json --catalog acmevpn.edcat -o policy.edp
step "$CTL" compile policy.json -o nothing.edp "# without the catalogue"
rc=0; "$CTL" compile policy.json -o nothing.edp 2>&1 | head -3 || rc=$?
[ ! -e nothing.edp ] || die "compiled without the catalogue"
run "$CTL" eval --catalog acmevpn.edcat --policy policy.edp setting acmevpn.always_on \
  --ctx acmevpn.network_trust=captive
run "$CTL" explain --catalog acmevpn.edcat --policy policy.edp --candidates \
  setting acmevpn.always_on --ctx acmevpn.network_trust=trusted
run "$CTL" eval --catalog acmevpn.edcat --policy policy.edp \
  schedule acmevpn.posture_check_interval \
  --ctx acmevpn.tunnel_count=2 --ctx acmevpn.network_trust=captive

# 3. The fleet's baseline for the product (examples/catalogs/acmevpn-policy.json: managed
# laptops; dated, so the demo gives its copy a window around today), compiled and signed.
now=$(date -u +%s)
sed -e "s/\"issued_at\": \"[^\"]*\"/\"issued_at\": \"$(date -u -d @$((now - 3600)) +%Y-%m-%dT%H:%M:%SZ)\"/" \
  -e "s/\"expires_at\": \"[^\"]*\"/\"expires_at\": \"$(date -u -d @$((now + 31536000)) +%Y-%m-%dT%H:%M:%SZ)\"/" \
  "$SRC/examples/catalogs/acmevpn-policy.json" > baseline.json
run "$CTL" compile baseline.json --catalog acmevpn.edcat -o baseline.edp
"$CTL" keygen --out root >/dev/null
"$CTL" keygen --out signer >/dev/null
"$CTL" trust init --root root.pub --signer signer.pub --sign-key root --valid-days 365 \
  -o trust.edt >/dev/null
run "$CTL" sign baseline.edp --key signer -o baseline.edict

# 4. The endpoint: the catalogue installed in the agent's catalogue directory (as a package
# would put it in /usr/share/edict/catalogs), the bundle dropped into the spool.
mkdir -p catalogs spool native
run cp acmevpn.edcat catalogs/
cat > agent.conf <<CONF
state_dir = $T/state
spool_dir = $T/spool
lock_file = $T/agent.lock
trust_pinned = $T/trust.edt
audit_file = $T/audit/audit.jsonl
audit_syslog = false
tenant = contoso
groups = laptops
device_id = demo-device-0001
context.identity = managed
context.device_managed = true
context.os_generation = 11
native_root = $T/native
dconf_db = local
dconf_update = false
settle_ms = 200
catalog_dirs = $T/catalogs
CONF
step cat agent.conf; cat agent.conf
run cp baseline.edict spool/
run "$AGENT" --config agent.conf once
run "$AGENT" --config agent.conf status
"$AGENT" --config agent.conf status --json > status.json
grep -q '"product":"acmevpn"' status.json || die "status does not list the acmevpn catalogue"
grep -q '"serial":7' status.json || die "status does not show serial 7"
run "$AGENT" --config agent.conf query acmevpn.always_on --ctx device_managed=true
out=$("$AGENT" --config agent.conf query acmevpn.always_on --ctx device_managed=true)
want=$("$CTL" eval --catalog acmevpn.edcat --policy baseline.edp setting acmevpn.always_on \
  --ctx device_managed=true)
[ "$out" = "$want" ] || die "agent query differs from edictctl eval: $out vs $want"
echo "(identical to: edictctl eval --catalog acmevpn.edcat --policy baseline.edp ...)"
run "$AGENT" --config agent.conf explain --candidates acmevpn.gateway_address \
  --ctx region=US --ctx plan=enterprise

# The product's settings where applications read them, under the catalogue's native names.
step "cat native/etc/edict/policies/managed/edict.json"
cat native/etc/edict/policies/managed/edict.json
step "cat native/etc/dconf/db/local.d/50-edict"; cat native/etc/dconf/db/local.d/50-edict
step "cat native/etc/dconf/db/local.d/locks/50-edict"
cat native/etc/dconf/db/local.d/locks/50-edict
grep -q '"AlwaysOn": *true' native/etc/edict/policies/managed/edict.json ||
  die "managed JSON lacks AlwaysOn (the catalogue's managed_key of acmevpn.always_on)"
grep -q '^always-on=true' native/etc/dconf/db/local.d/50-edict ||
  die "dconf lacks always-on (the catalogue's dconf_key of acmevpn.always_on)"

# 5. A catalogue directory others may write to is refused (as sshd's StrictModes would),
# with the reason; a running agent keeps the set and the policy it has (tests/agent).
run chmod g+w catalogs
step "$AGENT" --config agent.conf status "| grep -i catalog"
"$AGENT" --config agent.conf status | grep -i catalog || true
"$AGENT" --config agent.conf status --json | grep -q 'group-writable' ||
  die "a group-writable catalogue directory was not refused"
chmod g-w catalogs

printf '\ncatalog-demo: the vendor shipped Acme VPN settings with nothing but a catalogue file.\n'

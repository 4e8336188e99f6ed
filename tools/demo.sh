#!/usr/bin/env bash
# The end-to-end demo on the embedded default (policy/examples/baseline.json):
# compile -> inspect -> evaluate/explain -> keygen -> trust init -> sign -> verify
# (activate) -> query -> explain, then a broken policy, a tampered bundle and a
# rolled-back bundle rejected with their error codes. Runs as a normal user in a
# temporary directory; `tools/dev demo` builds first and calls this.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
ctl="$build/tools/edictctl"
[ -x "$ctl" ] || { echo "demo: $ctl not built (run tools/dev demo)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/edict-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }
# Runs a command that must fail; prints its output and exit status.
expect_fail() {
  step "$*"
  set +e
  "$@"
  local rc=$?
  set -e
  echo "(exit status $rc)"
  [ "$rc" -ne 0 ] || { echo "demo: expected a failure" >&2; exit 1; }
}

# The example is dated; give the demo copy a validity window around today so the demo
# keeps working on any date.
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+365 days' +%Y-%m-%dT%H:%M:%SZ)
sed -e "s/\"issued_at\": \"[^\"]*\"/\"issued_at\": \"$now\"/" \
    -e "s/\"expires_at\": \"[^\"]*\"/\"expires_at\": \"$later\"/" \
    "$here/policy/examples/baseline.json" > baseline.json
ctl() { "$ctl" "$@"; }

echo "edict demo in $work"

# 1. Admin side: compile and look at the policy.
run ctl compile baseline.json -o payload.bin
step "ctl inspect payload.bin | head -12"
ctl inspect payload.bin | head -12

# 2. Evaluate and explain, straight from the JSON policy.
run ctl eval --policy payload.bin setting communicator.ceip --ctx identity=managed --ctx domain_joined=true
run ctl eval --policy payload.bin setting communicator.ceip --ctx identity=unmanaged --user-choice true
run ctl eval --policy payload.bin data-use account_address_book correspondence --ctx plan=enterprise
run ctl eval --policy payload.bin schedule genuine.validation_interval --ctx os_generation=61 --ctx device_state=tampered
run ctl explain --policy payload.bin setting communicator.ceip --ctx identity=managed --ctx domain_joined=true
run ctl explain --policy payload.bin --candidates setting groove.directory.public --ctx identity=managed --ctx groups=contractors

# 3. A broken policy is rejected with every error located, and no output file.
cat > broken.json <<'JSON'
{
  "serial": 0,
  "settings": [
    { "setting": "communicator.ceipp", "level": "mandatory", "value": false },
    { "setting": "groove.password_reset.unmanaged", "level": "mandatory", "value": true },
    { "setting": "groove.directory.public", "level": "mandatory", "value": "everywhere" }
  ]
}
JSON
expect_fail ctl compile broken.json -o broken.bin
[ ! -e broken.bin ] && echo "(no broken.bin was written)"

# 4. Keys, trust, signing.
run ctl keygen --out root
run ctl keygen --out signer
run ctl trust init --root root.pub --signer signer.pub --sign-key root -o trust.edict
run ctl sign payload.bin --key signer -o bundle.edict
step "ctl inspect bundle.edict | head -20"
ctl inspect bundle.edict | head -20

# 5. The endpoint's checks, in order, ending with kernel activation.
run ctl verify bundle.edict --trust trust.edict --tenant contoso --device-id demo-device --last-serial 1000

# 6. Attacks: tampered bytes, a bundle for another tenant, replay and rollback.
cp bundle.edict tampered.edict
size=$(stat -c %s tampered.edict)
printf '\x01' | dd of=tampered.edict bs=1 seek=$((size - 40)) conv=notrunc status=none
expect_fail ctl verify tampered.edict --trust trust.edict --tenant contoso --last-serial 1000
expect_fail ctl verify bundle.edict --trust trust.edict --tenant fabrikam --last-serial 1000
expect_fail ctl verify bundle.edict --trust trust.edict --tenant contoso --last-serial 1001
sed -e 's/"serial": 1001/"serial": 900/' baseline.json > old.json
ctl compile old.json -o old.bin >/dev/null
ctl sign old.bin --key signer -o old.edict >/dev/null
expect_fail ctl verify old.edict --trust trust.edict --tenant contoso --last-serial 1001

# 7. The endpoint agent, where it is built; then a vendor's own product catalogue end to
# end (tools/catalog-demo.sh).
if [ -x "$here/tools/agent-demo.sh" ] && [ -x "$build/tools/agent/edict-agent" ]; then
  "$here/tools/agent-demo.sh" "$build"
  sh "$here/tools/catalog-demo.sh" "$build"
fi

printf '\n\033[1mdemo finished: every step above ran for real.\033[0m\n'

#!/bin/sh
# edict-agent run, through the real binary: a half-written bundle (writer keeps the file
# open) is ignored until it is closed; a rename into the spool is picked up; a second agent
# is refused with a clear message; SIGHUP reloads the config; idle RSS and CPU are measured;
# SIGTERM exits 0; unenroll removes exactly the native files. Usage: run_test.sh BUILD_DIR
set -u
BUILD=$(cd "$1" && pwd)
CTL="$BUILD/tools/edictctl"
AGENT="$BUILD/tools/agent/edict-agent"
IDLE_SECONDS=${EDICT_IDLE_SECONDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/edict-agent-run.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cd "$T" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date -u +%s)

"$CTL" keygen --out root >/dev/null && "$CTL" keygen --out signer >/dev/null || exit 1
"$CTL" trust init --root root.pub --signer signer.pub --sign-key root --valid-days 30 \
  -o trust.edt >/dev/null || exit 1
for s in 1 2 3; do
  cat > p$s.json <<EOF
{ "format": 1, "serial": $s, "issued_at": "$(iso $((now - 3600)))",
  "expires_at": "$(iso $((now + 86400)))", "target": { "tenant": "contoso" },
  "settings": [ { "setting": "communicator.ceip", "level": "mandatory", "value": false } ] }
EOF
  "$CTL" compile p$s.json -o p$s.bin >/dev/null && "$CTL" sign p$s.bin --key signer -o b$s.edict >/dev/null || exit 1
done
mkdir -p spool native
cat > agent.conf <<EOF
state_dir = $T/state
spool_dir = $T/spool
lock_file = $T/agent.lock
trust_pinned = $T/trust.edt
audit_file = $T/audit.jsonl
audit_syslog = false
tenant = contoso
device_id = run-test-device
native_root = $T/native
dconf_update = false
settle_ms = 300
incomplete_grace_seconds = 30
EOF

serial() { "$AGENT" --config agent.conf status --json | sed -n 's/.*"serial":\([0-9]*\),"trust_version".*/\1/p'; }
wait_serial() {  # wait_serial N: up to 10 s
  i=0
  while [ "$(serial)" != "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  [ "$(serial)" = "$1" ]
}

"$AGENT" --config agent.conf run 2>run.err &
PID=$!
i=0
while ! grep -q '"kind":"start"' audit.jsonl 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q '"kind":"start"' audit.jsonl || fail "daemon did not start: $(cat run.err)"

# A second agent: exit 3, clear message.
"$AGENT" --config agent.conf once >second.out 2>second.err
rc=$?
[ $rc = 3 ] || fail "second agent exit $rc, want 3"
grep -q "another edict instance holds $T/agent.lock (pid $PID)" second.err ||
  fail "second agent message: $(cat second.err)"

# Half-written: the writer keeps the file open across several settle windows.
size=$(stat -c %s b1.edict)
half=$((size / 2))
exec 3>spool/b1.edict
head -c $half b1.edict >&3
sleep 1.5
[ -f spool/b1.edict ] || fail "half-written file was moved"
grep -q '"kind":"activation"' audit.jsonl && fail "something was activated from a half-written file"
grep -q '"kind":"rejection"' audit.jsonl && fail "a half-written file was offered and rejected"
tail -c +$((half + 1)) b1.edict >&3
exec 3>&-
wait_serial 1 || fail "complete bundle not activated (serial $(serial))"

# Write-then-rename is picked up (IN_MOVED_TO).
cp b2.edict spool/.b2.edict.tmp && mv spool/.b2.edict.tmp spool/b2.edict
wait_serial 2 || fail "renamed bundle not activated"

# SIGHUP: config re-read (a new device context), state re-verified, still serial 2.
echo "context.identity = managed" >> agent.conf
starts=$(grep -c '"kind":"start"' audit.jsonl)
kill -HUP $PID
i=0
while [ "$(grep -c '"kind":"start"' audit.jsonl)" -le "$starts" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(grep -c '"kind":"start"' audit.jsonl)" -gt "$starts" ] || fail "SIGHUP did not reload"
[ "$(serial)" = 2 ] || fail "serial after SIGHUP: $(serial)"
cp b3.edict spool/ && wait_serial 3 || fail "bundle after SIGHUP not activated"

# Idle: resident memory and CPU over IDLE_SECONDS.
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14 + $15}' /proc/$PID/stat)
sleep "$IDLE_SECONDS"
t1=$(awk '{print $14 + $15}' /proc/$PID/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
echo "idle: VmRSS ${rss} KiB (peak ${hwm} KiB), CPU $((t1 - t0)) ticks (1/${hz} s) in ${IDLE_SECONDS} s"
[ $((t1 - t0)) -le 1 ] || fail "idle daemon used $((t1 - t0)) CPU ticks in ${IDLE_SECONDS} s"

# SIGTERM: clean exit 0, audited.
kill -TERM $PID
wait $PID
rc=$?
PID=
[ $rc = 0 ] || fail "SIGTERM exit status $rc"
grep -q '"kind":"stop"' audit.jsonl || fail "no stop audit line"

# unenroll: the native files edict wrote are gone, a foreign file stays.
[ -f native/etc/edict/policies/managed/edict.json ] || fail "no managed JSON written"
echo '{}' > native/etc/edict/policies/managed/other.json
"$AGENT" --config agent.conf unenroll >/dev/null || fail "unenroll failed"
[ -f native/etc/edict/policies/managed/edict.json ] && fail "unenroll left edict.json"
[ -f native/etc/dconf/db/local.d/50-edict ] && fail "unenroll left the dconf keyfile"
[ -f native/etc/edict/policies/managed/other.json ] || fail "unenroll removed a foreign file"
"$AGENT" --config agent.conf status --json | grep -q '"source":"defaults"' || fail "state not removed"
grep -q '"kind":"unenroll"' audit.jsonl || fail "no unenroll audit line"

# --help for every command.
for c in run once status query explain unenroll; do
  "$AGENT" $c --help >/dev/null || fail "$c --help"
done

if [ $fails -ne 0 ]; then
  echo "--- run.err"; cat run.err; echo "--- audit"; cat audit.jsonl
  echo "$fails failure(s)"; exit 1
fi
echo "run_test: all checks passed"

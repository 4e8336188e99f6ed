#!/bin/sh
# The agent part of the README demo, as a normal user in a temporary directory:
#   keygen, trust init, compile (policy/examples/baseline.json), sign, drop into the spool,
#   edict-agent once, status, query, explain, the managed JSON and dconf files it wrote,
#   then a tampered and a rolled-back bundle rejected, with their audit lines; finally, if
#   nginx is installed, pull delivery over HTTPS: a newer bundle (serial 1002) published
#   with `edictctl publish`, served by nginx on 127.0.0.1 with a throw-away test CA
#   (BUILD_DIR/tests/agent/edict-test-cert), fetched and activated by
#   `edict-agent once --source ...`, then `status` with the source line.
# Usage: tools/agent-demo.sh BUILD_DIR   (needs BUILD_DIR/tools/edictctl and
#        BUILD_DIR/tools/agent/edict-agent). Exits non-zero if any step does not behave.
set -eu
BUILD=$(cd "${1:?usage: agent-demo.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
CTL="$BUILD/tools/edictctl"
AGENT="$BUILD/tools/agent/edict-agent"
T=$(mktemp -d "${TMPDIR:-/tmp}/edict-agent-demo.XXXXXX")
NGINX_PID=
cleanup() {
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cd "$T"

step() { printf '\n$ %s\n' "$*"; }
run() { step "$@"; "$@"; }
die() { echo "agent-demo: FAILED: $*" >&2; exit 1; }

echo "== edict-agent demo in $T (as $(id -un))"

# Admin side: keys, trust document, policy, bundle.
run "$CTL" keygen --out root >/dev/null
run "$CTL" keygen --out signer >/dev/null
run "$CTL" trust init --root root.pub --signer signer.pub --sign-key root --valid-days 365 \
  -o trust.edt
# baseline.json as shipped; if today is outside its validity window, a copy with today's
# dates (the demo must not depend on the calendar).
now=$(date -u +%s)
cp "$SRC/policy/examples/baseline.json" baseline.json
if [ "$now" -ge "$(date -u -d 2027-11-01 +%s)" ] || [ "$now" -lt "$(date -u -d 2026-11-01 +%s)" ]; then
  sed -i "s/\"issued_at\": \"[^\"]*\"/\"issued_at\": \"$(date -u -d @$((now - 3600)) +%Y-%m-%dT%H:%M:%SZ)\"/;
          s/\"expires_at\": \"[^\"]*\"/\"expires_at\": \"$(date -u -d @$((now + 31536000)) +%Y-%m-%dT%H:%M:%SZ)\"/" \
    baseline.json
fi
run "$CTL" compile baseline.json -o baseline.bin
run "$CTL" sign baseline.bin --key signer -o baseline.edict >/dev/null
# An older policy (serial 1000) for the rollback attempt.
sed 's/"serial": 1001/"serial": 1000/' baseline.json > older.json
"$CTL" compile older.json -o older.bin >/dev/null
"$CTL" sign older.bin --key signer -o older.edict >/dev/null

# Endpoint side: everything under $T.
mkdir -p spool native
DCONF_UPDATE=false
command -v dconf >/dev/null 2>&1 && DCONF_UPDATE=true
cat > agent.conf <<EOF
state_dir = $T/state
spool_dir = $T/spool
lock_file = $T/agent.lock
trust_pinned = $T/trust.edt
audit_file = $T/audit/audit.jsonl
audit_syslog = false
tenant = contoso
groups = helpdesk
device_id = demo-device-0001
context.identity = managed
context.domain_joined = true
context.device_managed = true
native_root = $T/native
dconf_db = local
dconf_update = $DCONF_UPDATE
settle_ms = 200
EOF
step cat agent.conf; cat agent.conf

run cp baseline.edict spool/
run "$AGENT" --config agent.conf once
run "$AGENT" --config agent.conf status
step "$AGENT" --config agent.conf status --json
"$AGENT" --config agent.conf status --json > status.json
cat status.json
grep -q '"serial":1001' status.json || die "status does not show serial 1001"
run "$AGENT" --config agent.conf query communicator.ceip --ctx identity=managed --ctx domain_joined=true
out=$("$AGENT" --config agent.conf query communicator.ceip --ctx identity=managed --ctx domain_joined=true)
want=$("$CTL" eval --policy baseline.json setting communicator.ceip --ctx identity=managed --ctx domain_joined=true)
[ "$out" = "$want" ] || die "agent query differs from edictctl eval: $out vs $want"
echo "(identical to: edictctl eval --policy baseline.json ...)"
run "$AGENT" --config agent.conf explain groove.directory.public --ctx identity=managed --ctx groups=contractors

step "cat native/etc/edict/policies/managed/edict.json"; cat native/etc/edict/policies/managed/edict.json
if [ -f native/etc/edict/policies/recommended/edict.json ]; then
  step "cat native/etc/edict/policies/recommended/edict.json"
  cat native/etc/edict/policies/recommended/edict.json
fi
step "cat native/etc/dconf/db/local.d/50-edict"; cat native/etc/dconf/db/local.d/50-edict
step "cat native/etc/dconf/db/local.d/locks/50-edict"; cat native/etc/dconf/db/local.d/locks/50-edict
step "cat native/etc/dconf/profile/user"; cat native/etc/dconf/profile/user
[ "$DCONF_UPDATE" = true ] && { step "ls native/etc/dconf/db"; ls native/etc/dconf/db; }

# Attacks: a tampered copy of the active bundle (one payload byte changed) and the older
# bundle (rollback). Both are refused; the active policy stays serial 1001.
cp baseline.edict tampered.edict
printf '\377' | dd of=tampered.edict bs=1 seek=120 conv=notrunc 2>/dev/null
run cp tampered.edict older.edict spool/
step "$AGENT" --config agent.conf once
rc=0; "$AGENT" --config agent.conf once || rc=$?
[ "$rc" = 1 ] || die "once after rejections exited $rc, want 1 (docs/agent.md)"
"$AGENT" --config agent.conf status --json | grep -q '"serial":1001' || die "active serial changed"
step "grep rejection audit/audit.jsonl"
grep '"kind":"rejection"' audit/audit.jsonl
grep -q '"code":"ERR_SIGNATURE"' audit/audit.jsonl || die "no ERR_SIGNATURE audit line"
grep -q '"code":"ERR_ROLLBACK"' audit/audit.jsonl || die "no ERR_ROLLBACK audit line"
run ls spool/processed spool/rejected

# Pull delivery over HTTPS (docs/pull.md): the admin publishes a newer bundle into a
# directory, any static web server serves it (here nginx on 127.0.0.1 only, as this user,
# with a throw-away CA), the agent fetches it.
NGINX=$(command -v nginx 2>/dev/null || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
CERT="$BUILD/tests/agent/edict-test-cert"
PULL=skipped
if [ -z "$NGINX" ] || [ ! -x "$CERT" ]; then
  echo
  echo "== pull part skipped: nginx not installed (apt-get install nginx-light) or $CERT not built"
else
  echo
  echo "== pull delivery over HTTPS from nginx on 127.0.0.1"
  sed 's/"serial": 1001/"serial": 1002/' baseline.json > newer.json
  run "$CTL" compile newer.json -o newer.bin
  run "$CTL" sign newer.bin --key signer -o newer.edict >/dev/null
  mkdir -p www
  run "$CTL" publish --bundle newer.edict --trust trust.edt www/policy
  mkdir -p pki nginx/tmp
  step "$CERT" pki 127.0.0.1 "  # test CA + server certificate for 127.0.0.1; prints the key pin"
  "$CERT" pki 127.0.0.1
  # A free port: try a few pseudo-random ones.
  PORT=
  for try in 1 2 3 4 5; do
    p=$(( 20000 + ($$ * 7 + try * 7919) % 20000 ))
    cat > nginx/nginx.conf <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 16; }
http {
  access_log $T/nginx/access.log;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  types { application/json json; application/octet-stream edict edt; }
  server {
    listen 127.0.0.1:$p ssl;
    server_name 127.0.0.1;
    ssl_certificate $T/pki/server.crt;
    ssl_certificate_key $T/pki/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $T/www;
    location = /policy/edict-index.json { add_header Cache-Control "no-cache"; }
  }
}
EOF
    rm -f nginx/nginx.pid
    # Bounded: nginx is stopped after 120 s even if this script dies without its trap.
    timeout 120 "$NGINX" -p "$T/nginx/" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" \
      >nginx/stdout.log 2>&1 &
    NGINX_PID=$!
    i=0
    while [ ! -s nginx/nginx.pid ] && kill -0 "$NGINX_PID" 2>/dev/null && [ $i -lt 50 ]; do
      sleep 0.1; i=$((i + 1))
    done
    if [ -s nginx/nginx.pid ] && kill -0 "$NGINX_PID" 2>/dev/null; then PORT=$p; break; fi
    wait "$NGINX_PID" 2>/dev/null || true
    NGINX_PID=
  done
  [ -n "$PORT" ] || die "nginx did not start: $(cat nginx/error.log nginx/stdout.log 2>/dev/null)"
  URL="https://127.0.0.1:$PORT/policy/edict-index.json"
  echo "(nginx serving $T/www on 127.0.0.1:$PORT only)"
  run "$AGENT" --config agent.conf once --source "$URL" --ca-file pki/ca.pem
  "$AGENT" --config agent.conf status --json | grep -q '"serial":1002' || die "serial 1002 not active"
  # Unchanged policy: one conditional request, a bodiless 304, nothing re-activated.
  run "$AGENT" --config agent.conf once --source "$URL" --ca-file pki/ca.pem
  "$AGENT" --config agent.conf status --json | grep -q '"last_result":"NOT_MODIFIED"' ||
    die "second poll was not a 304"
  run "$AGENT" --config agent.conf status
  step "cat nginx/access.log"; cat nginx/access.log
  kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=
  echo "(nginx stopped)"
  PULL="serial 1002 fetched over HTTPS from nginx and activated, then 304 Not Modified"
fi

echo
echo "== agent demo OK: serial 1001 activated from the spool; tampered (ERR_SIGNATURE) and rolled-back (ERR_ROLLBACK) bundles refused and audited; pull: $PULL"

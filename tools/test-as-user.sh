#!/usr/bin/env bash
# Runs the tests that touch the file system (ports, agent, the agent demo and daemon test)
# once more as an unprivileged user, because endpoints' tools and CI must not depend on
# root (root ignores file permissions, which hides bugs). Called by `tools/dev test` when
# it runs as root; as a normal user ctest already covered them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
user=${EDICT_TEST_USER:-nobody}

if [ "$(id -u)" -ne 0 ]; then
  echo "test-as-user: already a normal user; ctest covered these tests"
  exit 0
fi
command -v runuser >/dev/null || { echo "test-as-user: runuser missing" >&2; exit 1; }
as_user() { runuser -u "$user" -- env -i PATH=/usr/bin:/bin TMPDIR=/tmp HOME=/tmp "$@"; }
# A clone inside `mktemp -d` (mode 0700) is out of the user's reach. Each parent directory
# the user cannot search gets o+x (search, not read) for the run and its own mode back at
# exit, so the machine is left as it was found.
restore=()
restore_modes() {
  local entry
  for entry in "${restore[@]}"; do chmod "${entry%%:*}" "${entry#*:}" || true; done
}
trap restore_modes EXIT
open_path_for_user() {
  local dir=$1
  [ "$dir" = / ] && return 0
  open_path_for_user "$(dirname "$dir")"
  if ! as_user test -x "$dir"; then
    restore+=("$(stat -c %a "$dir"):$dir")
    chmod o+x "$dir"
    echo "test-as-user: $dir made searchable for $user during the run"
  fi
}
open_path_for_user "$build"
open_path_for_user "$here"
if ! as_user test -x "$build/tests/agent/agent_tests"; then
  echo "test-as-user: $user cannot reach $build/tests/agent/agent_tests" >&2
  exit 1
fi

passed=0
failed=0
check() {
  local name=$1
  shift
  if as_user "$@" >"/tmp/edict-as-user-$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "as $user: $name passed"
  else
    failed=$((failed + 1))
    echo "as $user: $name FAILED (log follows)"
    tail -40 "/tmp/edict-as-user-$name.log"
  fi
  rm -f "/tmp/edict-as-user-$name.log"
}
check ports_tests "$build/tests/ports/ports_tests"
check agent_tests "$build/tests/agent/agent_tests"
check agent_demo sh "$here/tools/agent-demo.sh" "$build"
check agent_daemon sh "$here/tests/agent/run_test.sh" "$build"
echo "as-user: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

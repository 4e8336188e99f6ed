# Shared by the shell CLI tests (sourced, POSIX sh): a failure counter, a command runner
# and the end-of-test report. The sourcing script sets `work` (its scratch directory).

failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# Runs a command; records its exit status in $rc, stdout in $work/out, stderr in $work/err.
run() {
  "$@" >"$work/out" 2>"$work/err"
  rc=$?
}

# Empties the scratch directory `work`.
fresh_work() {
  rm -rf "$work"
  mkdir -p "$work" || exit 1
}

# Exits 77 (skipped) unless the tools that check generated outputs are installed
# (tools/dev installs them: libglib2.0-bin libxml2-utils python3-jsonschema).
require_gen_tools() {
  for tool in glib-compile-schemas xmllint python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIP: $tool is not installed" >&2
      exit 77
    fi
  done
  if ! python3 -c 'import jsonschema; jsonschema.Draft202012Validator' >/dev/null 2>&1; then
    echo "SKIP: python3 jsonschema (with draft 2020-12) is not installed" >&2
    exit 77
  fi
}

# Ends the test: exit 1 with the number of failures, else prints "$1: all checks passed".
finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)" >&2
    exit 1
  fi
  echo "$1: all checks passed"
}

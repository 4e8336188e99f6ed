#!/bin/sh
# repo.stands_alone: fails when a file of the repository reads or cites something outside
# it: the steering folder that sits beside the developers' checkout (its seeds, domain
# notes, vectors and build notes) is not part of a user's clone.
#
#   sh tests/repo/stands_alone.sh SOURCE_DIR
#
# Files are those git tracks (plus untracked, not ignored ones) when SOURCE_DIR is a git
# work tree, else every file under it except build directories.
set -eu
src=${1:?usage: stands_alone.sh SOURCE_DIR}
cd "$src"

# Written in pieces so that this script does not match itself.
parent='\.\./'
name='shared'
pattern="${parent}${name}([/\`'\" )]|$)|(^|[^a-z_])${name}/(seeds|domain\\.md|vectors|design\\.md|style\\.md|linux-build\\.md|windows-cross\\.md|hooks)"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard)
else
  files=$(find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||')
fi
[ -n "$files" ] || { echo "stands_alone.sh: no files found under $src" >&2; exit 1; }

hits=$(printf '%s\n' "$files" | while IFS= read -r f; do
  [ -f "$f" ] || continue
  grep -InE "$pattern" "$f" /dev/null 2>/dev/null || true
done)
if [ -n "$hits" ]; then
  echo "files that refer to material outside the repository:" >&2
  printf '%s\n' "$hits" >&2
  exit 1
fi
echo "stands_alone: $(printf '%s\n' "$files" | wc -l) files, no reference outside the repository"

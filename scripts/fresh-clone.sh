#!/usr/bin/env bash
# Runs the README's quick start on a fresh clone of the committed HEAD, as a newcomer would:
# no .bulkhead/, out/ or other state from this work tree.
#   scripts/fresh-clone.sh            npm run demo, then npm test (full: installs everything)
#   scripts/fresh-clone.sh --reuse    npm run demo only, reusing this tree's node_modules and
#                                     .tools (hard links), so it takes seconds; used by the tests
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reuse=false
[[ ${1:-} == --reuse ]] && reuse=true
work=$(mktemp -d /tmp/bulkhead-fresh-XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q "$src" "$work/project"
cd "$work/project"
if $reuse; then
  cp -al "$src/node_modules" node_modules
  # setup.sh reinstalls when the lock is newer than npm's own record of the last install.
  rm node_modules/.package-lock.json && cp "$src/node_modules/.package-lock.json" node_modules/ && touch node_modules/.package-lock.json
  ln -s "$src/.tools" .tools
fi
start=$(date +%s)
npm run demo </dev/null
[[ -s out/demo/report.json && -s out/demo/report.md ]] || { echo "fresh-clone: no report after npm run demo" >&2; exit 1; }
echo "fresh-clone: npm run demo passed in $(( $(date +%s) - start )) s"
if ! $reuse; then
  npm test </dev/null
  echo "fresh-clone: npm test passed"
fi

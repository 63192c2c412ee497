#!/usr/bin/env bash
# Runs every EfNotify test. Installs the Node packages the tests use (soketi, pusher-js, typescript) when they are missing.
# Tests that need PostgreSQL or Chromium skip with the reason when those are absent, except under CI=true,
# where they fail instead. PostgreSQL: set EFNOTIFY_TEST_POSTGRES to a connection string, or have Docker.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -f node_modules/@soketi/soketi/bin/server.js ] || [ ! -f node_modules/typescript/bin/tsc ]; then
  npm ci --no-audit --no-fund --silent || exit 1
fi
results="$root/TestResults"
rm -rf "$results"
dotnet test EfNotify.sln -c Release --logger "trx" --results-directory "$results" "$@"
status=$?
node eng/trx-summary.mjs "$results"
exit $status

#!/usr/bin/env bash
# Adds every public member that is missing from a package's PublicAPI.Unshipped.txt (error RS0016 in the build),
# through the analyzer's own code fix. Review the diff: each line is a public API the package will have to keep.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for project in "$root"/src/*/*.csproj; do
  dotnet format analyzers "$project" --diagnostics RS0016 --severity warn
done

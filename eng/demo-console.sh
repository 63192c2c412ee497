#!/usr/bin/env bash
# The smallest EfNotify demo: a local Pusher-protocol server (soketi) and the console sample, which saves a
# change to a [Notify] entity and prints the event its listener receives after the commit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/eng/soketi.sh"
dotnet run --project "$root/samples/EfNotify.Sample.Console" -c Release

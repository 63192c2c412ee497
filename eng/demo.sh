#!/usr/bin/env bash
# Runs the EfNotify sample end to end: soketi (a local Pusher-protocol server) on free loopback ports, then the sample
# web app configured for it. Prints the URL to open. Needs the .NET 10 SDK and Node.js.
#
#   eng/demo.sh            run until Ctrl+C
#   eng/demo.sh --smoke    start everything, sign in as alice and bob, post a chat message as alice, check that bob's
#                          pusher-js subscriber receives it (and that carol is refused), then exit 0
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
smoke=false
[[ "${1:-}" == "--smoke" ]] && smoke=true

command -v node >/dev/null || { echo "demo: Node.js is required (node not found)" >&2; exit 1; }
command -v dotnet >/dev/null || { echo "demo: the .NET 10 SDK is required (dotnet not found)" >&2; exit 1; }

if [[ ! -f "$root/node_modules/@soketi/soketi/bin/server.js" || ! -f "$root/node_modules/pusher-js/package.json" \
      || ! -f "$root/node_modules/htmx.org/package.json" ]]; then
  echo "demo: installing soketi, pusher-js and htmx (npm ci)..."
  (cd "$root" && npm ci --no-audit --no-fund)
fi

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
free_udp_port() { node -e 'const s=require("dgram").createSocket("udp4");s.bind(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

work="$(mktemp -d "${TMPDIR:-/tmp}/efnotify-demo.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

soketi_port="$(free_port)"
app_port="$(free_port)"
key="efnotify-demo-key"
secret="efnotify-demo-secret-$RANDOM$RANDOM"

echo "demo: starting soketi on 127.0.0.1:$soketi_port"
SOKETI_HOST=127.0.0.1 SOKETI_PORT="$soketi_port" \
SOKETI_METRICS_HOST=127.0.0.1 SOKETI_METRICS_SERVER_PORT="$(free_port)" SOKETI_CLUSTER_PORT="$(free_udp_port)" \
SOKETI_SHUTDOWN_GRACE_PERIOD=0 \
SOKETI_DEFAULT_APP_ID=efnotify-demo SOKETI_DEFAULT_APP_KEY="$key" SOKETI_DEFAULT_APP_SECRET="$secret" \
  node "$root/node_modules/@soketi/soketi/bin/server.js" start >"$work/soketi.log" 2>&1 &
pids+=($!)

wait_for() { # url, what, pid
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "demo: $2 exited:" >&2; cat "$work"/*.log >&2; return 1; fi
    sleep 0.2
  done
  echo "demo: $2 did not answer $1 within 60 s" >&2; cat "$work"/*.log >&2; return 1
}
wait_for "http://127.0.0.1:$soketi_port/ready" soketi "${pids[0]}"

echo "demo: building the sample..."
dotnet build "$root/samples/EfNotify.Sample.Web" -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

db="$root/samples/EfNotify.Sample.Web/sample.db"
$smoke && db="$work/smoke.db"
url="http://127.0.0.1:$app_port"
echo "demo: starting the sample on $url"
(
  cd "$root/samples/EfNotify.Sample.Web"
  ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="$url" \
  ConnectionStrings__Sample="Data Source=$db" \
  EfNotify__Pusher__AppId=efnotify-demo EfNotify__Pusher__Key="$key" EfNotify__Pusher__Secret="$secret" \
  EfNotify__Pusher__Host=127.0.0.1 EfNotify__Pusher__Port="$soketi_port" EfNotify__Pusher__UseTls=false \
    exec dotnet run --no-build --no-launch-profile
) >"$work/sample.log" 2>&1 &
pids+=($!)
wait_for "$url/login.html" "the sample" "${pids[1]}"

if $smoke; then
  node "$root/eng/demo-smoke.mjs" "$url" || { echo "demo: smoke check FAILED" >&2; tail -50 "$work/sample.log" >&2; exit 1; }
  echo "demo: smoke check passed"
  exit 0
fi

cat <<MSG

  EfNotify sample is running:  $url
  Sign in as alice, bob or carol (password: demo), in two browsers to see changes arrive live.
  Press Ctrl+C to stop (soketi stops with it).

MSG
tail -f "$work/sample.log" &
pids+=($!)
wait "${pids[1]}"

#!/usr/bin/env bash
# Sourced by the demo scripts: starts soketi (the open-source Pusher-protocol server) on free loopback ports for
# local development and exports the settings EfNotify reads (EfNotify__Pusher__*). Stops it when the shell exits.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -f "$root/node_modules/@soketi/soketi/bin/server.js" ]; then
  echo "Installing the Node packages (soketi, pusher-js) with npm ci…"
  (cd "$root" && npm ci --no-audit --no-fund --silent)
fi

export SOKETI_DEFAULT_APP_ID=efnotify-demo SOKETI_DEFAULT_APP_KEY=efnotify-demo-key
export SOKETI_DEFAULT_APP_SECRET="efnotify-demo-secret-$RANDOM$RANDOM"
export SOKETI_HOST=127.0.0.1 SOKETI_METRICS_HOST=127.0.0.1 SOKETI_SHUTDOWN_GRACE_PERIOD=0
SOKETI_PORT=$(node "$root/eng/free-port.mjs"); export SOKETI_PORT
SOKETI_METRICS_SERVER_PORT=$(node "$root/eng/free-port.mjs"); export SOKETI_METRICS_SERVER_PORT
SOKETI_CLUSTER_PORT=$(node "$root/eng/free-port.mjs"); export SOKETI_CLUSTER_PORT
soketi_log=$(mktemp /tmp/efnotify-soketi.XXXXXX)
node "$root/node_modules/@soketi/soketi/bin/server.js" start >"$soketi_log" 2>&1 &
soketi_pid=$!
trap 'kill $soketi_pid 2>/dev/null; rm -f "$soketi_log"' EXIT

for _ in $(seq 1 100); do
  if curl -fs "http://127.0.0.1:$SOKETI_PORT/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 $soketi_pid 2>/dev/null; then echo "soketi failed to start:"; cat "$soketi_log"; exit 1; fi
  sleep 0.1
done
curl -fs "http://127.0.0.1:$SOKETI_PORT/ready" >/dev/null || { echo "soketi did not become ready:"; cat "$soketi_log"; exit 1; }

export EfNotify__Pusher__AppId=$SOKETI_DEFAULT_APP_ID EfNotify__Pusher__Key=$SOKETI_DEFAULT_APP_KEY
export EfNotify__Pusher__Secret=$SOKETI_DEFAULT_APP_SECRET EfNotify__Pusher__Host=127.0.0.1
export EfNotify__Pusher__Port=$SOKETI_PORT EfNotify__Pusher__UseTls=false
echo "soketi is listening on 127.0.0.1:$SOKETI_PORT"

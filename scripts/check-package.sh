#!/usr/bin/env bash
# Packs flume-ts as `npm publish` would, installs the tarball into a temporary prefix, and runs the installed
# flume-ng from outside the checkout: `version`, and `validate` on the default configuration the package ships.
# Also checks that the tarball holds what an install needs and nothing else (no tests, no TypeScript sources), with the
# public API's declarations, and that the installed agent loads a plugin that imports 'flume-ts' from outside the
# package (the agent resolves that import to itself).
# CI runs it (.ci/run); locally: `npm run check:package`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tgz=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
listing=$(tar tzf "$tmp/$tgz")
for need in package/bin/flume-ng package/dist/src/cli/main.js package/conf/flume-conf.properties package/README.md \
  package/dist/src/index.js package/dist/src/index.d.ts package/dist/src/testing/index.d.ts; do
  grep -qx "$need" <<<"$listing" || { echo "check-package: $need is missing from $tgz" >&2; exit 1; }
done
if grep -E '^package/(test|src|bench|dist/test|dist/scripts)/|\.map$|\.ts$' <<<"$listing" | grep -v '\.d\.ts$' >"$tmp/extra"; then
  echo "check-package: $tgz ships files an install does not need:" >&2
  head -n 20 "$tmp/extra" >&2
  exit 1
fi

npm install --global --prefix "$tmp/prefix" --no-audit --no-fund --loglevel=error "$tmp/$tgz" >/dev/null
bin="$tmp/prefix/bin/flume-ng"
cd "$tmp"
"$bin" version
"$bin" validate -n a1 -f "$tmp/prefix/lib/node_modules/flume-ts/conf/flume-conf.properties"

# the installed agent runs a pipeline through the durable file channel (LevelDB's native binding must load)
mkdir -p "$tmp/run/out" "$tmp/run/plugins"
cat >"$tmp/run/plugins/prefix.mjs" <<'PLUGIN'
import { defineInterceptor, makeEvent, opt } from 'flume-ts';
export default defineInterceptor({
  type: 'prefix',
  summary: 'Prefixes bodies.',
  options: { text: opt.string({ default: 'P', doc: 'The prefix.' }) },
  create: (o) => ({ intercept: (events) => events.map((e) => makeEvent(o.text + e.body.toString(), e.headers)) }),
});
PLUGIN
cat >"$tmp/run/agent.properties" <<PROPS
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 1000
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = p
a1.sources.r1.interceptors.p.type = ./plugins/prefix.mjs
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = $tmp/run/checkpoint
a1.channels.c1.dataDirs = $tmp/run/data
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = $tmp/run/out
a1.sinks.k1.sink.rollInterval = 0
PROPS
# with monitoring on, so the status page's asset files must be in the package too
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" agent -n a1 -f "$tmp/run/agent.properties" -Dflume.monitoring.type=http -Dflume.monitoring.port="$port" \
  >"$tmp/run/agent.log" 2>&1 &
agent=$!
for _ in $(seq 1 100); do
  [ "$(cat "$tmp"/run/out/* 2>/dev/null | wc -l)" -ge 1000 ] && break
  sleep 0.1
done
page=$(curl -fsS "http://127.0.0.1:$port/" || true)
grep -q '<script type="module">' <<<"$page" || { echo "check-package: the installed agent serves no status page" >&2; \
  cat "$tmp/run/agent.log" >&2; kill "$agent"; exit 1; }
curl -fsS "http://127.0.0.1:$port/metrics" | grep -q '"EventAcceptedCount"' || { echo "check-package: no /metrics" >&2; \
  kill "$agent"; exit 1; }
kill -TERM "$agent"
wait "$agent" || { echo "check-package: the installed agent exited with $?" >&2; cat "$tmp/run/agent.log" >&2; exit 1; }
lines=$(cat "$tmp"/run/out/* 2>/dev/null | wc -l)
[ "$lines" -eq 1000 ] || { echo "check-package: expected 1000 events through the installed agent, got $lines" >&2; cat "$tmp/run/agent.log" >&2; exit 1; }
prefixed=$(cat "$tmp"/run/out/* | grep -c '^P')
[ "$prefixed" -eq 1000 ] || { echo "check-package: the plugin interceptor changed $prefixed events of 1000" >&2; exit 1; }
echo "check-package: $tgz installs and runs ($(wc -l <<<"$listing") files; 1000 events through a plugin interceptor and a file channel, status page and /metrics served)"

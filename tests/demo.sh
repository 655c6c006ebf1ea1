#!/usr/bin/env bash
# `make run`: a tour of confine on a fresh directory, ending with many processes and a
# plugin updating one document at once.
set -euo pipefail
: "${CONFINE:?}" "${PROBE:?}" "${DEMO_DIR:?}"
rm -rf "$DEMO_DIR" && mkdir -p "$DEMO_DIR"
c() { echo "\$ confine $*" >&2; "$CONFINE" --dir "$DEMO_DIR" "$@"; }

c set app.json server.host web-1
c set app.json server.port 8080
c set app.json 'features["beta.ui"]' true
c merge app.json '{"log": {"level": "info", "format": "json"}}'
c get app.json server.port
c cat app.json

echo "# A TOML document (a copy of this workspace's manifest) keeps every line a change does not touch:" >&2
cp "$(dirname "$0")/../Cargo.toml" "$DEMO_DIR/Cargo.toml"
c set Cargo.toml workspace.package.version '"0.2.0"'
c incr Cargo.toml workspace.metadata.demo-runs
diff "$(dirname "$0")/../Cargo.toml" "$DEMO_DIR/Cargo.toml" >&2 || true
c get Cargo.toml workspace.package

echo "# 8 processes x 25 'confine incr' and a plugin with 50 locked sessions, all at once:" >&2
for _ in 1 2 3 4 5 6 7 8; do
  ( for _ in $(seq 25); do "$CONFINE" --dir "$DEMO_DIR" incr app.json stats.updates >/dev/null; done ) &
done
"$CONFINE" --dir "$DEMO_DIR" run "$PROBE" incr app.json plugin_updates 50 &
wait
c get app.json stats.updates
c get app.json plugin_updates
total=$("$CONFINE" --dir "$DEMO_DIR" get app.json stats.updates)
[ "$total" = 200 ] || { echo "lost updates: expected 200, got $total" >&2; exit 1; }

echo "# Refused, and nothing changed:" >&2
c set ../escape.json a 1 || true
c get app.json no.such.key || true
ls -la "$DEMO_DIR" >&2

#!/usr/bin/env bash
# A request made over MCP is followed by the running usher: `usher mcp`
# (another process, same store) files it as kid; the daemon adopts it from
# the store, and when Seerr says it is available kid, whose notify is dm,
# hears it directly, once. A request made over MCP has no room, so no
# progress message is posted anywhere.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; echo "kept $tmp"; }
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err* "$tmp"/mcp*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

. "$repo/tests/integration/start_fake.inc"
start_fake seerr_port seerr "$repo/tests/fakes/fake_seerr.py" --no-library
[ -n "$seerr_port" ] || fail "fake seerr did not start"
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:$seerr_port
api_key = test-seerr-key
[progress]
interval_s = 1
edit_every_s = 0
[console]
person = dad
[person dad]
role = admin
seerr_user = 2
[person kid]
seerr_user = 3
notify = dm
CONF
chmod 600 "$tmp/usher.conf"

cat >"$tmp/mcp.in" <<'JSON'
{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"request_media","arguments":{"tmdbId":346648,"type":"movie"}}}
JSON
# Seerr's list once the film is there (the request as the fake made it).
seerr_available='{"routes": [{"method": "GET", "path": "/api/v1/request", "json": {"pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1}, "results": [{"id": 1, "status": 2, "type": "movie", "is4k": false, "media": {"tmdbId": 346648, "mediaType": "movie", "status": 5}, "requestedBy": {"id": 3}}]}}]}'

/usr/bin/python3 "$repo/tests/fakes/drive_usher.py" "$usher" "$tmp/usher.conf" "$tmp/out" "$tmp/err" \
	"sleep 1" \
	"run timeout 30 $usher mcp --config $tmp/usher.conf --as kid <$tmp/mcp.in >$tmp/mcp.out 2>$tmp/mcp.err" \
	"sleep 2.5" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait ^usher \\(direct\\): .*Paddington 2 \\(2017\\) is ready to watch" "sleep 2.5" \
	|| fail "the daemon never told kid"

grep -q '"made": *true' "$tmp/mcp.out" || fail "request_media did not make the request"
n="$(grep -c 'is ready to watch' "$tmp/out" || true)"
[ "$n" = 1 ] || fail "kid was told $n times, not once"
grep -q '^usher: ' "$tmp/out" && fail "something was posted in a room for a request made over MCP"
echo "ok: a request made over MCP was followed and kid was told directly, once"

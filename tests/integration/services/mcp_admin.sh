#!/usr/bin/env bash
# An admin over MCP: everyone's pending requests, approve and decline as the admin's Seerr user, downloads.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
fake_pid=""; radarr_pid=""
cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
	[ -n "$radarr_pid" ] && kill "$radarr_pid" 2>/dev/null && wait "$radarr_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$tmp/fake.err" 2>/dev/null | tail -20; exit 1; }

cat >"$tmp/state.json" <<STATE
{"requests": [{"user": 3, "mediaType": "movie", "tmdbId": 841, "status": 1},
              {"user": 3, "mediaType": "tv", "tmdbId": 1399, "seasons": [1], "status": 1}]}
STATE
/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 --state "$tmp/state.json" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake seerr did not start"
# Radarr's queue: Dune (1984) at 52%, 9 minutes left.
cat >"$tmp/radarr.json" <<'JSON'
{"routes": [{"method": "GET", "path": "/api/v3/queue", "require_headers": {"X-Api-Key": "test-radarr-key"},
  "json": {"page": 1, "pageSize": 100, "totalRecords": 1, "records": [
    {"id": 77, "movieId": 5, "title": "Dune.1984.1080p", "size": 1000, "sizeleft": 480,
     "timeleft": "00:09:00", "status": "downloading", "trackedDownloadStatus": "ok",
     "trackedDownloadState": "downloading", "statusMessages": [], "protocol": "torrent",
     "downloadId": "ABC", "movie": {"id": 5, "title": "Dune", "year": 1984, "tmdbId": 841}}]}}]}
JSON
/usr/bin/python3 "$repo/tests/fakes/fakehttp.py" --port 0 --scenario "$tmp/radarr.json" >"$tmp/radarr.out" 2>"$tmp/radarr.err" &
radarr_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/radarr.out" && break; sleep 0.05; done
rport="$(awk '/^LISTENING/ {print $2}' "$tmp/radarr.out")"
[ -n "$rport" ] || fail "fake radarr did not start"

cat >"$tmp/usher.conf" <<CONF
[radarr]
url = http://127.0.0.1:$rport
api_key = test-radarr-key
[seerr]
url = http://127.0.0.1:$port
api_key = test-seerr-key
[person mum]
role = admin
seerr_user = 1
CONF
chmod 600 "$tmp/usher.conf"

timeout 60 /usr/bin/python3 "$repo/tests/fakes/mcp_client.py" --usher "$usher" \
    --config "$tmp/usher.conf" --as mum --seerr "http://127.0.0.1:$port" --seerr-user 1 admin \
    || fail "mcp_client.py admin"

#!/usr/bin/env bash
# A member over MCP: search, requests filed as her own Seerr user (X-Api-User), duplicates and bad seasons caught, admin tools refused.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$tmp/fake.err" 2>/dev/null | tail -20; exit 1; }

cat >"$tmp/state.json" <<STATE
{"media": [{"mediaType": "movie", "tmdbId": 438631, "status": 5}]}
STATE
/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 --state "$tmp/state.json" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake seerr did not start"
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:$port
api_key = test-seerr-key
[person kid]
role = member
seerr_user = 3
CONF
chmod 600 "$tmp/usher.conf"

timeout 60 /usr/bin/python3 "$repo/tests/fakes/mcp_client.py" --usher "$usher" \
    --config "$tmp/usher.conf" --as kid --seerr "http://127.0.0.1:$port" --seerr-user 3 member \
    || fail "mcp_client.py member"

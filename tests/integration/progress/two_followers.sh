#!/usr/bin/env bash
# Two people follow one film. The console has one person per run, so this
# uses two runs on one store and one fake Seerr: kid asks first (tracked,
# waiting for approval); in the next run dad asks for the same film, Seerr
# says it is already requested, and dad becomes a follower of the same
# tracked title (no second progress message). When it is ready both are
# told, each by name, exactly once.
# usher finds kid's request itself (cmd_request.c existing_done: "was
# already requested by Kid ... I'll keep you posted"), so dad must be made
# a follower there; this test fails while that promise is not kept.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

start_fake() { # NAME SCRIPT ARGS...
	local name="$1"; shift
	/usr/bin/python3 "$@" --port 0 >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/$name.out" && break; sleep 0.05; done
	awk '/^LISTENING/ {print $2}' "$tmp/$name.out"
}
H=dddd000000000000000000000000000000000004
seerr_port="$(start_fake seerr "$repo/tests/fakes/fake_seerr.py" --no-library)"
cat >"$tmp/radarr.json" <<JSON
{"routes": [{"method": "GET", "path": "/api/v3/queue", "json": {"page": 1, "pageSize": 100, "totalRecords": 0, "records": []}}]}
JSON
radarr_port="$(start_fake radarr "$repo/tests/fakes/fakehttp.py" --scenario "$tmp/radarr.json")"
qb_port="$(start_fake qb "$repo/tests/fakes/fake_qbittorrent.py" )"
[ -n "$seerr_port" ] && [ -n "$radarr_port" ] && [ -n "$qb_port" ] || fail "a fake did not start"
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:$seerr_port
api_key = test-seerr-key
[radarr]
url = http://127.0.0.1:$radarr_port
api_key = arr-key
[qbittorrent]
url = http://127.0.0.1:$qb_port
username = admin
password = adminadmin
[progress]
interval_s = 1
edit_every_s = 0
[console]
person = kid
[person kid]
seerr_user = 3
[person dad]
seerr_user = 2
CONF
chmod 600 "$tmp/usher.conf"
# drive OUT ERR then STEPS: "say TEXT" | "wait REGEX" | "run CMD" | "sleep S"
drive() {
	/usr/bin/python3 "$repo/tests/fakes/drive_usher.py" "$usher" "$tmp/usher.conf" "$@"
}
seerr_available='{"routes": [{"method": "GET", "path": "/api/v1/request", "json": {"pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1}, "results": [{"id": 1, "status": 2, "type": "movie", "is4k": false, "media": {"tmdbId": 346648, "mediaType": "movie", "status": 5}, "requestedBy": {"id": 3}}]}}]}'

drive "$tmp/out1" "$tmp/err1" "say can you get paddington 2 please" "wait ^usher: Paddington 2 \\(2017\\): waiting" || fail "first run"
sed -i 's/^person = kid$/person = dad/' "$tmp/usher.conf"
drive "$tmp/out2" "$tmp/err2" "say get paddington 2" "wait already requested" "sleep 2.5" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait @kid Paddington" "sleep 2.5" || fail "second run"
drive "$tmp/out3" "$tmp/err3" "sleep 3" || fail "third run"

cat >"$tmp/want1" <<'EOF'
usher: Requested Paddington 2 (2017) for you. It's waiting for an admin to approve it; I'll keep you posted.
usher: Paddington 2 (2017): waiting for an admin to approve it
EOF
# The edit is kid's message (the console shows every room in one stream).
cat >"$tmp/want2" <<'EOF'
usher: Paddington 2 (2017) was already requested by Kid and is waiting for approval. I'll keep you posted.
usher (edit): Paddington 2 (2017): ready to watch
usher: @kid Paddington 2 (2017) is ready to watch.
usher: @dad Paddington 2 (2017) is ready to watch.
EOF
diff -u "$tmp/want1" "$tmp/out1" || fail "first run's lines"
diff -u "$tmp/want2" "$tmp/out2" || fail "second run's lines (no '@dad ... is ready': dad was told 'I'll keep you posted' but is not a follower)"
[ ! -s "$tmp/out3" ] || fail "the third run said something"
posts="$(curl -s -m 5 "http://127.0.0.1:$seerr_port/__fake/requests" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"] == "/api/v1/request"))')"
[ "$posts" = 1 ] || fail "expected 1 POST (kid's; dad's ask is answered from Seerr's list), got $posts"
echo "ok: one tracked title, two people told"

#!/usr/bin/env bash
# usher stops in the middle of a download and starts again on the same
# store: the next run edits the same progress message (no new one), the
# bar goes on from where qBittorrent is, "ready" is said exactly once, and
# a third run says nothing more. Every cycle makes one call to each
# upstream (Seerr list, Radarr queue, qBittorrent maindata) whatever happens.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

. "$repo/tests/integration/start_fake.inc"
H=dddd000000000000000000000000000000000004
start_fake seerr_port seerr "$repo/tests/fakes/fake_seerr.py" --no-library
cat >"$tmp/radarr.json" <<JSON
{"routes": [{"method": "GET", "path": "/api/v3/queue", "json": {"page": 1, "pageSize": 100, "totalRecords": 1, "records": [
 {"id": 5, "movieId": 105, "title": "Interstellar.2014.1080p", "size": 3000000000, "sizeleft": 1800000000,
  "status": "downloading", "trackedDownloadStatus": "ok", "trackedDownloadState": "downloading",
  "statusMessages": [], "downloadId": "${H^^}", "protocol": "torrent", "downloadClient": "qBittorrent",
  "movie": {"id": 105, "title": "Interstellar", "year": 2014, "tmdbId": 157336}}]}}]}
JSON
start_fake radarr_port radarr "$repo/tests/fakes/fakehttp.py" --scenario "$tmp/radarr.json"
start_fake qb_port qb "$repo/tests/fakes/fake_qbittorrent.py" --torrents "{\"$H\": {\"size\": 3000000000, \"progress\": 0.4, \"dlspeed\": 1500000, \"eta\": 1200}}"
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
person = dad
[person dad]
seerr_user = 2
CONF
chmod 600 "$tmp/usher.conf"
# drive OUT ERR then STEPS: "say TEXT" | "wait REGEX" | "run CMD" | "sleep S"
drive() {
	/usr/bin/python3 "$repo/tests/fakes/drive_usher.py" "$usher" "$tmp/usher.conf" "$@"
}
seerr_available='{"routes": [{"method": "GET", "path": "/api/v1/request", "json": {"pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1}, "results": [{"id": 1, "status": 2, "type": "movie", "is4k": false, "media": {"tmdbId": 157336, "mediaType": "movie", "status": 5}, "requestedBy": {"id": 2}}]}}]}'

drive "$tmp/out1" "$tmp/err1" "say get interstellar" "wait 40%" || fail "first run"
drive "$tmp/out2" "$tmp/err2" \
	"run curl -s -m 5 -X POST -d '{\"torrents\": {\"$H\": {\"progress\": 0.6, \"eta\": 800}}}' http://127.0.0.1:$qb_port/__fake/routes >/dev/null" \
	"wait 60%" \
	"run curl -s -m 5 -X POST -d '{\"torrents\": {\"$H\": {\"progress\": 0.85, \"eta\": 300}}}' http://127.0.0.1:$qb_port/__fake/routes >/dev/null" \
	"wait 85%" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait is ready to watch" "sleep 2.5" || fail "second run"
drive "$tmp/out3" "$tmp/err3" "sleep 3" || fail "third run"

cat >"$tmp/want1" <<'EOF'
usher: Requested Interstellar (2014) for you. I'll keep you posted.
usher: Interstellar (2014): Downloading ▓▓▓▓░░░░░░ 40% · 1.5 MB/s · ETA 20 min
EOF
cat >"$tmp/want2" <<'EOF'
usher (edit): Interstellar (2014): Downloading ▓▓▓▓▓▓░░░░ 60% · 1.5 MB/s · ETA 14 min
usher (edit): Interstellar (2014): Downloading ▓▓▓▓▓▓▓▓░░ 85% · 1.5 MB/s · ETA 5 min
usher (edit): Interstellar (2014): ready to watch
usher: @dad Interstellar (2014) is ready to watch.
EOF
diff -u "$tmp/want1" "$tmp/out1" || fail "first run's lines"
diff -u "$tmp/want2" "$tmp/out2" || fail "second run's lines (a new message instead of an edit, or a repeat)"
[ ! -s "$tmp/out3" ] || fail "the third run said something"
grep -q "following 1 requests from before the restart" "$tmp/err2" || fail "the second run did not resume"

# One call per upstream per cycle: list, queue and maindata counts agree
# (a cycle cut short by the exit may miss one), logins once per run at most;
# Radarr is asked about the film itself at most once a run (its id the
# first time the queue shows it, where it landed once it is ready).
counts="$(for p in $seerr_port $radarr_port $qb_port; do curl -s -m 5 "http://127.0.0.1:$p/__fake/requests"; echo; done | /usr/bin/python3 -c '
import json, sys
s, r, q = [json.loads(l) for l in sys.stdin if l.strip()]
lists = sum(1 for x in s if x["method"] == "GET" and x["path"] == "/api/v1/request" and "requestedBy" not in x["query"])
queues = sum(1 for x in r if x["path"] == "/api/v3/queue")
main = sum(1 for x in q if x["path"] == "/api/v2/sync/maindata")
logins = sum(1 for x in q if x["path"] == "/api/v2/auth/login")
other = [x["path"] for x in r + q if x["path"] not in ("/api/v3/queue", "/api/v2/sync/maindata", "/api/v2/auth/login")]
films = [o for o in other if o.startswith("/api/v3/movie")]
other = [o for o in other if o not in films]
print(lists, queues, main, logins, len(other), len(films))
ok = lists >= 3 and abs(lists - queues) <= 2 and abs(lists - main) <= 2 and logins <= 2 and not other and len(films) <= 3
sys.exit(0 if ok else 1)')" || fail "calls per cycle (seerr lists, radarr queues, maindata, logins, others, film look-ups): $counts"
echo "ok: resumed with edits only, one ready, calls per cycle $counts"

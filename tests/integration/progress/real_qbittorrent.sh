#!/usr/bin/env bash
# usher's progress message moves from 0% to ready on REAL qBittorrent data:
# two qbittorrent-nox on loopback (tests/fakes/qbittorrent_pair.py), one
# seeding an 8 MB file to the other under a download limit; usher's
# [qbittorrent] is the downloading one. Seerr and Radarr are fakes: Radarr's
# queue record carries the real torrent's hash as downloadId, and the test
# flips Seerr to AVAILABLE once usher shows 100%. Skips (77) when
# qbittorrent-nox is missing or cannot run here.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
pids=()
cleanup() {
	exec 3>&- 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err* "$tmp"/pair.*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
command -v qbittorrent-nox >/dev/null || skip "qbittorrent-nox is not installed (Debian package qbittorrent-nox)"

mkfifo "$tmp/pair.in"
/usr/bin/python3 "$repo/tests/fakes/qbittorrent_pair.py" <"$tmp/pair.in" >"$tmp/pair.out" 2>"$tmp/pair.err" &
pids+=($!)
exec 3>"$tmp/pair.in"
for _ in $(seq 1 600); do grep -qE '^(READY|SKIP|ERROR)' "$tmp/pair.out" && break; sleep 0.1; done
line="$(grep -E '^(READY|SKIP|ERROR)' "$tmp/pair.out" | head -1 || true)"
case "$line" in
READY*) ;;
SKIP*) skip "${line#SKIP }" ;;
ERROR*) skip "qbittorrent-nox cannot run here: ${line#ERROR }" ;;
*) skip "qbittorrent-nox did not come up within 60 s" ;;
esac
read -r _ qb_port qb_user qb_pass H <<<"$line"

. "$repo/tests/integration/start_fake.inc"
start_fake seerr_port seerr "$repo/tests/fakes/fake_seerr.py" --no-library
cat >"$tmp/radarr.json" <<JSON
{"routes": [{"method": "GET", "path": "/api/v3/queue", "json": {"page": 1, "pageSize": 100, "totalRecords": 1, "records": [
 {"id": 5, "movieId": 105, "title": "Interstellar.2014.1080p", "size": 8000000, "sizeleft": 8000000,
  "status": "downloading", "trackedDownloadStatus": "ok", "trackedDownloadState": "downloading",
  "statusMessages": [], "downloadId": "${H^^}", "protocol": "torrent", "downloadClient": "qBittorrent",
  "movie": {"id": 105, "title": "Interstellar", "year": 2014, "tmdbId": 157336}}]}}]}
JSON
start_fake radarr_port radarr "$repo/tests/fakes/fakehttp.py" --scenario "$tmp/radarr.json"
[ -n "$seerr_port" ] && [ -n "$radarr_port" ] || fail "a fake did not start"
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:$seerr_port
api_key = test-seerr-key
[radarr]
url = http://127.0.0.1:$radarr_port
api_key = arr-key
[qbittorrent]
url = http://127.0.0.1:$qb_port
username = $qb_user
password = $qb_pass
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
	/usr/bin/python3 "$repo/tests/fakes/drive_usher.py" --wait-s 90 "$usher" "$tmp/usher.conf" "$@"
}
seerr_available='{"routes": [{"method": "GET", "path": "/api/v1/request", "json": {"pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1}, "results": [{"id": 1, "status": 2, "type": "movie", "is4k": false, "media": {"tmdbId": 157336, "mediaType": "movie", "status": 5}, "requestedBy": {"id": 2}}]}}]}'

drive "$tmp/out1" "$tmp/err1" "say get interstellar" "wait ^usher: Interstellar \\(2014\\): .* 0%" \
	"run echo start >'$tmp/pair.in'" "wait 100%" \
	"run curl -s -m 5 -X POST -d '$seerr_available' http://127.0.0.1:$seerr_port/__fake/routes >/dev/null" \
	"wait is ready to watch" "sleep 2.5" || fail "usher run"

/usr/bin/python3 - "$tmp/out1" <<'PY' || fail "the progress lines"
import re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
assert lines[0] == "usher: Requested Interstellar (2014) for you. I'll keep you posted.", lines[0]
prog = [l for l in lines[1:] if "Interstellar (2014):" in l]
assert prog[0].startswith("usher: Interstellar (2014): ") and " 0%" in prog[0], prog[0]
assert all(l.startswith("usher (edit): ") for l in prog[1:]), "a later change was not an edit"
pcts = [int(m.group(1)) for l in prog for m in [re.search(r" (\d+)%", l)] if m]
assert pcts == sorted(pcts), "the bar went backwards: %r" % pcts
middle = [p for p in pcts if 0 < p < 100]
assert len(set(middle)) >= 2, "fewer than two updates between 0%% and 100%%: %r" % pcts
assert any(re.fullmatch(r"usher \(edit\): Interstellar \(2014\): Downloading ▓+░* \d+% · [\d.]+ [kM]B/s · ETA \d+ (s|min)", l) for l in prog), "no line with speed and ETA"
assert prog[-1] == "usher (edit): Interstellar (2014): ready to watch", prog[-1]
ready = [l for l in lines if l == "usher: @dad Interstellar (2014) is ready to watch."]
assert len(ready) == 1 and lines[-1] == ready[0], "ready said %d times" % len(ready)
print("percents seen:", pcts)
PY
echo "ok: 0% to ready from real qBittorrent data"

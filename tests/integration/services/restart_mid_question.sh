#!/usr/bin/env bash
# usher stops between "which one?" and the answer; the next run still
# understands "2" (the question was saved), and exactly one request exists.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out*; do echo "--- $f"; cat "$f"; done; exit 1; }

/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake seerr did not start"
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:$port
api_key = test-seerr-key
[console]
person = dad
[person dad]
seerr_user = 2
CONF
chmod 600 "$tmp/usher.conf"

echo "get dune" | timeout 30 "$usher" run --config "$tmp/usher.conf" >"$tmp/out1" 2>"$tmp/err1" || fail "first run"
grep -q '^usher: I found 4. Which one?' "$tmp/out1" || fail "no question in the first run"
grep -q '^       2) Dune (1984) · film' "$tmp/out1" || fail "unexpected choices"

echo "2" | timeout 30 "$usher" run --config "$tmp/usher.conf" >"$tmp/out2" 2>"$tmp/err2" || fail "second run"
grep -qx 'usher: Requested Dune (1984) for you. I'"'"'ll keep you posted.' "$tmp/out2" || fail "the answer was not understood after the restart"

posts="$(curl -s "http://127.0.0.1:$port/__fake/requests" | /usr/bin/python3 -c '
import json, sys
reqs = [r for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"] == "/api/v1/request"]
print(len(reqs), reqs[0]["json"]["mediaId"] if reqs else "-")')"
[ "$posts" = "1 841" ] || fail "expected one request for TMDB 841, got: $posts"
echo "ok: the question survived the restart and one request was made"

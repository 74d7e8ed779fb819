#!/usr/bin/env bash
# Hostile chat input on the console: a 64 KiB line, invalid UTF-8, NUL
# bytes, 10,000 emoji, control characters, a lone CR. usher answers
# politely (or drops an oversized line with a log line), never crashes, and
# still answers a normal message afterwards; Seerr is never asked for
# anything but searches.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && { kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT
[ -n "${CHAOS_KEEP:-}" ] && cleanup() { echo "kept $tmp"; }
fail() { echo "FAIL: $*"; for f in "$tmp"/out "$tmp"/err; do echo "--- $f"; head -c 4000 "$f"; echo; done; exit 1; }

/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake seerr did not start"
printf '[seerr]\nurl = http://127.0.0.1:%s\napi_key = test-seerr-key\n[console]\nperson = kid\n[person kid]\nseerr_user = 3\n' "$port" >"$tmp/usher.conf"
chmod 600 "$tmp/usher.conf"

/usr/bin/python3 - "$tmp/in" <<'PY'
import sys
lines = [
	b"get " + b"A" * 65536,                      # 64 KiB line
	b"get dune \xff\xfe\xc3\x28 \xed\xa0\x80",     # invalid UTF-8, a surrogate
	b"get du\x00ne \x00\x00",                     # NUL bytes
	("get " + "\U0001F3AC" * 10000).encode(),      # 10,000 emoji (40 KB)
	b"\x1b[2J\x07\x08 get \x1b]0;pwned\x07 dune",  # terminal escapes
	b"\r",
	"cancel " + "\u202e" * 500 + "barbie",        # bidi overrides
	b"%s%s%n%x " * 50,                            # format strings
	b"help",
]
with open(sys.argv[1], "wb") as f:
	for l in lines:
		f.write(l.encode() if isinstance(l, str) else l)
		f.write(b"\n")
PY
timeout 60 "$usher" run --config "$tmp/usher.conf" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" || fail "usher exited $?"
grep -qiE "sanitizer|runtime error|segmentation|assert" "$tmp/err" && fail "sanitizer or crash output"
n="$(grep -c '^usher: ' "$tmp/out" || true)"
[ "$n" -ge 7 ] || fail "expected at least 7 replies to 9 lines (a long line may be dropped), got $n"
tail -n 20 "$tmp/out" | grep -q "^usher: I fetch films and shows for the family" || fail "the final help was not answered"
# Whatever was echoed back stays valid UTF-8 with no terminal escapes or NULs.
/usr/bin/python3 - "$tmp/out" <<'PY' || fail "reply bytes"
import sys
data = open(sys.argv[1], "rb").read()
data.decode("utf-8")
assert b"\x00" not in data and b"\x1b" not in data and b"\x07" not in data, "control bytes echoed"
assert max(len(l) for l in data.split(b"\n")) < 8192, "a reply line is enormous"
PY
posts="$(curl -s -m 5 "http://127.0.0.1:$port/__fake/requests" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] not in ("GET",)))')"
[ "$posts" = 0 ] || fail "hostile input changed something in Seerr ($posts non-GET requests)"
echo "ok: $n polite replies to hostile input, no crash"

#!/usr/bin/env bash
# usher mcp refuses to start without knowing whom it acts as (exit 2, in
# plain words); [mcp] person is the default for --as; a member without a
# Seerr user is refused requests instead of acting as the API key's owner.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

# Port 9 (discard) is never a Seerr: nothing here may reach Seerr.
cat >"$tmp/usher.conf" <<CONF
[seerr]
url = http://127.0.0.1:9
api_key = test-seerr-key
[person kid]
seerr_user = 3
[person guest]
CONF
chmod 600 "$tmp/usher.conf"

rc=0; "$usher" mcp --config "$tmp/usher.conf" </dev/null >"$tmp/out1" 2>"$tmp/err1" || rc=$?
[ "$rc" = 2 ] || fail "no person: exit $rc, expected 2"
grep -q -- '--as NAME' "$tmp/err1" || fail "no person: the message does not say how to name one"
[ ! -s "$tmp/out1" ] || fail "no person: something was written to stdout"

rc=0; "$usher" mcp --config "$tmp/usher.conf" --as nobody </dev/null >"$tmp/out2" 2>"$tmp/err2" || rc=$?
[ "$rc" = 2 ] || fail "unknown person: exit $rc, expected 2"
grep -q 'there is no \[person nobody\]' "$tmp/err2" || fail "unknown person: unclear message"

rc=0; "$usher" mcp --config "$tmp/usher.conf" --bogus </dev/null >"$tmp/out3" 2>"$tmp/err3" || rc=$?
[ "$rc" = 2 ] || fail "bad option: exit $rc, expected 2"

printf '[mcp]\nperson = ghost\n' >>"$tmp/usher.conf"
rc=0; "$usher" mcp --config "$tmp/usher.conf" </dev/null >"$tmp/out4" 2>"$tmp/err4" || rc=$?
[ "$rc" = 2 ] || fail "[mcp] person naming nobody: exit $rc, expected 2"
grep -q 'ghost' "$tmp/err4" || fail "[mcp] person naming nobody: the message does not name it"

sed -i 's/^person = ghost$/person = guest/' "$tmp/usher.conf"
req='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"request_media","arguments":{"tmdbId":841,"type":"movie"}}}'
echo "$req" | timeout 20 "$usher" mcp --config "$tmp/usher.conf" >"$tmp/out5" 2>"$tmp/err5" \
    || fail "[mcp] person = guest did not start"
/usr/bin/python3 - "$tmp/out5" <<'PY' || fail "guest request not refused"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
m = json.loads(lines[0])
r = m["result"]
assert m["id"] == 1 and r["isError"] is True, m
assert r["structuredContent"]["reason"] == "not_allowed", m
assert "no Overseerr user" in r["content"][0]["text"], m
PY
echo "ok: missing and unknown people refused with exit 2; [mcp] person used; no Seerr user, no request"

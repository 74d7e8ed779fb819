#!/usr/bin/env bash
# Log events: a console conversation with `--log-format json` logs one
# "message" and one "reply" event per answered line, carrying network,
# hashed room, person and intent; upstream calls log service and status;
# and the same conversation in text form has the same fields as key=value.
set -euo pipefail
usher="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- stderr"; cat "$tmp/err"; exit 1; }

cd "$tmp"
printf '%s\n' 'get dune' '3' 'help' |
	USHER_USHER_LOG_LEVEL=debug timeout 60 "$usher" --log-format json demo --speed 10 \
		>"$tmp/out" 2>"$tmp/err" || fail "usher exited $?"
/usr/bin/python3 - "$tmp/err" <<'PY' || fail "events missing or wrong"
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ev = lambda name: [o for o in lines if o.get("event") == name]
msgs, replies, ups = ev("message"), ev("reply"), ev("upstream")
assert [m["intent"] for m in msgs] == ["request", "select", "help"], msgs
for r in replies:
    assert r["network"] == "console" and r["person"] == "you", r
    assert re.fullmatch(r"[0-9a-f]{8}", r["room"]), r
    assert isinstance(r["ms"], int) and r["ms"] >= 0, r
# The request itself is confirmed outside the turn (it settles later).
assert {"request", "help"} <= {r["intent"] for r in replies}, replies
assert msgs[0]["room"] == replies[0]["room"]
assert all(m["source"] == "grammar" for m in msgs), msgs
assert any(u["upstream"] == "Seerr" and u["status"] in (200, 201) for u in ups), ups
PY
printf 'help\n' | USHER_USHER_LOG_LEVEL=info timeout 60 "$usher" demo --speed 10 >"$tmp/out" 2>"$tmp/err" ||
	fail "usher exited $?"
grep -qE '^ts=[0-9T:.-]+Z level=info event=reply network=console room=[0-9a-f]{8} person=you intent=help ms=[0-9]+$' \
	"$tmp/err" || fail "no reply event in text form"
echo "ok: message, reply and upstream events"

#!/usr/bin/env bash
# In the demo a requested film visibly moves: the progress message is
# edited as it downloads, and the requester is told when it is ready.
set -euo pipefail
usher="$1"
out="$(mktemp)"; err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
# stdin stays open while the film downloads, as in a real chat.
( printf 'get paddington\n'; for _ in $(seq 1 60); do sleep 1; grep -q 'is ready to watch' "$out" && break; done ) |
	timeout 90 "$usher" demo --speed 6 >"$out" 2>"$err" || { echo "FAIL: exit $?"; cat "$out" "$err"; exit 1; }
fail() { echo "FAIL: $*"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
grep -qx "usher: Requested Paddington (2014) for you. I'll keep you posted." "$out" || fail "no request"
grep -q '^usher: Paddington (2014): ' "$out" || fail "no progress message"
edits=$(grep -c '^usher (edit): Paddington (2014): Downloading ▓*░* [0-9]*%' "$out" || true)
[ "$edits" -ge 2 ] || fail "expected the bar to be edited at least twice, saw $edits"
grep -qx 'usher (edit): Paddington (2014): ready to watch' "$out" || fail "progress message not edited to ready"
[ "$(grep -c 'is ready to watch' "$out")" -eq 1 ] || fail "ready said other than once"
grep -qx 'usher: @you Paddington (2014) is ready to watch in movies.' "$out" || fail "no ready ping"
echo "ok: progress edited $edits times and ready said once"

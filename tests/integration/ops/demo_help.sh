#!/usr/bin/env bash
# `printf 'help\n' | usher demo` answers with the help text, exits 0 within
# a few seconds, and leaves no process behind (the demo services included).
set -euo pipefail
usher="$1"
out="$(mktemp)"; err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT
start=$(date +%s)
set +e
# A mark in the environment finds this run's processes and no others'
# (other tests may run demos at the same time).
mark="usher-demo-test-$$-$RANDOM"
printf 'help\n' | USHER_TEST_MARK="$mark" timeout 30 "$usher" demo --speed 10 >"$out" 2>"$err"
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
[ "$rc" -eq 0 ] || fail "exit code $rc"
grep -q '^usher: I fetch films and shows for the family' "$out" || fail "no help reply"
grep -q 'add season 2 of The Bear' "$out" || fail "help has no examples"
# Nothing of the demo may survive it: no demo_services.py, no temp folder.
sleep 0.5
left="$(grep -l "USHER_TEST_MARK=$mark" /proc/[0-9]*/environ 2>/dev/null || true)"
if [ -n "$left" ]; then
	echo "$left"
	fail "processes of the demo still running"
fi
echo "ok: demo answered help in ${elapsed}s and left nothing behind"

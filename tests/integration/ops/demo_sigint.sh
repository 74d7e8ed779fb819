#!/usr/bin/env bash
# Ctrl-C (SIGINT) during `usher demo` stops usher and the demo services.
set -euo pipefail
usher="$1"
fifo="$(mktemp -u)"; mkfifo "$fifo"
out="$(mktemp)"
trap 'rm -f "$fifo" "$out"; exec 3>&- || true' EXIT
"$usher" demo <"$fifo" >"$out" 2>&1 &
pid=$!
exec 3>"$fifo"            # keep stdin open: usher waits for the person
echo "hello" >&3
for _ in $(seq 1 100); do grep -q '^usher: Hi' "$out" && break; sleep 0.1; done
grep -q '^usher: Hi you!' "$out" || { echo "FAIL: no greeting"; cat "$out"; kill -9 $pid; exit 1; }
children="$(pgrep -P $pid || true)"
[ -n "$children" ] || { echo "FAIL: demo services not running"; kill -9 $pid; exit 1; }
kill -INT $pid
for _ in $(seq 1 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "FAIL: usher still running after SIGINT"; kill -9 $pid; exit 1; fi
wait $pid || true
for c in $children; do
	if kill -0 "$c" 2>/dev/null; then echo "FAIL: demo service $c outlived usher"; kill -9 "$c"; exit 1; fi
done
echo "ok: SIGINT stopped usher and its demo services"

#!/usr/bin/env bash
# The load and memory benches, briefly: they run to the end, lose no
# message, and print their figures. No timing is asserted (CI machines
# vary); the figures are in the log for whoever reads it.
set -euo pipefail
usher="$1"
bench="$(dirname "$usher")/bench"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
if [ ! -x "$bench/load_bench" ] || [ ! -x "$bench/memory_bench" ]; then
	echo "SKIP: the benches are not built here (USHER_BENCH=OFF)"
	exit 0
fi

timeout 40 "$bench/load_bench" --conversations 50 --rate 40 --seconds 3 >"$tmp/load.out" 2>&1 ||
	fail "load_bench exited with $?"
grep -q '^messages sent [1-9][0-9]*, replies received [1-9][0-9]*, messages lost 0$' "$tmp/load.out" ||
	fail "load_bench lost messages or sent none"
grep -Eq 'grammar only .* p50 +[0-9.]+ ms +p99 +[0-9.]+ ms +max +[0-9.]+ ms' "$tmp/load.out" ||
	fail "no grammar-only latency line"
grep -Eq 'Seerr turns, whole +[1-9][0-9]* turns' "$tmp/load.out" || fail "no Seerr turn was measured"
grep -q 'of which the Python fake' "$tmp/load.out" || fail "the fake's share is not printed"
grep -Eq '^peak RSS [1-9][0-9]* KiB' "$tmp/load.out" || fail "no peak RSS"

# Under ASan, setting up 1,000 tracked requests and four peers takes longer
# than ctest's 120 s: the memory figures mean nothing there anyway.
if grep -q __asan_init "$bench/memory_bench"; then
	cat "$tmp/load.out"
	echo "OK (memory_bench skipped: sanitizer build)"
	exit 0
fi
timeout 75 "$bench/memory_bench" --seconds 5 >"$tmp/memory.out" 2>&1 ||
	fail "memory_bench exited with $?"
grep -q "tracked requests (the bot's /metrics): 1000 of 1000" "$tmp/memory.out" ||
	fail "the bot does not follow the 1000 requests"
grep -Eq '^  VmRSS [1-9][0-9]* KiB, VmHWM [1-9][0-9]* KiB' "$tmp/memory.out" || fail "no RSS figures"
grep -q 'baseline' "$tmp/memory.out" || fail "no baseline"
cat "$tmp/load.out" "$tmp/memory.out"
echo "OK"

#!/usr/bin/env bash
# usher killed right after the store records a request as settled and
# before "Requested X for you" is said: at the next start the answer owed
# is said (the person may rarely hear it twice, never not at all). gdb
# stops usher at the exact spot (order_record_settled returning).
set -euo pipefail
command -v gdb >/dev/null || { echo "SKIP: no gdb"; exit 77; }
usher="$(realpath "$1")"; repo="${2:-$(cd "$(dirname "$0")/../../.." && pwd)}"
tmp="$(mktemp -d)"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && { kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT
/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
printf '[seerr]\nurl = http://127.0.0.1:%s\napi_key = test-seerr-key\n[store]\npath = %s/usher.db\n[console]\nperson = kid\n[person kid]\nseerr_user = 3\n' "$port" "$tmp" >"$tmp/usher.conf"
chmod 600 "$tmp/usher.conf"
echo "get dune" | timeout 30 "$usher" run --config "$tmp/usher.conf" 2>/dev/null | head -1
echo "2" >"$tmp/in2"
# Under `ctest -L valgrind` $usher is the wrapper script, which gdb cannot
# run: gdb gets the real binary (a run killed midway has no leak report to
# check); the runs before and after stay under valgrind.
timeout 60 gdb -q -batch -ex 'break order_record_settled' -ex "run run --config $tmp/usher.conf < $tmp/in2" \
	-ex finish -ex kill "${VALGRIND_USHER_BINARY:-$usher}" >"$tmp/gdb.out" 2>&1
echo "store: $(sqlite3 "$tmp/usher.db" "select title, year, state, seerr_request_id from requests")"
out="$(echo 2 | timeout 30 "$usher" run --config "$tmp/usher.conf" 2>/dev/null)"
echo "after restart, '2' again: $out"
if grep -q "Requested Dune (1984)\|Dune (1984) was already requested" <<<"$out"; then
	echo "ok: the person was told"; exit 0
fi
echo "FAIL: Dune (1984) is requested in Seerr and the person was never told"; exit 1

#!/usr/bin/env bash
# `usher parse --json --llm`: a line the grammar cannot place gets the
# LLM's intent (source llm); lines the grammar places never reach the LLM;
# with the LLM down the answer is source none, within the timeout.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"; fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$tmp"/out* "$tmp"/err* 2>/dev/null; exit 1; }

line='that film with the singing lion cubs'
/usr/bin/python3 "$repo/tests/fakes/fake_llm.py" --port 0 --answers "{\"$line\": {\"answer\": {\"intent\": \"request\", \"media\": \"movie\", \"title\": \"The Lion King\", \"year\": 1994, \"seasons\": null, \"episode\": null, \"quality\": null, \"choice\": null}}}" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake llm did not start"
printf '[llm]\nurl = http://127.0.0.1:%s/v1\nmodel = test-model\ntimeout_ms = 2000\n' "$port" >"$tmp/usher.conf"

printf '%s\nget paddington 2\n' "$line" | "$usher" parse --json --llm --config "$tmp/usher.conf" >"$tmp/out1" 2>"$tmp/err1"
head -1 "$tmp/out1" | grep -q '"intent":"request","media":"movie","title":"The Lion King","year":1994,.*"source":"llm"' || fail "no llm answer"
sed -n 2p "$tmp/out1" | grep -q '"source":"grammar"' || fail "the grammar's line changed source"
calls="$(curl -s "http://127.0.0.1:$port/__fake/requests" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
[ "$calls" = "1" ] || fail "expected one LLM call, saw $calls"

kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true; fake_pid=""
printf '%s\n' "$line" | "$usher" parse --json --llm --config "$tmp/usher.conf" >"$tmp/out2" 2>"$tmp/err2"
grep -q '"source":"none"' "$tmp/out2" || fail "expected source none with the LLM down"
echo "ok: parse --llm used the fallback, and did without it when it was down"

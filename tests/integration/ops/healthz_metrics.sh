#!/usr/bin/env bash
# [http] listen serves /healthz and /metrics: healthy at first, counters that
# move after a conversation, 503 while another process locks the store,
# healthy again once it lets go.
set -euo pipefail
usher="$1"
py=/usr/bin/python3
dir="$(mktemp -d)"
fifo="$dir/stdin"; mkfifo "$fifo"
pid=""; locker=""
cleanup() {
	exec 3>&- 2>/dev/null || true
	[ -n "$locker" ] && { kill "$locker" 2>/dev/null || true; wait "$locker" 2>/dev/null || true; }
	[ -n "$pid" ] && { kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
	rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- usher output:"; cat "$dir/out" || true; exit 1; }

port="$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$dir/usher.conf" <<CONF
[console]
person = alice
exit_wait_ms = 1000
[person alice]
role = member
[store]
path = $dir/usher.db
[http]
listen = 127.0.0.1:$port
CONF

"$usher" run --config "$dir/usher.conf" <"$fifo" >"$dir/out" 2>&1 &
pid=$!
exec 3>"$fifo"   # keep stdin open: the console waits for alice

get() { curl -s -m 15 -o "$dir/body" -w '%{http_code}' "http://127.0.0.1:$port$1" || true; }

code=""
for _ in $(seq 1 100); do
	code="$(get /healthz)"; [ "$code" = 200 ] && break; sleep 0.1
done
[ "$code" = 200 ] || fail "/healthz answered '$code', expected 200"
grep -qx '{"status":"ok"}' "$dir/body" || fail "/healthz body: $(cat "$dir/body")"

# Every line of /metrics is a comment or `name{labels} value`, and every
# sample's family has HELP and TYPE lines before it.
check_metrics() {
	$py - "$dir/body" <<'PY' || fail "/metrics is not Prometheus text: $(cat "$dir/body")"
import re, sys
text = open(sys.argv[1]).read()
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$')
helped, typed = set(), {}
for line in text.splitlines():
    if line.startswith("# HELP "):
        helped.add(line.split()[2]); continue
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(); typed[name] = kind; continue
    m = sample.match(line)
    if not m:
        sys.exit("bad line: %r" % line)
    name = m.group(1)
    base = re.sub(r'_(sum|count)$', '', name) if typed.get(re.sub(r'_(sum|count)$', '', name)) == "summary" else name
    if base not in helped or base not in typed:
        sys.exit("no HELP/TYPE for %s" % name)
PY
}
metric() { grep -F "$1 " "$dir/body" | awk '{print $NF}'; }

code="$(get /metrics)"; [ "$code" = 200 ] || fail "/metrics answered $code"
check_metrics
for name in usher_messages_in_total usher_messages_out_total usher_parses_total \
            usher_llm_calls_total usher_llm_failures_total usher_upstream_calls_total \
            usher_upstream_errors_total usher_tracked_requests usher_loop_iteration_seconds; do
	grep -q "^# TYPE $name " "$dir/body" || fail "/metrics has no $name"
done
[ "$(metric 'usher_parses_total{source="grammar"}')" = 0 ] || fail "grammar parses before any message"
[ -z "$(metric 'usher_messages_in_total{network="console"}')" ] || fail "messages counted before any"

echo "help" >&3
for _ in $(seq 1 100); do grep -q '^usher: I fetch films' "$dir/out" && break; sleep 0.1; done
grep -q '^usher: I fetch films' "$dir/out" || fail "no answer to help"
sleep 0.3
code="$(get /metrics)"; [ "$code" = 200 ] || fail "/metrics answered $code"
check_metrics
[ "$(metric 'usher_messages_in_total{network="console"}')" = 1 ] || fail "messages in: $(cat "$dir/body")"
[ "$(metric 'usher_messages_out_total{network="console"}')" = 1 ] || fail "messages out: $(cat "$dir/body")"
[ "$(metric 'usher_parses_total{source="grammar"}')" = 1 ] || fail "grammar parses: $(cat "$dir/body")"
[ "$(metric 'usher_parses_total{source="none"}')" = 0 ] || fail "none parses: $(cat "$dir/body")"
[ "$(metric usher_loop_iteration_seconds_count)" -gt 0 ] || fail "loop iterations not measured"

# Another process takes the write lock: the store cannot be written.
$py - "$dir/usher.db" "$dir/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(60)
PY
locker=$!
for _ in $(seq 1 100); do [ -e "$dir/locked" ] && break; sleep 0.1; done
[ -e "$dir/locked" ] || fail "could not lock the store"
code="$(get /healthz)"
[ "$code" = 503 ] || fail "/healthz answered '$code' with the store locked, expected 503"
grep -q '"status":"unhealthy","reason":"the store cannot be written' "$dir/body" ||
	fail "/healthz 503 body: $(cat "$dir/body")"
kill "$locker"; wait "$locker" 2>/dev/null || true; locker=""
code="$(get /healthz)"
[ "$code" = 200 ] || fail "/healthz answered '$code' after the lock went, expected 200"

exec 3>&-
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "usher still running after its console closed"
wait "$pid" || fail "usher exited with $?"
pid=""
echo "ok: /healthz and /metrics"

# Sourced by tests/integration/xmpp/*.sh: a throwaway prosody and an usher
# connected to it, both started and stopped by the test (by pid), every
# wait bounded. Needs: $usher, $repo set; defines $tmp, $port and helpers.
set -euo pipefail
tmp="$(mktemp -d)"
prosody_pid=""
usher_pid=""
fake_pid=""
PASSWORD_USHER="usher-pw-$RANDOM$RANDOM"
PY=/usr/bin/python3

stop_pid() { # pid: TERM, then KILL after 5 s, then reap
	local pid="$1" i
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_pid "$usher_pid"
	stop_pid "$fake_pid"
	stop_pid "$prosody_pid"
	[ -n "${USHER_KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/usher.err "$tmp"/usher.out "$tmp"/prosody/prosody.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
	done
	exit 1
}
command -v prosody >/dev/null || { echo "SKIP: prosody is not installed"; exit 0; }
$PY -c 'import slixmpp' 2>/dev/null || { echo "SKIP: python3-slixmpp is not installed"; exit 0; }

start_fake_seerr() { # sets $seerr to the fake Seerr's base URL
	$PY "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
	fake_pid=$!
	for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
	seerr="http://127.0.0.1:$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
	[ "$seerr" != "http://127.0.0.1:" ] || fail "fake seerr did not start"
}
slow_search() { # delay_ms times: the next `times` searches find nothing after delay_ms
	curl -sf -X POST -H 'Content-Type: application/json' "$seerr/__fake/routes" -d '{"mode": "prepend",
	  "routes": [{"method": "GET", "path": "/api/v1/search", "delay_ms": '"$1"', "times": '"$2"',
	              "json": {"page": 1, "totalPages": 1, "totalResults": 0, "results": []}}]}' \
		>/dev/null || fail "cannot program the fake"
}
setup_prosody() {
	mkdir -p "$tmp/prosody"
	port="$($PY "$repo/tests/fakes/xmpp_prosody.py" setup "$tmp/prosody" \
		"usher:$PASSWORD_USHER" alice:alice-pw stranger:stranger-pw | awk '/^PORT/ {print $2}')"
	[ -n "$port" ] || fail "prosody setup"
}
start_prosody() {
	prosody --config "$tmp/prosody/prosody.cfg.lua" -F >>"$tmp/prosody.out" 2>&1 &
	prosody_pid=$!
	$PY "$repo/tests/fakes/xmpp_prosody.py" wait "$port" 20 || fail "prosody did not start"
}
kill_prosody() { # the hard way: no goodbye to anyone
	kill -KILL "$prosody_pid" 2>/dev/null || true
	wait "$prosody_pid" 2>/dev/null || true
	prosody_pid=""
}
write_usher_conf() { # extra config lines on stdin (they land in [person alice]); rooms from $USHER_TEST_ROOMS
	cat >"$tmp/usher.conf" <<CONF
[xmpp]
jid = usher@localhost
password = $PASSWORD_USHER
host = 127.0.0.1
port = $port
tls = off-for-loopback-tests
rooms = ${USHER_TEST_ROOMS:-family@rooms.localhost}
[person alice]
role = admin
xmpp = alice@localhost
CONF
	cat >>"$tmp/usher.conf"
	chmod 600 "$tmp/usher.conf"
}
start_usher() {
	"$usher" run --config "$tmp/usher.conf" >>"$tmp/usher.out" 2>>"$tmp/usher.err" &
	usher_pid=$!
}
wait_log() { # regex [seconds]: waits for a line in usher's stderr
	local i
	for i in $(seq 1 $((${2:-20} * 10))); do
		grep -Eq "$1" "$tmp/usher.err" 2>/dev/null && return 0
		kill -0 "$usher_pid" 2>/dev/null || fail "usher exited while waiting for /$1/"
		sleep 0.1
	done
	fail "usher never logged /$1/"
}
count_log() { grep -Ec "$1" "$tmp/usher.err" 2>/dev/null || true; }
person() { # runs a Python scenario (stdin) with Person imported and PORT set
	timeout 90 env PYTHONPATH="$repo/tests/fakes" PORT="$port" $PY - || fail "scenario: $1"
}
stop_usher_checked() { # a clean exit on SIGTERM, and nothing from the sanitizers
	local rc=0 i
	kill "$usher_pid" 2>/dev/null || fail "usher was not running at the end"
	for i in $(seq 1 100); do kill -0 "$usher_pid" 2>/dev/null || break; sleep 0.1; done
	wait "$usher_pid" || rc=$?
	usher_pid=""
	[ "$rc" = 0 ] || fail "usher exited with $rc after SIGTERM"
	if grep -Eq 'Sanitizer|runtime error' "$tmp/usher.err"; then
		fail "sanitizer report: $(grep -E -A20 'Sanitizer|runtime error' "$tmp/usher.err")"
	fi
	echo "ok: usher stopped cleanly"
}
no_password_leak() {
	if grep -qF "$PASSWORD_USHER" "$tmp/usher.out" "$tmp/usher.err"; then
		fail "usher printed its XMPP password"
	fi
}

#!/usr/bin/env bash
# Settings usher must refuse before it connects anywhere: plain XMPP to a
# server that is not on this machine, and a room that is not a room address.
set -euo pipefail
usher="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; cat "$tmp/out" "$tmp/err" 2>/dev/null; exit 1; }

try() { # expected-message-regex, then the [xmpp] lines on stdin
	{ cat; printf '[person alice]\nxmpp = alice@example.org\n'; } >"$tmp/usher.conf"
	chmod 600 "$tmp/usher.conf"
	if timeout 20 "$usher" run --config "$tmp/usher.conf" >"$tmp/out" 2>"$tmp/err"; then
		fail "usher started with: $(cat "$tmp/usher.conf")"
	fi
	grep -Eq "$1" "$tmp/err" "$tmp/out" || fail "no /$1/ in the output"
	grep -q 'hunter2' "$tmp/err" "$tmp/out" && fail "the password was printed"
	return 0
}

try 'tls = off-for-loopback-tests is only allowed when host is 127.0.0.1, ::1 or localhost, not .xmpp.example.org.' <<'CONF'
[xmpp]
jid = usher@example.org
password = hunter2
host = xmpp.example.org
tls = off-for-loopback-tests
CONF
echo "ok: plain XMPP to a remote server is refused"

try "tls = off-for-loopback-tests is only allowed .* not 'example.org'" <<'CONF'
[xmpp]
jid = usher@example.org
password = hunter2
tls = off-for-loopback-tests
CONF
echo "ok: plain XMPP to the JID's own (remote) domain is refused"

try "rooms: 'family' is not a room address" <<'CONF'
[xmpp]
jid = usher@localhost
password = hunter2
host = 127.0.0.1
tls = off-for-loopback-tests
rooms = family
CONF
echo "ok: a room without a server is refused"

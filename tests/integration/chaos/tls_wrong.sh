#!/usr/bin/env bash
# Seerr behind a certificate usher does not trust: refused by default with
# a polite reply and a log line naming TLS, nothing sent; accepted only
# with an explicit per-service setting (ca_file, or tls_verify = false).
# An https URL to a plain-HTTP server is refused politely too.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out* "$tmp"/err*; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }
# Not called inside $(...): a subshell's pids+= would be lost to cleanup.
start() { # NAME CMD...
	local name="$1"; shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=($!)
	for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/$name.out" && break; sleep 0.05; done
}
port_of() { awk '/^LISTENING/ {print $2}' "$tmp/$1.out"; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
start seerr /usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0
seerr="$(port_of seerr)"
[ -n "$seerr" ] || fail "fake seerr did not start"
start tls /usr/bin/python3 "$repo/tests/chaos/tls_wrap.py" --cert "$tmp/cert.pem" --key "$tmp/key.pem" --to "$seerr"
tls="$(port_of tls)"
[ -n "$tls" ] || fail "tls front did not start"

run() { # N URL EXTRA-SEERR-LINE
	printf '[seerr]\nurl = %s\napi_key = test-seerr-key\n%s\n[store]\npath = %s/usher%s.db\n[console]\nperson = kid\n[person kid]\nseerr_user = 3\n' \
		"$2" "$3" "$tmp" "$1" >"$tmp/usher$1.conf"
	chmod 600 "$tmp/usher$1.conf"
	echo "get paddington 2" | timeout 30 "$usher" run --config "$tmp/usher$1.conf" >"$tmp/out$1" 2>"$tmp/err$1" ||
		fail "run $1 exited $?"
}
posts() { curl -s -m 5 "http://127.0.0.1:$seerr/__fake/requests" | /usr/bin/python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"] == "/api/v1/request"))'; }

# 1. https to a plain-HTTP server.
run 1 "https://127.0.0.1:$seerr" ""
grep -q "^usher: I can't search Overseerr right now" "$tmp/out1" || fail "https to plain HTTP: no polite reply"
# 2. A self-signed certificate, default settings: refused, and the log says why.
run 2 "https://127.0.0.1:$tls" ""
grep -q "^usher: I can't search Overseerr right now" "$tmp/out2" || fail "self-signed: no polite reply"
grep -qiE "certificate|tls|ssl" "$tmp/out2" "$tmp/err2" || fail "self-signed: nothing says it is about TLS"
[ "$(posts)" = 0 ] || fail "a request reached Seerr through an untrusted certificate"
# 3. The same server trusted explicitly with ca_file: the request is made.
run 3 "https://127.0.0.1:$tls" "ca_file = $tmp/cert.pem"
grep -q "^usher: Requested Paddington 2 (2017) for you" "$tmp/out3" || fail "ca_file: not accepted"
[ "$(posts)" = 1 ] || fail "ca_file: expected one POST, got $(posts)"
# 4. tls_verify = false is the other explicit way (the film is already requested now).
run 4 "https://127.0.0.1:$tls" "tls_verify = false"
grep -q "Paddington 2 (2017) was already requested" "$tmp/out4" || fail "tls_verify = false: not accepted"
[ "$(posts)" = 1 ] || fail "tls_verify = false: a second POST"
echo "ok: untrusted TLS refused politely; ca_file and tls_verify = false accept it"

#!/usr/bin/env bash
# usher's database cannot be written (another process holds an exclusive
# lock, so every write ends in SQLITE_BUSY after the busy timeout; as root,
# file permissions would not stop usher, and there are no mount rights for
# a full or read-only filesystem): usher says it cannot save and does not
# send the request; once the lock is gone the same message works, and
# exactly one request exists.
set -euo pipefail
usher="$1"; repo="$2"
tmp="$(mktemp -d)"
fake_pid=""
cleanup() { [ -n "$fake_pid" ] && { kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; }; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/out "$tmp"/err; do [ -f "$f" ] && { echo "--- $f"; cat "$f"; }; done; exit 1; }

/usr/bin/python3 "$repo/tests/fakes/fake_seerr.py" --no-library --port 0 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
for _ in $(seq 1 100); do grep -q '^LISTENING' "$tmp/fake.out" && break; sleep 0.05; done
port="$(awk '/^LISTENING/ {print $2}' "$tmp/fake.out")"
[ -n "$port" ] || fail "fake seerr did not start"
printf '[seerr]\nurl = http://127.0.0.1:%s\napi_key = test-seerr-key\n[store]\npath = %s/usher.db\n[console]\nperson = kid\n[person kid]\nseerr_user = 3\n' "$port" "$tmp" >"$tmp/usher.conf"
chmod 600 "$tmp/usher.conf"

/usr/bin/python3 - "$usher" "$tmp" "$port" <<'PY' || fail "driver"
import json, re, sqlite3, subprocess, sys, threading, time, urllib.request
usher, tmp, port = sys.argv[1:4]
out = open(tmp + "/out", "w")
err = open(tmp + "/err", "w")
p = subprocess.Popen([usher, "run", "--config", tmp + "/usher.conf"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1)
lines = []
def reader():
	for l in p.stdout:
		lines.append(l.rstrip("\n")); out.write(l); out.flush()
th = threading.Thread(target=reader, daemon=True); th.start()
def wait(rx, t=30):
	end = time.monotonic() + t
	while time.monotonic() < end:
		if any(re.search(rx, l) for l in lines):
			return True
		if p.poll() is not None:
			break
		time.sleep(0.05)
	print("timed out waiting for %r" % rx); return False
def posts():
	with urllib.request.urlopen("http://127.0.0.1:%s/__fake/requests" % port, timeout=5) as r:
		return sum(1 for x in json.load(r) if x["method"] == "POST" and x["path"] == "/api/v1/request")
ok = True
try:
	p.stdin.write("help\n"); p.stdin.flush()
	ok = wait(r"^usher: I fetch films")          # the store is open and migrated
	lock = sqlite3.connect(tmp + "/usher.db", timeout=1, isolation_level=None)
	lock.execute("BEGIN EXCLUSIVE")
	p.stdin.write("get paddington 2\n"); p.stdin.flush()
	ok = ok and wait(r"^usher: Sorry, I can't save requests right now", 60)
	ok = ok and (posts() == 0 or (print("a request was sent though it was not saved") or False))
	lock.execute("ROLLBACK"); lock.close()
	p.stdin.write("get paddington 2\n"); p.stdin.flush()
	ok = ok and wait(r"^usher: Requested Paddington 2 \(2017\) for you")
	ok = ok and (posts() == 1 or (print("expected one POST, got %d" % posts()) or False))
finally:
	p.stdin.close()
	try:
		rc = p.wait(30)
	except subprocess.TimeoutExpired:
		p.kill(); p.wait(); rc = "hung"
	th.join(5)
ok = ok and (rc == 0 or (print("usher exited %s" % rc) or False))
sys.exit(0 if ok else 1)
PY
echo "ok: a locked database means no request sent and a clear reply; after the lock, one request"

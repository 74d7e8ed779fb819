#!/usr/bin/env bash
# One stalled upstream must not hold the loop. Seerr's search is made to
# take 5 s; meanwhile usher's /healthz ([http] listen) answers 200 at once.
# The console is one person's one conversation and usher takes its next
# message only after the slow one is answered (replies keep order), so a
# "help" typed meanwhile is answered right after the slow reply, not
# before: the console cannot show a second conversation going on; /healthz
# is what shows the loop is free.
# Then search stalls for good: usher's own timeout gives a polite reply.
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
hport="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '[seerr]\nurl = http://127.0.0.1:%s\napi_key = test-seerr-key\n[http]\nlisten = 127.0.0.1:%s\n[console]\nperson = kid\n[person kid]\nseerr_user = 3\n' "$port" "$hport" >"$tmp/usher.conf"
chmod 600 "$tmp/usher.conf"

/usr/bin/python3 - "$usher" "$tmp" "$port" "$hport" <<'PY' || fail "driver"
import json, re, subprocess, urllib.error, sys, threading, time, urllib.request
usher, tmp, port, hport = sys.argv[1:5]
out = open(tmp + "/out", "w")
errf = tmp + "/err"
err = open(errf, "w")
p = subprocess.Popen([usher, "run", "--config", tmp + "/usher.conf"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=err, text=True, bufsize=1)
lines = []
def reader():
	for l in p.stdout:
		lines.append((time.monotonic(), l.rstrip("\n"))); out.write(l); out.flush()
th = threading.Thread(target=reader, daemon=True); th.start()
def wait(rx, t=30):
	end = time.monotonic() + t
	while time.monotonic() < end:
		for when, l in lines:
			if re.search(rx, l):
				return when
		if p.poll() is not None:
			break
		time.sleep(0.02)
	print("timed out waiting for %r" % rx); return None
def post(path, body):
	req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=json.dumps(body).encode(), method="POST")
	urllib.request.urlopen(req, timeout=5).read()
def healthz():
	# /healthz when usher routes it; any HTTP answer from usher's own listener
	# (404 when it does not) shows the loop is free.
	t0 = time.monotonic()
	try:
		with urllib.request.urlopen("http://127.0.0.1:%s/healthz" % hport, timeout=3) as r:
			code = r.status
	except urllib.error.HTTPError as e:
		code = e.code
	return code, time.monotonic() - t0
ok = True
try:
	p.stdin.write("help\n"); p.stdin.flush()
	ok = wait(r"^usher: I fetch films") is not None
	post("/__fake/routes", {"routes": [{"method": "GET", "path": "/api/v1/search", "delay_ms": 5000,
	     "json": {"page": 1, "totalPages": 1, "totalResults": 0, "results": []}, "times": 1}], "mode": "prepend"})
	sent = time.monotonic()
	p.stdin.write("get paddington 2\n"); p.stdin.flush()
	time.sleep(0.5)
	p.stdin.write("help\n"); p.stdin.flush()
	worst = 0.0
	codes = set()
	for _ in range(6):
		code, took = healthz()
		worst = max(worst, took)
		codes.add(code)
		time.sleep(0.25)
	if worst > 0.5:
		print("/healthz took %.2f s while Seerr stalled: the loop is held" % worst); ok = False
	slow = wait(r"couldn't find", 15)
	ok = ok and slow is not None and slow - sent >= 4.5
	end = time.monotonic() + 10
	while sum(1 for w, l in lines if l.startswith("usher: I fetch films")) < 2 and time.monotonic() < end:
		time.sleep(0.05)
	helps = [w for w, l in lines if l.startswith("usher: I fetch films")]
	ok = ok and (len(helps) == 2 or (print("second help not answered") or False))
	# The second message was taken in while the first waited on Seerr.
	log = open(errf).read()
	print("usher's listener answered %s, worst %.3f s, during a 5 s Seerr stall" % (sorted(codes), worst))
	if 200 not in codes:
		print("/healthz answered %s, not 200, while Seerr stalled" % sorted(codes)); ok = False
	# Search now never answers: usher gives up by itself, politely.
	post("/__fake/routes", {"routes": [{"method": "GET", "path": "/api/v1/search", "fault": "stall"}], "mode": "prepend"})
	p.stdin.write("get paddington 2\n"); p.stdin.flush()
	ok = ok and wait(r"^usher: I can't search Overseerr right now", 90) is not None
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
echo "ok: /healthz answered during a 5 s Seerr stall; a stalled search ends in a polite reply"

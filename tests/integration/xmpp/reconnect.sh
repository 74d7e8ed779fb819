#!/usr/bin/env bash
# prosody dies mid-conversation (SIGKILL: no goodbye) while usher is still
# working on alice's request; it comes back on the same port a few seconds
# later. usher reconnects with backoff, rejoins its room, delivers the reply
# it produced while the link was down, and answers again.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"
start_fake_seerr
# The search answers after 5 s: usher's reply is made while prosody is down.
slow_search 5000 1

setup_prosody
start_prosody
write_usher_conf <<CONF
seerr_user = 1
[seerr]
url = $seerr
api_key = test-seerr-key
CONF
# See the file: a known leak inside libstrophe 0.12.2 when resumption fails.
export LSAN_OPTIONS="suppressions=$repo/tests/fakes/xmpp_lsan.supp:print_suppressions=0"
start_usher
wait_log 'xmpp: joined family@rooms.localhost as usher'

person "before the restart" <<'PY'
import os
from xmpp_person import Person
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
alice.send("usher@localhost", "help")
alice.expect(lambda m: m["body"].startswith("I fetch films"), what="help reply")
alice.send("usher@localhost", "can you get zyzzyvaqx the film")
alice.close()
print("ok: answered before the restart; a slow request is under way")
PY
for _ in $(seq 1 100); do
	curl -sf "$seerr/__fake/requests" | grep -q '/api/v1/search' && break
	sleep 0.1
done
curl -sf "$seerr/__fake/requests" | grep -q '/api/v1/search' || fail "usher never searched"
kill_prosody
wait_log 'event=connection_lost network=xmpp' 10
sleep 7 # the reply is made while prosody is down
wait_log 'xmpp: next connection attempt in' 5
[ "$(count_log 'next connection attempt in')" -ge 2 ] || fail "no backoff: $(count_log 'next connection attempt in') attempts"
echo "ok: usher noticed the loss and retries with backoff"
start_prosody
t0=$(date +%s)
for _ in $(seq 1 300); do [ "$(count_log 'xmpp: joined family@rooms.localhost')" -ge 2 ] && break; sleep 0.1; done
[ "$(count_log 'xmpp: joined family@rooms.localhost')" -ge 2 ] || fail "usher did not come back within 30 s"
echo "ok: reconnected and rejoined the room $(( $(date +%s) - t0 )) s after prosody returned"

person "after the restart" <<'PY'
import os
from xmpp_person import Person
USHER, ROOM = "usher@localhost", "family@rooms.localhost"
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
m = alice.expect(lambda m: m["from"].startswith(USHER) and "zyzzyvaqx" in m["body"], timeout=20,
                 what="reply made while prosody was down")
assert m["body"].startswith("I couldn't find"), m["body"]
print("ok: the reply made while the link was down was delivered")
alice.send(USHER, "help")
alice.expect(lambda m: m["from"].startswith(USHER) and m["body"].startswith("I fetch films"),
             what="help reply after the restart")
alice.join(ROOM, "alice")
alice.send(ROOM, "usher: help", mtype="groupchat")
alice.expect(lambda m: m["from"] == ROOM + "/usher" and m["body"].startswith("alice: I fetch"),
             what="room reply after the restart")
print("ok: 1:1 and room answered after the restart")
alice.close()
PY
# A dropped TCP connection to a prosody that lives on: XEP-0198 resumes the
# session (prosody keeps it for 60 s), and the room still hears usher.
if ss -K dst 127.0.0.1 dport = 1 >/dev/null 2>&1; then
	resumed_before="$(count_log 'event=connected network=xmpp')"
	USHER_PID="$usher_pid" person "resume" <<'PY'
import os, re, subprocess, time
from xmpp_person import Person
USHER, ROOM, port = "usher@localhost", "family@rooms.localhost", os.environ["PORT"]
alice = Person("alice@localhost", "alice-pw", int(port))
alice.join(ROOM, "alice")
out = subprocess.run(["ss", "-tnpH", "state", "established", "dport", "=", ":" + port],
                     capture_output=True, text=True, timeout=10).stdout
mine = [l for l in out.splitlines() if "pid=%s," % os.environ["USHER_PID"] in l]
assert len(mine) == 1, out
lport = re.split(r"\s+", mine[0].strip())[2].rsplit(":", 1)[1]
subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", ":" + port, "sport", "=", ":" + lport],
               capture_output=True, timeout=10)
time.sleep(0.5)
alice.send(ROOM, "usher: help", mtype="groupchat")
m = alice.expect(lambda m: m["from"] == ROOM + "/usher" and m["body"].startswith("alice: I fetch"),
                 timeout=20, what="room reply after the dropped connection")
alice.send(USHER, "help")
alice.expect(lambda m: m["from"].startswith(USHER) and m["body"].startswith("I fetch films"),
             what="1:1 reply after the dropped connection")
alice.close()
PY
	[ "$(count_log 'event=connected network=xmpp')" -gt "$resumed_before" ] || fail "usher never saw the drop"
	echo "ok: after a dropped connection usher is back and still in the room"
else
	echo "note: ss -K is not available here; the dropped-connection case was not run"
fi
stop_usher_checked
no_password_leak

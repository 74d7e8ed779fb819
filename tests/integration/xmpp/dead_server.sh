#!/usr/bin/env bash
# A server that stops answering without closing anything (SIGSTOP): after
# `ping_s` seconds of silence usher pings it (XEP-0199), gets no answer,
# calls the link dead and drops it, then reconnects with backoff once the
# server is back (SIGCONT). A message alice sent while the server was frozen
# is answered, and the room still hears usher.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"

setup_prosody
start_prosody
write_usher_conf </dev/null
export USHER_XMPP_PING_S=2
# See the file: a known leak inside libstrophe 0.12.2 when resumption fails.
export LSAN_OPTIONS="suppressions=$repo/tests/fakes/xmpp_lsan.supp:print_suppressions=0"
start_usher
wait_log 'xmpp: joined family@rooms.localhost as usher'

PROSODY_PID="$prosody_pid" USHER_ERR="$tmp/usher.err" person "frozen server" <<'PY'
import os, signal, time
from xmpp_person import Person
USHER, ROOM = "usher@localhost", "family@rooms.localhost"
prosody = int(os.environ["PROSODY_PID"])
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
alice.send(USHER, "help")
alice.expect(lambda m: m["from"].startswith(USHER) and m["body"].startswith("I fetch"),
             what="help reply")
time.sleep(3)  # a few quiet seconds: usher's pings are answered, nothing is dropped
with open(os.environ["USHER_ERR"]) as f:
    assert "link is dead" not in f.read(), "usher dropped a live link"
print("ok: pings on a quiet live link change nothing")

os.kill(prosody, signal.SIGSTOP)
t0 = time.monotonic()
try:
    alice.send(USHER, "what can you do?")  # waits in prosody's socket
    deadline = t0 + 20
    while time.monotonic() < deadline:
        with open(os.environ["USHER_ERR"]) as f:
            if "the link is dead; dropping the connection" in f.read():
                break
        time.sleep(0.1)
    else:
        raise AssertionError("usher never called the frozen server's link dead")
    print("ok: the dead link was noticed %.1f s after the freeze" % (time.monotonic() - t0))
    time.sleep(1)
finally:
    os.kill(prosody, signal.SIGCONT)
m = alice.expect(lambda m: m["from"].startswith(USHER) and m["body"].startswith("I fetch"),
                 timeout=30, what="answer to the message sent while the server was frozen")
print("ok: the message sent meanwhile was answered %.1f s after the thaw" % (time.monotonic() - t0))
alice.join(ROOM, "alice")
alice.send(ROOM, "usher: help", mtype="groupchat")
alice.expect(lambda m: m["from"] == ROOM + "/usher" and m["body"].startswith("alice: I fetch"),
             timeout=20, what="room reply after the thaw")
print("ok: the room hears usher again")
alice.close()
PY
[ "$(count_log 'event=connection_lost network=xmpp')" -ge 1 ] || fail "no 'connection lost' in the log"
[ "$(count_log 'event=connected network=xmpp')" -ge 2 ] || fail "usher never reconnected"
echo "ok: usher dropped the dead link and reconnected"
stop_usher_checked
no_password_leak

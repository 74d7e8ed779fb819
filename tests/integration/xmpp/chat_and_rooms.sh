#!/usr/bin/env bash
# usher on a real prosody: alice asks for help 1:1 and gets it, a stranger
# is refused politely, alice's subscription is accepted; in a group room usher
# stays quiet until addressed, then answers alice by name as a XEP-0461 reply.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"

setup_prosody
start_prosody
write_usher_conf </dev/null
start_usher
wait_log 'xmpp: joined family@rooms.localhost as usher'

person "1:1 and rooms" <<'PY'
import os
from xmpp_person import Person
port = int(os.environ["PORT"])
USHER, ROOM = "usher@localhost", "family@rooms.localhost"

alice = Person("alice@localhost", "alice-pw", port)
alice.send(USHER, "help")
m = alice.expect(lambda m: m["from"].startswith(USHER), what="help reply")
assert m["type"] == "chat", m
assert m["body"].startswith("I fetch films and shows for the family."), m["body"]
print("ok: 1:1 help answered")

alice.subscribe(USHER)
alice.wait_presence(USHER, "subscribe")
alice.wait_presence(USHER, "available")  # usher's presence: the subscription holds
print("ok: alice's subscription accepted and returned")

stranger = Person("stranger@localhost", "stranger-pw", port)
stranger.subscribe(USHER)
stranger.send(USHER, "get me dune")
m = stranger.expect(lambda m: m["from"].startswith(USHER), what="refusal")
assert m["body"].startswith("Sorry, I only take requests from the family members I know"), m
try:
    stranger.wait_presence(USHER, "available", timeout=2)
    raise SystemExit("a stranger's subscription was accepted")
except AssertionError:
    pass
print("ok: stranger refused politely, subscription ignored")
stranger.close()

alice.join(ROOM, "alice")
from_usher = lambda m: m["from"] == ROOM + "/usher"
alice.send(ROOM, "has anyone seen the remote?", mtype="groupchat")
alice.send(ROOM, "help", mtype="groupchat")
alice.quiet(from_usher, 3, "answer to an unaddressed message")
print("ok: unaddressed room messages get no answer")

mid = alice.send(ROOM, "usher: help", mtype="groupchat")
m = alice.expect(from_usher, what="room reply")
assert m["type"] == "groupchat", m
assert m["body"].startswith("alice: I fetch films and shows"), m["body"]
assert m["reply_id"] == mid, m
assert m["reply_to"] == ROOM + "/alice", m
print("ok: addressed room message answered to alice as a reply")

mid = alice.send(ROOM, "what can you do, Usher?", mtype="groupchat")
m = alice.expect(from_usher, what="answer to a mention")
assert m["body"].startswith("alice: "), m["body"]
print("ok: a mention anywhere addresses usher")
alice.close()
PY

# History: alice addresses usher while it is away; when it rejoins, it must
# not answer what the room replays.
stop_pid "$usher_pid"; usher_pid=""
person "history" <<'PY'
import os
from xmpp_person import Person
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
alice.join("family@rooms.localhost", "alice")
alice.send("family@rooms.localhost", "usher: help", mtype="groupchat")
alice.expect(lambda m: m["from"] == "family@rooms.localhost/alice", what="own echo")
alice.close()
PY
before="$(count_log 'intent=help')"
start_usher
# The first run's line is in the log too: wait for the second one.
for _ in $(seq 1 300); do
	[ "$(count_log 'xmpp: joined family@rooms.localhost as usher')" -ge 2 ] && break
	kill -0 "$usher_pid" 2>/dev/null || fail "usher exited before rejoining"
	sleep 0.1
done
[ "$(count_log 'xmpp: joined family@rooms.localhost as usher')" -ge 2 ] || fail "usher did not rejoin"
sleep 2
after="$(count_log 'intent=help')"
[ "$before" = "$after" ] || fail "usher answered room history after rejoining ($before -> $after)"
echo "ok: history replayed on join is not answered"
stop_usher_checked
no_password_leak
echo "ok: the password never reached usher's output"

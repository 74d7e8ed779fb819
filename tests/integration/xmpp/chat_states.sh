#!/usr/bin/env bash
# XEP-0085 chat states: while usher waits on a slow Seerr it shows
# <composing/>, and its answer carries <active/> (no composing after it), in
# a 1:1 chat and in a group room (type groupchat). A quick answer shows no
# composing at all.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"
start_fake_seerr
# Every search answers after 2 s: long enough for usher to say it is typing.
slow_search 2000 2

setup_prosody
start_prosody
write_usher_conf <<CONF
seerr_user = 1
[seerr]
url = $seerr
api_key = test-seerr-key
CONF
start_usher
wait_log 'xmpp: joined family@rooms.localhost as usher'

person "chat states" <<'PY'
import os
from xmpp_person import Person
USHER, ROOM = "usher@localhost", "family@rooms.localhost"
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))

alice.send(USHER, "help")
alice.expect(lambda m: m["from"].startswith(USHER) and m["body"].startswith("I fetch"),
             what="help reply")
alice.quiet_state(lambda s: s["state"] == "composing", 1, "composing for a quick answer")
print("ok: a quick answer shows no composing")

alice.send(USHER, "can you get zyzzyvaqx the film")
c = alice.expect_state(lambda s: s["from"].startswith(USHER), what="composing from usher")
assert c["state"] == "composing" and not c["body"] and c["type"] == "chat", c
m = alice.expect(lambda m: m["from"].startswith(USHER) and "zyzzyvaqx" in m["body"], timeout=20,
                 what="the slow answer")
assert m["state"] == "active", m
assert c["t"] < m["t"], (c, m)
alice.quiet_state(lambda s: s["state"] == "composing", 2, "composing after the answer")
print("ok: 1:1: composing while Seerr is slow, active with the answer")

alice.join(ROOM, "alice")
from_usher = lambda x: x["from"] == ROOM + "/usher"
alice.send(ROOM, "usher: can you get zyzzyvaqx the film", mtype="groupchat")
c = alice.expect_state(lambda s: from_usher(s) and s["state"] == "composing",
                       what="composing in the room")
assert c["type"] == "groupchat" and not c["body"], c
m = alice.expect(lambda m: from_usher(m) and "zyzzyvaqx" in m["body"], timeout=20,
                 what="the slow answer in the room")
assert m["state"] == "active", m
assert c["t"] < m["t"], (c, m)
alice.quiet_state(lambda s: from_usher(s) and s["state"] == "composing", 2,
                  "composing in the room after the answer")
print("ok: room: composing while Seerr is slow, active with the answer")
alice.close()
PY
stop_usher_checked
no_password_leak

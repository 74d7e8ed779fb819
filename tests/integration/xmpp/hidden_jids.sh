#!/usr/bin/env bash
# A semi-anonymous room (whois = moderators, usher not a moderator) hides
# occupants' real JIDs from usher: alice is known there by her
# `xmpp_nick`, answered as herself, while an occupant whose nick nobody
# configured is refused politely. In the room usher created itself (it is
# the owner, so it sees JIDs) alice is still known by her JID whatever her
# nick.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"

setup_prosody
start_prosody
# alice owns the hidden room before usher comes: usher joins as a plain
# participant and never sees real JIDs there.
person "room setup" <<'PY'
import os
from xmpp_person import Person
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
alice.join("hidden@rooms.localhost", "alice")
alice.configure_room("hidden@rooms.localhost", {"muc#roomconfig_whois": "moderators",
                                                "muc#roomconfig_persistentroom": "1"})
alice.close()
print("ok: a persistent semi-anonymous room owned by alice")
PY
export USHER_TEST_ROOMS="family@rooms.localhost, hidden@rooms.localhost"
write_usher_conf <<'CONF'
xmpp_nick = Ally, mum
CONF
start_usher
wait_log 'xmpp: joined hidden@rooms.localhost as usher'
wait_log 'xmpp: joined family@rooms.localhost as usher'

person "hidden JIDs" <<'PY'
import os
from xmpp_person import Person
port = int(os.environ["PORT"])
HIDDEN, FAMILY = "hidden@rooms.localhost", "family@rooms.localhost"

alice = Person("alice@localhost", "alice-pw", port)
alice.join(HIDDEN, "Ally")
alice.send(HIDDEN, "usher: help", mtype="groupchat")
m = alice.expect(lambda m: m["from"] == HIDDEN + "/usher", what="answer by nick")
assert m["body"].startswith("Ally: I fetch films and shows"), m["body"]
print("ok: alice known by her nick where the room hides her JID")

stranger = Person("stranger@localhost", "stranger-pw", port)
stranger.join(HIDDEN, "bob")
stranger.send(HIDDEN, "usher: get me dune", mtype="groupchat")
m = stranger.expect(lambda m: m["from"] == HIDDEN + "/usher" and "bob" in m["body"],
                    what="refusal of an unknown nick")
assert "Sorry, I only take requests from the family members I know" in m["body"], m["body"]
print("ok: an unknown nick is refused politely")

# Where usher sees real JIDs, a configured nick proves nothing: the stranger
# calling himself Ally in the family room is still a stranger.
stranger.join(FAMILY, "Ally")
stranger.send(FAMILY, "usher: help", mtype="groupchat")
m = stranger.expect(lambda m: m["from"] == FAMILY + "/usher", what="refusal of a borrowed nick")
assert "Sorry, I only take requests" in m["body"], m["body"]
alice.join(FAMILY, "someone")
alice.send(FAMILY, "usher: help", mtype="groupchat")
m = alice.expect(lambda m: m["from"] == FAMILY + "/usher" and m["body"].startswith("someone:"),
                 what="answer by JID")
assert "I fetch films and shows" in m["body"], m["body"]
print("ok: where the room shows JIDs, JIDs decide, not nicks")
stranger.close()
alice.close()
PY
grep -q 'xmpp: hidden@rooms.localhost hides real JIDs; Ally is taken as alice@localhost by nick' \
	"$tmp/usher.err" || fail "usher did not say it went by nick"
grep -q 'family@rooms.localhost hides real JIDs' "$tmp/usher.err" &&
	fail "usher went by nick in a room that shows JIDs"
echo "ok: the nick mapping was logged for the hidden room only"
stop_usher_checked
no_password_leak

#!/usr/bin/env bash
# A request's progress message is corrected in place over XMPP: the first
# progress line is a new message, and the change to "searching" arrives as a
# XEP-0308 correction whose <replace id> names that first message.
usher="$1"; repo="$2"
. "$repo/tests/fakes/xmpp_testenv.sh"
start_fake_seerr

setup_prosody
start_prosody
# alice is Seerr's user 3, whose requests wait for an admin.
write_usher_conf <<CONF
seerr_user = 3
[seerr]
url = $seerr
api_key = test-seerr-key
[progress]
interval_s = 1
edit_every_s = 0
CONF
start_usher
wait_log 'event=connected network=xmpp as=usher@localhost'

SEERR="$seerr" person "progress edit" <<'PY'
import json, os, urllib.request
from xmpp_person import Person
USHER = "usher@localhost"
alice = Person("alice@localhost", "alice-pw", int(os.environ["PORT"]))
alice.send(USHER, "can you get paddington 2 please")
from_usher = lambda m: m["from"].startswith(USHER)
first = alice.expect(lambda m: from_usher(m) and m["body"].startswith("Paddington 2 (2017): waiting"),
                     what="progress message")
assert first["replace"] is None, first
print("ok: progress message posted")

approved = {"routes": [{"method": "GET", "path": "/api/v1/request", "json": {
    "pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1},
    "results": [{"id": 1, "status": 2, "type": "movie", "is4k": False,
                 "media": {"tmdbId": 346648, "mediaType": "movie", "status": 3},
                 "requestedBy": {"id": 3, "displayName": "Kid"}}]}}]}
req = urllib.request.Request(os.environ["SEERR"] + "/__fake/routes", data=json.dumps(approved).encode(),
                             method="POST", headers={"Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=5).read()
edit = alice.expect(lambda m: from_usher(m) and "searching" in m["body"], timeout=20,
                    what="corrected progress message")
assert edit["replace"] == first["id"], (edit, first["id"])
assert edit["id"] != first["id"], edit
assert "<replace xmlns=\"urn:xmpp:message-correct:0\"" in edit["xml"] or "message-correct:0" in edit["xml"], edit["xml"]
print("ok: the edit is a XEP-0308 correction of the first message (%s)" % first["id"])
alice.close()
PY
stop_usher_checked
no_password_leak

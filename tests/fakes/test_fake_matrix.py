#!/usr/bin/python3
"""The fake homeserver must refuse what a real one refuses, or a broken client would pass.
Run: /usr/bin/python3 tests/fakes/test_fake_matrix.py"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fake_matrix import FakeMatrix  # noqa: E402

P = "/_matrix/client/v3"
ALICE = "@alice:localhost"


class FakeMatrixTest(unittest.TestCase):
	def setUp(self):
		self.fake = FakeMatrix(user="@usher:localhost", token="tok", password="pw").start()

	def tearDown(self):
		self.fake.stop()

	def call(self, method, path, body=None, token="tok", timeout=10):
		data = json.dumps(body).encode() if body is not None else None
		req = urllib.request.Request(self.fake.url + path, data=data, method=method)
		if token is not None:
			req.add_header("Authorization", "Bearer " + token)
		if data is not None:
			req.add_header("Content-Type", "application/json")
		try:
			with urllib.request.urlopen(req, timeout=timeout) as r:
				return r.status, json.loads(r.read() or b"{}")
		except urllib.error.HTTPError as e:
			return e.code, json.loads(e.read() or b"{}")

	def send(self, room, txn, content):
		return self.call("PUT", "%s/rooms/%s/send/m.room.message/%s" %
		                 (P, urllib.parse.quote(room, safe=""), txn), content)

	def test_tokens(self):
		self.assertEqual(self.call("GET", P + "/sync", token=None),
		                 (401, {"errcode": "M_MISSING_TOKEN", "error": "Missing access token"}))
		st, body = self.call("GET", P + "/sync", token="wrong")
		self.assertEqual((st, body["errcode"]), (401, "M_UNKNOWN_TOKEN"))

	def test_login(self):
		st, _ = self.call("POST", P + "/login", {"type": "m.login.password", "identifier": {
		    "type": "m.id.user", "user": "usher"}, "password": "bad"}, token=None)
		self.assertEqual(st, 403)
		st, body = self.call("POST", P + "/login", {"type": "m.login.password", "identifier": {
		    "type": "m.id.user", "user": "@usher:localhost"}, "password": "pw",
		    "device_id": "D1"}, token=None)
		self.assertEqual((st, body["user_id"], body["device_id"]), (200, "@usher:localhost", "D1"))
		self.assertEqual(self.call("GET", P + "/sync", token=body["access_token"])[0], 200)

	def test_sync_positions_and_long_poll(self):
		room = self.fake.room("!a:localhost", [ALICE])
		self.fake.message(room, ALICE, "old")
		st, first = self.call("GET", P + "/sync")
		self.assertEqual(st, 200)
		self.assertIn(room, first["rooms"]["join"])
		since = first["next_batch"]
		threading.Timer(0.3, lambda: self.fake.message(room, ALICE, "new")).start()
		t0 = time.monotonic()
		st, b = self.call("GET", P + "/sync?timeout=5000&since=" + since)
		took = time.monotonic() - t0
		self.assertLess(took, 3, "the long-poll did not return early")
		evs = b["rooms"]["join"][room]["timeline"]["events"]
		self.assertEqual([e["content"]["body"] for e in evs], ["new"])
		t0 = time.monotonic()
		st, b2 = self.call("GET", P + "/sync?timeout=400&since=" + b["next_batch"])
		self.assertGreaterEqual(time.monotonic() - t0, 0.35)
		self.assertEqual(b2["rooms"]["join"], {})

	def test_filter_types(self):
		room = self.fake.room("!a:localhost", [ALICE])
		since = self.call("GET", P + "/sync")[1]["next_batch"]
		self.fake.encrypted(room, ALICE)
		self.fake.message(room, ALICE, "hi")
		flt = urllib.parse.quote(json.dumps({"room": {"timeline": {"types": ["m.room.message"]}}}))
		b = self.call("GET", P + "/sync?filter=%s&since=%s" % (flt, since))[1]
		types = [e["type"] for e in b["rooms"]["join"][room]["timeline"]["events"]]
		self.assertEqual(types, ["m.room.message"])

	def test_txn_idempotent(self):
		room = self.fake.room("!a:localhost", [ALICE])
		st, a = self.send(room, "t1", {"msgtype": "m.text", "body": "x"})
		self.assertEqual(st, 200)
		self.assertEqual(self.send(room, "t1", {"msgtype": "m.text", "body": "x"}), (200, a))
		st, body = self.send(room, "t1", {"msgtype": "m.text", "body": "other"})
		self.assertEqual((st, body["errcode"]), (400, "M_INVALID_PARAM"))
		self.assertEqual(len(self.fake.sent), 1)
		st, b = self.send(room, "t2", {"msgtype": "m.text", "body": "x"})
		self.assertNotEqual(b["event_id"], a["event_id"])
		# Transactions belong to one access token: another token's t1 is a new event.
		self.fake.tokens.add("tok2")
		st, c = self.call("PUT", "%s/rooms/%s/send/m.room.message/t1" %
		                  (P, urllib.parse.quote(room, safe="")), {"body": "other"}, token="tok2")
		self.assertEqual(st, 200)
		self.assertNotIn(c["event_id"], (a["event_id"], b["event_id"]))

	def test_typing(self):
		room = urllib.parse.quote(self.fake.room("!a:localhost", [ALICE]), safe="")
		me = urllib.parse.quote("@usher:localhost", safe="")
		path = "%s/rooms/%s/typing/%s" % (P, room, me)
		self.assertEqual(self.call("PUT", path, {"typing": True, "timeout": 30000}), (200, {}))
		self.assertEqual(self.call("PUT", path, {"typing": False}), (200, {}))
		self.assertEqual(self.call("PUT", path, {"typing": True})[0], 400)
		self.assertEqual(self.call("PUT", path, {"typing": "yes"})[0], 400)
		self.assertEqual(self.call("PUT", "%s/rooms/%s/typing/%s" % (
		    P, room, urllib.parse.quote(ALICE)), {"typing": False})[0], 403)
		other = urllib.parse.quote(self.fake.room("!b:localhost", [ALICE], usher=False), safe="")
		self.assertEqual(self.call("PUT", "%s/rooms/%s/typing/%s" % (P, other, me),
		                           {"typing": False})[0], 403)
		self.assertEqual([(t["typing"], t["timeout"]) for t in self.fake.state()["typing"]],
		                 [(True, 30000), (False, None)])

	def test_receipts(self):
		rid = self.fake.room("!a:localhost", [ALICE])
		ev = self.fake.message(rid, ALICE, "hi")
		room, q = urllib.parse.quote(rid, safe=""), urllib.parse.quote(ev, safe="")
		self.assertEqual(self.call("POST", "%s/rooms/%s/receipt/m.read/%s" % (P, room, q), {}),
		                 (200, {}))
		self.assertEqual(self.call("POST", "%s/rooms/%s/receipt/m.seen/%s" % (P, room, q),
		                           {})[0], 400)
		self.assertEqual(self.call("POST", "%s/rooms/%s/receipt/m.read/%s" % (
		    P, room, urllib.parse.quote("$nope", safe="")), {})[0], 404)
		self.assertEqual(self.fake.state()["receipts"][0]["event_id"], ev)
		self.assertEqual(len(self.fake.state()["receipts"]), 1)

	def test_create_room_and_direct(self):
		since = self.call("GET", P + "/sync")[1]["next_batch"]
		st, b = self.call("POST", P + "/createRoom", {"is_direct": True, "invite": [ALICE],
		                                             "preset": "trusted_private_chat"})
		self.assertEqual(st, 200)
		rid = b["room_id"]
		self.assertEqual(self.fake.state()["rooms"][rid]["members"],
		                 {"@usher:localhost": "join", ALICE: "invite"})
		self.assertEqual(self.send(rid, "t1", {"body": "hello"})[0], 200)
		sync = self.call("GET", P + "/sync?since=" + since)[1]
		evs = sync["rooms"]["join"][rid]["timeline"]["events"]
		inv = [e for e in evs if e["type"] == "m.room.member" and e["state_key"] == ALICE]
		self.assertEqual(inv[0]["content"], {"membership": "invite", "is_direct": True})
		self.assertEqual(self.call("POST", P + "/createRoom", {"invite": "x"})[0], 400)
		me = urllib.parse.quote("@usher:localhost", safe="")
		self.assertEqual(self.call("PUT", "%s/user/%s/account_data/m.direct" % (P, me),
		                           {ALICE: [rid]}), (200, {}))
		self.assertEqual(self.fake.direct, {ALICE: [rid]})
		self.assertEqual(self.call("PUT", "%s/user/%s/account_data/m.direct" % (
		    P, urllib.parse.quote(ALICE)), {})[0], 403)

	def test_send_needs_membership_and_429(self):
		room = self.fake.room("!b:localhost", [ALICE], usher=False)
		self.assertEqual(self.send(room, "t1", {"body": "x"})[0], 403)
		room = self.fake.room("!c:localhost", [ALICE])
		self.fake.faults.update(send_429=1, retry_after_ms=1234)
		st, body = self.send(room, "t1", {"body": "x"})
		self.assertEqual((st, body["errcode"], body["retry_after_ms"]),
		                 (429, "M_LIMIT_EXCEEDED", 1234))
		self.assertEqual(self.send(room, "t1", {"body": "x"})[0], 200)

	def test_invite_join_leave(self):
		since = self.call("GET", P + "/sync")[1]["next_batch"]
		room = self.fake.invite("!i:localhost", ALICE, is_direct=True)
		b = self.call("GET", P + "/sync?since=" + since)[1]
		ev = b["rooms"]["invite"][room]["invite_state"]["events"][0]
		self.assertEqual((ev["sender"], ev["content"]["membership"]), (ALICE, "invite"))
		self.assertEqual(self.call("POST", P + "/join/" + urllib.parse.quote(room, safe=""),
		                           {}), (200, {"room_id": room}))
		self.assertEqual(self.fake.state()["rooms"][room]["members"]["@usher:localhost"], "join")
		self.assertEqual(self.call("POST", P + "/rooms/%s/leave" % urllib.parse.quote(room),
		                           {})[0], 200)
		self.assertNotIn("@usher:localhost", self.fake.state()["rooms"][room]["members"])


class CommandLineTest(unittest.TestCase):
	def test_control_api(self):
		p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_matrix.py"), "--port", "0",
		                      "--token", "t0"], stdout=subprocess.PIPE, text=True)
		try:
			line = p.stdout.readline()
			self.assertTrue(line.startswith("LISTENING "), line)
			url = "http://127.0.0.1:%s" % line.split()[1]

			def post(path, body):
				req = urllib.request.Request(url + path, data=json.dumps(body).encode(),
				                             method="POST")
				with urllib.request.urlopen(req, timeout=5) as r:
					return json.loads(r.read())
			rid = post("/__fake/matrix/room", {"members": [ALICE]})["room_id"]
			ev = post("/__fake/matrix/message", {"room_id": rid, "sender": ALICE, "body": "hi"})
			self.assertTrue(ev["event_id"].startswith("$"))
			with urllib.request.urlopen(url + "/__fake/matrix/state", timeout=5) as r:
				st = json.loads(r.read())
			self.assertEqual(st["rooms"][rid]["members"][ALICE], "join")
		finally:
			p.terminate()
			p.wait(10)
			p.stdout.close()


if __name__ == "__main__":
	unittest.main()

#!/usr/bin/python3
"""A fake Matrix homeserver (client-server API v3) for tests, standard library only.

Follows the request and response shapes of the spec (see shared/specs/NOTES.md section 7) for what
usher uses: POST /login (m.login.password), GET /sync (since/next_batch, timeout long-poll that
returns early when something happens, an inline JSON filter whose room.timeline.types and
account_data.types are applied), POST /join/{room}, POST /rooms/{room}/join and /leave,
PUT /rooms/{room}/send/{type}/{txnId} (txnIds are kept per access token: the same txnId returns
the same event_id; the same txnId with other content is refused), PUT /rooms/{room}/typing/{user}
({"typing": true, "timeout": ms} | {"typing": false}; only for the token's own user, in a room it
is in), POST /rooms/{room}/receipt/{m.read|m.read.private|m.fully_read}/{eventId} (of an event in
that room), POST /createRoom ({"is_direct", "invite": [...], "preset"}: usher joins, the invitees
are invited, the invite carries is_direct), PUT /user/{user}/account_data/{type} (m.direct is
usher's m.direct from then on).
Every client call needs `Authorization: Bearer TOKEN` (401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN).

Command line: the same as fakehttp.py, plus --user (default @usher:localhost), --token
(default usher-token), --password (default usher-password).

Control API (never recorded), all JSON:
  POST /__fake/matrix/room      {"room_id"?, "members": ["@a:hs"], "usher": true, "encrypted": false}
  POST /__fake/matrix/invite    {"room_id"?, "sender": "@a:hs", "is_direct": false}
  POST /__fake/matrix/message   {"room_id", "sender", "body", "mentions"?: [...], "reply_to"?,
                                 "formatted_body"?, "msgtype"?: "m.text"}  -> {"event_id"}
  POST /__fake/matrix/encrypted {"room_id", "sender"}                      -> {"event_id"}
  POST /__fake/matrix/direct    {"content": {"@a:hs": ["!room:hs"]}}   (usher's m.direct)
  POST /__fake/matrix/join      {"room_id", "user"}   (someone joins, e.g. a DM usher opened)
  POST /__fake/matrix/faults    {"send_429": N, "retry_after_ms": 500, "send_slow": N,
                                 "slow_ms": 3000, "sync_500": N}
  GET  /__fake/matrix/sent      events usher sent: [{"room_id", "event_id", "txn", "content"}]
  GET  /__fake/matrix/state     {"rooms": {id: {"members": {...}, "encrypted"}}, "joins": [...],
                                 "leaves": [...], "logins": N, "syncs": [since, ...],
                                 "send_attempts": [{"room_id", "txn", "time"}], "position": N,
                                 "typing": [{"room_id", "user", "typing", "timeout", "time"}],
                                 "receipts": [{"room_id", "type", "event_id", "time"}],
                                 "created": [{"room_id", "request"}],
                                 "account_data": [{"type", "content"}]}
As a module, FakeMatrix offers the same as methods (room, invite, message, ...).
"""

import json
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, __import__("os").path.dirname(__file__))
from fakehttp import FakeServer, Response, run_cli  # noqa: E402

P = "/_matrix/client/v3"


def err(status, code, msg, **extra):
	body = {"errcode": code, "error": msg}
	body.update(extra)
	return Response(status, json=body)


class FakeMatrix(FakeServer):
	def __init__(self, routes=None, user="@usher:localhost", token="usher-token",
	             password="usher-password", server_name="localhost", **kw):
		super().__init__(routes=routes, **kw)
		self.user = user
		self.password = password
		self.server_name = server_name
		self.tokens = {token} if token else set()
		self.cond = threading.Condition()
		self.stream = []          # (kind, room_id, payload): "event" | "invite" | "direct"
		self.rooms = {}           # id -> {"members": {uid: membership}, "names", "encrypted"}
		self.txns = {}            # (token, path) -> (content, event_id)
		self.sent = []
		self.send_attempts = []
		self.joins = []
		self.leaves = []
		self.logins = 0
		self.syncs = []
		self.typing = []
		self.receipts = []
		self.created = []
		self.account_data = []
		self.direct = None
		self.faults = {}
		self.seq = 0
		self._add_handlers()

	# State -------------------------------------------------------------------------------
	def _event_id(self):
		self.seq += 1
		return "$ev%d:%s" % (self.seq, self.server_name)

	def _push(self, kind, room_id, payload):
		with self.cond:
			self.stream.append((kind, room_id, payload))
			self.cond.notify_all()

	def _event(self, room_id, sender, etype, content, state_key=None):
		ev = {"type": etype, "sender": sender, "content": content, "event_id": self._event_id(),
		      "origin_server_ts": int(time.time() * 1000), "room_id": room_id}
		if state_key is not None:
			ev["state_key"] = state_key
		self._push("event", room_id, ev)
		return ev

	def _set_member(self, room_id, uid, membership, sender=None, extra=None):
		r = self.rooms[room_id]
		if membership in ("join", "invite"):
			r["members"][uid] = membership
		else:
			r["members"].pop(uid, None)
		content = {"membership": membership}
		name = uid[1:].split(":")[0].capitalize()
		if membership == "join":
			content["displayname"] = r["names"].get(uid, name)
		content.update(extra or {})
		return self._event(room_id, sender or uid, "m.room.member", content, state_key=uid)

	def room(self, room_id=None, members=(), usher=True, encrypted=False, names=None):
		with self.cond:
			room_id = room_id or "!r%d:%s" % (len(self.rooms) + 1, self.server_name)
			self.rooms.setdefault(room_id, {"members": {}, "names": {}, "encrypted": False})
			self.rooms[room_id]["names"].update(names or {})
		for m in members:
			self._set_member(room_id, m, "join")
		if usher:
			self._set_member(room_id, self.user, "join")
		if encrypted:
			self.rooms[room_id]["encrypted"] = True
			self._event(room_id, members[0] if members else self.user, "m.room.encryption",
			            {"algorithm": "m.megolm.v1.aes-sha2"}, state_key="")
		return room_id

	def invite(self, room_id=None, sender="@alice:localhost", is_direct=False):
		room_id = self.room(room_id, members=[sender], usher=False)
		self._set_member(room_id, self.user, "invite", sender=sender,
		                 extra={"is_direct": True} if is_direct else None)
		self._push("invite", room_id, {"sender": sender, "is_direct": is_direct})
		return room_id

	def message(self, room_id, sender, body, mentions=None, reply_to=None, formatted_body=None,
	            msgtype="m.text"):
		content = {"msgtype": msgtype, "body": body}
		if mentions is not None:
			content["m.mentions"] = {"user_ids": list(mentions)}
		if reply_to:
			content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
		if formatted_body is not None:
			content["format"] = "org.matrix.custom.html"
			content["formatted_body"] = formatted_body
		return self._event(room_id, sender, "m.room.message", content)["event_id"]

	def encrypted(self, room_id, sender):
		return self._event(room_id, sender, "m.room.encrypted",
		                   {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEn",
		                    "device_id": "DEV", "sender_key": "k", "session_id": "s"})["event_id"]

	def set_direct(self, content):
		self.direct = content
		self._push("direct", None, content)

	def position(self):
		with self.cond:
			return len(self.stream)

	def synced_to(self):
		"""The highest `since` usher has asked for: everything before it was handled."""
		with self.cond:
			best = -1
			for s in self.syncs:
				if s is not None and s.startswith("s"):
					best = max(best, int(s[1:]))
			return best

	def wait_synced(self, pos, timeout=10.0):
		end = time.monotonic() + timeout
		while time.monotonic() < end:
			if self.synced_to() >= pos:
				return True
			time.sleep(0.02)
		return False

	def sent_in(self, room_id):
		with self.cond:
			return [s for s in self.sent if s["room_id"] == room_id]

	def wait_sent(self, n, room_id=None, timeout=10.0):
		end = time.monotonic() + timeout
		while time.monotonic() < end:
			with self.cond:
				got = [s for s in self.sent if room_id is None or s["room_id"] == room_id]
			if len(got) >= n:
				return got
			time.sleep(0.02)
		return got

	def state(self):
		with self.cond:
			return {"rooms": {k: {"members": dict(v["members"]), "encrypted": v["encrypted"]}
			                  for k, v in self.rooms.items()},
			        "joins": list(self.joins), "leaves": list(self.leaves),
			        "logins": self.logins, "syncs": list(self.syncs),
			        "send_attempts": list(self.send_attempts), "position": len(self.stream),
			        "typing": list(self.typing), "receipts": list(self.receipts),
			        "created": list(self.created), "account_data": list(self.account_data)}

	def _fault(self, name):
		with self.cond:
			n = self.faults.get(name, 0)
			if n > 0:
				self.faults[name] = n - 1
				return True
			return False

	# Client API --------------------------------------------------------------------------
	def _auth(self, req):
		h = req.header("Authorization")
		if h is None:
			return err(401, "M_MISSING_TOKEN", "Missing access token")
		if not h.startswith("Bearer ") or h[7:] not in self.tokens:
			return err(401, "M_UNKNOWN_TOKEN", "Unrecognised access token", soft_logout=False)
		return None

	def _add_handlers(self):
		self.add_handler("POST", "^" + P + "/login$", self._login)
		self.add_handler("GET", "^" + P + "/sync$", self._sync)
		self.add_handler("POST", "^" + P + "/join/([^/]+)$", self._join)
		self.add_handler("POST", "^" + P + "/rooms/([^/]+)/join$", self._join)
		self.add_handler("POST", "^" + P + "/rooms/([^/]+)/leave$", self._leave)
		self.add_handler("PUT", "^" + P + "/rooms/([^/]+)/send/([^/]+)/([^/]+)$", self._send_ev)
		self.add_handler("PUT", "^" + P + "/rooms/([^/]+)/typing/([^/]+)$", self._typing)
		self.add_handler("POST", "^" + P + "/rooms/([^/]+)/receipt/([^/]+)/([^/]+)$",
		                 self._receipt)
		self.add_handler("POST", "^" + P + "/createRoom$", self._create_room)
		self.add_handler("PUT", "^" + P + "/user/([^/]+)/account_data/([^/]+)$",
		                 self._account_data)

	def _joined(self, room_id):
		with self.cond:
			r = self.rooms.get(room_id)
			return r is not None and r["members"].get(self.user) == "join"

	def _typing(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		room_id = self._room_arg(req)
		user = urllib.parse.unquote(req.match.group(2))
		b = req.json
		if user != self.user:
			return err(403, "M_FORBIDDEN", "Cannot set another user's typing state")
		if not isinstance(b, dict) or not isinstance(b.get("typing"), bool):
			return err(400, "M_BAD_JSON", "Missing or bad 'typing'")
		if b["typing"] and not isinstance(b.get("timeout"), int):
			return err(400, "M_BAD_JSON", "Missing 'timeout'")
		if not self._joined(room_id):
			return err(403, "M_FORBIDDEN", "User not in room")
		with self.cond:
			self.typing.append({"room_id": room_id, "user": user, "typing": b["typing"],
			                    "timeout": b.get("timeout"), "time": time.time()})
		return {}

	def _receipt(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		room_id = self._room_arg(req)
		rtype = urllib.parse.unquote(req.match.group(2))
		event_id = urllib.parse.unquote(req.match.group(3))
		if rtype not in ("m.read", "m.read.private", "m.fully_read"):
			return err(400, "M_INVALID_PARAM", "Receipt type must be m.read, m.read.private "
			           "or m.fully_read")
		if req.json is None or not isinstance(req.json, dict):
			return err(400, "M_NOT_JSON", "Content not JSON.")
		if not self._joined(room_id):
			return err(403, "M_FORBIDDEN", "User not in room")
		with self.cond:
			known = any(k == "event" and rr == room_id and p["event_id"] == event_id
			            for k, rr, p in self.stream)
		if not known:
			return err(404, "M_NOT_FOUND", "Unknown event")
		with self.cond:
			self.receipts.append({"room_id": room_id, "type": rtype, "event_id": event_id,
			                      "time": time.time()})
		return {}

	def _create_room(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		b = req.json
		if not isinstance(b, dict):
			return err(400, "M_NOT_JSON", "Content not JSON.")
		invite = b.get("invite", [])
		if not isinstance(invite, list) or not all(isinstance(u, str) and u.startswith("@")
		                                           for u in invite):
			return err(400, "M_INVALID_PARAM", "invite must be a list of user ids")
		if b.get("preset") not in (None, "private_chat", "trusted_private_chat",
		                           "public_chat"):
			return err(400, "M_INVALID_PARAM", "Unknown preset")
		with self.cond:
			room_id = "!c%d:%s" % (len(self.created) + 1, self.server_name)
			self.created.append({"room_id": room_id, "request": b})
		self.room(room_id, members=(), usher=True)
		for u in invite:
			self._set_member(room_id, u, "invite", sender=self.user,
			                 extra={"is_direct": True} if b.get("is_direct") else None)
		return {"room_id": room_id}

	def _account_data(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		user = urllib.parse.unquote(req.match.group(1))
		atype = urllib.parse.unquote(req.match.group(2))
		if user != self.user:
			return err(403, "M_FORBIDDEN", "Cannot add account data for other users.")
		if not isinstance(req.json, dict):
			return err(400, "M_NOT_JSON", "Content not JSON.")
		with self.cond:
			self.account_data.append({"type": atype, "content": req.json})
		if atype == "m.direct":
			self.set_direct(req.json)
		return {}

	def join(self, room_id, user):
		return self._set_member(room_id, user, "join")["event_id"]

	def _login(self, req):
		b = req.json or {}
		ident = b.get("identifier") or {}
		user = ident.get("user") or b.get("user") or ""
		if b.get("type") != "m.login.password":
			return err(400, "M_UNKNOWN", "Unknown login type")
		local = self.user[1:].split(":")[0]
		if user not in (self.user, local) or b.get("password") != self.password:
			return err(403, "M_FORBIDDEN", "Invalid username or password")
		with self.cond:
			self.logins += 1
			token = "syt_login_%d" % self.logins
			self.tokens.add(token)
		return {"user_id": self.user, "access_token": token,
		        "device_id": b.get("device_id") or "FAKEDEV"}

	def _room_arg(self, req):
		return urllib.parse.unquote(req.match.group(1))

	def _join(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		room_id = self._room_arg(req)
		with self.cond:
			r = self.rooms.get(room_id)
			self.joins.append(room_id)
		if r is None:
			return err(404, "M_NOT_FOUND", "No known servers")
		self._set_member(room_id, self.user, "join")
		return {"room_id": room_id}

	def _leave(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		room_id = self._room_arg(req)
		with self.cond:
			self.leaves.append(room_id)
			r = self.rooms.get(room_id)
		if r is None:
			return err(404, "M_NOT_FOUND", "Unknown room")
		self._set_member(room_id, self.user, "leave")
		return {}

	def _send_ev(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		room_id = self._room_arg(req)
		etype = urllib.parse.unquote(req.match.group(2))
		txn = urllib.parse.unquote(req.match.group(3))
		with self.cond:
			self.send_attempts.append({"room_id": room_id, "txn": txn, "time": time.time()})
		if req.json is None or not isinstance(req.json, dict):
			return err(400, "M_NOT_JSON", "Content not JSON.")
		if self._fault("send_429"):
			ms = self.faults.get("retry_after_ms", 500)
			return Response(429, json={"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests",
			                           "retry_after_ms": ms},
			                headers={"Retry-After": str(max(1, ms // 1000))})
		key = (req.header("Authorization"), req.path)
		with self.cond:
			prev = self.txns.get(key)
			r = self.rooms.get(room_id)
			joined = r is not None and r["members"].get(self.user) == "join"
		if prev is not None:
			if prev[0] != req.json:
				return err(400, "M_INVALID_PARAM", "txnId reused with different content")
			return {"event_id": prev[1]}
		if not joined:
			return err(403, "M_FORBIDDEN", "User not in room")
		ev = self._event(room_id, self.user, etype, req.json)
		with self.cond:
			self.txns[key] = (req.json, ev["event_id"])
			self.sent.append({"room_id": room_id, "event_id": ev["event_id"], "txn": txn,
			                  "content": req.json})
		if self._fault("send_slow"):
			return Response(200, json={"event_id": ev["event_id"]},
			                delay_ms=self.faults.get("slow_ms", 3000))
		return {"event_id": ev["event_id"]}

	def _sync(self, req):
		bad = self._auth(req)
		if bad:
			return bad
		since = req.arg("since")
		try:
			timeout = min(int(req.arg("timeout", "0")), 60000)
			flt = json.loads(req.arg("filter")) if req.arg("filter") else {}
		except ValueError:
			return err(400, "M_INVALID_PARAM", "bad timeout or filter")
		if not isinstance(flt, dict):
			return err(400, "M_INVALID_PARAM", "filter must be an object")
		if since is not None and not re.fullmatch(r"s\d+", since):
			return err(400, "M_INVALID_PARAM", "bad since token")
		with self.cond:
			self.syncs.append(since)
		if self._fault("sync_500"):
			return err(500, "M_UNKNOWN", "Internal server error")
		start = int(since[1:]) if since else None
		end = time.monotonic() + timeout / 1000.0
		with self.cond:
			while start is not None and len(self.stream) <= start and not self._stopping.is_set():
				left = end - time.monotonic()
				if left <= 0:
					break
				self.cond.wait(min(left, 0.1))
			return self._batch(start, flt)

	def _batch(self, start, flt):
		rf = flt.get("room") or {}
		ttypes = (rf.get("timeline") or {}).get("types")
		stypes = (rf.get("state") or {}).get("types")
		atypes = (flt.get("account_data") or {}).get("types")
		out = {"next_batch": "s%d" % len(self.stream), "rooms": {"join": {}, "invite": {},
		                                                           "leave": {}}}
		join, invite = out["rooms"]["join"], out["rooms"]["invite"]

		def ok(types, t):
			return types is None or t in types

		if start is None:
			# Initial sync: current state of joined rooms, a short timeline, pending invites.
			for rid, r in self.rooms.items():
				me = r["members"].get(self.user)
				evs = [p for k, rr, p in self.stream if k == "event" and rr == rid]
				if me == "join":
					state = {}
					for e in evs:
						if "state_key" in e:
							state[(e["type"], e["state_key"])] = e
					join[rid] = {"state": {"events": [e for e in state.values()
					                                  if ok(stypes, e["type"])]},
					             "timeline": {"events": [e for e in evs[-10:]
					                                     if ok(ttypes, e["type"])],
					                          "limited": len(evs) > 10}}
				elif me == "invite":
					invite[rid] = {"invite_state": {"events": [
					    e for e in evs if e["type"] == "m.room.member"
					    and e.get("state_key") == self.user]}}
			if self.direct is not None and ok(atypes, "m.direct"):
				out["account_data"] = {"events": [{"type": "m.direct", "content": self.direct}]}
			return out
		for kind, rid, p in self.stream[start:]:
			if kind == "direct":
				if ok(atypes, "m.direct"):
					out["account_data"] = {"events": [{"type": "m.direct", "content": p}]}
				continue
			if kind == "invite":
				if self.rooms[rid]["members"].get(self.user) == "invite":
					invite[rid] = {"invite_state": {"events": [
					    {"type": "m.room.member", "sender": p["sender"],
					     "state_key": self.user,
					     "content": {"membership": "invite", "is_direct": p["is_direct"]}}]}}
				continue
			# A room's events reach usher while it is joined (and its own leave event).
			if self.rooms[rid]["members"].get(self.user) != "join":
				continue
			if not ok(ttypes, p["type"]):
				continue
			room = join.setdefault(rid, {"timeline": {"events": [], "limited": False},
			                             "state": {"events": []}})
			room["timeline"]["events"].append(p)
		return out

	# Control -----------------------------------------------------------------------------
	def _control(self, req):
		p = req.path
		b = req.json if isinstance(req.json, dict) else {}
		try:
			if p == "/__fake/matrix/room" and req.method == "POST":
				return Response(200, json={"room_id": self.room(
				    b.get("room_id"), b.get("members", []), b.get("usher", True),
				    b.get("encrypted", False), b.get("names"))})
			if p == "/__fake/matrix/invite" and req.method == "POST":
				return Response(200, json={"room_id": self.invite(
				    b.get("room_id"), b.get("sender", "@alice:localhost"),
				    b.get("is_direct", False))})
			if p == "/__fake/matrix/message" and req.method == "POST":
				return Response(200, json={"event_id": self.message(
				    b["room_id"], b["sender"], b["body"], b.get("mentions"), b.get("reply_to"),
				    b.get("formatted_body"), b.get("msgtype", "m.text"))})
			if p == "/__fake/matrix/encrypted" and req.method == "POST":
				return Response(200, json={"event_id": self.encrypted(b["room_id"], b["sender"])})
			if p == "/__fake/matrix/direct" and req.method == "POST":
				self.set_direct(b.get("content", {}))
				return Response(200, json={"ok": True})
			if p == "/__fake/matrix/join" and req.method == "POST":
				return Response(200, json={"event_id": self.join(b["room_id"], b["user"])})
			if p == "/__fake/matrix/faults" and req.method == "POST":
				with self.cond:
					self.faults.update(b)
				return Response(200, json={"ok": True})
			if p == "/__fake/matrix/sent" and req.method == "GET":
				with self.cond:
					return Response(200, json=list(self.sent))
			if p == "/__fake/matrix/state" and req.method == "GET":
				return Response(200, json=self.state())
		except (KeyError, TypeError) as e:
			return Response(400, json={"error": "bad control request: %r" % (e,)})
		return super()._control(req)

	def stop(self):
		with self.cond:
			self._stopping.set()
			self.cond.notify_all()
		super().stop()


def main(argv=None):
	import argparse
	ap = argparse.ArgumentParser(add_help=False)
	ap.add_argument("--user", default="@usher:localhost")
	ap.add_argument("--token", default="usher-token")
	ap.add_argument("--password", default="usher-password")
	mine, rest = ap.parse_known_args(argv)
	return run_cli(lambda routes, **kw: FakeMatrix(routes, user=mine.user, token=mine.token,
	                                               password=mine.password, **kw),
	               argv=rest, description="fake Matrix homeserver for tests")


if __name__ == "__main__":
	sys.exit(main())

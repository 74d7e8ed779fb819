#!/usr/bin/python3
"""A fake Discord: REST routes and a WebSocket gateway (RFC 6455 done here), standard library only.

    fake_discord.py [--port 0] [--token T] [--heartbeat-ms 1000] [--bot-id 1111]

binds 127.0.0.1, prints `LISTENING <port>`, serves until SIGTERM. One port serves:

REST (prefix /api/v10; `Authorization: Bot T` required, else 401):
    GET  /gateway/bot                     -> {"url": "ws://127.0.0.1:<port>/gateway", ...}
    POST /channels/{cid}/messages         -> 200 message object with a new id
    PATCH /channels/{cid}/messages/{mid}  -> 200 message object
                                             (both: embeds and components checked against
                                             Discord's limits, else 400 50035)
    POST /channels/{cid}/typing           -> 204
    POST /users/@me/channels {"recipient_id"} -> 200 the DM channel (the same one per person)
    PUT  /applications/{app}/commands, /applications/{app}/guilds/{gid}/commands
                                          -> 200 the commands with ids (bulk overwrite; each
                                             needs name and description, else 400 50035)
Interactions (no Authorization needed, as on Discord; tokens are the ones the fake issued):
    POST /interactions/{id}/{token}/callback     -> 204; a second one -> 400 40060 "Interaction
                                                    has already been acknowledged."; recorded
                                                    with `late` when over 3 s after the event
    PATCH /webhooks/{app}/{token}/messages/@original|{mid} -> 200 message (before a callback:
                                                    404 10015 Unknown Webhook)
    POST /webhooks/{app}/{token}                  -> 200 follow-up message with a new id
Gateway (GET /gateway or /resume with Upgrade: websocket, ?v=10&encoding=json required):
    Hello, then Identify (token and intents checked: wrong token -> close 4004, privileged or
    missing intents -> close 4014) -> READY; Resume (known session) -> replay missed events,
    RESUMED; heartbeats ACKed (unless told not to).
Control (JSON, never recorded):
    POST /__fake/dispatch {"t": "MESSAGE_CREATE", "d": {...}}   sent on the live session
    POST /__fake/op {"op": 7, "d": null}                          raw gateway payload
    POST /__fake/close {"code": 4004, "reason": "..."}
    POST /__fake/ack {"enabled": false}                            stop/start ACKing heartbeats
    POST /__fake/ratelimit {"count": 1, "retry_after": 0.4}       next POSTs answer 429
    POST /__fake/interaction {INTERACTION_CREATE d without id/token/application_id}
                                  -> {"id", "token"}; dispatched on the live session;
                                  "expired": true makes its webhook routes answer 401 50027
                                  Invalid Webhook Token (a token past its 15 minutes)
    GET  /__fake/log                                                every event so far
                                  (a message posted or edited is also logged as kind "message"
                                  with the id it got)
"""

import argparse
import base64
import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WANTED_INTENTS = (1 << 0) | (1 << 9) | (1 << 12)
PRIVILEGED = (1 << 1) | (1 << 8) | (1 << 15)


class Closed(Exception):
	pass


class Gateway:
	"""One WebSocket connection, server side."""

	def __init__(self, fake, sock, path):
		self.fake = fake
		self.sock = sock
		self.path = path
		self.lock = threading.Lock()
		self.session = None
		self.open = True

	def send_frame(self, opcode, payload):
		n = len(payload)
		if n < 126:
			head = struct.pack("!BB", 0x80 | opcode, n)
		elif n < 65536:
			head = struct.pack("!BBH", 0x80 | opcode, 126, n)
		else:
			head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
		with self.lock:
			if self.open:
				self.sock.sendall(head + payload)

	def send(self, obj):
		self.send_frame(1, json.dumps(obj).encode())

	def close(self, code, reason=""):
		self.send_frame(8, struct.pack("!H", code) + reason.encode())
		self.open = False
		try:
			self.sock.shutdown(socket.SHUT_WR)
		except OSError:
			pass

	def recv_exact(self, n):
		data = b""
		while len(data) < n:
			chunk = self.sock.recv(n - len(data))
			if not chunk:
				raise Closed()
			data += chunk
		return data

	def recv_message(self):
		"""One whole message: (opcode, bytes). Client frames must be masked."""
		parts, first = [], None
		while True:
			b0, b1 = self.recv_exact(2)
			op, fin, n = b0 & 15, b0 & 0x80, b1 & 0x7F
			if b0 & 0x70 or not b1 & 0x80:
				self.fake.record("protocol_error", why="unmasked or reserved bits")
				raise Closed()
			if n == 126:
				n = struct.unpack("!H", self.recv_exact(2))[0]
			elif n == 127:
				n = struct.unpack("!Q", self.recv_exact(8))[0]
			mask = self.recv_exact(4)
			data = bytes(c ^ mask[i % 4] for i, c in enumerate(self.recv_exact(n)))
			if op >= 8:
				if op == 8:
					return 8, data
				if op == 9:
					self.send_frame(10, data)
				continue
			if first is None:
				first = op
			parts.append(data)
			if fin:
				return first, b"".join(parts)

	def run(self):
		fake = self.fake
		fake.record("connect", path=self.path)
		self.send({"op": 10, "d": {"heartbeat_interval": fake.heartbeat_ms}, "s": None, "t": None})
		try:
			while True:
				op, data = self.recv_message()
				if op == 8:
					code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
					fake.record("client_close", code=code)
					return
				msg = json.loads(data)
				self.handle(msg)
		except (Closed, OSError, ValueError):
			pass
		finally:
			self.open = False
			with fake.lock:
				if fake.live is self:
					fake.live = None
			self.sock.close()

	def handle(self, msg):
		fake = self.fake
		op, d = msg.get("op"), msg.get("d")
		if op == 1:
			fake.record("heartbeat", seq=d)
			if fake.acking:
				self.send({"op": 11})
		elif op == 2:
			intents = d.get("intents")
			fake.record("identify", intents=intents, token_ok=d.get("token") == fake.token)
			if d.get("token") != fake.token:
				self.close(4004, "Authentication failed.")
				return
			if intents & PRIVILEGED or intents & WANTED_INTENTS != WANTED_INTENTS:
				self.close(4014, "Disallowed intent(s).")
				return
			with fake.lock:
				fake.sessions += 1
				sid = "session-%d" % fake.sessions
				self.session = fake.session_log.setdefault(sid, [])
				self.session_id = sid
				fake.live = self
			self.dispatch("READY", {
				"v": 10, "session_id": sid, "user": {"id": fake.bot_id, "username": "usher",
				                                     "bot": True},
				"resume_gateway_url": "ws://127.0.0.1:%d/resume" % fake.port,
				"guilds": [], "application": {"id": fake.bot_id, "flags": 0}})
		elif op == 6:
			sid, seq = d.get("session_id"), d.get("seq")
			fake.record("resume", session_id=sid, seq=seq, token_ok=d.get("token") == fake.token,
			            path=self.path)
			if sid not in fake.session_log or d.get("token") != fake.token:
				self.send({"op": 9, "d": False})
				return
			with fake.lock:
				self.session = fake.session_log[sid]
				self.session_id = sid
				fake.live = self
				missed = [e for e in self.session if e["s"] > (seq or 0)]
			for e in missed:
				self.send(e)
			self.dispatch("RESUMED", {})
		else:
			fake.record("unknown_op", op=op)

	def dispatch(self, t, d):
		with self.fake.lock:
			seq = len(self.session) + 1
			event = {"op": 0, "s": seq, "t": t, "d": d}
			self.session.append(event)
		self.send(event)


def message_ok(data):
	"""Discord's limits on a message's embeds and components (legacy layout)."""
	embeds = data.get("embeds", [])
	if not isinstance(embeds, list) or len(embeds) > 10:
		return False
	for e in embeds:
		if not isinstance(e, dict) or len(e.get("title", "")) > 256 or \
		        len(e.get("description", "")) > 4096:
			return False
		for k in ("thumbnail", "image"):
			if k in e and not str(e[k].get("url", "")).startswith(("http://", "https://")):
				return False
	rows = data.get("components", [])
	if not isinstance(rows, list) or len(rows) > 5:
		return False
	ids = set()
	for row in rows:
		items = row.get("components") if isinstance(row, dict) else None
		if row.get("type") != 1 or not isinstance(items, list) or not 1 <= len(items) <= 5:
			return False
		if any(c.get("type") == 3 for c in items) and len(items) != 1:
			return False
		for c in items:
			cid = c.get("custom_id", "")
			if not 1 <= len(cid) <= 100 or cid in ids:
				return False
			ids.add(cid)
			if c.get("type") == 2:
				if c.get("style") not in (1, 2, 3, 4) or not 1 <= len(c.get("label", "")) <= 80:
					return False
			elif c.get("type") == 3:
				opts = c.get("options", [])
				if not 1 <= len(opts) <= 25 or any(
				        not 1 <= len(o.get("label", "")) <= 100 or
				        not 1 <= len(o.get("value", "")) <= 100 or
				        len(o.get("description", "")) > 100 for o in opts):
					return False
			else:
				return False
	return True


class Fake:
	def __init__(self, token, heartbeat_ms, bot_id):
		self.token = token
		self.heartbeat_ms = heartbeat_ms
		self.bot_id = bot_id
		self.lock = threading.Lock()
		self.log = []
		self.live = None
		self.sessions = 0
		self.session_log = {}
		self.acking = True
		self.ratelimit = {"count": 0, "retry_after": 0.5}
		self.next_id = 9000000000000000000
		self.port = 0
		self.interactions = {}  # token -> {"id", "time", "acked", "original"}
		self.dm_channels = {}  # user id -> DM channel id
		self.next_ix = 8000000000000000000

	def record(self, kind, **kw):
		with self.lock:
			kw["kind"] = kind
			kw["time"] = time.time()
			self.log.append(kw)

	def rest(self, method, path, headers, body):
		if path.startswith("/__fake/"):
			return self.control(method, path[len("/__fake/"):], body)
		if not path.startswith("/api/v10/"):
			return 404, {"message": "404: Not Found", "code": 0}
		path = path[len("/api/v10"):]
		if path.startswith("/interactions/") or path.startswith("/webhooks/"):
			return self.interaction_rest(method, path, headers, body)
		auth = headers.get("authorization", "")
		try:
			data = json.loads(body) if body else None
		except ValueError:
			return 400, {"message": "Invalid JSON", "code": 50109}
		self.record("rest", method=method, path=path, json=data, authorized=auth == "Bot " + self.token)
		if auth != "Bot " + self.token:
			return 401, {"message": "401: Unauthorized", "code": 0}
		if method == "GET" and path == "/gateway/bot":
			return 200, {"url": "ws://127.0.0.1:%d/gateway" % self.port, "shards": 1,
			             "session_start_limit": {"total": 1000, "remaining": 999,
			                                     "reset_after": 14400000, "max_concurrency": 1}}
		m = re.match(r"^/applications/(\d+)(?:/guilds/(\d+))?/commands$", path)
		if m and method == "PUT":
			if m.group(1) != self.bot_id:
				return 403, {"message": "Missing Access", "code": 50001}
			if not isinstance(data, list) or not all(
			        isinstance(c, dict) and c.get("name") and c.get("description") for c in data):
				return 400, {"message": "Invalid Form Body", "code": 50035}
			out = []
			for c in data:
				with self.lock:
					self.next_id += 1
					cid = str(self.next_id)
				out.append(dict(c, id=cid, application_id=self.bot_id, version="1",
				                guild_id=m.group(2)))
			return 200, out
		if method == "POST" and re.match(r"^/channels/\d+/typing$", path):
			return 204, None
		if method == "POST" and path == "/users/@me/channels":
			rid = (data or {}).get("recipient_id") if isinstance(data, dict) else None
			if not isinstance(rid, str) or not rid.isdigit():
				return 400, {"message": "Invalid Form Body", "code": 50035}
			with self.lock:
				if rid not in self.dm_channels:
					self.next_id += 1
					self.dm_channels[rid] = str(self.next_id)
				cid = self.dm_channels[rid]
			return 200, {"id": cid, "type": 1, "last_message_id": None,
			             "recipients": [{"id": rid, "username": "someone"}]}
		m = re.match(r"^/channels/(\d+)/messages(?:/(\d+))?$", path)
		if m and method in ("POST", "PATCH"):
			if "json" not in headers.get("content-type", ""):
				return 400, {"message": "Invalid Form Body", "code": 50035}
			if not isinstance(data, dict) or not isinstance(data.get("content"), str):
				return 400, {"message": "Invalid Form Body", "code": 50035}
			if len(data["content"]) > 2000 or not message_ok(data):
				return 400, {"message": "Invalid Form Body", "code": 50035}
			with self.lock:
				if method == "POST" and self.ratelimit["count"] > 0:
					self.ratelimit["count"] -= 1
					ra = self.ratelimit["retry_after"]
					return 429, {"message": "You are being rate limited.", "retry_after": ra,
					             "global": False}, {"Retry-After": str(int(ra + 0.999)),
					                                "X-RateLimit-Scope": "user"}
				mid = m.group(2)
				if mid is None:
					self.next_id += 1
					mid = str(self.next_id)
			self.record("message", id=mid, channel=m.group(1), method=method, json=data)
			msg = {"id": mid, "channel_id": m.group(1), "content": data["content"],
			       "embeds": data.get("embeds", []), "components": data.get("components", []),
			       "author": {"id": self.bot_id, "username": "usher", "bot": True}}
			return 200, msg, {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
			                  "X-RateLimit-Reset-After": "1.000", "X-RateLimit-Bucket": "abc"}
		return 404, {"message": "404: Not Found", "code": 0}

	def interaction_rest(self, method, path, headers, body):
		try:
			data = json.loads(body) if body else None
		except ValueError:
			return 400, {"message": "Invalid JSON", "code": 50109}
		m = re.match(r"^/interactions/(\d+)/([^/]+)/callback$", path)
		if m and method == "POST":
			with self.lock:
				ix = self.interactions.get(m.group(2))
			late = ix is not None and time.time() - ix["time"] > 3.0
			self.record("callback", id=m.group(1), token=m.group(2), json=data, late=late)
			if ix is None or ix["id"] != m.group(1):
				return 404, {"message": "Unknown interaction", "code": 10062}
			if not isinstance(data, dict) or data.get("type") not in (1, 4, 5, 6, 7, 8, 9):
				return 400, {"message": "Invalid Form Body", "code": 50035}
			with self.lock:
				if ix["acked"]:
					return 400, {"message": "Interaction has already been acknowledged.",
					             "code": 40060}
				ix["acked"] = data["type"]
				if data["type"] in (4, 5) and ix["original"] is None:
					self.next_id += 1
					ix["original"] = str(self.next_id)
			return 204, None
		m = re.match(r"^/webhooks/(\d+)/([^/?]+)(?:/messages/(@original|\d+))?$", path)
		if not m or (method, m.group(3) is None) not in (("POST", True), ("PATCH", False)):
			self.record("rest", method=method, path=path, json=data, authorized=True)
			return 404, {"message": "404: Not Found", "code": 0}
		rec = {"method": method, "app": m.group(1), "token": m.group(2), "message": m.group(3),
		       "json": data, "id": None}
		if "json" not in headers.get("content-type", ""):
			self.record("webhook", **rec)
			return 400, {"message": "Invalid Form Body", "code": 50035}
		with self.lock:
			ix = self.interactions.get(m.group(2))
			if ix is not None and ix["expired"]:
				status = 401, {"message": "Invalid Webhook Token", "code": 50027}
			elif ix is None or m.group(1) != self.bot_id or not ix["acked"]:
				status = 404, {"message": "Unknown Webhook", "code": 10015}
			elif (not isinstance(data, dict) or len(data.get("content") or "") > 2000 or
			      not message_ok(data)):
				status = 400, {"message": "Invalid Form Body", "code": 50035}
			else:
				status = None
				mid = m.group(3)
				if mid == "@original":
					mid = ix["original"]
				elif mid is None:
					self.next_id += 1
					mid = str(self.next_id)
				rec["id"] = mid
		self.record("webhook", **rec)
		if status:
			return status
		return 200, {"id": mid, "channel_id": ix["channel_id"], "content": data.get("content", ""),
		             "components": data.get("components", []), "webhook_id": self.bot_id,
		             "author": {"id": self.bot_id, "username": "usher", "bot": True}}

	def control(self, method, what, body):
		data = json.loads(body) if body else {}
		if what == "log":
			with self.lock:
				return 200, list(self.log)
		if what == "ack":
			self.acking = bool(data.get("enabled"))
			return 200, {}
		if what == "ratelimit":
			with self.lock:
				self.ratelimit = {"count": int(data.get("count", 1)),
				                  "retry_after": float(data.get("retry_after", 0.5))}
			return 200, {}
		live = self.live
		if live is None:
			return 409, {"error": "no live gateway session"}
		if what == "interaction":
			with self.lock:
				self.next_ix += 1
				ixid = str(self.next_ix)
				token = "aW50ZXJhY3Rpb246" + ixid + "_tok-en"
				original = (data.get("message") or {}).get("id")
				self.interactions[token] = {"id": ixid, "time": time.time(), "acked": 0,
				                            "original": original,
				                            "channel_id": data.get("channel_id"),
				                            "expired": bool(data.pop("expired", False))}
			d = dict(data, id=ixid, token=token, application_id=self.bot_id, version=1)
			live.dispatch("INTERACTION_CREATE", d)
			return 200, {"id": ixid, "token": token}
		if what == "dispatch":
			live.dispatch(data["t"], data["d"])
		elif what == "op":
			live.send(data)
		elif what == "close":
			live.close(int(data["code"]), data.get("reason", ""))
		else:
			return 404, {"error": "unknown control " + what}
		return 200, {}


class Handler(socketserver.BaseRequestHandler):
	def handle(self):
		fake = self.server.fake
		sock = self.request
		data = b""
		while b"\r\n\r\n" not in data:
			chunk = sock.recv(65536)
			if not chunk:
				return
			data += chunk
			if len(data) > 65536:
				return
		head, rest = data.split(b"\r\n\r\n", 1)
		lines = head.decode("latin-1").split("\r\n")
		method, target, _ = lines[0].split(" ", 2)
		headers = {}
		for line in lines[1:]:
			k, _, v = line.partition(":")
			headers[k.strip().lower()] = v.strip()
		url = urllib.parse.urlsplit(target)
		if headers.get("upgrade", "").lower() == "websocket":
			return self.upgrade(fake, sock, url, headers)
		n = int(headers.get("content-length", "0"))
		while len(rest) < n:
			chunk = sock.recv(65536)
			if not chunk:
				return
			rest += chunk
		answer = fake.rest(method, url.path, headers, rest[:n])
		status, obj = answer[0], answer[1]
		extra = answer[2] if len(answer) > 2 else {}
		body = json.dumps(obj).encode() if obj is not None else b""
		reason = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
		          409: "Conflict", 429: "Too Many Requests"}.get(status, "X")
		out = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" \
		      "Connection: close\r\n" % (status, reason, len(body))
		for k, v in extra.items():
			out += "%s: %s\r\n" % (k, v)
		sock.sendall(out.encode() + b"\r\n" + body)

	def upgrade(self, fake, sock, url, headers):
		q = urllib.parse.parse_qs(url.query)
		key = headers.get("sec-websocket-key")
		if (url.path.rstrip("/") not in ("/gateway", "/resume") or q.get("v") != ["10"] or
		        q.get("encoding") != ["json"] or not key or
		        headers.get("sec-websocket-version") != "13"):
			fake.record("bad_upgrade", path=url.path, query=url.query)
			sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
		sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
		Gateway(fake, sock, url.path.rstrip("/")).run()


class Server(socketserver.ThreadingTCPServer):
	daemon_threads = True
	allow_reuse_address = True


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--port", type=int, default=0)
	ap.add_argument("--token", default="test-token")
	ap.add_argument("--heartbeat-ms", type=int, default=1000)
	ap.add_argument("--bot-id", default="1111")
	ap.add_argument("--scenario")  # accepted for the scenario runner's command line; unused
	ap.add_argument("--record")
	ap.add_argument("--verbose", action="store_true")
	args = ap.parse_args()
	fake = Fake(args.token, args.heartbeat_ms, args.bot_id)
	srv = Server(("127.0.0.1", args.port), Handler)
	srv.fake = fake
	fake.port = srv.server_address[1]
	signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
	print("LISTENING %d" % fake.port, flush=True)
	try:
		srv.serve_forever()
	except KeyboardInterrupt:
		pass


if __name__ == "__main__":
	main()

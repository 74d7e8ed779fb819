#!/usr/bin/python3
"""A scripted fake qBittorrent (Web UI API v2, as 4.5 answers) for tests.

What it serves:
- POST /api/v2/auth/login (form username, password): "Ok." with `Set-Cookie: SID=...; HttpOnly;
  path=/`, or "200 Fails." for a wrong pair (4.x behaviour). Credentials: --username/--password
  (default admin / adminadmin).
- GET /api/v2/sync/maindata?rid=N with the SID cookie (403 "Forbidden" without a valid one):
  rid 0 or a rid it never handed out -> {"rid": R, "full_update": true, "torrents": {...},
  "categories": {}, "server_state": {...}}; a known rid -> only what changed since then: changed
  fields of changed torrents, "torrents_removed" for torrents that went. Every answer hands out a
  new rid (as qBittorrent does).
- GET /api/v2/app/version -> "v4.5.2".

How a test moves it (the scenario runner's `@routes qbittorrent JSON` posts to /__fake/routes,
so the torrent table rides along in the same control call):

    POST /__fake/routes {"torrents": {"HASH": {"progress": 0.5, "dlspeed": 1200000, ...},
                                      "OTHER": null},          # null removes a torrent
                         "expire_sessions": true,               # forget every SID (403 next)
                         "routes": [...], "mode": "prepend"}    # fakehttp routes, as usual

Torrent fields not given keep their value; a new torrent starts from sensible defaults
(state "downloading", size 1 GB). Setting "progress" without "amount_left" derives amount_left
from size. `--torrents JSON|FILE` gives the starting table. GET /__fake/torrents returns it.
fakehttp routes (faults, 500s) answer before the handlers, so "qBittorrent is down" is a route.
"""

import copy
import json
import os
import secrets
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakehttp import FakeServer, Response, run_cli  # noqa: E402

DEFAULTS = {
	"name": "torrent", "progress": 0.0, "dlspeed": 0, "upspeed": 0, "eta": 8640000,
	"state": "downloading", "num_seeds": 5, "num_leechs": 0, "size": 1000000000,
	"amount_left": 1000000000, "save_path": "/downloads/", "category": "radarr",
}
SERVER_STATE = {"connection_status": "connected", "dl_info_speed": 0, "up_info_speed": 0}


def load_json_arg(value):
	if value is None:
		return None
	if os.path.exists(value):
		with open(value, encoding="utf-8") as f:
			return json.load(f)
	return json.loads(value)


class FakeQbittorrent(FakeServer):
	def __init__(self, routes, username="admin", password="adminadmin", torrents=None, **kw):
		super().__init__(routes, **kw)
		self.username = username
		self.password = password
		self.state_lock = threading.Lock()
		self.torrents = {}
		self.sessions = set()
		self.snapshots = {}  # rid -> deep copy of the table as that rid saw it
		self.next_rid = 0
		self.merge(torrents or {})
		self.add_handler("POST", r"^/api/v2/auth/login$", self.login)
		self.add_handler("GET", r"^/api/v2/sync/maindata$", self.maindata)
		self.add_handler("GET", r"^/api/v2/app/version$", self.version)

	def merge(self, changes):
		with self.state_lock:
			for h, fields in changes.items():
				h = h.lower()
				if fields is None:
					self.torrents.pop(h, None)
					continue
				t = self.torrents.get(h)
				if t is None:
					t = dict(DEFAULTS, name="torrent-" + h[:8])
					self.torrents[h] = t
				t.update(fields)
				if "progress" in fields and "amount_left" not in fields:
					t["amount_left"] = int(round(t["size"] * (1.0 - float(t["progress"]))))

	def authorized(self, req):
		cookie = req.header("Cookie", "") or ""
		for part in cookie.split(";"):
			k, _, v = part.strip().partition("=")
			if k == "SID" and v in self.sessions:
				return True
		return False

	def login(self, req):
		form = urllib.parse.parse_qs(req.body or "")
		if form.get("username", [""])[0] != self.username or \
		   form.get("password", [""])[0] != self.password:
			return Response(200, body="Fails.")
		sid = secrets.token_hex(16)
		with self.state_lock:
			self.sessions.add(sid)
		return Response(200, body="Ok.", headers={"Set-Cookie": "SID=%s; HttpOnly; path=/" % sid})

	def version(self, req):
		if not self.authorized(req):
			return Response(403, body="Forbidden")
		return Response(200, body="v4.5.2")

	def maindata(self, req):
		if not self.authorized(req):
			return Response(403, body="Forbidden")
		try:
			rid = int(req.arg("rid", "0"))
		except ValueError:
			rid = 0
		with self.state_lock:
			self.next_rid += 1
			new_rid = self.next_rid
			now = copy.deepcopy(self.torrents)
			old = self.snapshots.get(rid) if rid else None
			self.snapshots[new_rid] = now
			# qBittorrent keeps only the last few; so do we.
			for k in [k for k in self.snapshots if k < new_rid - 8]:
				del self.snapshots[k]
		if old is None:
			full = {h: dict(t) for h, t in now.items()}
			return {"rid": new_rid, "full_update": True, "torrents": full, "categories": {},
			        "server_state": SERVER_STATE}
		out = {"rid": new_rid}
		changed = {}
		for h, t in now.items():
			prev = old.get(h)
			if prev is None:
				changed[h] = dict(t)
				continue
			diff = {k: v for k, v in t.items() if prev.get(k) != v}
			if diff:
				changed[h] = diff
		if changed:
			out["torrents"] = changed
		removed = [h for h in old if h not in now]
		if removed:
			out["torrents_removed"] = removed
		return out

	def _control(self, req):
		if req.path == "/__fake/torrents" and req.method == "GET":
			with self.state_lock:
				return Response(200, json=self.torrents)
		if req.path == "/__fake/routes" and req.method == "POST":
			try:
				spec = json.loads(req.body or "{}")
			except ValueError as e:
				return Response(400, json={"error": str(e)})
			if not isinstance(spec, dict):
				return Response(400, json={"error": "expected an object"})
			if isinstance(spec.get("torrents"), dict):
				self.merge(spec["torrents"])
			if spec.get("expire_sessions"):
				with self.state_lock:
					self.sessions.clear()
			if "routes" in spec:
				return super()._control(req)
			return Response(200, json={"ok": True})
		return super()._control(req)


def main(argv=None):
	import argparse
	ap = argparse.ArgumentParser(add_help=False)
	ap.add_argument("--username", default="admin")
	ap.add_argument("--password", default="adminadmin")
	ap.add_argument("--torrents")
	a, rest = ap.parse_known_args(argv)
	torrents = load_json_arg(a.torrents)
	return run_cli(lambda routes, **kw: FakeQbittorrent(routes, a.username, a.password, torrents,
	                                                    **kw),
	               argv=rest, description="fake qBittorrent for tests")


if __name__ == "__main__":
	sys.exit(main())

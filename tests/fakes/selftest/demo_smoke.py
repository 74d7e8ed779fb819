#!/usr/bin/python3
"""Smoke test of contrib/demo/demo_services.py: start it at --speed 50, request Oppenheimer as
user 1 through the Seerr API, and poll (bounded) until Seerr says it is available, checking on
the way that qBittorrent's sync/maindata showed it downloading, Radarr's queue carried it with
the same hash, and that the torrent is later removed (torrents_removed). Also requests a show as
user 3 (pending) and approves it as user 1. Exit 0 = pass."""

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEMO = os.path.join(REPO, "contrib", "demo", "demo_services.py")
SPEED = 50.0
TMDB = 872585  # Oppenheimer


class Client:
	def __init__(self, url, headers=None):
		u = urllib.parse.urlsplit(url)
		self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
		self.headers = dict(headers or {})

	def call(self, method, path, body=None, headers=None, form=False):
		h = dict(self.headers, **(headers or {}))
		data = None
		if body is not None:
			if form:
				data = urllib.parse.urlencode(body)
				h["Content-Type"] = "application/x-www-form-urlencoded"
			else:
				data = json.dumps(body)
				h["Content-Type"] = "application/json"
		self.conn.request(method, path, body=data, headers=h)
		r = self.conn.getresponse()
		raw = r.read()
		ctype = r.getheader("Content-Type") or ""
		out = json.loads(raw) if raw and "json" in ctype else raw.decode()
		return r.status, out, r


def check(cond, what):
	if not cond:
		raise AssertionError(what)


def run(info):
	seerr = Client(info["seerr"], {"X-Api-Key": info["seerr_api_key"]})
	radarr = Client(info["radarr"], {"X-Api-Key": info["radarr_api_key"]})
	sonarr = Client(info["sonarr"])
	qbit = Client(info["qbittorrent"])

	st, body, _ = seerr.call("GET", "/api/v1/status", headers={"X-Api-Key": ""})
	check(st == 200 and "version" in body, "status is public")
	st, body, _ = Client(info["seerr"]).call("GET", "/api/v1/auth/me")
	check(st == 403, "no key -> 403, got %d" % st)
	st, _, _ = sonarr.call("GET", "/api/v3/queue")
	check(st == 401, "sonarr without key -> 401, got %d" % st)
	st, _, _ = sonarr.call("GET", "/api/v3/queue?apikey=" + info["sonarr_api_key"])
	check(st == 200, "sonarr apikey query works")

	st, _, _ = qbit.call("GET", "/api/v2/sync/maindata?rid=0")
	check(st == 403, "qbittorrent before login -> 403, got %d" % st)
	st, body, _ = qbit.call("POST", "/api/v2/auth/login",
	                        {"username": "admin", "password": "wrong"}, form=True)
	check((st, body) == (200, "Fails."), "bad login -> 200 Fails.")
	st, body, r = qbit.call("POST", "/api/v2/auth/login",
	                        {"username": info["qbittorrent_username"],
	                         "password": info["qbittorrent_password"]}, form=True)
	check(st == 200 and body == "Ok.", "login Ok.")
	cookie = r.getheader("Set-Cookie").split(";")[0]
	check(cookie.startswith("SID="), "SID cookie")
	qbit.headers["Cookie"] = cookie

	st, body, _ = seerr.call("GET", "/api/v1/search?query=oppenheimer&page=1")
	check(st == 200 and body["results"][0]["id"] == TMDB, "search finds Oppenheimer")
	check("mediaInfo" not in body["results"][0], "not yet known to Seerr")

	st, req, _ = seerr.call("POST", "/api/v1/request", {"mediaType": "movie", "mediaId": TMDB},
	                        headers={"X-Api-User": "1"})
	check(st == 201 and req["status"] == 2, "admin request auto-approved: %r" % (req,))
	st, _, _ = seerr.call("POST", "/api/v1/request", {"mediaType": "movie", "mediaId": TMDB})
	check(st == 409, "duplicate -> 409")

	st, treq, _ = seerr.call("POST", "/api/v1/request",
	                         {"mediaType": "tv", "mediaId": 95396, "seasons": [1]},
	                         headers={"X-Api-User": "3"})
	check(st == 201 and treq["status"] == 1, "kid's request pending")
	st, _, _ = seerr.call("POST", "/api/v1/request/%d/approve" % treq["id"],
	                      headers={"X-Api-User": "3"})
	check(st == 403, "kid cannot approve")
	st, body, _ = seerr.call("POST", "/api/v1/request/%d/approve" % treq["id"])
	check(st == 200 and body["status"] == 2, "mum approves")

	rid = 0
	torrents = {}
	seen_states = set()
	show_states = set()
	episodes_in_queue = 0
	seen_queue = set()
	hash_ = None
	removed = False
	available = False
	deadline = time.monotonic() + 30
	while time.monotonic() < deadline and not (available and removed):
		st, md, _ = qbit.call("GET", "/api/v2/sync/maindata?rid=%d" % rid)
		check(st == 200, "maindata")
		if md.get("full_update"):
			torrents = {}
		rid = md["rid"]
		for h, t in md.get("torrents", {}).items():
			torrents.setdefault(h, {}).update(t)
		for h in md.get("torrents_removed", []):
			if h == hash_:
				removed = True
			torrents.pop(h, None)
		for h, t in torrents.items():
			if t.get("name", "").startswith("Oppenheimer.2023"):
				hash_ = h
				seen_states.add(t["state"])
			if t.get("name", "").startswith("Severance.S01"):
				show_states.add(t["state"])
		st, q, _ = radarr.call("GET", "/api/v3/queue?includeMovie=true&pageSize=50")
		check(st == 200, "radarr queue")
		for rec in q["records"]:
			if rec["movie"]["tmdbId"] == TMDB:
				check(hash_ is None or rec["downloadId"] == hash_.upper(),
				      "downloadId = hash upper-cased")
				seen_queue.add(rec["trackedDownloadState"])
		st, q, _ = sonarr.call("GET", "/api/v3/queue?includeSeries=true&includeEpisode=true"
		                       "&pageSize=100&apikey=" + info["sonarr_api_key"])
		recs = [r for r in q["records"] if r["series"]["tmdbId"] == 95396]
		if recs:
			check(len({r["downloadId"] for r in recs}) == 1, "one season pack, one downloadId")
			episodes_in_queue = max(episodes_in_queue, len(recs))
		st, mv, _ = seerr.call("GET", "/api/v1/movie/%d" % TMDB)
		available = mv["mediaInfo"]["status"] == 5
		time.sleep(0.03)
	check(available, "Oppenheimer became available")
	check("downloading" in seen_states, "qBittorrent showed it downloading: %r" % seen_states)
	check(seen_states & {"uploading", "stalledUP"}, "then seeding: %r" % seen_states)
	check("downloading" in seen_queue, "radarr queue showed it downloading: %r" % seen_queue)
	check(seen_queue & {"importPending", "importing"}, "then importing: %r" % seen_queue)
	check("stalledDL" in show_states, "the show's torrent stalled a while: %r" % show_states)
	check(episodes_in_queue == 9, "sonarr queue: one record per episode, got %d" %
	      episodes_in_queue)
	check(removed, "the torrent was removed later (torrents_removed)")
	st, r, _ = seerr.call("GET", "/api/v1/request/%d" % req["id"])
	check(r["status"] == 5, "request COMPLETED, got %r" % r["status"])
	st, ms, _ = radarr.call("GET", "/api/v3/movie?tmdbId=%d" % TMDB)
	check(len(ms) == 1 and ms[0]["hasFile"], "radarr has the file")
	st, tv, _ = seerr.call("GET", "/api/v1/tv/95396")
	check(tv["mediaInfo"]["seasons"][0]["status"] == 5 and tv["mediaInfo"]["status"] == 4,
	      "severance S1 available, show partially: %r" % tv["mediaInfo"]["status"])
	print("states seen: qbittorrent %s, radarr %s" % (sorted(seen_states), sorted(seen_queue)))


def main():
	proc = subprocess.Popen([sys.executable, DEMO, "--speed", str(SPEED)], stdin=subprocess.PIPE,
	                        stdout=subprocess.PIPE, text=True)
	try:
		info = json.loads(proc.stdout.readline())
		t0 = time.monotonic()
		run(info)
		print("PASS demo_smoke (%.1f s)" % (time.monotonic() - t0))
		rc = 0
	except AssertionError as e:
		print("FAIL demo_smoke: %s" % e)
		rc = 1
	finally:
		proc.stdin.close()  # the demo exits when its stdin closes
		try:
			proc.wait(5)
		except subprocess.TimeoutExpired:
			proc.kill()
			proc.wait()
			print("FAIL demo_smoke: demo did not exit on stdin EOF")
			rc = 1
		proc.stdout.close()
	return rc


if __name__ == "__main__":
	sys.exit(main())

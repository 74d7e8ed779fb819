"""The simulated home media server behind `usher demo`: catalogue, Seerr users, media rows,
requests, and the downloads they cause. The four fake services (demo_seerr, demo_arr, demo_qbit)
are views on this one World, so a request filed in Seerr shows up in Radarr/Sonarr's queue and
qBittorrent's torrent list, and becomes available in Seerr when the "import" finishes.

Time is simulated: sim seconds = wall seconds x speed. A download's phase is a pure function of
sim time since its request was approved; tick() applies the side effects of finished imports.
Every public method expects the caller to hold world.lock.
"""

import hashlib
import json
import os
import re
import threading
import time
import unicodedata

# Overseerr/Jellyseerr/Seerr enums (NOTES.md 1.2).
UNKNOWN, PENDING, PROCESSING, PARTIALLY_AVAILABLE, AVAILABLE = 1, 2, 3, 4, 5
REQ_PENDING, REQ_APPROVED, REQ_DECLINED, REQ_FAILED, REQ_COMPLETED = 1, 2, 3, 4, 5
PERM_ADMIN, PERM_MANAGE_REQUESTS, PERM_REQUEST, PERM_AUTO_APPROVE = 2, 16, 32, 128

# The life of a download, in simulated seconds after approval.
GRAB = 5.0            # Radarr/Sonarr search the indexers
DOWNLOAD = 90.0       # qBittorrent downloads
STALL_AT = 30.0       # some torrents lose their peers here...
STALL_LEN = 8.0       # ...for this long
IMPORT_PENDING = 2.0  # the arr noticed the finished download
IMPORTING = 4.0       # the arr copies it into the library
SEED = 60.0           # the torrent stays in qBittorrent, seeding, then is removed

USERS = [
	{"id": 1, "username": "mum", "displayName": "Mum", "email": "mum@demo.invalid",
	 "permissions": PERM_ADMIN},
	{"id": 2, "username": "dad", "displayName": "Dad", "email": "dad@demo.invalid",
	 "permissions": PERM_REQUEST},
	{"id": 3, "username": "kid", "displayName": "Kid", "email": "kid@demo.invalid",
	 "permissions": PERM_REQUEST},
]


def iso_ms(t):
	"""Seerr's timestamps: 2025-01-05T10:00:27.000Z."""
	return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def iso_s(t):
	"""The arr timestamps: 2025-01-05T10:00:27Z."""
	return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def norm(s):
	s = unicodedata.normalize("NFKD", s or "")
	s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
	s = s.replace("&", " and ")
	return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", s)).strip()


def dotted(s):
	s = unicodedata.normalize("NFKD", s)
	s = "".join(c for c in s if not unicodedata.combining(c))
	return re.sub(r"[^A-Za-z0-9]+", ".", s.replace("&", "and")).strip(".")


class Media:
	"""A Seerr Media row: availability of one film or show (status and per-season status)."""

	def __init__(self, mid, media_type, item, now):
		self.id = mid
		self.media_type = media_type
		self.item = item
		self.tmdb_id = item["tmdbId"]
		self.status = UNKNOWN
		self.status4k = UNKNOWN
		self.created = self.updated = now
		self.added_at = None
		# season number -> [status, status4k]
		self.seasons = {n: [UNKNOWN, UNKNOWN] for n in range(1, len(item.get("seasons", [])) + 1)}
		self.requests = []

	def touch(self, now):
		self.updated = now

	def recompute_tv(self, is4k):
		"""A show's status follows its seasons once any of them is available."""
		k = 1 if is4k else 0
		avail = [s[k] == AVAILABLE for s in self.seasons.values()]
		if all(avail):
			st = AVAILABLE
		elif any(avail):
			st = PARTIALLY_AVAILABLE
		elif any(s[k] == PROCESSING for s in self.seasons.values()):
			st = PROCESSING
		elif any(s[k] == PENDING for s in self.seasons.values()):
			st = PENDING
		else:
			st = UNKNOWN
		if is4k:
			self.status4k = st
		else:
			self.status = st


class Request:
	def __init__(self, rid, media, user, is4k, seasons, now):
		self.id = rid
		self.media = media
		self.user = user
		self.is4k = is4k
		self.status = REQ_PENDING
		self.modified_by = None
		self.created = self.updated = now
		self.seasons = [{"id": rid * 100 + n, "seasonNumber": n, "status": REQ_PENDING}
		                for n in seasons]
		self.download = None

	def set_status(self, st, now):
		self.status = st
		self.updated = now
		for s in self.seasons:
			s["status"] = st


class Download:
	"""One torrent fetched for one approved request (a season pack for shows)."""

	def __init__(self, did, req, t0, speed):
		self.id = did
		self.request = req
		self.kind = req.media.media_type
		item = req.media.item
		self.t0 = t0  # sim time of approval
		self.stalls = did % 2 == 0  # every other download loses its peers for a while
		self.imported = False
		q = "2160p" if req.is4k else "1080p"
		if self.kind == "movie":
			self.name = "%s.%s.%s.WEB-DL.x264-DEMO" % (dotted(item["title"]), item["year"], q)
			self.size = int(item.get("runtime", 100) * 60 * 1.0e6 * (3 if req.is4k else 1))
			self.category = "radarr"
		else:
			nums = [s["seasonNumber"] for s in req.seasons]
			tag = "S%02d" % nums[0] if len(nums) == 1 else "S%02d-S%02d" % (nums[0], nums[-1])
			self.name = "%s.%s.%s.WEB-DL.x264-DEMO" % (dotted(item["name"]), tag, q)
			eps = sum(item["seasons"][n - 1] for n in nums)
			self.size = int(eps * item.get("runtime", 30) * 60 * 0.8e6 * (3 if req.is4k else 1))
			self.category = "tv-sonarr"
		self.hash = hashlib.sha1(("usher-demo/%d/%s/%d" % (did, self.kind, item["tmdbId"]))
		                         .encode()).hexdigest()
		self.speed = speed

	def phase(self, now):
		"""Returns a dict: phase (searching|downloading|stalled|completed|importPending|importing|
		imported), progress 0..1, left (sim seconds to completion), seeded (sim seconds since
		completion, or None), gone (removed from qBittorrent)."""
		t = now - self.t0
		out = {"progress": 0.0, "left": None, "seeded": None, "gone": False}
		if t < GRAB:
			out["phase"] = "searching"
			return out
		d = t - GRAB
		stall = STALL_LEN if self.stalls else 0.0
		total = DOWNLOAD + stall
		if d < total:
			if self.stalls and STALL_AT <= d < STALL_AT + STALL_LEN:
				active, out["phase"] = STALL_AT, "stalled"
			else:
				active = d - stall if (self.stalls and d >= STALL_AT + STALL_LEN) else d
				out["phase"] = "downloading"
			out["progress"] = min(active / DOWNLOAD, 0.999)
			out["left"] = total - d
			return out
		e = d - total
		out["progress"] = 1.0
		out["left"] = 0.0
		out["seeded"] = e
		if e < IMPORT_PENDING:
			out["phase"] = "importPending"
		elif e < IMPORT_PENDING + IMPORTING:
			out["phase"] = "importing"
		else:
			out["phase"] = "imported"
			out["gone"] = e >= IMPORT_PENDING + IMPORTING + SEED
		return out

	def bytes_per_sim_second(self):
		return self.size / DOWNLOAD


class World:
	def __init__(self, catalog_path, speed=1.0, flavour="seerr"):
		self.lock = threading.RLock()
		self.speed = float(speed)
		self.flavour = flavour
		self._m0 = time.monotonic()
		self._w0 = time.time()
		with open(catalog_path, encoding="utf-8") as f:
			cat = json.load(f)
		self.movies = {}
		for m in cat["movies"]:
			m = dict(m)
			m["year"] = int(m["releaseDate"][:4])
			self.movies[m["tmdbId"]] = m
		self.shows = {}
		for s in cat["shows"]:
			s = dict(s)
			s["year"] = int(s["firstAirDate"][:4])
			self.shows[s["tmdbId"]] = s
		self.people = cat.get("people", [])
		self.users = {u["id"]: dict(u, created=self._w0 - 86400 * 90) for u in USERS}
		self.media = {}        # (type, tmdbId) -> Media
		self.requests = {}     # id -> Request
		self.downloads = []
		self.radarr = {}       # tmdbId -> radarr movie dict (id, added, hasFile)
		self.sonarr = {}       # tmdbId -> sonarr series dict (id, added, files: set of seasons)
		self._ids = {"media": 0, "request": 0, "download": 0, "radarr": 0, "sonarr": 0}
		start = self.wall()
		for m in self.movies.values():
			if m.get("library") == "available":
				med = self.get_media("movie", m["tmdbId"], create=True)
				med.status = AVAILABLE
				med.added_at = start - 86400 * 30
				self.radarr_add(m, has_file=True)
		for s in self.shows.values():
			lib = s.get("library")
			if lib:
				med = self.get_media("tv", s["tmdbId"], create=True)
				for n in lib.get("availableSeasons", []):
					med.seasons[n][0] = AVAILABLE
				med.recompute_tv(False)
				med.added_at = start - 86400 * 30
				self.sonarr_add(s, seasons_with_files=lib.get("availableSeasons", []))
		for r in cat.get("requests", []):
			self.create_request(self.users[r["user"]], r["mediaType"], r["tmdbId"],
			                    r.get("seasons", "all"), r.get("is4k", False))

	# Time -------------------------------------------------------------------------------------
	def now(self):
		"""Simulated seconds since start."""
		return (time.monotonic() - self._m0) * self.speed

	def wall(self):
		return time.time()

	def wall_in(self, sim_seconds):
		"""Wall-clock time after sim_seconds of simulated time."""
		return time.time() + sim_seconds / self.speed

	def _next(self, kind):
		self._ids[kind] += 1
		return self._ids[kind]

	# Lookups ----------------------------------------------------------------------------------
	def item(self, media_type, tmdb_id):
		return (self.movies if media_type == "movie" else self.shows).get(tmdb_id)

	def get_media(self, media_type, tmdb_id, create=False):
		key = (media_type, tmdb_id)
		m = self.media.get(key)
		if m is None and create:
			item = self.item(media_type, tmdb_id)
			m = Media(self._next("media"), media_type, item, self.wall())
			self.media[key] = m
		return m

	def search(self, query):
		"""Catalogue entries matching a free-text query (Seerr's search prefixes tmdb: and year:
		are understood), best first. Returns [(media_type, item)]."""
		q = query.strip()
		tmdb = re.search(r"\btmdb:(\d+)", q)
		year = re.search(r"\byear:(\d{4})", q)
		q = re.sub(r"\b(tmdb|year|imdb|tvdb):\S+", " ", q)
		nq = norm(q)
		words = nq.split()
		found = []
		for mt, items in (("movie", self.movies.values()), ("tv", self.shows.values()),
		                  ("person", self.people)):
			for it in items:
				if tmdb:
					if mt != "person" and it["tmdbId"] == int(tmdb.group(1)):
						found.append((0, 0, mt, it))
					continue
				title = it.get("title") or it.get("name")
				if year and (mt == "person" or it["year"] != int(year.group(1))):
					continue
				names = [norm(title), norm(it.get("originalTitle", ""))]
				score = None
				for n in names:
					if not n:
						continue
					nw = n.split()
					if nq and n == nq:
						score = 0
					elif nq and n.startswith(nq):
						score = min(score if score is not None else 9, 1)
					elif nq and nq in n:
						score = min(score if score is not None else 9, 2)
					elif words and all(any(x.startswith(w) for x in nw) for w in words):
						score = min(score if score is not None else 9, 3)
				if not nq and year:
					score = 3
				if score is not None:
					found.append((score, -it.get("year", 0), mt, it))
		found.sort(key=lambda f: (f[0], f[1]))
		return [(mt, it) for _, _, mt, it in found]

	# Library (Radarr/Sonarr) ------------------------------------------------------------------
	def radarr_add(self, movie, has_file=False):
		r = self.radarr.get(movie["tmdbId"])
		if r is None:
			r = {"id": self._next("radarr"), "added": self.wall(), "hasFile": has_file}
			self.radarr[movie["tmdbId"]] = r
		return r

	def sonarr_add(self, show, seasons_with_files=()):
		s = self.sonarr.get(show["tmdbId"])
		if s is None:
			s = {"id": self._next("sonarr"), "added": self.wall(), "files": set(seasons_with_files),
			     "monitored": set(seasons_with_files)}
			self.sonarr[show["tmdbId"]] = s
		return s

	# Requests ---------------------------------------------------------------------------------
	def create_request(self, user, media_type, tmdb_id, seasons, is4k):
		"""Files a request as `user`. Returns (status, body) the way Seerr answers POST
		/request: 201 with the Request object, 409 duplicate, 202 no seasons left, 500 unknown."""
		item = self.item(media_type, tmdb_id)
		if item is None:
			return 500, {"message": "Unable to retrieve %s." %
			             ("movie" if media_type == "movie" else "series")}
		now = self.wall()
		media = self.get_media(media_type, tmdb_id, create=True)
		k = 1 if is4k else 0
		active = [r for r in media.requests if r.is4k == is4k and r.status != REQ_DECLINED]
		if media_type == "movie":
			cur = media.status4k if is4k else media.status
			if active or cur == AVAILABLE:
				return 409, {"message": "Request for this media already exists."}
			wanted = []
		else:
			all_seasons = list(range(1, len(item["seasons"]) + 1))
			if seasons == "all" or seasons is None:
				wanted = all_seasons
			else:
				wanted = sorted({int(n) for n in seasons if int(n) in all_seasons})
			taken = {s["seasonNumber"] for r in active for s in r.seasons}
			wanted = [n for n in wanted if n not in taken and media.seasons[n][k] == UNKNOWN]
			if not wanted:
				return 202, {"message": "No seasons available to request"}
		req = Request(self._next("request"), media, user, is4k, wanted, now)
		self.requests[req.id] = req
		media.requests.append(req)
		user["requestCount"] = user.get("requestCount", 0) + 1
		if media_type == "movie":
			if is4k:
				media.status4k = PENDING
			else:
				media.status = PENDING
		else:
			for n in wanted:
				media.seasons[n][k] = PENDING
			if (media.status4k if is4k else media.status) == UNKNOWN:
				media.recompute_tv(is4k)
		media.touch(now)
		if user["permissions"] & (PERM_ADMIN | PERM_AUTO_APPROVE | PERM_MANAGE_REQUESTS):
			self.approve(req, user)
		return 201, req

	def approve(self, req, by):
		now = self.wall()
		req.set_status(REQ_APPROVED, now)
		req.modified_by = by
		media = req.media
		k = 1 if req.is4k else 0
		if media.media_type == "movie":
			if req.is4k:
				media.status4k = PROCESSING
			else:
				media.status = PROCESSING
			self.radarr_add(media.item)
		else:
			for s in req.seasons:
				media.seasons[s["seasonNumber"]][k] = PROCESSING
			if req.is4k:
				media.status4k = PROCESSING
			else:
				media.status = PROCESSING
			ser = self.sonarr_add(media.item)
			ser["monitored"].update(s["seasonNumber"] for s in req.seasons)
		media.touch(now)
		if req.download is None:
			req.download = Download(self._next("download"), req, self.now(), self.speed)
			self.downloads.append(req.download)

	def decline(self, req, by):
		now = self.wall()
		req.set_status(REQ_DECLINED, now)
		req.modified_by = by
		self._unpend(req)

	def delete(self, req):
		if req.status == REQ_PENDING:
			self._unpend(req)
		req.media.requests.remove(req)
		del self.requests[req.id]

	def _unpend(self, req):
		"""A request that will not go ahead gives its pending statuses back."""
		media = req.media
		k = 1 if req.is4k else 0
		if media.media_type == "movie":
			if (media.status4k if req.is4k else media.status) == PENDING:
				if req.is4k:
					media.status4k = UNKNOWN
				else:
					media.status = UNKNOWN
		else:
			for s in req.seasons:
				if media.seasons[s["seasonNumber"]][k] == PENDING:
					media.seasons[s["seasonNumber"]][k] = UNKNOWN
			media.recompute_tv(req.is4k)
		media.touch(self.wall())

	# Simulation -------------------------------------------------------------------------------
	def tick(self):
		"""Applies finished imports: library files, Seerr availability, request completion."""
		now = self.now()
		for d in self.downloads:
			if d.imported or d.phase(now)["phase"] != "imported":
				continue
			d.imported = True
			req = d.request
			media = req.media
			wall = self.wall()
			k = 1 if req.is4k else 0
			if media.media_type == "movie":
				self.radarr[media.tmdb_id]["hasFile"] = True
				if req.is4k:
					media.status4k = AVAILABLE
				else:
					media.status = AVAILABLE
			else:
				for s in req.seasons:
					media.seasons[s["seasonNumber"]][k] = AVAILABLE
					self.sonarr[media.tmdb_id]["files"].add(s["seasonNumber"])
				media.recompute_tv(req.is4k)
			media.added_at = media.added_at or wall
			media.touch(wall)
			if self.flavour == "seerr" and req.status == REQ_APPROVED:
				req.set_status(REQ_COMPLETED, wall)

	def active_downloads(self):
		"""(download, phase) for every download the arr queue still shows."""
		now = self.now()
		out = []
		for d in self.downloads:
			ph = d.phase(now)
			if ph["phase"] not in ("searching", "imported"):
				out.append((d, ph))
		return out

	def torrents(self):
		"""(download, phase) for every torrent qBittorrent still holds."""
		now = self.now()
		out = []
		for d in self.downloads:
			ph = d.phase(now)
			if ph["phase"] != "searching" and not ph["gone"]:
				out.append((d, ph))
		return out

	def seconds_left_wall(self, ph):
		return None if ph["left"] is None else ph["left"] / self.speed


def default_catalog():
	return os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.json")

#!/usr/bin/python3
"""A stateful fake Seerr (Overseerr / Jellyseerr / Seerr, /api/v1) for tests.

It answers as shared/specs/NOTES.md section 1 and the servers' source say, and refuses what the
real server refuses, so a client that passes against it has been told "no" in every way a real
server says it:

- no or wrong `X-Api-Key`, or an `X-Api-User` naming nobody: 403
  {"status":403,"error":"You do not have permission to access this endpoint"} (the auth
  middleware's shape: `error`, not `message`); endpoints needing a permission the user lacks
  (approve/decline, issues) answer the same.
- POST /request: 400 from the OpenAPI validator without mediaType/mediaId; 403 {"message"} for a
  missing REQUEST permission or an exceeded quota; 409 for a film with a request that is not
  declined or completed; 202 {"message":"No seasons available to request"} when every season
  asked for is already requested or in the library (others are silently dropped); 500 "Unable to
  retrieve movie." / "Unable to retrieve series." for an unknown TMDB id.
- Season numbers a show does not have are NOT refused: MediaRequest.createRequest() never checks
  them against TMDB (seerr f74306e), so the real server files the request and Sonarr fails later.
  The fake does the same, so a client that forgets to check seasons itself shows up in tests.
- DELETE /request/{id} by someone who neither manages requests nor owns it, of a request no
  longer pending: 401 {"message":"You do not have permission to delete this request."} (401, not
  403, in the source).
- GET /request: members see only their own; ?requestedBy= another user -> 403 {"message"}.

Command line: fakehttp.py's (`--port 0` prints `LISTENING <port>`; `--scenario`, `--record`,
`--verbose`; /__fake/requests, /__fake/routes faults take precedence over the handlers) plus
`--catalog FILE` (default: contrib/demo/catalog.json), `--api-key KEY` (default test-seerr-key),
`--users JSON|FILE`, `--state JSON|FILE` and `--no-library` (start with nothing in the library and
no requests, instead of the catalogue's). Users default to 1 Mum (ADMIN), 2 Dad (REQUEST +
AUTO_APPROVE), 3 Kid (REQUEST: her requests stay PENDING). A user may carry
`"quota": {"movie": N, "tv": N}` (requests / seasons per 7 days).

State file: {"media": [{"mediaType": "movie", "tmdbId": 603, "status": 5},
                       {"mediaType": "tv", "tmdbId": 1396, "seasons": {"1": 5, "2": 5}}],
             "requests": [{"user": 3, "mediaType": "tv", "tmdbId": 1399, "seasons": [1],
                           "status": 1, "is4k": false}]}
"""

import datetime
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakehttp import FakeServer, Response, run_cli  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_CATALOG = os.path.join(ROOT, "contrib", "demo", "catalog.json")
DEFAULT_KEY = "test-seerr-key"

# server/lib/permissions.ts
ADMIN, MANAGE_USERS, MANAGE_REQUESTS, REQUEST = 2, 8, 16, 32
AUTO_APPROVE, AUTO_APPROVE_MOVIE, AUTO_APPROVE_TV = 128, 256, 512
REQUEST_4K, REQUEST_4K_MOVIE, REQUEST_4K_TV = 1024, 2048, 4096
REQUEST_VIEW, AUTO_APPROVE_4K, AUTO_APPROVE_4K_MOVIE, AUTO_APPROVE_4K_TV = 16384, 32768, 65536, 131072
REQUEST_MOVIE, REQUEST_TV, MANAGE_ISSUES, CREATE_ISSUES = 262144, 524288, 1048576, 4194304

# server/constants/media.ts (seerr)
M_UNKNOWN, M_PENDING, M_PROCESSING, M_PARTIAL, M_AVAILABLE = 1, 2, 3, 4, 5
R_PENDING, R_APPROVED, R_DECLINED, R_FAILED, R_COMPLETED = 1, 2, 3, 4, 5

DEFAULT_USERS = [
	{"id": 1, "displayName": "Mum", "permissions": ADMIN},
	{"id": 2, "displayName": "Dad", "permissions": REQUEST | AUTO_APPROVE},
	{"id": 3, "displayName": "Kid", "permissions": REQUEST},
]

NO_PERMISSION = {"status": 403, "error": "You do not have permission to access this endpoint"}
PAGE = 20

# Multi-search returns people too; the catalogue's people match on the titles they are known for.
KNOWN_FOR = {137427: [438631, 693134, 335984], 525: [872585, 157336, 27205, 155], 45400: [346698]}


def has(user, *perms):
	"""User.hasPermission(perms, {type: 'or'}): ADMIN implies everything."""
	p = user["permissions"]
	return bool(p & ADMIN) or any(p & x for x in perms)


def words(s):
	return re.findall(r"\w+", (s or "").casefold())


def load_json_arg(value):
	"""--users / --state take inline JSON or a file name."""
	if value is None:
		return None
	if value.lstrip()[:1] in ("[", "{"):
		return json.loads(value)
	with open(value, encoding="utf-8") as f:
		return json.load(f)


class SeerrState:
	"""Catalogue, users, media rows and requests; every method runs under the server's lock."""

	def __init__(self, catalog, users, library=True):
		self.movies = {m["tmdbId"]: m for m in catalog.get("movies", [])}
		self.shows = {s["tmdbId"]: s for s in catalog.get("shows", [])}
		self.people = list(catalog.get("people", []))
		self.users = {u["id"]: dict(u) for u in users}
		for u in self.users.values():
			u.setdefault("username", u["displayName"].lower())
			u.setdefault("email", "%s@example.org" % u["username"])
		self.media = {}     # (mediaType, tmdbId) -> media dict
		self.requests = {}  # id -> request dict
		self.issues = {}
		self.next_media = 1
		self.next_request = 1
		self.next_issue = 1
		self.clock = datetime.datetime(2025, 1, 5, 10, 0, 0)
		if library:
			for m in catalog.get("movies", []):
				if m.get("library") == "available":
					self.media_row("movie", m["tmdbId"])["library"] = M_AVAILABLE
			for s in catalog.get("shows", []):
				avail = (s.get("library") or {}).get("availableSeasons") or []
				if avail:
					row = self.media_row("tv", s["tmdbId"])
					row["season_library"] = {n: M_AVAILABLE for n in avail}
			for r in catalog.get("requests", []):
				if r.get("user", 1) in self.users:  # with --users, a catalogue user may be gone
					self.add_request(r)

	# Time: every change moves a fake clock on a second, so createdAt orders like ids.
	def now(self):
		self.clock += datetime.timedelta(seconds=1)
		return self.clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")

	def item(self, mt, tmdb_id):
		return (self.movies if mt == "movie" else self.shows).get(tmdb_id)

	def media_row(self, mt, tmdb_id):
		key = (mt, tmdb_id)
		if key not in self.media:
			t = self.now()
			self.media[key] = {"id": self.next_media, "mediaType": mt, "tmdbId": tmdb_id,
			                   "library": M_UNKNOWN, "season_library": {},
			                   "createdAt": t, "updatedAt": t}
			self.next_media += 1
		return self.media[key]

	def apply_state(self, state):
		for m in state.get("media", []):
			row = self.media_row(m["mediaType"], m["tmdbId"])
			if "status" in m:
				row["library"] = m["status"]
			for n, st in (m.get("seasons") or {}).items():
				row["season_library"][int(n)] = st
		for r in state.get("requests", []):
			self.add_request(r)

	def add_request(self, r):
		"""A pre-existing request from the catalogue or a state file."""
		row = self.media_row(r["mediaType"], r["tmdbId"])
		status = r.get("status", R_PENDING)
		seasons = r.get("seasons") or []
		if r["mediaType"] == "tv" and not seasons:
			seasons = self.all_seasons(r["tmdbId"])
		return self.new_request(row, self.users[r.get("user", 1)], status,
		                        bool(r.get("is4k")), seasons)

	def new_request(self, row, user, status, is4k, seasons, modified_by=None):
		t = self.now()
		req = {"id": self.next_request, "status": status, "type": row["mediaType"],
		       "is4k": is4k, "media": row, "requestedBy": user, "modifiedBy": modified_by,
		       "createdAt": t, "updatedAt": t,
		       "seasons": [{"id": self.next_request * 100 + n, "seasonNumber": n,
		                    "status": status, "createdAt": t, "updatedAt": t}
		                   for n in seasons]}
		self.requests[req["id"]] = req
		self.next_request += 1
		row["updatedAt"] = t
		return req

	def all_seasons(self, tmdb_id):
		show = self.shows.get(tmdb_id) or {}
		return [n for n, eps in enumerate(show.get("seasons", []), 1) if eps > 0]

	def media_requests(self, row):
		return [r for r in self.requests.values() if r["media"] is row]

	# Availability as Seerr derives it: the library first, then the live requests.
	def status(self, row, is4k=False):
		if not is4k and row["library"] in (M_PARTIAL, M_AVAILABLE):
			return row["library"]
		if not is4k and row["mediaType"] == "tv" and row["season_library"]:
			lib = [n for n, st in row["season_library"].items() if st == M_AVAILABLE]
			if lib:
				return M_AVAILABLE if set(self.all_seasons(row["tmdbId"])) <= set(lib) \
					else M_PARTIAL
		live = [r["status"] for r in self.media_requests(row) if r["is4k"] == is4k]
		if R_APPROVED in live:
			return M_PROCESSING
		if R_PENDING in live:
			return M_PENDING
		return M_UNKNOWN if is4k else row["library"]

	def season_status(self, row, n, is4k=False):
		if not is4k and row["season_library"].get(n, M_UNKNOWN) != M_UNKNOWN:
			return row["season_library"][n]
		best = M_UNKNOWN
		for r in self.media_requests(row):
			if r["is4k"] != is4k or n not in [s["seasonNumber"] for s in r["seasons"]]:
				continue
			if r["status"] == R_APPROVED:
				best = M_PROCESSING
			elif r["status"] == R_PENDING and best == M_UNKNOWN:
				best = M_PENDING
		return best

	# JSON shapes (NOTES.md 1.3-1.6) -------------------------------------------------------------
	def user_json(self, u, caller=None):
		out = {"id": u["id"], "displayName": u["displayName"], "username": u["username"],
		       "plexUsername": None, "userType": 2, "permissions": u["permissions"],
		       "avatar": "/os_logo_square.png",
		       "requestCount": sum(r["requestedBy"] is u for r in self.requests.values()),
		       "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z"}
		if caller is not None and has(caller, MANAGE_USERS):
			out["email"] = u["email"]
		return out

	def media_json(self, row, full=False):
		out = {"id": row["id"], "mediaType": row["mediaType"], "tmdbId": row["tmdbId"],
		       "tvdbId": (self.item(row["mediaType"], row["tmdbId"]) or {}).get("tvdbId"),
		       "imdbId": None, "status": self.status(row), "status4k": self.status(row, True),
		       "createdAt": row["createdAt"], "updatedAt": row["updatedAt"],
		       "lastSeasonChange": row["updatedAt"], "mediaAddedAt": None, "serviceId": None,
		       "externalServiceId": None, "externalServiceSlug": None, "ratingKey": None}
		if row["mediaType"] == "tv":
			nums = sorted(set(self.all_seasons(row["tmdbId"])) | set(row["season_library"]))
			out["seasons"] = [{"id": row["id"] * 100 + n, "seasonNumber": n,
			                   "status": self.season_status(row, n),
			                   "status4k": self.season_status(row, n, True),
			                   "createdAt": row["createdAt"], "updatedAt": row["updatedAt"]}
			                  for n in nums]
		if full:
			out["requests"] = [self.request_json(r, with_media=False)
			                   for r in self.media_requests(row)]
			out["downloadStatus"] = []
			out["downloadStatus4k"] = []
			out["serviceUrl"] = None
			out["plexUrl"] = None
		return out

	def request_json(self, r, with_media=True):
		out = {"id": r["id"], "status": r["status"], "type": r["type"], "is4k": r["is4k"],
		       "seasonCount": len(r["seasons"]), "createdAt": r["createdAt"],
		       "updatedAt": r["updatedAt"], "serverId": None, "profileId": None,
		       "rootFolder": None, "languageProfileId": None, "tags": None,
		       "isAutoRequest": False, "seasons": [dict(s) for s in r["seasons"]],
		       "requestedBy": self.user_json(r["requestedBy"]),
		       "modifiedBy": self.user_json(r["modifiedBy"]) if r["modifiedBy"] else None}
		if with_media:
			out["media"] = self.media_json(r["media"])
		return out

	def result_json(self, mt, it):
		if mt == "person":
			return {"id": it["id"], "mediaType": "person", "name": it["name"],
			        "profilePath": None, "adult": False, "popularity": 10.0,
			        "knownForDepartment": it.get("knownForDepartment"),
			        "knownFor": [self.result_json("movie", self.movies[i])
			                     for i in KNOWN_FOR.get(it["id"], []) if i in self.movies]}
		out = {"id": it["tmdbId"], "mediaType": mt, "overview": it.get("overview", ""),
		       "posterPath": it.get("posterPath"), "backdropPath": None, "popularity": 10.0,
		       "voteAverage": 0, "voteCount": 0, "genreIds": [],
		       "originalLanguage": it.get("originalLanguage", "en")}
		if mt == "movie":
			out.update({"title": it["title"], "originalTitle": it.get("originalTitle", it["title"]),
			            "releaseDate": it.get("releaseDate"), "adult": False, "video": False})
		else:
			out.update({"name": it["name"], "originalName": it.get("originalName", it["name"]),
			            "firstAirDate": it.get("firstAirDate"), "originCountry": []})
		row = self.media.get((mt, it["tmdbId"]))
		if row is not None:
			out["mediaInfo"] = self.media_json(row, full=True)
		return out

	# Search -------------------------------------------------------------------------------------
	def search(self, query):
		"""Every query word must be a word of the title (people: of their name or of a title
		they are known for). Exact titles first, then newest first."""
		tmdb = re.search(r"\btmdb:(\d+)", query)
		year = re.search(r"\byear:(\d{4})", query)
		q = words(re.sub(r"\b(tmdb|imdb|tvdb|year):\S*", " ", query))
		found = []
		for mt, items in (("movie", self.movies.values()), ("tv", self.shows.values())):
			for it in items:
				title = it.get("title") or it.get("name")
				date = it.get("releaseDate") or it.get("firstAirDate") or ""
				if tmdb:
					if it["tmdbId"] == int(tmdb.group(1)):
						found.append((0, "", mt, it))
					continue
				if year and not date.startswith(year.group(1)):
					continue
				names = [words(title), words(it.get("originalTitle") or it.get("originalName"))]
				if q and any(all(w in n for w in q) for n in names):
					found.append((0 if words(title) == q else 1, date, mt, it))
		found.sort(key=lambda f: (f[0], [-ord(c) for c in f[1]]))
		out = [(mt, it) for _, _, mt, it in found]
		if q and not tmdb and not year:
			for p in self.people:
				titles = [words(self.movies[i]["title"]) for i in KNOWN_FOR.get(p["id"], [])
				          if i in self.movies]
				if all(w in words(p["name"]) for w in q) or \
						any(all(w in t for w in q) for t in titles):
					out.append(("person", p))
		return out

	def recommendations(self, mt, tmdb_id):
		"""Deterministic stand-ins: same kind, sharing a title word, then nearest in time."""
		items = self.movies if mt == "movie" else self.shows
		me = items[tmdb_id]
		title = set(w for w in words(me.get("title") or me.get("name")) if len(w) > 3)
		date = me.get("releaseDate") or me.get("firstAirDate") or "0000"
		others = [it for i, it in items.items() if i != tmdb_id]

		def key(it):
			t = set(words(it.get("title") or it.get("name")))
			d = it.get("releaseDate") or it.get("firstAirDate") or "0000"
			return (0 if title & t else 1, abs(int(d[:4]) - int(date[:4])), it["tmdbId"])

		return sorted(others, key=key)[:6]

	# Quotas (User.getQuota): requests (films) or seasons (shows) in the last `days`.
	def quota_remaining(self, user, mt):
		limit = (user.get("quota") or {}).get(mt)
		if not limit:
			return None
		used = 0
		for r in self.requests.values():
			if r["requestedBy"] is user and r["type"] == mt and r["status"] != R_DECLINED:
				used += 1 if mt == "movie" else len(r["seasons"])
		return max(0, limit - used)


def make_fake(routes, catalog_path=DEFAULT_CATALOG, api_key=DEFAULT_KEY, users=None, state=None,
              library=True, **kw):
	"""A FakeServer speaking Seerr; `routes` (scenario or /__fake/routes faults) come first."""
	with open(catalog_path, encoding="utf-8") as f:
		catalog = json.load(f)
	st = SeerrState(catalog, users or DEFAULT_USERS, library=library)
	if state:
		st.apply_state(state)
	srv = FakeServer(routes=routes, **kw)
	srv.seerr = st
	lock = threading.Lock()

	def handler(perm=None, public=False):
		"""Wraps a route: auth middleware (checkUser + isAuthenticated), then the lock."""
		def deco(fn):
			def run(req):
				if not public:
					if req.header("X-Api-Key") != api_key:
						return Response(403, json=NO_PERMISSION)
					uid = req.header("X-Api-User")
					try:
						req.user = st.users.get(int(uid) if uid else 1)
					except ValueError:
						req.user = None
					if req.user is None or (perm is not None and not has(req.user, *perm)):
						return Response(403, json=NO_PERMISSION)
				with lock:
					return fn(req)
			return run
		return deco

	def error(status, message):
		return Response(status, json={"message": message})

	def int_arg(req, name, default):
		try:
			return int(req.arg(name, default))
		except (TypeError, ValueError):
			return default

	def route(method, path, **opts):
		def deco(fn):
			srv.add_handler(method, path, handler(**opts)(fn))
			return fn
		return deco

	@route("GET", r"^/api/v1/status$", public=True)
	def status(req):
		return {"version": "1.33.2", "commitTag": "fake", "updateAvailable": False,
		        "commitsBehind": 0, "restartRequired": False}

	@route("GET", r"^/api/v1/auth/me$")
	def me(req):
		return st.user_json(req.user, req.user)

	# A user's own notification settings, where the Discord id lives
	# (NOTES 1.7); other people's need MANAGE_USERS.
	@route("GET", r"^/api/v1/user/(\d+)/settings/notifications$")
	def notification_settings(req):
		uid = int(req.match.group(1))
		u = st.users.get(uid)
		if u is None:
			return error(404, "User not found.")
		if uid != req.user["id"] and not (req.user["permissions"] & (ADMIN | MANAGE_USERS)):
			return Response(403, json=NO_PERMISSION)
		return {"discordId": u.get("discordId"), "discordEnabled": bool(u.get("discordId")),
		        "telegramChatId": None, "telegramEnabled": False, "pushbulletAccessToken": None,
		        "email": None, "notificationTypes": {}}

	@route("GET", r"^/api/v1/search$")
	def search(req):
		query = req.arg("query")
		if not query:
			return Response(400, json={"message": "request/query must have required property "
			                           "'query'", "errors": []})
		page = max(1, int_arg(req, "page", 1))
		found = st.search(query)
		chunk = found[(page - 1) * PAGE:page * PAGE]
		return {"page": page, "totalPages": max(1, (len(found) + PAGE - 1) // PAGE),
		        "totalResults": len(found), "results": [st.result_json(mt, it) for mt, it in chunk]}

	def details(mt, tmdb_id):
		it = st.item(mt, tmdb_id)
		out = st.result_json(mt, it)
		del out["mediaType"]
		if mt == "movie":
			out.update({"imdbId": it.get("imdbId"), "runtime": it.get("runtime"),
			            "status": "Released", "genres": [],
			            "externalIds": {"imdbId": it.get("imdbId")}})
		else:
			seasons = [{"id": tmdb_id * 100 + n, "seasonNumber": n, "episodeCount": c,
			            "airDate": None, "name": "Season %d" % n, "posterPath": None}
			           for n, c in enumerate(it["seasons"], 1)]
			# numberOfSeasons: the spec's "numberOfSeason" is a typo (NOTES.md 1.6).
			out.update({"numberOfSeasons": len(seasons),
			            "numberOfEpisodes": sum(it["seasons"]), "seasons": seasons,
			            "status": it.get("status", "Ended"),
			            "externalIds": {"tvdbId": it.get("tvdbId"), "imdbId": it.get("imdbId")}})
		return out

	@route("GET", r"^/api/v1/movie/(\d+)$")
	def movie(req):
		tmdb_id = int(req.match.group(1))
		if tmdb_id not in st.movies:
			return error(500, "Unable to retrieve movie.")
		return details("movie", tmdb_id)

	@route("GET", r"^/api/v1/tv/(\d+)$")
	def tv(req):
		tmdb_id = int(req.match.group(1))
		if tmdb_id not in st.shows:
			return error(500, "Unable to retrieve series.")
		return details("tv", tmdb_id)

	@route("GET", r"^/api/v1/(movie|tv)/(\d+)/recommendations$")
	def recommendations(req):
		mt, tmdb_id = req.match.group(1), int(req.match.group(2))
		if st.item(mt, tmdb_id) is None:
			return error(500, "Unable to retrieve recommended %s." %
			             ("movies" if mt == "movie" else "series"))
		items = st.recommendations(mt, tmdb_id)
		return {"page": 1, "totalPages": 1, "totalResults": len(items),
		        "results": [st.result_json(mt, it) for it in items]}

	@route("POST", r"^/api/v1/request$")
	def create(req):
		body = req.json
		# The OpenAPI validator (server/index.ts) refuses a body without the required
		# properties before the route runs: 400 with its message and an errors list.
		if not isinstance(body, dict):
			return Response(400, json={"message": "request/body must be object", "errors": []})
		for prop in ("mediaType", "mediaId"):
			if prop not in body:
				return Response(400, json={
					"message": "request/body must have required property '%s'" % prop,
					"errors": [{"path": "/body/" + prop, "message":
					            "must have required property '%s'" % prop,
					            "errorCode": "required.openapi.validation"}]})
		mt, tmdb_id, is4k = body["mediaType"], body["mediaId"], bool(body.get("is4k"))
		if mt not in ("movie", "tv") or not isinstance(tmdb_id, int):
			return Response(400, json={"message": "request/body/mediaType must be equal to one "
			                           "of the allowed values: movie, tv", "errors": []})
		caller = user = req.user
		if body.get("userId") is not None and body["userId"] != caller["id"]:
			if not has(caller, MANAGE_USERS, MANAGE_REQUESTS):
				return error(403, "You do not have permission to modify the request user.")
			user = st.users.get(body["userId"])
			if user is None:
				return error(500, "Could not find any entity of type \"User\" matching")
		if mt == "movie" and not has(user, *((REQUEST_4K, REQUEST_4K_MOVIE) if is4k
		                                     else (REQUEST, REQUEST_MOVIE))):
			return error(403, "You do not have permission to make %smovie requests." %
			             ("4K " if is4k else ""))
		if mt == "tv" and not has(user, *((REQUEST_4K, REQUEST_4K_TV) if is4k
		                                  else (REQUEST, REQUEST_TV))):
			return error(403, "You do not have permission to make %sseries requests." %
			             ("4K " if is4k else ""))
		# Quotas are the request user's; only a manager saying ignoreQuota skips them.
		remaining = st.quota_remaining(user, mt)
		if body.get("ignoreQuota") is True:
			if not has(caller, MANAGE_REQUESTS):
				return error(403, "You do not have permission to bypass user quota limits.")
			remaining = None
		if remaining == 0:
			return error(403, "Movie Quota exceeded." if mt == "movie" else
			             "Series Quota exceeded.")
		if st.item(mt, tmdb_id) is None:
			return error(500, "Unable to retrieve movie." if mt == "movie" else
			             "Unable to retrieve series.")
		row = st.media_row(mt, tmdb_id)
		existing = [r for r in st.media_requests(row) if r["is4k"] == is4k]
		if mt == "movie" and existing and \
				existing[0]["status"] not in (R_DECLINED, R_COMPLETED):
			return error(409, "Request for this media already exists.")
		auto = has(caller, *((AUTO_APPROVE_4K, AUTO_APPROVE_4K_MOVIE if mt == "movie"
		                       else AUTO_APPROVE_4K_TV) if is4k else
		                      (AUTO_APPROVE, AUTO_APPROVE_MOVIE if mt == "movie"
		                       else AUTO_APPROVE_TV)), MANAGE_REQUESTS)
		status = R_APPROVED if auto else R_PENDING
		seasons = []
		if mt == "tv":
			asked = body.get("seasons")
			if asked == "all":
				asked = st.all_seasons(tmdb_id)
			if not isinstance(asked, list):
				# MediaRequest.createRequest() calls .filter() on it: a TypeError, so a 500.
				return error(500, "Cannot read properties of undefined (reading 'filter')")
			taken = set()
			for r in existing:
				if r["status"] not in (R_DECLINED, R_COMPLETED):
					taken |= {s["seasonNumber"] for s in r["seasons"]}
			taken |= {n for n, s in row["season_library"].items() if s != M_UNKNOWN}
			seasons = [n for n in asked if isinstance(n, int) and n > 0 and n not in taken]
			if not seasons:
				return error(202, "No seasons available to request")
			if remaining is not None and len(seasons) > remaining:
				return error(403, "Series Quota exceeded.")
		r = st.new_request(row, user, status, is4k, seasons, caller if auto else None)
		return Response(201, json=st.request_json(r))

	FILTERS = {
		"all": lambda r, ms: True,
		"pending": lambda r, ms: r["status"] == R_PENDING,
		"approved": lambda r, ms: r["status"] == R_APPROVED,
		"processing": lambda r, ms: r["status"] == R_APPROVED and ms in (1, 2, 3, 4),
		"available": lambda r, ms: r["status"] == R_COMPLETED and ms == M_AVAILABLE,
		"unavailable": lambda r, ms: r["status"] in (R_PENDING, R_APPROVED) and ms in (1, 2, 3, 4),
		"failed": lambda r, ms: r["status"] == R_FAILED,
		"completed": lambda r, ms: r["status"] == R_COMPLETED,
	}

	def may_see_all(u):
		return has(u, MANAGE_REQUESTS, REQUEST_VIEW)

	@route("GET", r"^/api/v1/request$")
	def list_requests(req):
		take = int_arg(req, "take", 10) or 10
		skip = max(0, int_arg(req, "skip", 0))
		by = int_arg(req, "requestedBy", 0)
		flt = FILTERS.get(req.arg("filter") or "all", FILTERS["all"])
		if not may_see_all(req.user):
			if by and by != req.user["id"]:
				return error(403, "You do not have permission to view this user's requests.")
			by = req.user["id"]
		rs = [r for r in st.requests.values()
		      if flt(r, st.status(r["media"], r["is4k"]))
		      and (not by or r["requestedBy"]["id"] == by)]
		mt = req.arg("mediaType")
		if mt in ("movie", "tv"):
			rs = [r for r in rs if r["type"] == mt]
		rs.sort(key=lambda r: (r["updatedAt"], r["id"]) if req.arg("sort") == "modified"
		        else r["id"], reverse=req.arg("sortDirection") != "asc")
		return {"pageInfo": {"pages": (len(rs) + take - 1) // take, "pageSize": take,
		                     "results": len(rs), "page": skip // take + 1},
		        "results": [st.request_json(r) for r in rs[skip:skip + take]]}

	def find_request(req):
		r = st.requests.get(int(req.match.group(1)))
		if r is None:
			return None, error(404, "Request not found.")
		return r, None

	@route("GET", r"^/api/v1/request/(\d+)$")
	def get_request(req):
		r, err = find_request(req)
		if err:
			return err
		if r["requestedBy"] is not req.user and not may_see_all(req.user):
			return error(403, "You do not have permission to view this request.")
		return st.request_json(r)

	@route("DELETE", r"^/api/v1/request/(\d+)$")
	def delete_request(req):
		r, err = find_request(req)
		if err:
			return err
		# The source's own condition, quirks and all (a member may remove anyone's pending
		# request), and its 401.
		if not has(req.user, MANAGE_REQUESTS) and r["requestedBy"] is not req.user and \
				r["status"] != R_PENDING:
			return error(401, "You do not have permission to delete this request.")
		del st.requests[r["id"]]
		return Response(204)

	@route("POST", r"^/api/v1/request/(\d+)/(approve|decline)$", perm=(MANAGE_REQUESTS,))
	def decide(req):
		r, err = find_request(req)
		if err:
			return err
		r["status"] = R_APPROVED if req.match.group(2) == "approve" else R_DECLINED
		r["modifiedBy"] = req.user
		r["updatedAt"] = st.now()
		for s in r["seasons"]:
			s["status"] = r["status"]
		return st.request_json(r)

	@route("POST", r"^/api/v1/issue$", perm=(MANAGE_ISSUES, CREATE_ISSUES))
	def create_issue(req):
		body = req.json if isinstance(req.json, dict) else {}
		row = next((m for m in st.media.values() if m["id"] == body.get("mediaId")), None)
		if row is None:
			return error(404, "Media does not exist.")
		t = st.now()
		issue = {"id": st.next_issue, "issueType": body.get("issueType"), "status": 1,
		         "problemSeason": 0, "problemEpisode": 0, "createdAt": t, "updatedAt": t,
		         "media": st.media_json(row), "createdBy": st.user_json(req.user),
		         "modifiedBy": None,
		         "comments": [{"id": st.next_issue, "message": body.get("message"),
		                       "createdAt": t, "updatedAt": t}]}
		st.issues[issue["id"]] = issue
		st.next_issue += 1
		# The source answers 200, not the spec's 201 (server/routes/issue.ts).
		return Response(200, json=issue)

	return srv


def main(argv=None):
	import argparse
	ap = argparse.ArgumentParser(add_help=False)
	ap.add_argument("--catalog", default=DEFAULT_CATALOG)
	ap.add_argument("--api-key", default=DEFAULT_KEY)
	ap.add_argument("--users")
	ap.add_argument("--state")
	ap.add_argument("--no-library", action="store_true")
	a, rest = ap.parse_known_args(argv)
	users = load_json_arg(a.users)
	state = load_json_arg(a.state)
	return run_cli(lambda routes, **kw: make_fake(routes, a.catalog, a.api_key, users, state,
	                                              not a.no_library, **kw),
	               argv=rest, description="fake Seerr for tests")


if __name__ == "__main__":
	sys.exit(main())

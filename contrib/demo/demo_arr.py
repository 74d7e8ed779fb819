"""Demo Radarr and Sonarr (/api/v3) over the demo World: system status, the download queue
(paged, movie/series/episode included on request, downloadId = the qBittorrent hash upper-cased),
the library (movie/series/episode) and lookups. Auth as the real ones: X-Api-Key header,
apikey query or Authorization: Bearer; 401 with an empty body otherwise. Null properties are
omitted, as the arr serializer does."""

from demo_http import Resp, Service
import demo_world as W
from demo_seerr import timespan


def _auth(key):
	def authenticate(req):
		auth = req.header("Authorization") or ""
		if key in (req.header("X-Api-Key"), req.arg("apikey"),
		           auth[7:] if auth.startswith("Bearer ") else None):
			return None
		return Resp(401)
	return authenticate


def _nonnull(d):
	return {k: v for k, v in d.items() if v is not None}


def _paged(req, records, default_sort):
	page = max(1, req.int_arg("page", 1))
	size = max(1, req.int_arg("pageSize", 10))
	return {"page": page, "pageSize": size, "sortKey": req.arg("sortKey") or default_sort,
	        "sortDirection": req.arg("sortDirection") or "ascending",
	        "totalRecords": len(records), "records": records[(page - 1) * size:page * size]}


def _queue_common(world, d, ph, qid):
	"""The QueueResource fields Radarr and Sonarr share."""
	left = world.seconds_left_wall(ph)
	p = ph["phase"]
	status = "completed" if ph["progress"] >= 1 else "downloading"
	state = p if p in ("importPending", "importing") else "downloading"
	tracked = "warning" if p == "stalled" else "ok"
	msgs = []
	if p == "stalled":
		msgs = [{"title": d.name, "messages": ["The download is stalled with no connections"]}]
	q = "2160p" if d.request.is4k else "1080p"
	return _nonnull({
		"id": qid, "title": d.name, "size": d.size,
		"sizeleft": int(round(d.size * (1 - ph["progress"]))),
		"timeleft": timespan(left) if p != "stalled" and left is not None else None,
		"estimatedCompletionTime": W.iso_s(world.wall() + left)
		if p != "stalled" and left is not None else None,
		"added": W.iso_s(world.wall() - (world.now() - d.t0 - W.GRAB) / world.speed),
		"status": status, "trackedDownloadStatus": tracked, "trackedDownloadState": state,
		"statusMessages": msgs, "downloadId": d.hash.upper(), "protocol": "torrent",
		"downloadClient": "qBittorrent", "downloadClientHasPostImportCategory": False,
		"indexer": "Demo Indexer (Prowlarr)", "outputPath": "/downloads/%s/%s" % (d.category,
		                                                                         d.name),
		"languages": [{"id": 1, "name": "English"}],
		"quality": {"quality": {"id": 19 if q == "2160p" else 3, "name": "WEBDL-" + q,
		                        "source": "webdl", "resolution": int(q[:-1])},
		            "revision": {"version": 1, "real": 0, "isRepack": False}},
		"customFormats": [], "customFormatScore": 0})


def _images(item):
	if not item.get("posterPath"):
		return []
	return [{"coverType": "poster",
	         "remoteUrl": "https://image.tmdb.org/t/p/original" + item["posterPath"]}]


def make_radarr(world, key):
	svc = Service("radarr", world)
	svc.authenticate = _auth(key)

	def movie_json(it, lib):
		has = bool(lib and lib["hasFile"])
		return _nonnull({
			"id": lib["id"] if lib else None, "title": it["title"],
			"originalTitle": it.get("originalTitle", it["title"]), "sortTitle": W.norm(it["title"]),
			"year": it["year"], "status": "released", "overview": it["overview"],
			"inCinemas": it["releaseDate"] + "T00:00:00Z", "releaseDate": it["releaseDate"],
			"images": _images(it), "remotePoster": _images(it)[0]["remoteUrl"]
			if it.get("posterPath") else None,
			"hasFile": has, "movieFileId": lib["id"] if has else 0,
			"monitored": bool(lib), "minimumAvailability": "released", "isAvailable": True,
			"qualityProfileId": 1, "runtime": it.get("runtime", 0), "imdbId": it.get("imdbId"),
			"tmdbId": it["tmdbId"], "titleSlug": str(it["tmdbId"]),
			"path": "/movies/%s (%d)" % (it["title"].replace(":", ""), it["year"]) if lib else None,
			"rootFolderPath": "/movies" if lib else None, "tags": [],
			"added": W.iso_s(lib["added"]) if lib else "0001-01-01T00:00:00Z",
			"sizeOnDisk": int(it.get("runtime", 100) * 60e6) if has else 0,
			"statistics": {"movieFileCount": 1 if has else 0,
			               "sizeOnDisk": int(it.get("runtime", 100) * 60e6) if has else 0,
			               "releaseGroups": ["DEMO"] if has else []}})

	def records(req):
		include = req.bool_arg("includeMovie")
		ids = {int(x) for x in req.args("movieIds") if x.isdigit()}
		out = []
		for d, ph in world.active_downloads():
			if d.kind != "movie":
				continue
			it = d.request.media.item
			lib = world.radarr[it["tmdbId"]]
			if ids and lib["id"] not in ids:
				continue
			rec = _queue_common(world, d, ph, 1000000 + d.id)
			rec["movieId"] = lib["id"]
			if include:
				rec["movie"] = movie_json(it, lib)
			out.append(rec)
		return out

	@svc.route("GET", "/api/v3/system/status")
	def status(req):
		return {"appName": "Radarr", "instanceName": "Radarr", "version": "5.14.0.9383",
		        "isDebug": False, "isProduction": True, "isAdmin": False, "isUserInteractive":
		        False, "startupPath": "/app/radarr/bin", "appData": "/config", "osName": "demo",
		        "isDocker": True, "isLinux": True, "branch": "master", "authentication": "forms",
		        "urlBase": "", "runtimeName": "demo", "databaseType": "sqLite"}

	@svc.route("GET", "/api/v3/queue")
	def queue(req):
		return _paged(req, records(req), "timeleft")

	@svc.route("GET", "/api/v3/queue/details")
	def queue_details(req):
		recs = records(req)
		mid = req.arg("movieId")
		return [r for r in recs if mid is None or str(r["movieId"]) == mid]

	@svc.route("GET", "/api/v3/movie")
	def movies(req):
		tmdb = req.arg("tmdbId")
		out = []
		for t, lib in sorted(world.radarr.items(), key=lambda kv: kv[1]["id"]):
			if tmdb is None or str(t) == tmdb:
				out.append(movie_json(world.movies[t], lib))
		return out

	@svc.route("GET", r"/api/v3/movie/(\d+)")
	def movie(req):
		for t, lib in world.radarr.items():
			if lib["id"] == int(req.match.group(1)):
				return movie_json(world.movies[t], lib)
		return Resp(404, {"message": "NotFound"})

	@svc.route("GET", "/api/v3/movie/lookup")
	def lookup(req):
		term = req.arg("term") or ""
		return [movie_json(it, world.radarr.get(it["tmdbId"]))
		        for mt, it in world.search(term) if mt == "movie"]

	@svc.route("POST", "/api/v3/command")
	def command(req):
		body = req.json() or {}
		return Resp(201, {"id": 5000, "name": body.get("name", "Unknown"),
		                  "commandName": body.get("name", "Unknown"), "body": body,
		                  "priority": "normal", "status": "queued", "result": "unknown",
		                  "queued": W.iso_s(world.wall()), "trigger": "manual"})

	return svc


def make_sonarr(world, key):
	svc = Service("sonarr", world)
	svc.authenticate = _auth(key)

	def series_json(it, lib):
		files = lib["files"] if lib else set()
		seasons = []
		for n, c in enumerate(it["seasons"], 1):
			have = c if n in files else 0
			seasons.append({"seasonNumber": n, "monitored": bool(lib and n in lib["monitored"]),
			                "statistics": {"episodeFileCount": have, "episodeCount": c,
			                               "totalEpisodeCount": c,
			                               "sizeOnDisk": int(have * it["runtime"] * 48e6),
			                               "percentOfEpisodes": 100.0 * have / c}})
		have = sum(s["statistics"]["episodeFileCount"] for s in seasons)
		total = sum(it["seasons"])
		return _nonnull({
			"id": lib["id"] if lib else None, "title": it["name"], "sortTitle": W.norm(it["name"]),
			"status": "ended" if it.get("status") == "Ended" else "continuing",
			"ended": it.get("status") == "Ended", "overview": it["overview"],
			"images": _images(it), "seasons": seasons, "year": it["year"],
			"path": "/tv/%s" % it["name"].replace(":", "") if lib else None,
			"qualityProfileId": 1, "monitored": bool(lib), "seriesType": "standard",
			"tvdbId": it.get("tvdbId"), "tmdbId": it["tmdbId"], "imdbId": it.get("imdbId"),
			"titleSlug": str(it["tmdbId"]), "rootFolderPath": "/tv" if lib else None,
			"genres": [], "tags": [], "runtime": it.get("runtime"),
			"added": W.iso_s(lib["added"]) if lib else "0001-01-01T00:00:00Z",
			"statistics": {"seasonCount": len(seasons), "episodeFileCount": have,
			               "episodeCount": total, "totalEpisodeCount": total,
			               "sizeOnDisk": int(have * it["runtime"] * 48e6),
			               "percentOfEpisodes": 100.0 * have / total if total else 0}})

	def episode_json(it, lib, n, e):
		return {"id": lib["id"] * 100000 + n * 1000 + e, "seriesId": lib["id"],
		        "episodeFileId": (lib["id"] * 100000 + n * 1000 + e) if n in lib["files"] else 0,
		        "seasonNumber": n, "episodeNumber": e, "title": "Episode %d" % e,
		        "runtime": it.get("runtime", 0), "hasFile": n in lib["files"],
		        "monitored": n in lib["monitored"]}

	def records(req):
		inc_s = req.bool_arg("includeSeries")
		inc_e = req.bool_arg("includeEpisode")
		ids = {int(x) for x in req.args("seriesIds") if x.isdigit()}
		out = []
		for d, ph in world.active_downloads():
			if d.kind != "tv":
				continue
			it = d.request.media.item
			lib = world.sonarr[it["tmdbId"]]
			if ids and lib["id"] not in ids:
				continue
			# One record per episode; a season pack repeats its downloadId (NOTES.md 3.1).
			for s in d.request.seasons:
				n = s["seasonNumber"]
				for e in range(1, it["seasons"][n - 1] + 1):
					ep = episode_json(it, lib, n, e)
					rec = _queue_common(world, d, ph, d.id * 100000 + n * 1000 + e)
					rec.update({"seriesId": lib["id"], "episodeId": ep["id"], "seasonNumber": n,
					            "episodeHasFile": False})
					if inc_s:
						rec["series"] = series_json(it, lib)
					if inc_e:
						rec["episode"] = ep
					out.append(rec)
		return out

	@svc.route("GET", "/api/v3/system/status")
	def status(req):
		return {"appName": "Sonarr", "instanceName": "Sonarr", "version": "4.0.14.2939",
		        "isDebug": False, "isProduction": True, "isDocker": True, "isLinux": True,
		        "branch": "main", "authentication": "forms", "urlBase": "",
		        "runtimeName": "demo", "databaseType": "sqLite"}

	@svc.route("GET", "/api/v3/queue")
	def queue(req):
		return _paged(req, records(req), "timeleft")

	@svc.route("GET", "/api/v3/queue/details")
	def queue_details(req):
		recs = records(req)
		sid = req.arg("seriesId")
		return [r for r in recs if sid is None or str(r["seriesId"]) == sid]

	@svc.route("GET", "/api/v3/series")
	def series(req):
		tvdb = req.arg("tvdbId")
		out = []
		for t, lib in sorted(world.sonarr.items(), key=lambda kv: kv[1]["id"]):
			it = world.shows[t]
			if tvdb is None or str(it.get("tvdbId")) == tvdb:
				out.append(series_json(it, lib))
		return out

	@svc.route("GET", r"/api/v3/series/(\d+)")
	def one_series(req):
		for t, lib in world.sonarr.items():
			if lib["id"] == int(req.match.group(1)):
				return series_json(world.shows[t], lib)
		return Resp(404, {"message": "NotFound"})

	@svc.route("GET", "/api/v3/series/lookup")
	def lookup(req):
		term = req.arg("term") or ""
		out = []
		if term.startswith("tvdb:"):
			out = [it for it in world.shows.values() if str(it.get("tvdbId")) == term[5:]]
		else:
			out = [it for mt, it in world.search(term) if mt == "tv"]
		return [series_json(it, world.sonarr.get(it["tmdbId"])) for it in out]

	@svc.route("GET", "/api/v3/episode")
	def episodes(req):
		sid = req.arg("seriesId")
		if sid is None:
			return Resp(400, {"message": "seriesId or episodeIds must be provided"})
		for t, lib in world.sonarr.items():
			if str(lib["id"]) == sid:
				it = world.shows[t]
				want = req.arg("seasonNumber")
				return [episode_json(it, lib, n, e)
				        for n, c in enumerate(it["seasons"], 1)
				        if want is None or str(n) == want
				        for e in range(1, c + 1)]
		return []

	@svc.route("POST", "/api/v3/command")
	def command(req):
		body = req.json() or {}
		return Resp(201, {"id": 6000, "name": body.get("name", "Unknown"),
		                  "commandName": body.get("name", "Unknown"), "body": body,
		                  "priority": "normal", "status": "queued", "result": "unknown",
		                  "queued": W.iso_s(world.wall()), "trigger": "manual"})

	return svc

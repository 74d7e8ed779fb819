"""Demo Seerr (Overseerr/Jellyseerr API shape, /api/v1) over the demo World.

Auth as the real server: `X-Api-Key` acts as user 1 unless `X-Api-User: <id>` names another;
no key, a wrong key or an unknown user id get 403 {"status":403,"error":...} from the
isAuthenticated middleware. /api/v1/status and /api/v1/settings/public are public."""

from demo_http import Resp, Service
import demo_world as W

NO_PERMISSION = {"status": 403, "error": "You do not have permission to access this endpoint"}
PAGE = 20


def make(world, api_key):
	svc = Service("seerr", world)

	def authenticate(req):
		if req.path in ("/api/v1/status", "/api/v1/settings/public", "/api/v1/status/appdata"):
			return None
		if req.header("X-Api-Key") != api_key:
			return Resp(403, NO_PERMISSION)
		uid = req.header("X-Api-User")
		try:
			req.user = world.users.get(int(uid) if uid else 1)
		except ValueError:
			req.user = None
		if req.user is None:
			return Resp(403, NO_PERMISSION)
		return None

	svc.authenticate = authenticate
	svc.not_found = lambda req: Resp(404, {"message": "Not Found"})

	def manager(u):
		return bool(u["permissions"] & (W.PERM_ADMIN | W.PERM_MANAGE_REQUESTS))

	# JSON shapes (NOTES.md 1.3-1.7) -----------------------------------------------------------
	def user_json(u, caller=None):
		out = {"id": u["id"], "username": u["username"], "plexUsername": None,
		       "displayName": u["displayName"], "userType": 2, "permissions": u["permissions"],
		       "avatar": "/os_logo_square.png", "requestCount": u.get("requestCount", 0),
		       "createdAt": W.iso_ms(u["created"]), "updatedAt": W.iso_ms(u["created"])}
		if caller is not None and manager(caller):
			out["email"] = u["email"]
		return out

	def media_json(m, full=False):
		out = {"id": m.id, "mediaType": m.media_type, "tmdbId": m.tmdb_id,
		       "tvdbId": m.item.get("tvdbId"), "imdbId": m.item.get("imdbId"),
		       "status": m.status, "status4k": m.status4k,
		       "createdAt": W.iso_ms(m.created), "updatedAt": W.iso_ms(m.updated),
		       "lastSeasonChange": W.iso_ms(m.updated),
		       "mediaAddedAt": W.iso_ms(m.added_at) if m.added_at else None,
		       "serviceId": None, "serviceId4k": None, "externalServiceId": None,
		       "externalServiceId4k": None, "externalServiceSlug": None,
		       "externalServiceSlug4k": None, "ratingKey": None, "ratingKey4k": None}
		if m.media_type == "tv":
			out["seasons"] = [{"id": m.id * 100 + n, "seasonNumber": n, "status": st[0],
			                   "status4k": st[1], "createdAt": W.iso_ms(m.created),
			                   "updatedAt": W.iso_ms(m.updated)}
			                  for n, st in sorted(m.seasons.items())]
		if full:
			out["requests"] = [request_json(r, with_media=False) for r in m.requests]
			out["downloadStatus"] = download_status(m, False)
			out["downloadStatus4k"] = download_status(m, True)
			out["plexUrl"] = None
			out["serviceUrl"] = None
		return out

	def download_status(m, is4k):
		out = []
		for d, ph in world.active_downloads():
			r = d.request
			if r.media is not m or r.is4k != is4k:
				continue
			left = world.seconds_left_wall(ph)
			out.append({"mediaType": m.media_type, "externalId": d.id, "size": d.size,
			            "sizeLeft": int(d.size * (1 - ph["progress"])),
			            "status": "completed" if ph["progress"] >= 1 else "downloading",
			            "timeLeft": timespan(left or 0),
			            "estimatedCompletionTime": W.iso_ms(world.wall() + (left or 0)),
			            "title": d.name})
		return out

	def request_json(r, with_media=True):
		out = {"id": r.id, "status": r.status, "type": r.media.media_type, "is4k": r.is4k,
		       "seasonCount": len(r.seasons), "createdAt": W.iso_ms(r.created),
		       "updatedAt": W.iso_ms(r.updated), "serverId": None, "profileId": None,
		       "rootFolder": None, "languageProfileId": None, "tags": None,
		       "isAutoRequest": False,
		       "seasons": [dict(s, createdAt=W.iso_ms(r.created), updatedAt=W.iso_ms(r.updated))
		                   for s in r.seasons],
		       "requestedBy": user_json(r.user),
		       "modifiedBy": user_json(r.modified_by) if r.modified_by else None}
		if with_media:
			out["media"] = media_json(r.media)
		return out

	def result_json(mt, it):
		if mt == "person":
			return {"id": it["id"], "mediaType": "person", "name": it["name"],
			        "profilePath": None, "adult": False, "popularity": 10.0,
			        "knownFor": [], "knownForDepartment": it.get("knownForDepartment")}
		m = world.get_media(mt, it["tmdbId"])
		common = {"id": it["tmdbId"], "mediaType": mt, "overview": it["overview"],
		          "posterPath": it.get("posterPath"), "backdropPath": None,
		          "popularity": round(10.0 + (it["year"] - 1960) / 2.0, 1),
		          "voteAverage": 0, "voteCount": 0, "genreIds": [],
		          "originalLanguage": it.get("originalLanguage", "en")}
		if mt == "movie":
			common.update({"title": it["title"], "originalTitle": it.get("originalTitle",
			                                                              it["title"]),
			               "releaseDate": it["releaseDate"], "adult": False, "video": False})
		else:
			common.update({"name": it["name"], "originalName": it.get("originalName", it["name"]),
			               "firstAirDate": it["firstAirDate"], "originCountry": []})
		if m is not None:
			common["mediaInfo"] = media_json(m, full=True)
		return common

	def paged(items, take, skip, results_key="results"):
		pages = (len(items) + take - 1) // take if take > 0 else 1
		return {"pageInfo": {"pages": pages, "pageSize": take, "results": len(items),
		                     "page": skip // take + 1 if take > 0 else 1},
		        results_key: items[skip:skip + take] if take > 0 else items}

	# Endpoints --------------------------------------------------------------------------------
	@svc.route("GET", "/api/v1/status")
	def status(req):
		return {"version": "1.33.2",
		        "commitTag": "usher-demo", "updateAvailable": False, "commitsBehind": 0,
		        "restartRequired": False}

	@svc.route("GET", "/api/v1/settings/public")
	def settings_public(req):
		out = {"initialized": True, "applicationTitle": "Demo Seerr", "applicationUrl": "",
		       "localLogin": True, "movie4kEnabled": True, "series4kEnabled": True,
		       "region": "", "originalLanguage": "", "partialRequestsEnabled": True,
		       "locale": "en"}
		if world.flavour != "overseerr":
			out["mediaServerType"] = 2
		return out

	@svc.route("GET", "/api/v1/auth/me")
	def me(req):
		return user_json(req.user, req.user)

	@svc.route("GET", "/api/v1/user")
	def users(req):
		take = req.int_arg("take", 10)
		skip = req.int_arg("skip", 0)
		us = [user_json(u, req.user) for u in sorted(world.users.values(), key=lambda u: u["id"])]
		return paged(us, take, skip)

	@svc.route("GET", r"/api/v1/user/(\d+)")
	def user(req):
		u = world.users.get(int(req.match.group(1)))
		if u is None:
			return Resp(404, {"message": "User not found."})
		return user_json(u, req.user)

	@svc.route("GET", r"/api/v1/user/(\d+)/settings/notifications")
	def user_notif(req):
		uid = int(req.match.group(1))
		if uid not in world.users:
			return Resp(404, {"message": "User not found."})
		if uid != req.user["id"] and not manager(req.user):
			return Resp(403, {"message": "You do not have permission to view these settings."})
		return {"notificationTypes": {}, "emailEnabled": False, "discordEnabled": False,
		        "discordId": None, "telegramEnabled": False, "telegramChatId": None,
		        "telegramSendSilently": None, "pushbulletAccessToken": None,
		        "pushoverApplicationToken": None, "pushoverUserKey": None, "webPushEnabled": False}

	@svc.route("GET", r"/api/v1/user/(\d+)/quota")
	def user_quota(req):
		q = {"days": 7, "limit": 0, "used": 0, "remaining": 0, "restricted": False}
		return {"movie": q, "tv": dict(q)}

	@svc.route("GET", "/api/v1/search")
	def search(req):
		query = req.arg("query")
		if not query:
			return Resp(400, {"message": "request/query must have required property 'query'",
			                  "errors": []})
		page = max(1, req.int_arg("page", 1))
		found = world.search(query)
		total = len(found)
		chunk = found[(page - 1) * PAGE:page * PAGE]
		return {"page": page, "totalPages": max(1, (total + PAGE - 1) // PAGE),
		        "totalResults": total, "results": [result_json(mt, it) for mt, it in chunk]}

	@svc.route("GET", r"/api/v1/movie/(\d+)")
	def movie(req):
		it = world.movies.get(int(req.match.group(1)))
		if it is None:
			return Resp(500, {"message": "Unable to retrieve movie."})
		out = result_json("movie", it)
		del out["mediaType"]
		out.update({"imdbId": it.get("imdbId"), "runtime": it.get("runtime"),
		            "status": "Released", "tagline": "", "genres": [], "budget": 0,
		            "revenue": 0, "spokenLanguages": [], "productionCountries": [],
		            "externalIds": {"imdbId": it.get("imdbId"), "facebookId": None,
		                            "instagramId": None, "twitterId": None},
		            "credits": {"cast": [], "crew": []}, "relatedVideos": []})
		return out

	@svc.route("GET", r"/api/v1/tv/(\d+)")
	def tv(req):
		it = world.shows.get(int(req.match.group(1)))
		if it is None:
			return Resp(500, {"message": "Unable to retrieve series."})
		out = result_json("tv", it)
		del out["mediaType"]
		seasons = [{"id": it["tmdbId"] * 100 + n, "seasonNumber": n, "episodeCount": c,
		            "airDate": it["firstAirDate"] if n == 1 else None, "name": "Season %d" % n,
		            "overview": "", "posterPath": None}
		           for n, c in enumerate(it["seasons"], 1)]
		out.update({"numberOfSeasons": len(seasons), "numberOfEpisodes": sum(it["seasons"]),
		            "seasons": seasons, "status": it.get("status", "Ended"),
		            "inProduction": it.get("status") == "Returning Series",
		            "episodeRunTime": [it.get("runtime")], "genres": [], "languages": ["en"],
		            "networks": [], "tagline": "",
		            "externalIds": {"tvdbId": it.get("tvdbId"), "imdbId": it.get("imdbId")},
		            "credits": {"cast": [], "crew": []}, "relatedVideos": []})
		return out

	@svc.route("GET", r"/api/v1/(movie|tv)/(\d+)/recommendations")
	def recommendations(req):
		mt, tmdb_id = req.match.group(1), int(req.match.group(2))
		items = world.movies if mt == "movie" else world.shows
		me = items.get(tmdb_id)
		if me is None:
			return Resp(500, {"message": "Unable to retrieve recommended %s." %
			                  ("movies" if mt == "movie" else "series")})
		# Stand-ins for TMDB's suggestions: same kind, nearest in time.
		others = sorted((it for i, it in items.items() if i != tmdb_id),
		                key=lambda it: (abs(it["year"] - me["year"]), it["tmdbId"]))[:6]
		return {"page": 1, "totalPages": 1, "totalResults": len(others),
		        "results": [result_json(mt, it) for it in others]}

	issues = []

	@svc.route("POST", "/api/v1/issue")
	def create_issue(req):
		body = req.json()
		media = next((m for m in list(world.media.values()) if m.id == (body or {}).get("mediaId")), None) \
			if isinstance(body, dict) else None
		if media is None:
			return Resp(404, {"message": "Media does not exist."})
		issue = {"id": len(issues) + 1, "issueType": body.get("issueType"), "status": 1,
		         "problemSeason": 0, "problemEpisode": 0, "media": media_json(media),
		         "createdBy": user_json(req.user), "modifiedBy": None,
		         "comments": [{"id": len(issues) + 1, "message": body.get("message")}]}
		issues.append(issue)
		# The real server answers 200 here, not the spec's 201.
		return Resp(200, issue)

	@svc.route("POST", "/api/v1/request")
	def create(req):
		body = req.json()
		if not isinstance(body, dict) or body.get("mediaType") not in ("movie", "tv") or \
				not isinstance(body.get("mediaId"), int):
			return Resp(400, {"message": "request/body must have required property 'mediaId'",
			                  "errors": []})
		user = req.user
		if "userId" in body and body["userId"] != user["id"]:
			if not (user["permissions"] & (W.PERM_ADMIN | 8 | W.PERM_MANAGE_REQUESTS)):
				return Resp(403, {"message":
				                  "You do not have permission to modify the request user."})
			target = world.users.get(body["userId"])
			if target is None:
				return Resp(500, {"message": "User not found"})
			# The caller's permissions decide auto-approval (NOTES.md 1.1).
			st, out = world.create_request(target, body["mediaType"], body["mediaId"],
			                               body.get("seasons", "all"), bool(body.get("is4k")))
			if st == 201 and out.status == W.REQ_PENDING and manager(user):
				world.approve(out, user)
		else:
			st, out = world.create_request(user, body["mediaType"], body["mediaId"],
			                               body.get("seasons", "all"), bool(body.get("is4k")))
		if st == 201:
			return Resp(201, request_json(out))
		return Resp(st, out)

	def visible(req, r):
		return manager(req.user) or r.user is req.user

	FILTERS = {
		"all": lambda r: r.status in (1, 2, 3, 4, 5),
		"pending": lambda r: r.status == W.REQ_PENDING,
		"approved": lambda r: r.status == W.REQ_APPROVED,
		"processing": lambda r: r.status == W.REQ_APPROVED and media_status(r) in (1, 2, 3, 4),
		"available": lambda r: (r.status == W.REQ_COMPLETED if world.flavour == "seerr"
		                        else r.status == W.REQ_APPROVED and media_status(r) == 5),
		"unavailable": lambda r: r.status in (1, 2) and media_status(r) in (1, 2, 3, 4),
		"failed": lambda r: r.status == W.REQ_FAILED,
		"completed": lambda r: r.status == W.REQ_COMPLETED,
		"declined": lambda r: r.status == W.REQ_DECLINED,
		"deleted": lambda r: False,
	}

	def media_status(r):
		return r.media.status4k if r.is4k else r.media.status

	@svc.route("GET", "/api/v1/request")
	def list_requests(req):
		take = max(1, req.int_arg("take", 10))
		skip = max(0, req.int_arg("skip", 0))
		flt = FILTERS.get(req.arg("filter") or "all", FILTERS["all"])
		rs = [r for r in world.requests.values() if visible(req, r) and flt(r)]
		by = req.arg("requestedBy")
		if by:
			rs = [r for r in rs if str(r.user["id"]) == by]
		mt = req.arg("mediaType")
		if mt in ("movie", "tv"):
			rs = [r for r in rs if r.media.media_type == mt]
		if req.arg("sort") == "modified":
			rs.sort(key=lambda r: (r.updated, r.id), reverse=True)
		else:
			rs.sort(key=lambda r: r.id, reverse=True)
		if req.arg("sortDirection") == "asc":
			rs.reverse()
		out = paged([request_json(r) for r in rs], take, skip)
		return out

	@svc.route("GET", "/api/v1/request/count")
	def count(req):
		rs = list(world.requests.values())
		out = {"total": len(rs),
		       "movie": sum(r.media.media_type == "movie" for r in rs),
		       "tv": sum(r.media.media_type == "tv" for r in rs),
		       "pending": sum(r.status == W.REQ_PENDING for r in rs),
		       "approved": sum(r.status == W.REQ_APPROVED for r in rs),
		       "declined": sum(r.status == W.REQ_DECLINED for r in rs),
		       "processing": sum(FILTERS["processing"](r) for r in rs),
		       "available": sum(FILTERS["available"](r) for r in rs)}
		if world.flavour == "seerr":
			out["completed"] = sum(r.status == W.REQ_COMPLETED for r in rs)
		return out

	def find(req):
		r = world.requests.get(int(req.match.group(1)))
		if r is None:
			return None, Resp(404, {"message": "Request not found."})
		if not visible(req, r):
			return None, Resp(403, {"message": "You do not have permission to view this request."})
		return r, None

	@svc.route("GET", r"/api/v1/request/(\d+)")
	def get_request(req):
		r, err = find(req)
		return err or request_json(r)

	@svc.route("DELETE", r"/api/v1/request/(\d+)")
	def delete_request(req):
		r, err = find(req)
		if err:
			return err
		if not manager(req.user) and r.status != W.REQ_PENDING:
			return Resp(401, {"message": "You do not have permission to delete this request."})
		world.delete(r)
		return Resp(204)

	@svc.route("POST", r"/api/v1/request/(\d+)/(approve|decline)")
	def decide(req):
		if not manager(req.user):
			return Resp(403, NO_PERMISSION)
		r, err = find(req)
		if err:
			return err
		if req.match.group(2) == "approve":
			world.approve(r, req.user)
		else:
			world.decline(r, req.user)
		return request_json(r)

	@svc.route("GET", "/api/v1/media")
	def media_list(req):
		take = max(1, req.int_arg("take", 20))
		skip = max(0, req.int_arg("skip", 0))
		flt = req.arg("filter") or "all"
		want = {"all": None, "available": {5}, "partial": {4}, "allavailable": {4, 5},
		        "processing": {3}, "pending": {2}}.get(flt)
		ms = [m for m in world.media.values() if want is None or m.status in want]
		ms.sort(key=lambda m: m.updated if req.arg("sort") == "modified" else m.added_at or 0,
		        reverse=True)
		return paged([media_json(m) for m in ms], take, skip)

	return svc


def timespan(seconds):
	"""A .NET TimeSpan string, as Overseerr copies it from the arr queue."""
	s = int(max(0, seconds))
	d, s = divmod(s, 86400)
	h, s = divmod(s, 3600)
	m, s = divmod(s, 60)
	return ("%d." % d if d else "") + "%02d:%02d:%02d" % (h, m, s)

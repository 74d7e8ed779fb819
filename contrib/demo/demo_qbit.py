"""Demo qBittorrent Web API v2 (as 5.1: `SID` cookie, `Ok.`/`Fails.` login) over the demo World.

Every endpoint but auth/login needs the session cookie (403 `Forbidden.` otherwise).
sync/maindata keeps its rid state per session, like the real server: rid 0, an unknown rid or a
new session get a full update; otherwise only changed fields of changed torrents, and
torrents_removed for the ones that went away."""

import secrets

from demo_http import Resp, Service
import demo_world as W

MAX_ETA = 8640000
CATEGORIES = {"radarr": {"name": "radarr", "savePath": ""},
              "tv-sonarr": {"name": "tv-sonarr", "savePath": ""}}
FILTERS = {
	"all": lambda t: True,
	"downloading": lambda t: t["state"] in ("downloading", "stalledDL", "metaDL", "queuedDL",
	                                         "forcedDL", "checkingDL"),
	"seeding": lambda t: t["state"] in ("uploading", "stalledUP", "forcedUP", "queuedUP"),
	"completed": lambda t: t["progress"] >= 1,
	"active": lambda t: t["dlspeed"] > 0 or t["upspeed"] > 0,
	"inactive": lambda t: t["dlspeed"] == 0 and t["upspeed"] == 0,
	"running": lambda t: True, "resumed": lambda t: True,
	"stopped": lambda t: False, "paused": lambda t: False,
	"stalled": lambda t: t["state"] in ("stalledDL", "stalledUP"),
	"stalled_downloading": lambda t: t["state"] == "stalledDL",
	"stalled_uploading": lambda t: t["state"] == "stalledUP",
	"checking": lambda t: False, "moving": lambda t: False, "errored": lambda t: False,
}


def make(world, username, password):
	svc = Service("qbittorrent", world)
	sessions = {}  # SID -> {"rid": last rid sent, "torrents": snapshot, "server": snapshot}

	def text(status, body):
		return Resp(status, text=body)

	svc.get_accepts_post = True
	svc.not_found = lambda req: text(404, "Not Found")
	svc.method_not_allowed = lambda req: text(405, "Method Not Allowed")

	def authenticate(req):
		if req.path == "/api/v2/auth/login":
			return None
		sid = req.cookies().get("SID")
		if sid not in sessions:
			return text(403, "Forbidden")
		req.session = sessions[sid]
		return None

	svc.authenticate = authenticate

	def torrent_json(d, ph):
		wall = world.wall()
		p = ph["phase"]
		rate = d.bytes_per_sim_second() * world.speed  # bytes per wall second
		added = int(wall - (world.now() - d.t0 - W.GRAB) / world.speed)
		done = ph["progress"] >= 1
		if p == "downloading":
			state, dl, eta, seeds = "downloading", int(rate), int(world.seconds_left_wall(ph)), 12
		elif p == "stalled":
			state, dl, eta, seeds = "stalledDL", 0, MAX_ETA, 0
		else:
			uploading = ph["seeded"] is not None and ph["seeded"] < 10
			state, dl, eta, seeds = ("uploading" if uploading else "stalledUP"), 0, MAX_ETA, 0
		left = int(round(d.size * (1 - ph["progress"])))
		completed_on = int(wall - ph["seeded"] / world.speed) if done else -1
		return {
			"hash": d.hash, "infohash_v1": d.hash, "infohash_v2": "", "name": d.name,
			"magnet_uri": "magnet:?xt=urn:btih:%s&dn=%s" % (d.hash, d.name),
			"size": d.size, "total_size": d.size, "progress": round(ph["progress"], 4),
			"dlspeed": dl, "upspeed": 250000 if state == "uploading" else 0,
			"priority": 0 if done else 1, "num_seeds": seeds, "num_complete": 40,
			"num_leechs": 2 if not done else 0, "num_incomplete": 5,
			"ratio": 0.1 if done else 0, "popularity": 0, "eta": eta, "state": state,
			"seq_dl": False, "f_l_piece_prio": False, "category": d.category, "tags": "",
			"super_seeding": False, "force_start": False,
			"save_path": "/downloads/%s/" % d.category, "download_path": "",
			"content_path": "/downloads/%s/%s" % (d.category, d.name),
			"root_path": "/downloads/%s/%s" % (d.category, d.name),
			"added_on": added, "completion_on": completed_on,
			"tracker": "udp://tracker.demo.invalid:1337/announce", "trackers_count": 1,
			"dl_limit": 0, "up_limit": 0, "downloaded": d.size - left,
			"uploaded": int(d.size * 0.1) if done else 0,
			"downloaded_session": d.size - left, "uploaded_session": 0,
			"amount_left": left, "completed": d.size - left, "max_ratio": -1,
			"max_seeding_time": -1, "ratio_limit": -2, "seeding_time_limit": -2,
			"seen_complete": added, "last_activity": int(wall), "auto_tmm": True,
			"time_active": int(wall) - added, "seeding_time": int(ph["seeded"] / world.speed)
			if done else 0, "availability": -1 if done else (0 if p == "stalled" else 1.0),
			"reannounce": 60, "comment": "", "private": False, "has_metadata": True,
		}

	def current():
		return {d.hash: torrent_json(d, ph) for d, ph in world.torrents()}

	def server_state(ts):
		dl = sum(t["dlspeed"] for t in ts.values())
		up = sum(t["upspeed"] for t in ts.values())
		return {"connection_status": "connected", "dl_info_speed": dl, "up_info_speed": up,
		        "dl_info_data": sum(t["downloaded"] for t in ts.values()),
		        "up_info_data": sum(t["uploaded"] for t in ts.values()),
		        "dl_rate_limit": 0, "up_rate_limit": 0, "dht_nodes": 0,
		        "free_space_on_disk": 2 * 10**12, "queueing": False,
		        "use_alt_speed_limits": False, "refresh_interval": 1500,
		        "alltime_dl": 0, "alltime_ul": 0, "global_ratio": "0.00"}

	@svc.route("POST", "/api/v2/auth/login")
	def login(req):
		f = req.form()
		if f.get("username") != username or f.get("password") != password:
			return text(200, "Fails.")
		sid = secrets.token_urlsafe(24)[:32]
		sessions[sid] = {"rid": None, "torrents": None, "server": None}
		return Resp(200, text="Ok.", headers={
			"Set-Cookie": "SID=%s; HttpOnly; SameSite=Strict; path=/" % sid})

	@svc.route("POST", "/api/v2/auth/logout")
	def logout(req):
		sessions.pop(req.cookies().get("SID"), None)
		return text(200, "")

	@svc.route("GET", "/api/v2/app/version")
	def version(req):
		return text(200, "v5.1.4")

	@svc.route("GET", "/api/v2/app/webapiVersion")
	def webapi(req):
		return text(200, "2.11.4")

	@svc.route("GET", "/api/v2/torrents/categories")
	def categories(req):
		return CATEGORIES

	@svc.route("GET", "/api/v2/transfer/info")
	def transfer(req):
		st = server_state(current())
		return {k: st[k] for k in ("connection_status", "dl_info_speed", "up_info_speed",
		                           "dl_info_data", "up_info_data", "dl_rate_limit",
		                           "up_rate_limit", "dht_nodes")}

	@svc.route("GET", "/api/v2/torrents/info")
	def info(req):
		ts = list(current().values())
		flt = FILTERS.get(req.arg("filter") or "all", FILTERS["all"])
		ts = [t for t in ts if flt(t)]
		if req.arg("category") is not None:
			ts = [t for t in ts if t["category"] == req.arg("category")]
		if req.arg("hashes"):
			want = {h.lower() for h in req.arg("hashes").split("|")}
			ts = [t for t in ts if t["hash"] in want]
		sort = req.arg("sort")
		if sort:
			if ts and sort not in ts[0]:
				return text(400, "'sort' parameter is invalid")
			ts.sort(key=lambda t: t.get(sort), reverse=req.bool_arg("reverse"))
		off = req.int_arg("offset", 0)
		if off < 0:
			off = max(0, len(ts) + off)
		lim = req.int_arg("limit", 0)
		return ts[off:off + lim] if lim > 0 else ts[off:]

	@svc.route("GET", "/api/v2/torrents/properties")
	def properties(req):
		h = (req.arg("hash") or "").lower()
		if not h:
			return text(400, "Missing required parameter 'hash'")
		t = current().get(h)
		if t is None:
			return text(404, "Not Found")
		return {"addition_date": t["added_on"], "completion_date": t["completion_on"],
		        "creation_date": t["added_on"], "dl_speed": t["dlspeed"],
		        "dl_speed_avg": t["dlspeed"], "eta": t["eta"], "nb_connections": t["num_seeds"],
		        "peers": t["num_leechs"], "peers_total": 5, "seeds": t["num_seeds"],
		        "seeds_total": 40, "piece_size": 4194304,
		        "pieces_num": t["size"] // 4194304 + 1,
		        "pieces_have": int((t["size"] // 4194304 + 1) * t["progress"]),
		        "save_path": t["save_path"], "share_ratio": t["ratio"],
		        "total_size": t["size"], "total_downloaded": t["downloaded"],
		        "total_uploaded": t["uploaded"], "up_speed": t["upspeed"],
		        "time_elapsed": t["time_active"], "seeding_time": t["seeding_time"],
		        "private": False, "comment": "", "created_by": "", "progress": t["progress"],
		        "name": t["name"], "hash": t["hash"], "infohash_v1": t["hash"],
		        "infohash_v2": "", "has_metadata": True}

	@svc.route("GET", "/api/v2/sync/maindata")
	def maindata(req):
		s = req.session
		ts = current()
		for t in ts.values():
			del t["hash"]  # the key is the hash (synccontroller.cpp)
		st = server_state(ts)
		rid = req.int_arg("rid", 0)
		new_rid = ((s["rid"] or 0) % 1000000) + 1
		if rid == 0 or rid != s["rid"] or s["torrents"] is None:
			out = {"rid": new_rid, "full_update": True, "torrents": ts,
			       "categories": CATEGORIES, "tags": [], "trackers": {},
			       "server_state": st}
		else:
			out = {"rid": new_rid}
			changed = {}
			for h, t in ts.items():
				old = s["torrents"].get(h)
				if old is None:
					changed[h] = t
				else:
					diff = {k: v for k, v in t.items() if old.get(k) != v}
					if diff:
						changed[h] = diff
			if changed:
				out["torrents"] = changed
			removed = [h for h in s["torrents"] if h not in ts]
			if removed:
				out["torrents_removed"] = removed
			sdiff = {k: v for k, v in st.items() if s["server"].get(k) != v}
			if sdiff:
				out["server_state"] = sdiff
		s["rid"], s["torrents"], s["server"] = new_rid, ts, st
		return out

	return svc

#!/usr/bin/python3
"""Self-test of fake_seerr.py: every refusal the real server makes, the happy paths, the state
file and the command line. Run: /usr/bin/python3 tests/fakes/test_fake_seerr.py"""

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fake_seerr import make_fake, DEFAULT_KEY  # noqa: E402

NO_PERMISSION = {"status": 403, "error": "You do not have permission to access this endpoint"}


class Client:
	def __init__(self, port):
		self.port = port

	def call(self, method, path, body=None, user=None, key=DEFAULT_KEY):
		headers = {}
		if key is not None:
			headers["X-Api-Key"] = key
		if user is not None:
			headers["X-Api-User"] = str(user)
		data = None
		if body is not None:
			data = json.dumps(body)
			headers["Content-Type"] = "application/json"
		c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
		try:
			c.request(method, path, body=data, headers=headers)
			r = c.getresponse()
			raw = r.read()
			return r.status, (json.loads(raw) if raw else None)
		finally:
			c.close()

	def request(self, user, mt, tmdb_id, **extra):
		body = {"mediaType": mt, "mediaId": tmdb_id}
		body.update(extra)
		return self.call("POST", "/api/v1/request", body, user=user)


class FakeSeerrTest(unittest.TestCase):
	USERS = None
	STATE = None

	def setUp(self):
		self.srv = make_fake([], users=self.USERS, state=self.STATE).start()
		self.c = Client(self.srv.port)

	def tearDown(self):
		self.srv.stop()


class Auth(FakeSeerrTest):
	def test_missing_wrong_key_unknown_user(self):
		for key, user in ((None, None), ("wrong", None), (DEFAULT_KEY, 99), (DEFAULT_KEY, "x")):
			st, body = self.c.call("GET", "/api/v1/request", key=key, user=user)
			self.assertEqual((st, body), (403, NO_PERMISSION), (key, user))

	def test_status_is_public(self):
		st, body = self.c.call("GET", "/api/v1/status", key=None)
		self.assertEqual(st, 200)
		self.assertEqual(body["version"], "1.33.2")

	def test_key_alone_is_user_1(self):
		st, me = self.c.call("GET", "/api/v1/auth/me")
		self.assertEqual((st, me["id"], me["displayName"]), (200, 1, "Mum"))

	def test_records_every_request(self):
		self.c.call("GET", "/api/v1/search?query=dune%20part", user=3)
		rec = self.srv.requests()
		self.assertEqual(rec[-1]["query"]["query"], ["dune part"])
		self.assertEqual(rec[-1]["headers"]["X-Api-User"], "3")


class Search(FakeSeerrTest):
	def test_all_words_caseless_with_people(self):
		st, body = self.c.call("GET", "/api/v1/search?query=DUNE&page=1")
		self.assertEqual(st, 200)
		kinds = [(r["mediaType"], r.get("title") or r.get("name")) for r in body["results"]]
		self.assertEqual(kinds[0], ("movie", "Dune"))
		self.assertIn(("tv", "Dune: Prophecy"), kinds)
		self.assertIn(("person", "Denis Villeneuve"), kinds)
		self.assertEqual(body["totalResults"], len(body["results"]))
		dune = body["results"][0]
		self.assertEqual(dune["releaseDate"], "2021-09-15")
		self.assertEqual(dune["mediaInfo"]["status"], 5)
		self.assertNotIn("mediaInfo", body["results"][1])  # Dune (1984): no media row

	def test_punctuation_and_unicode(self):
		st, body = self.c.call("GET", "/api/v1/search?query=love%2C%20death%20%26%20robots")
		self.assertEqual([r["id"] for r in body["results"]], [86831])
		st, body = self.c.call("GET", "/api/v1/search?query=sh%C5%8Dgun")
		self.assertEqual([r["id"] for r in body["results"]], [126308])
		st, body = self.c.call("GET", "/api/v1/search?query=dune%20nothing")
		self.assertEqual(body["results"], [])

	def test_query_required(self):
		st, body = self.c.call("GET", "/api/v1/search")
		self.assertEqual(st, 400)
		self.assertIn("query", body["message"])


class Details(FakeSeerrTest):
	def test_movie_and_tv(self):
		st, m = self.c.call("GET", "/api/v1/movie/603")
		self.assertEqual((st, m["title"], m["mediaInfo"]["status"]), (200, "The Matrix", 5))
		st, t = self.c.call("GET", "/api/v1/tv/2316")
		self.assertEqual(t["numberOfSeasons"], 9)
		self.assertEqual(t["seasons"][0]["episodeCount"], 6)
		self.assertEqual(t["mediaInfo"]["status"], 4)
		got = {s["seasonNumber"]: s["status"] for s in t["mediaInfo"]["seasons"]}
		self.assertEqual((got[1], got[3], got[4]), (5, 5, 1))

	def test_unknown_id_is_500(self):
		self.assertEqual(self.c.call("GET", "/api/v1/movie/1"),
		                 (500, {"message": "Unable to retrieve movie."}))
		self.assertEqual(self.c.call("GET", "/api/v1/tv/1"),
		                 (500, {"message": "Unable to retrieve series."}))

	def test_recommendations(self):
		st, body = self.c.call("GET", "/api/v1/movie/438631/recommendations")
		self.assertEqual(st, 200)
		ids = [r["id"] for r in body["results"]]
		self.assertNotIn(438631, ids)
		self.assertIn(693134, ids)
		self.assertTrue(all(r["mediaType"] == "movie" for r in body["results"]))
		self.assertEqual(self.c.call("GET", "/api/v1/tv/1/recommendations")[0], 500)


class Requests(FakeSeerrTest):
	def test_member_pending_admin_and_auto_approved(self):
		st, r = self.c.request(3, "movie", 872585)
		self.assertEqual((st, r["status"], r["requestedBy"]["id"]), (201, 1, 3))
		self.assertEqual(r["media"]["status"], 2)
		st, r = self.c.request(2, "movie", 157336)
		self.assertEqual((st, r["status"], r["modifiedBy"]["id"]), (201, 2, 2))
		st, r = self.c.request(None, "movie", 27205)
		self.assertEqual((st, r["status"], r["requestedBy"]["id"]), (201, 2, 1))
		self.assertEqual(r["media"]["status"], 3)

	def test_body_validation(self):
		st, body = self.c.call("POST", "/api/v1/request", {"mediaId": 603})
		self.assertEqual(st, 400)
		self.assertIn("mediaType", body["message"])
		st, body = self.c.call("POST", "/api/v1/request", {"mediaType": "movie"})
		self.assertEqual(st, 400)
		self.assertIn("mediaId", body["message"])
		self.assertEqual(self.c.request(1, "film", 603)[0], 400)
		self.assertEqual(self.c.request(1, "movie", 1),
		                 (500, {"message": "Unable to retrieve movie."}))
		st, body = self.c.request(1, "tv", 1399)  # no seasons: the server's own TypeError
		self.assertEqual(st, 500)

	def test_duplicate_movie_409_until_declined(self):
		st, body = self.c.request(2, "movie", 109445)  # Kid's pending Frozen
		self.assertEqual((st, body), (409, {"message": "Request for this media already exists."}))
		self.assertEqual(self.c.call("POST", "/api/v1/request/1/decline")[0], 200)
		self.assertEqual(self.c.request(2, "movie", 109445)[0], 201)

	def test_tv_seasons_dedup_and_202(self):
		st, r = self.c.request(3, "tv", 1399, seasons=[1, 2])
		self.assertEqual([s["seasonNumber"] for s in r["seasons"]], [1, 2])
		st, r = self.c.request(2, "tv", 1399, seasons=[2, 3])
		self.assertEqual((st, [s["seasonNumber"] for s in r["seasons"]]), (201, [3]))
		st, body = self.c.request(1, "tv", 1399, seasons=[1, 2, 3])
		self.assertEqual((st, body), (202, {"message": "No seasons available to request"}))
		st, body = self.c.request(1, "tv", 1396, seasons="all")  # all in the library
		self.assertEqual(st, 202)
		st, r = self.c.request(1, "tv", 2316, seasons="all")  # The Office: 1-3 held
		self.assertEqual([s["seasonNumber"] for s in r["seasons"]], [4, 5, 6, 7, 8, 9])

	def test_season_the_show_lacks_is_filed(self):
		# As the real server does: no check against TMDB's seasons.
		st, r = self.c.request(1, "tv", 126308, seasons=[7])
		self.assertEqual((st, [s["seasonNumber"] for s in r["seasons"]]), (201, [7]))

	def test_list_own_vs_all(self):
		self.c.request(3, "movie", 872585)
		self.c.request(2, "movie", 157336)
		st, kid = self.c.call("GET", "/api/v1/request", user=3)
		self.assertEqual(kid["pageInfo"]["results"], 2)
		self.assertTrue(all(r["requestedBy"]["id"] == 3 for r in kid["results"]))
		self.assertEqual([r["id"] for r in kid["results"]], [2, 1])
		st, mum = self.c.call("GET", "/api/v1/request?take=2&skip=0", user=1)
		self.assertEqual((mum["pageInfo"]["results"], len(mum["results"])), (3, 2))
		self.assertEqual(mum["pageInfo"]["pages"], 2)
		st, body = self.c.call("GET", "/api/v1/request?requestedBy=2", user=3)
		self.assertEqual(st, 403)
		self.assertIn("message", body)
		st, body = self.c.call("GET", "/api/v1/request?filter=pending&requestedBy=3")
		self.assertEqual(body["pageInfo"]["results"], 2)
		st, body = self.c.call("GET", "/api/v1/request?filter=approved")
		self.assertEqual(body["pageInfo"]["results"], 1)

	def test_approve_decline_need_manage_requests(self):
		self.assertEqual(self.c.call("POST", "/api/v1/request/1/approve", user=3),
		                 (403, NO_PERMISSION))
		self.assertEqual(self.c.call("POST", "/api/v1/request/1/approve", user=2),
		                 (403, NO_PERMISSION))
		st, r = self.c.call("POST", "/api/v1/request/1/approve", user=1)
		self.assertEqual((st, r["status"], r["modifiedBy"]["id"]), (200, 2, 1))
		self.assertEqual(self.c.call("POST", "/api/v1/request/99/approve")[0], 404)

	def test_get_and_delete_rules(self):
		st, r = self.c.request(3, "movie", 872585)
		rid = r["id"]
		self.assertEqual(self.c.call("GET", "/api/v1/request/%d" % rid, user=2)[0], 403)
		self.assertEqual(self.c.call("GET", "/api/v1/request/%d" % rid, user=3)[0], 200)
		self.c.call("POST", "/api/v1/request/%d/approve" % rid)
		st, body = self.c.call("DELETE", "/api/v1/request/%d" % rid, user=2)
		self.assertEqual(st, 401)
		self.assertIn("permission", body["message"])
		self.assertEqual(self.c.call("DELETE", "/api/v1/request/%d" % rid, user=3), (204, None))
		self.assertEqual(self.c.call("DELETE", "/api/v1/request/%d" % rid, user=3)[0], 404)


class Quota(FakeSeerrTest):
	USERS = [{"id": 1, "displayName": "Mum", "permissions": 2},
	         {"id": 4, "displayName": "Gran", "permissions": 32, "quota": {"movie": 1, "tv": 2}},
	         {"id": 5, "displayName": "Guest", "permissions": 0}]

	def test_quota_and_permission(self):
		self.assertEqual(self.c.request(4, "movie", 346698)[0], 201)
		self.assertEqual(self.c.request(4, "movie", 348),
		                 (403, {"message": "Movie Quota exceeded."}))
		self.assertEqual(self.c.request(4, "tv", 1399, seasons=[1, 2, 3]),
		                 (403, {"message": "Series Quota exceeded."}))
		self.assertEqual(self.c.request(4, "tv", 1399, seasons=[1, 2])[0], 201)
		self.assertEqual(self.c.request(5, "movie", 348), (403, {
			"message": "You do not have permission to make movie requests."}))
		# The admin key acting for someone else: that person's permissions and quota
		# apply, approval is the caller's, and only the caller may waive the quota.
		self.assertEqual(self.c.request(None, "movie", 348, userId=5)[0], 403)
		self.assertEqual(self.c.request(None, "movie", 348, userId=4)[0], 403)
		self.assertEqual(self.c.request(4, "movie", 348, ignoreQuota=True)[0], 403)
		st, r = self.c.request(None, "movie", 348, userId=4, ignoreQuota=True)
		self.assertEqual((st, r["requestedBy"]["id"], r["status"]), (201, 4, 2))


class Issues(FakeSeerrTest):
	def test_issue_needs_media_row_and_permission(self):
		st, m = self.c.call("GET", "/api/v1/movie/603")
		st, issue = self.c.call("POST", "/api/v1/issue",
		                        {"issueType": 1, "message": "no picture",
		                         "mediaId": m["mediaInfo"]["id"]})
		self.assertEqual(st, 200)
		self.assertEqual(issue["media"]["tmdbId"], 603)
		self.assertEqual(self.c.call("POST", "/api/v1/issue", {"issueType": 1, "mediaId": 999}),
		                 (404, {"message": "Media does not exist."}))
		self.assertEqual(self.c.call("POST", "/api/v1/issue", {"issueType": 1, "mediaId": 1},
		                             user=3), (403, NO_PERMISSION))


class State(FakeSeerrTest):
	STATE = {"media": [{"mediaType": "movie", "tmdbId": 872585, "status": 5},
	                   {"mediaType": "tv", "tmdbId": 95396, "seasons": {"1": 5}}],
	         "requests": [{"user": 2, "mediaType": "tv", "tmdbId": 1399, "seasons": [1],
	                       "status": 2}]}

	def test_state_file_applies(self):
		st, m = self.c.call("GET", "/api/v1/movie/872585")
		self.assertEqual(m["mediaInfo"]["status"], 5)
		st, t = self.c.call("GET", "/api/v1/tv/95396")
		self.assertEqual(t["mediaInfo"]["status"], 4)
		st, t = self.c.call("GET", "/api/v1/tv/1399")
		self.assertEqual(t["mediaInfo"]["status"], 3)
		self.assertEqual(t["mediaInfo"]["requests"][0]["requestedBy"]["id"], 2)
		self.assertEqual(self.c.request(3, "tv", 1399, seasons=[1])[0], 202)


class CommandLine(unittest.TestCase):
	def test_cli_options_and_faults(self):
		with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
			json.dump({"requests": [{"user": 3, "mediaType": "movie", "tmdbId": 603}]}, f)
		try:
			p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_seerr.py"),
			                      "--port", "0", "--api-key", "k", "--no-library",
			                      "--users", '[{"id": 1, "displayName": "A", "permissions": 2},'
			                      ' {"id": 3, "displayName": "K", "permissions": 32}]',
			                      "--state", f.name], stdout=subprocess.PIPE, text=True)
			try:
				line = p.stdout.readline()
				self.assertTrue(line.startswith("LISTENING "), line)
				c = Client(int(line.split()[1]))
				st, m = c.call("GET", "/api/v1/movie/438631", key="k")
				self.assertNotIn("mediaInfo", m)  # --no-library
				st, body = c.call("GET", "/api/v1/request", key="k")
				self.assertEqual(body["pageInfo"]["results"], 1)
				self.assertEqual(c.call("GET", "/api/v1/request", key=DEFAULT_KEY)[0], 403)
				# Injected faults come before the fake's own answers.
				c.call("POST", "/__fake/routes", {"routes": [
					{"path": "/api/v1/search", "status": 503, "json": {"message": "down"}}]})
				self.assertEqual(c.call("GET", "/api/v1/search?query=x", key="k"),
				                 (503, {"message": "down"}))
				st, rec = c.call("GET", "/__fake/requests")
				self.assertEqual([r["path"] for r in rec],
				                 ["/api/v1/movie/438631", "/api/v1/request", "/api/v1/request",
				                  "/api/v1/search"])
			finally:
				p.send_signal(signal.SIGTERM)
				self.assertEqual(p.wait(10), 0)
				p.stdout.close()
		finally:
			os.unlink(f.name)


if __name__ == "__main__":
	unittest.main()

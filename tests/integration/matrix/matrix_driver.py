#!/usr/bin/python3
"""Drives the real usher binary against tests/fakes/fake_matrix.py (in this process).

    matrix_driver.py --usher PATH SCENARIO

Each scenario starts usher with a config holding [matrix], people and, for the end-to-end ones,
fake Seerr, Radarr and qBittorrent (tests/fakes, served from this process), injects events into the
fake homeserver, checks what usher sent, then stops usher with SIGTERM and expects exit 0 (under
-DUSHER_SANITIZE=ON that also means no leak). Exit 0 = pass, 1 = fail.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fakes"))
from fake_matrix import FakeMatrix  # noqa: E402
from fake_qbittorrent import FakeQbittorrent  # noqa: E402
from fake_seerr import make_fake as make_seerr  # noqa: E402
from fakehttp import FakeServer  # noqa: E402

USHER = "@usher:localhost"
ALICE = "@alice:localhost"
BOB = "@bob:localhost"
EVE = "@eve:localhost"
TOKEN = "usher-token"
PASSWORD = "usher-password"


class Fail(Exception):
	pass


def check(cond, what):
	if not cond:
		raise Fail(what)


class Run:
	def __init__(self, usher, tmp, fake):
		self.usher, self.tmp, self.fake = usher, tmp, fake
		self.proc = None
		self.n = 0
		self.logs = []

	def config(self, auth="token", extra="", services="", alice="", bob=""):
		cred = "access_token = %s" % TOKEN if auth == "token" else "password = %s" % PASSWORD
		path = os.path.join(self.tmp, "usher.conf")
		with open(path, "w") as f:
			f.write("[usher]\nlog_level = debug\n[matrix]\nhomeserver = %s\nuser_id = %s\n%s\n"
			        "device_id = USHERTEST\n%s\n[person alice]\nmatrix = %s\n%s[person bob]\n"
			        "matrix = %s\n%s%s" % (self.fake.url, USHER, cred, extra, ALICE, alice, BOB,
			                              bob, services))
		os.chmod(path, 0o600)
		return path

	def start(self, conf, resume=False):
		self.n += 1
		out = open(os.path.join(self.tmp, "out%d" % self.n), "w")
		err = open(os.path.join(self.tmp, "err%d" % self.n), "w")
		self.logs.append(err.name)
		env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
		env.update(HOME=self.tmp, LC_ALL="C.UTF-8", TZ="UTC", NO_COLOR="1")
		before = len(self.fake.state()["syncs"])
		self.proc = subprocess.Popen([self.usher, "run", "--config", conf], cwd=self.tmp,
		                             stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
		out.close()
		err.close()
		# Ready once the first batch is handled: a second sync on a first run, the
		# first long-poll when resuming.
		end = time.monotonic() + 15
		while time.monotonic() < end:
			if len(self.fake.state()["syncs"]) >= before + (1 if resume else 2):
				return
			check(self.proc.poll() is None, "usher exited early with %s" % self.proc.returncode)
			time.sleep(0.02)
		raise Fail("usher did not start syncing")

	def stop(self):
		if self.proc is None:
			return
		p, self.proc = self.proc, None
		if p.poll() is None:
			p.send_signal(signal.SIGTERM)
		try:
			rc = p.wait(15)
		except subprocess.TimeoutExpired:
			p.kill()
			p.wait()
			raise Fail("usher did not stop on SIGTERM")
		check(rc == 0, "usher exited with %d after SIGTERM" % rc)
		with open(self.logs[-1]) as f:
			log = f.read()
		for secret in (TOKEN, PASSWORD, "syt_login"):
			check(secret not in log, "a secret (%s) appears in usher's log" % secret)

	def kill(self):
		if self.proc is not None and self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()
		self.proc = None

	def settle(self):
		"""Waits until usher has handled everything injected so far (and a little more)."""
		check(self.fake.wait_synced(self.fake.position()), "usher stopped syncing")
		time.sleep(0.3)


def sent_bodies(fake, room):
	return [s["content"].get("body", "") for s in fake.sent_in(room)]


def wait_for(what, fn, timeout=20.0):
	"""Polls fn() until it returns something true (at most `timeout` s); returns it."""
	end = time.monotonic() + timeout
	while True:
		got = fn()
		if got or time.monotonic() > end:
			check(got, "timed out waiting for " + what)
			return got
		time.sleep(0.05)


def sent_matching(fake, room, text):
	"""usher's events in `room` whose body (or edited body) contains `text`."""
	out = []
	for s in fake.sent_in(room):
		c = s["content"]
		body = (c.get("m.new_content") or c).get("body", "")
		if text in body:
			out.append(s)
	return out


INTERSTELLAR_HASH = "dddd000000000000000000000000000000000004"


class Services:
	"""Seerr, Radarr and qBittorrent fakes, served from this process. Radarr's queue holds
	Interstellar downloading as INTERSTELLAR_HASH, which qBittorrent has at 40%."""

	def __init__(self, search_delay_s=0.0):
		self.seerr = make_seerr([], library=False, port=0)
		if search_delay_s:
			answer = self.seerr._answer

			def slow(req):  # an answer slow enough that usher shows it is typing
				if req.path == "/api/v1/search":
					time.sleep(search_delay_s)
				return answer(req)
			self.seerr._answer = slow
		h = INTERSTELLAR_HASH
		self.radarr = FakeServer(routes=[{"method": "GET", "path": "/api/v3/queue", "json": {
		    "page": 1, "pageSize": 100, "totalRecords": 1, "records": [{
		        "id": 5, "movieId": 105, "title": "Interstellar.2014.1080p", "size": 3000000000,
		        "sizeleft": 1800000000, "status": "downloading", "trackedDownloadStatus": "ok",
		        "trackedDownloadState": "downloading", "statusMessages": [],
		        "downloadId": h.upper(), "protocol": "torrent", "downloadClient": "qBittorrent",
		        "movie": {"id": 105, "title": "Interstellar", "year": 2014, "tmdbId": 157336}}]}}],
		    port=0)
		self.qb = FakeQbittorrent([], torrents={h: {"size": 3000000000, "progress": 0.4,
		                                            "dlspeed": 1500000, "eta": 1200}}, port=0)
		for f in (self.seerr, self.radarr, self.qb):
			f.start()

	def config(self):
		return ("[seerr]\nurl = %s\napi_key = test-seerr-key\n[radarr]\nurl = %s\n"
		        "api_key = arr-key\n[qbittorrent]\nurl = %s\nusername = admin\n"
		        "password = adminadmin\n[progress]\ninterval_s = 1\nedit_every_s = 0\n" %
		        (self.seerr.url, self.radarr.url, self.qb.url))

	def progress(self, fraction, eta):
		self.qb.merge({INTERSTELLAR_HASH: {"progress": fraction, "eta": eta}})

	def available(self, user_id):
		"""Seerr now says Interstellar is in the library."""
		self.seerr.set_routes([{"method": "GET", "path": "/api/v1/request", "json": {
		    "pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1},
		    "results": [{"id": 1, "status": 2, "type": "movie", "is4k": False,
		                 "media": {"tmdbId": 157336, "mediaType": "movie", "status": 5},
		                 "requestedBy": {"id": user_id}}]}}], mode="prepend")

	def posted_requests(self):
		return [r for r in self.seerr.requests() if r["method"] == "POST"
		        and r["path"] == "/api/v1/request"]

	def stop(self):
		for f in (self.seerr, self.radarr, self.qb):
			f.stop()


# Scenarios -------------------------------------------------------------------------------------

def dm_help(run, fake):
	dm = fake.room("!dm:localhost", [ALICE])
	fake.message(dm, ALICE, "help")  # history: the first sync does not answer it
	stranger = fake.room("!eve:localhost", [EVE])
	run.start(run.config())
	run.settle()
	check(fake.sent_in(dm) == [], "answered a message from before the first run")
	fake.message(dm, ALICE, "help")
	got = fake.wait_sent(1, dm)
	check(len(got) == 1, "no reply to help in the DM")
	c = got[0]["content"]
	check("I fetch films" in c["body"], "unexpected reply: %r" % c["body"])
	check(c["msgtype"] == "m.notice", "reply is %s, not m.notice" % c["msgtype"])
	check(c.get("format") == "org.matrix.custom.html" and "<br>" in c["formatted_body"],
	      "no HTML body: %r" % c)
	check(c.get("m.mentions") == {"user_ids": []}, "m.mentions missing: %r" % c)
	fake.message(stranger, EVE, "get me dune")
	got = fake.wait_sent(1, stranger)
	check(len(got) == 1 and "Sorry" in got[0]["content"]["body"], "stranger not refused: %r" % got)
	run.settle()
	check(len(fake.sent_in(dm)) == 1, "usher answered its own message: %r" % sent_bodies(fake, dm))
	run.stop()


def group_room(run, fake):
	grp = fake.room("!grp:localhost", [ALICE, BOB], names={ALICE: "Alice <img src=x>"})
	run.start(run.config())
	fake.message(grp, ALICE, "help")
	fake.message(grp, ALICE, "usher: help", msgtype="m.notice")
	run.settle()
	check(fake.sent_in(grp) == [], "answered an unaddressed message: %r" % sent_bodies(fake, grp))
	ask = fake.message(grp, ALICE, "usher: help")
	got = fake.wait_sent(1, grp)
	check(len(got) == 1, "no answer to 'usher: help'")
	c = got[0]["content"]
	check(c.get("m.relates_to") == {"m.in_reply_to": {"event_id": ask}},
	      "not a reply to the question: %r" % c.get("m.relates_to"))
	check(c.get("m.mentions") == {"user_ids": [ALICE]}, "no m.mentions: %r" % c.get("m.mentions"))
	check(c["body"].startswith("Alice <img src=x>: I fetch films"), "body: %r" % c["body"])
	html = c["formatted_body"]
	check(html.startswith('<a href="https://matrix.to/#/@alice:localhost">Alice &lt;img src=x&gt;'
	                      '</a>: I fetch films'), "no pill or unescaped name: %r" % html)
	check("<img" not in html, "HTML injection: %r" % html)
	fake.message(grp, BOB, "help", mentions=[USHER])
	check(len(fake.wait_sent(2, grp)) == 2, "no answer to a message that mentions usher")
	fake.message(grp, ALICE, "help", reply_to=got[0]["event_id"])
	check(len(fake.wait_sent(3, grp)) == 3, "no answer to a reply to usher")
	fake.message(grp, BOB, "help", reply_to=ask)  # a reply to alice, not to usher
	run.settle()
	check(len(fake.sent_in(grp)) == 3, "answered a reply to someone else")
	run.stop()


def invites(run, fake):
	run.start(run.config())
	mine = fake.invite("!fromalice:localhost", ALICE, is_direct=True)
	other = fake.invite("!fromeve:localhost", EVE)
	end = time.monotonic() + 10
	while time.monotonic() < end:
		st = fake.state()
		if mine in st["joins"] and other in st["leaves"]:
			break
		time.sleep(0.05)
	st = fake.state()
	check(mine in st["joins"], "did not join alice's invitation: %r" % st["joins"])
	check(other in st["leaves"] and other not in st["joins"], "did not decline eve's invitation")
	run.settle()
	fake.message(mine, ALICE, "help")
	check(len(fake.wait_sent(1, mine)) == 1, "no answer in the room alice invited usher to")
	run.stop()


def restart(run, fake):
	dm = fake.room("!dm:localhost", [ALICE])
	conf = run.config(auth="password")
	run.start(conf)
	fake.message(dm, ALICE, "help")
	check(len(fake.wait_sent(1, dm)) == 1, "no answer in the first run")
	run.settle()
	run.stop()
	fake.message(dm, ALICE, "help")  # said while usher was down
	run.start(conf, resume=True)
	check(len(fake.wait_sent(2, dm)) == 2, "the message sent while usher was down was missed")
	run.settle()
	check(len(fake.sent_in(dm)) == 2, "old messages answered again: %d replies" %
	      len(fake.sent_in(dm)))
	st = fake.state()
	check(st["logins"] == 1, "logged in %d times; the stored token was not reused" % st["logins"])
	run.stop()


def send_retry(run, fake):
	dm = fake.room("!dm:localhost", [ALICE])
	run.start(run.config(extra="request_timeout_ms = 700"))
	fake.faults.update(send_slow=1, slow_ms=2000)
	fake.message(dm, ALICE, "help")
	end = time.monotonic() + 10
	while time.monotonic() < end and len(fake.state()["send_attempts"]) < 2:
		time.sleep(0.05)
	run.settle()
	tries = [a["txn"] for a in fake.state()["send_attempts"] if a["room_id"] == dm]
	check(len(tries) >= 2, "the timed-out send was not retried: %r" % tries)
	check(len(set(tries)) == 1, "the retry used another txnId: %r" % tries)
	check(len(fake.sent_in(dm)) == 1, "the message was posted %d times" % len(fake.sent_in(dm)))
	run.stop()


def rate_limit(run, fake):
	dm = fake.room("!dm:localhost", [ALICE])
	run.start(run.config())
	fake.faults.update(send_429=1, retry_after_ms=800)
	fake.message(dm, ALICE, "help")
	check(len(fake.wait_sent(1, dm)) == 1, "not sent after the 429")
	tries = [a for a in fake.state()["send_attempts"] if a["room_id"] == dm]
	check(len(tries) == 2 and tries[0]["txn"] == tries[1]["txn"], "attempts: %r" % tries)
	gap = tries[1]["time"] - tries[0]["time"]
	check(gap >= 0.75, "retried after %.2f s, before retry_after_ms" % gap)
	run.stop()


def encrypted(run, fake):
	enc = fake.room("!enc:localhost", [ALICE, BOB], encrypted=True)
	run.start(run.config())
	fake.encrypted(enc, ALICE)
	fake.encrypted(enc, BOB)
	fake.message(enc, ALICE, "usher: help")  # a plain message there is still not answered
	got = fake.wait_sent(1, enc)
	run.settle()
	fake.encrypted(enc, ALICE)
	run.settle()
	got = fake.sent_in(enc)
	check(len(got) == 1, "expected one notice in the encrypted room, got %r" %
	      [g["content"]["body"] for g in got])
	check("encrypted" in got[0]["content"]["body"], "notice: %r" % got[0]["content"]["body"])
	run.stop()
	run.start(run.config(), resume=True)
	fake.encrypted(enc, ALICE)
	run.settle()
	check(len(fake.sent_in(enc)) == 1, "the notice was said again after a restart")
	run.stop()


def with_services(search_delay_s=0.0):
	"""The scenario also gets Services (third argument), stopped whatever happens."""
	def deco(fn):
		def scenario(run, fake):
			svc = Services(search_delay_s)
			try:
				fn(run, fake, svc)
			finally:
				svc.stop()
		scenario.__name__ = fn.__name__
		scenario.__doc__ = fn.__doc__
		return scenario
	return deco


def ask_in_room(run, fake, svc, alice=""):
	"""Alice asks for Interstellar in a group room; returns the room once its progress
	message is there."""
	grp = fake.room("!grp:localhost", [ALICE, BOB])
	run.start(run.config(services=svc.config(), alice="seerr_user = 2\n" + alice))
	fake.message(grp, ALICE, "usher: get interstellar")
	wait_for("the answer in the room", lambda: sent_matching(fake, grp, "Requested"))
	wait_for("progress in the room", lambda: sent_matching(fake, grp, "40%"))
	return grp


def header(req, name):
	for k, v in req["headers"].items():
		if k.lower() == name.lower():
			return v
	return None


@with_services(search_delay_s=0.8)
def dm_request(run, fake, svc):
	"""A film asked for in a DM, end to end: the choice, the request in Seerr as the person,
	typing while usher waits on Seerr, read receipts for what it answered."""
	dm = fake.room("!dm:localhost", [ALICE])
	run.start(run.config(services=svc.config(), alice="seerr_user = 2\n"))
	ask = fake.message(dm, ALICE, "get dune")
	got = wait_for("the choice", lambda: sent_matching(fake, dm, "Which one?"))
	c = got[0]["content"]
	check("2) Dune (1984)" in c["body"], "choices: %r" % c["body"])
	check(c["msgtype"] == "m.notice" and c.get("m.mentions") == {"user_ids": []},
	      "reply: %r" % c)
	check("<br>" in c["formatted_body"] and "Dune (1984)" in c["formatted_body"],
	      "HTML body: %r" % c["formatted_body"])
	pick = fake.message(dm, ALICE, "2")
	got = wait_for("the answer", lambda: sent_matching(fake, dm, "Requested Dune"))
	check(got[0]["content"]["body"] == "Requested Dune (1984) for you. I'll keep you posted.",
	      "answer: %r" % got[0]["content"]["body"])
	posts = svc.posted_requests()
	check(len(posts) == 1, "requests posted to Seerr: %r" % posts)
	check(posts[0]["json"].get("mediaId") == 841 and header(posts[0], "X-Api-User") == "2",
	      "not Dune (1984) as alice's Seerr user: %r %r" % (posts[0]["json"],
	                                                       posts[0]["headers"]))
	st = fake.state()
	typing = [(t["typing"], t["timeout"]) for t in st["typing"] if t["room_id"] == dm]
	check(typing[:1] == [(True, 30000)] and typing[-1:] == [(False, None)],
	      "typing while Seerr was slow: %r" % typing)
	seen = [r["event_id"] for r in st["receipts"] if r["room_id"] == dm]
	check(ask in seen and pick in seen, "read receipts %r, not for %s and %s" %
	      (seen, ask, pick))
	run.stop()


@with_services()
def progress_edit(run, fake, svc):
	"""The progress message is edited in place (m.replace of the first one, m.new_content)
	through to "ready", and the person is told once that it is ready."""
	dm = fake.room("!dm:localhost", [ALICE])
	run.start(run.config(services=svc.config(), alice="seerr_user = 2\n"))
	fake.message(dm, ALICE, "get interstellar")
	orig = wait_for("the progress message", lambda: sent_matching(fake, dm, "40%"))[0]
	check("m.relates_to" not in orig["content"], "the first progress line is an edit")
	check(orig["content"]["body"].startswith("Interstellar (2014): Downloading"),
	      "progress: %r" % orig["content"]["body"])
	svc.progress(0.6, 800)
	e = wait_for("the 60% edit", lambda: sent_matching(fake, dm, "60%"))[0]["content"]
	check(e["m.relates_to"] == {"rel_type": "m.replace", "event_id": orig["event_id"]},
	      "edit relates to %r, not the first message" % e.get("m.relates_to"))
	check(e["body"].startswith("* Interstellar (2014): Downloading") and
	      e["m.new_content"]["body"].startswith("Interstellar (2014): Downloading") and
	      "60%" in e["m.new_content"]["body"], "edit: %r" % e)
	svc.available(2)
	wait_for("the ready ping", lambda: pings(fake, dm))
	edits = [s["content"] for s in fake.sent_in(dm) if "m.new_content" in s["content"]]
	check(any(x["m.new_content"]["body"] == "Interstellar (2014): ready to watch"
	          for x in edits), "the progress message never said ready")
	check(all(x["m.relates_to"]["event_id"] == orig["event_id"] and
	          "m.in_reply_to" not in x["m.relates_to"] for x in edits),
	      "an edit does not replace the first message")
	run.settle()
	time.sleep(1.5)
	check(len(pings(fake, dm)) == 1, "ready said %d times" % len(pings(fake, dm)))
	run.stop()


def pings(fake, room):
	"""usher's "... is ready to watch" messages in `room` (not progress edits)."""
	return [s for s in sent_matching(fake, room, "is ready to watch")
	        if "m.relates_to" not in s["content"]]


@with_services()
def ready_mention(run, fake, svc):
	"""In a group room the ready message pings the requester: m.mentions, a pill, m.text."""
	grp = ask_in_room(run, fake, svc)
	svc.available(2)
	c = wait_for("the ready ping", lambda: pings(fake, grp))[0]["content"]
	check(c["m.mentions"] == {"user_ids": [ALICE]} and c["msgtype"] == "m.text",
	      "the ready message does not mention alice: %r" % c)
	check(c["formatted_body"].startswith('<a href="https://matrix.to/#/%s">' % ALICE),
	      "no pill: %r" % c["formatted_body"])
	run.stop()


@with_services()
def notify_dm(run, fake, svc):
	"""notify = dm: a person who asked in a group room is told "ready" in a direct chat
	that usher opens (is_direct, trusted_private_chat), not in the room."""
	grp = ask_in_room(run, fake, svc, alice="notify = dm\n")
	check(fake.state()["created"] == [], "a direct chat was opened before it was needed")
	svc.available(2)
	created = wait_for("a direct chat", lambda: fake.state()["created"])
	req = created[0]["request"]
	check(req.get("invite") == [ALICE] and req.get("is_direct") is True and
	      req.get("preset") == "trusted_private_chat", "createRoom: %r" % req)
	dm = created[0]["room_id"]
	ping = wait_for("ready in the direct chat", lambda: pings(fake, dm))
	check("Interstellar (2014)" in ping[0]["content"]["body"], "%r" % ping[0]["content"])
	run.settle()
	check(pings(fake, grp) == [], "ready was said in the room too: %r" % pings(fake, grp))
	check(len(fake.state()["created"]) == 1, "more than one direct chat opened")
	run.stop()


@with_services()
def restart_owed(run, fake, svc):
	"""usher dies after the homeserver took its reply but before the answer came back: the
	next run makes the same transaction again, so the reply is posted once, and Seerr got
	one request."""
	dm = fake.room("!dm:localhost", [ALICE])
	conf = run.config(services=svc.config(), alice="seerr_user = 2\n")
	run.start(conf)
	fake.faults.update(send_slow=1, slow_ms=30000)
	fake.message(dm, ALICE, "get interstellar")
	first = wait_for("the reply", lambda: fake.sent_in(dm))[0]
	check("Requested Interstellar" in first["content"]["body"],
	      "first message: %r" % first["content"]["body"])
	time.sleep(0.3)
	run.kill()
	fake.faults["send_slow"] = 0
	run.start(conf, resume=True)
	wait_for("the same transaction again", lambda: len(
	    [a for a in fake.state()["send_attempts"] if a["txn"] == first["txn"]]) >= 2)
	run.settle()
	check(len(sent_matching(fake, dm, "Requested Interstellar")) == 1,
	      "the reply was posted twice: %r" % sent_bodies(fake, dm))
	check(len(svc.posted_requests()) == 1, "Seerr got %d requests" %
	      len(svc.posted_requests()))
	run.stop()


SCENARIOS = {f.__name__: f for f in (dm_help, group_room, invites, restart, send_retry,
                                     rate_limit, encrypted, dm_request, progress_edit,
                                     ready_mention, notify_dm, restart_owed)}


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--usher", required=True)
	ap.add_argument("scenario", choices=sorted(SCENARIOS))
	a = ap.parse_args()
	fake = FakeMatrix(user=USHER, token=TOKEN, password=PASSWORD).start()
	with tempfile.TemporaryDirectory(prefix="usher-matrix-") as tmp:
		run = Run(os.path.abspath(a.usher), tmp, fake)
		try:
			SCENARIOS[a.scenario](run, fake)
		except Fail as e:
			run.kill()
			print("FAIL %s: %s" % (a.scenario, e))
			for name in sorted(os.listdir(tmp)):
				if name.startswith(("out", "err")):
					with open(os.path.join(tmp, name), errors="replace") as f:
						print("--- %s\n%s" % (name, f.read()[-6000:]))
			print("--- sent:", fake.sent)
			return 1
		finally:
			run.kill()
			fake.stop()
	print("ok", a.scenario)
	return 0


if __name__ == "__main__":
	sys.exit(main())

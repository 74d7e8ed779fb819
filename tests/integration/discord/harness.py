#!/usr/bin/python3
"""Drives the real usher against tests/fakes/fake_discord.py: harness.py USHER REPO CASE.

Each case injects gateway events through the fake's control API and checks what usher sent
back (REST calls and gateway payloads in the fake's log). Exit 0 pass, 1 fail.
Every wait is bounded; usher and the fake are always killed and reaped."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ALICE = "53908232506183680"
STRANGER = "77777777777777777"
BOT = "1111"
DM = "645027906669510667"
GUILD_CHANNEL = "645027906669510668"
GUILD = "290926798626357999"
TOKEN = "test-token-abc123"


class Fail(Exception):
	pass


BOB = "53908232506183699"
# Cases that need slash commands (application_id, guild) and a fake Seerr.
SLASH = {"slash_help", "slash_request_buttons", "autocomplete", "token_expired",
         "seerr_discord_id", "dm_choice_buttons", "select_menu", "approve_button",
         "member_approve_refused", "slash_cancel_approve", "typing_offer", "ready_by_dm"}
# An admin, and a member told of progress by direct message only.
MUM = "53908232506183722"
DORA = "53908232506183733"
# Kid (Seerr user 3) waits for Frozen; Dad (2, alice) has Barbie on its way.
PENDING = json.dumps({"requests": [
	{"user": 3, "mediaType": "movie", "tmdbId": 109445, "status": 1},
	{"user": 2, "mediaType": "movie", "tmdbId": 346698, "status": 2}]})
SEERR_ARGS = {
	"select_menu": ["--catalog", os.path.join(os.path.dirname(os.path.abspath(__file__)),
	                                          "many_titles.json")],
	"approve_button": ["--state", PENDING],
	"member_approve_refused": ["--state", PENDING],
	"slash_cancel_approve": ["--state", PENDING],
	"ready_by_dm": ["--state", PENDING],
}
# A person known only through the Discord id in their own Seerr settings.
CAROL = "53908232506183711"


class Run:
	def __init__(self, usher, repo, case=""):
		self.tmp = tempfile.mkdtemp(prefix="usher-discord-")
		self.usher = None
		self.seerr = None
		extra = ""
		if case in SLASH:
			self.seerr = subprocess.Popen(
				[sys.executable, os.path.join(repo, "tests/fakes/fake_seerr.py"), "--port", "0",
				 "--no-library", "--users", json.dumps([
				     {"id": 1, "displayName": "Mum", "permissions": 2},
				     {"id": 2, "displayName": "Dad", "permissions": 32 | 128},
				     {"id": 3, "displayName": "Kid", "permissions": 32},
				     {"id": 4, "displayName": "Carol", "permissions": 32,
				      "discordId": CAROL}])] + SEERR_ARGS.get(case, []), stdout=subprocess.PIPE,
				stderr=open(os.path.join(self.tmp, "seerr.err"), "w"), text=True)
			line = self.seerr.stdout.readline()
			if not line.startswith("LISTENING "):
				raise Fail("fake seerr did not start: %r" % line)
			self.seerr_base = "http://127.0.0.1:%d" % int(line.split()[1])
			extra = ("application_id = %s\nguild = %s\n[seerr]\nurl = %s\n"
			         "api_key = test-seerr-key\n" % (BOT, GUILD, self.seerr_base))
		self.fake = subprocess.Popen(
			[sys.executable, os.path.join(repo, "tests/fakes/fake_discord.py"), "--port", "0",
			 "--token", TOKEN, "--heartbeat-ms", "400", "--bot-id", BOT],
			stdout=subprocess.PIPE, stderr=open(os.path.join(self.tmp, "fake.err"), "w"), text=True)
		line = self.fake.stdout.readline()
		if not line.startswith("LISTENING "):
			raise Fail("fake did not start: %r" % line)
		self.port = int(line.split()[1])
		self.seen = {}
		self.base = "http://127.0.0.1:%d" % self.port
		conf = os.path.join(self.tmp, "usher.conf")
		with open(conf, "w") as f:
			f.write("[usher]\nlog_level = debug\n[discord]\ntoken = %s\napi_url = %s/api/v10\n%s"
			        "[person alice]\nrole = member\ndiscord = %s\nseerr_user = 2\n"
			        "[person bob]\nrole = member\ndiscord = %s\nseerr_user = 3\n"
			        "[person carol]\nrole = member\nseerr_user = 4\n"
			        "[person mum]\nrole = admin\ndiscord = %s\nseerr_user = 1\n"
			        "[person dora]\nrole = member\ndiscord = %s\nseerr_user = 2\nnotify = dm\n"
			        "[progress]\ninterval_s = 1\n"
			        "[store]\npath = %s/usher.db\n"
			        % (TOKEN, self.base, extra, ALICE, BOB, MUM, DORA, self.tmp))
		os.chmod(conf, 0o600)
		env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
		env.update(HOME=self.tmp, LC_ALL="C.UTF-8", TZ="UTC", NO_COLOR="1")
		self.err_path = os.path.join(self.tmp, "usher.err")
		self.usher = subprocess.Popen([usher, "run", "--config", conf], cwd=self.tmp, env=env,
		                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
		                              stderr=open(self.err_path, "w"))

	def close_usher(self):
		self.usher.send_signal(signal.SIGTERM)
		try:
			self.usher.wait(10)
		except subprocess.TimeoutExpired:
			raise Fail("usher did not stop on SIGTERM")

	def close(self):
		for p in (self.usher, self.fake, self.seerr):
			if p is not None and p.poll() is None:
				p.send_signal(signal.SIGTERM)
				try:
					p.wait(5)
				except subprocess.TimeoutExpired:
					p.kill()
					p.wait()
		if self.tmp is None:
			return
		if os.environ.get("USHER_KEEP_TMP"):
			print("kept", self.tmp)
		else:
			shutil.rmtree(self.tmp, ignore_errors=True)

	def call(self, path, obj=None):
		data = json.dumps(obj).encode() if obj is not None else None
		req = urllib.request.Request(self.base + "/__fake/" + path, data=data,
		                             method="POST" if data is not None else "GET")
		with urllib.request.urlopen(req, timeout=5) as r:
			return json.loads(r.read())

	def log(self, kind=None):
		return [e for e in self.call("log") if kind is None or e["kind"] == kind]

	def stderr(self):
		with open(self.err_path) as f:
			return f.read()

	def wait(self, what, pred, timeout=15.0):
		end = time.time() + timeout
		while time.time() < end:
			v = pred()
			if v:
				return v
			if self.usher.poll() is not None:
				raise Fail("usher exited (%s) while waiting for %s\n%s"
				           % (self.usher.returncode, what, self.stderr()))
			time.sleep(0.05)
		raise Fail("timed out waiting for %s\nusher stderr:\n%s\nfake log:\n%s"
		           % (what, self.stderr(), json.dumps(self.log(), indent=1)[-3000:]))

	def ready(self, count=1):
		# generous: an ASan build loading the grammar on a busy machine is slow to start
		self.wait("identify", lambda: len(self.log("identify")) >= count, timeout=40)
		self.wait("usher to be connected",
		          lambda: self.stderr().count("event=connected network=discord as=%s" % BOT) >= count)

	def interaction(self, type_, data, user=ALICE, guild=False, message=None, expired=False):
		u = {"id": user, "username": "mason", "global_name": "Mason"}
		d = {"type": type_, "data": data, "channel_id": GUILD_CHANNEL if guild else DM,
		     "locale": "en-US"}
		if guild:
			d["guild_id"] = GUILD
			d["member"] = {"user": u, "roles": [], "permissions": "2147483647"}
		else:
			d["user"] = u
		if message is not None:
			d["message"] = message
		if expired:
			d["expired"] = True
		return self.call("interaction", d)

	def callbacks(self, token):
		return [e for e in self.log("callback") if e["token"] == token]

	def hooks(self, token):
		return [e for e in self.log("webhook") if e["token"] == token]

	def seerr_requests(self):
		with urllib.request.urlopen(self.seerr_base + "/__fake/requests", timeout=5) as r:
			return json.loads(r.read())

	def seerr_calls(self, method, path_re):
		return [r for r in self.seerr_requests()
		        if r.get("method") == method and re.match(path_re, r.get("path", ""))]

	def seerr_routes(self, routes):
		req = urllib.request.Request(self.seerr_base + "/__fake/routes", method="POST",
		                             data=json.dumps({"routes": routes, "mode": "prepend"}).encode())
		with urllib.request.urlopen(req, timeout=5) as r:
			r.read()

	def sent(self, channel, since=0, pred=lambda m: True):
		"""Messages usher posted to `channel` (with the ids the fake gave them)."""
		return [m for m in self.log("message")[since:]
		        if m["channel"] == channel and m["method"] == "POST" and pred(m["json"])]

	def press(self, custom_id, msg_id, user=ALICE, guild=False, values=None):
		data = {"component_type": 3 if values else 2, "custom_id": custom_id}
		if values:
			data["values"] = values
		return self.interaction(3, data, user=user, guild=guild,
		                        message={"id": msg_id,
		                                 "channel_id": GUILD_CHANNEL if guild else DM})

	def answers(self, token, n=1):
		"""The bot's follow-ups through interaction `token` (buttons pressed)."""
		return self.wait("%d answer(s) through the interaction" % n, lambda: (
			len([h for h in self.hooks(token) if h["method"] == "POST"]) >= n and
			[h for h in self.hooks(token) if h["method"] == "POST"]))

	def posts(self):
		return [e for e in self.log("rest") if e["method"] == "POST"]

	def message(self, text, author=ALICE, guild=False, mentions=(), mid="1325000000000000001"):
		d = {"id": mid, "channel_id": GUILD_CHANNEL if guild else DM, "content": text,
		     "author": {"id": author, "username": "mason", "global_name": "Mason", "bot": False},
		     "mentions": [{"id": m, "username": "usher", "bot": True} for m in mentions],
		     "timestamp": "2025-01-05T10:00:00.000000+00:00", "type": 0}
		if guild:
			d["guild_id"] = GUILD
		self.call("dispatch", {"t": "MESSAGE_CREATE", "d": d})


def expect(cond, what):
	if not cond:
		raise Fail(what)


def reply_to(run, mid, channel=DM):
	"""Waits for one more post to `channel` than there were before message `mid`: DMs are
	answered without a quote, rooms with a message_reference to `mid`."""
	def found():
		posts = [p for p in run.posts() if p["path"] == "/channels/%s/messages" % channel]
		if channel != DM:
			posts = [p for p in posts
			         if (p["json"].get("message_reference") or {}).get("message_id") == mid]
		return posts[run.seen.get(channel, 0):] if channel == DM else posts
	got = run.wait("a reply to %s" % mid, found)
	if channel == DM:
		run.seen[DM] = run.seen.get(DM, 0) + 1
	return got


def case_dm_help(run):
	run.ready()
	ident = run.log("identify")[0]
	expect(ident["intents"] == 4609, "intents %r, want 4609" % ident["intents"])
	run.message("help", mid="1001")
	post = reply_to(run, "1001")[0]
	expect(post["path"] == "/channels/%s/messages" % DM, "posted to %s" % post["path"])
	expect("I fetch films" in post["json"]["content"], "content: %r" % post["json"]["content"])
	expect(post["authorized"], "REST call without the bot token")
	# heartbeats at the fake's 400 ms interval, carrying the last sequence
	run.wait("three heartbeats", lambda: len(run.log("heartbeat")) >= 3, timeout=4)
	expect(run.log("heartbeat")[-1]["seq"] == 2, "heartbeat seq %r" % run.log("heartbeat")[-1])
	expect(TOKEN not in run.stderr(), "the token appears in the log")


def case_stranger(run):
	run.ready()
	run.message("get me dune", author=STRANGER, mid="1002")
	post = reply_to(run, "1002")[0]
	expect("family members I know" in post["json"]["content"], "content: %r" % post["json"])


def case_seerr_discord_id(run):
	"""Carol's config has no Discord id; her Seerr settings do, so she is
	answered as herself, not refused."""
	run.ready()
	run.wait("carol learnt", lambda: "carol is Discord user %s" % CAROL in run.stderr())
	run.message("help", author=CAROL, mid="1020")
	post = reply_to(run, "1020")[0]
	expect("I fetch films" in post["json"]["content"], "content: %r" % post["json"]["content"])


def case_guild_mention(run):
	run.ready()
	run.message("help", guild=True, mid="1003")
	time.sleep(1.0)
	expect(not run.posts(), "answered a guild message that did not mention it")
	run.message("<@%s> help" % BOT, guild=True, mentions=[BOT], mid="1004")
	post = reply_to(run, "1004", GUILD_CHANNEL)[0]
	expect("I fetch films" in post["json"]["content"], "content: %r" % post["json"]["content"])
	expect(len(run.posts()) == 1, "posts: %r" % run.posts())


def case_resume_op7(run):
	run.ready()
	run.message("help", mid="1005")
	reply_to(run, "1005")
	run.call("op", {"op": 7, "d": None})
	r = run.wait("resume", lambda: run.log("resume"))[0]
	expect(r["session_id"] == "session-1" and r["seq"] == 2, "resume %r" % r)
	expect(r["path"] == "/resume", "resumed on %s, not resume_gateway_url" % r["path"])
	expect(len(run.log("identify")) == 1, "identified again instead of resuming")
	run.wait("RESUMED", lambda: "event=connected network=discord resumed=yes" in run.stderr())
	run.message("help", mid="1006")
	reply_to(run, "1006")


def case_fatal_4004(run):
	run.ready()
	run.call("close", {"code": 4004, "reason": "Authentication failed."})
	run.wait("the log line", lambda: "4004" in run.stderr() and "token" in run.stderr())
	time.sleep(3.0)
	expect(len(run.log("connect")) == 1, "reconnected after 4004: %r" % run.log("connect"))
	expect(run.usher.poll() is None, "usher exited")


def case_zombie(run):
	run.ready()
	run.call("ack", {"enabled": False})
	run.wait("a new connection", lambda: len(run.log("connect")) >= 2, timeout=5)
	run.call("ack", {"enabled": True})
	r = run.wait("resume", lambda: run.log("resume"))[0]
	expect(r["session_id"] == "session-1", "resume %r" % r)
	run.wait("RESUMED", lambda: "event=connected network=discord resumed=yes" in run.stderr())
	run.message("help", mid="1007")
	reply_to(run, "1007")


def case_invalid_session(run):
	run.ready()
	run.call("op", {"op": 9, "d": False})
	run.wait("a fresh identify", lambda: len(run.log("identify")) >= 2, timeout=8)
	expect(not run.log("resume"), "resumed an invalid session")
	run.ready(2)
	run.message("help", mid="1008")
	reply_to(run, "1008")


def case_ratelimit_429(run):
	run.ready()
	run.call("ratelimit", {"count": 1, "retry_after": 0.6})
	run.message("help", mid="1009")
	run.wait("two POSTs", lambda: len(run.posts()) >= 2)
	time.sleep(1.0)
	posts = run.posts()
	expect(len(posts) == 2, "%d POSTs, want 2 (one 429, one retry)" % len(posts))
	gap = posts[1]["time"] - posts[0]["time"]
	expect(gap >= 0.55, "retried after %.3f s, before retry_after" % gap)


def case_slash_help(run):
	run.ready()
	put = run.wait("command registration", lambda: [
		e for e in run.log("rest") if e["method"] == "PUT"])[0]
	expect(put["path"] == "/applications/%s/guilds/%s/commands" % (BOT, GUILD), "PUT %s" % put)
	expect(put["authorized"], "registration without the bot token")
	names = [c["name"] for c in put["json"]]
	expect(names == ["request", "status", "requests", "cancel", "approve", "decline", "help"],
	       "commands %r" % names)
	title = put["json"][0]["options"][0]
	expect(title["name"] == "title" and title["required"] and title["autocomplete"],
	       "title option %r" % title)
	run.wait("registered", lambda: "slash commands registered" in run.stderr())
	ix = run.interaction(2, {"id": "1", "name": "help", "type": 1})
	cb = run.wait("the callback", lambda: run.callbacks(ix["token"]))
	expect(cb[0]["json"] == {"type": 5}, "callback %r" % cb[0])
	expect(not cb[0]["late"], "callback after 3 s")
	hook = run.wait("@original edited", lambda: run.hooks(ix["token"]))[0]
	expect(hook["method"] == "PATCH" and hook["message"] == "@original", "hook %r" % hook)
	expect("I fetch films" in hook["json"]["content"], "content %r" % hook["json"])
	expect(not run.posts(), "also posted to the channel: %r" % run.posts())
	expect(len(run.callbacks(ix["token"])) == 1, "acknowledged twice")
	# a typed message afterwards is answered in the channel, not through the interaction
	run.message("help", mid="1010")
	reply_to(run, "1010")
	expect(len(run.hooks(ix["token"])) == 1, "typed message answered as a follow-up")


def case_slash_request_buttons(run):
	run.ready()
	ix = run.interaction(2, {"id": "2", "name": "request", "type": 1, "options": [
		{"type": 3, "name": "title", "value": "Dune"},
		{"type": 3, "name": "type", "value": "movie"}]}, guild=True)
	cb = run.wait("the callback", lambda: run.callbacks(ix["token"]))[0]
	expect(cb["json"]["type"] == 5, "callback %r" % cb)
	hook = run.wait("@original edited", lambda: run.hooks(ix["token"]))[0]
	body = hook["json"]
	expect(hook["message"] == "@original", "hook %r" % hook)
	expect("1) Dune (2021)" in body["content"], "content %r" % body["content"])
	ids = [b["custom_id"] for row in body.get("components", []) for b in row["components"]]
	expect(ids[:2] == ["usher:choice:1", "usher:choice:2"], "buttons %r" % body)
	label = body["components"][0]["components"][0]["label"]
	expect(label.startswith("1) Dune"), "label %r" % label)
	expect(hook["id"], "no message id for @original: %r" % hook)
	# Bob presses Alice's button: refused, only he sees it
	msg = {"id": hook["id"], "channel_id": GUILD_CHANNEL}
	bix = run.interaction(3, {"component_type": 2, "custom_id": "usher:choice:1"}, user=BOB,
	                      guild=True, message=msg)
	bcb = run.wait("Bob's callback", lambda: run.callbacks(bix["token"]))[0]
	expect(bcb["json"]["type"] == 4 and bcb["json"]["data"]["flags"] == 64, "bob %r" % bcb)
	expect(ALICE in bcb["json"]["data"]["content"], "bob %r" % bcb)
	# Alice presses 1
	cix = run.interaction(3, {"component_type": 2, "custom_id": "usher:choice:1"}, guild=True,
	                      message=msg)
	ccb = run.wait("the click's callback", lambda: run.callbacks(cix["token"]))[0]
	expect(ccb["json"] == {"type": 6}, "click callback %r" % ccb)
	hooks = run.wait("the buttons removed and an answer", lambda: (
		len(run.hooks(cix["token"])) >= 2 and run.hooks(cix["token"])))
	expect(hooks[0]["message"] == "@original" and hooks[0]["json"]["components"] == [],
	       "buttons not removed: %r" % hooks[0])
	reqs = run.wait("the request in Seerr", lambda: [
		r for r in run.seerr_requests()
		if r.get("method") == "POST" and r.get("path") == "/api/v1/request"])
	body = reqs[0].get("json") or json.loads(reqs[0].get("body") or "{}")
	expect(body.get("mediaId") == 438631 and body.get("mediaType") == "movie", "%r" % reqs[0])
	follow = [h for h in hooks if h["method"] == "POST"]
	expect(follow and "Dune" in follow[0]["json"]["content"], "follow-ups %r" % hooks)
	expect(not run.posts(), "posted to the channel: %r" % run.posts())


def case_autocomplete(run):
	run.ready()
	ix = run.interaction(4, {"id": "2", "name": "request", "type": 1, "options": [
		{"type": 3, "name": "title", "value": "dune", "focused": True}]})
	cb = run.wait("the autocomplete answer", lambda: run.callbacks(ix["token"]))[0]
	expect(cb["json"]["type"] == 8, "callback %r" % cb)
	names = [c["name"] for c in cb["json"]["data"]["choices"]]
	expect("Dune (2021)" in names and "Dune (1984)" in names, "choices %r" % names)
	expect(len(names) <= 25, "%d choices" % len(names))
	expect(not cb["late"], "answered after 3 s")
	ix = run.interaction(4, {"id": "2", "name": "request", "type": 1, "options": [
		{"type": 3, "name": "title", "value": "D", "focused": True}]})
	cb = run.wait("the short answer", lambda: run.callbacks(ix["token"]))[0]
	expect(cb["json"] == {"type": 8, "data": {"choices": []}}, "short prefix %r" % cb)


def case_token_expired(run):
	"""Discord refuses the interaction's token: the answer goes to the channel instead."""
	run.ready()
	ix = run.interaction(2, {"id": "1", "name": "help", "type": 1}, expired=True)
	run.wait("the callback", lambda: run.callbacks(ix["token"]))
	run.wait("the refused edit", lambda: run.hooks(ix["token"]))
	post = run.wait("the answer in the channel", lambda: [
		p for p in run.posts() if p["path"] == "/channels/%s/messages" % DM])[0]
	expect("I fetch films" in post["json"]["content"], "content %r" % post["json"])
	expect(len(run.hooks(ix["token"])) == 1, "kept using a refused token")
	expect("rejected the bot token" not in run.stderr(), "blamed the bot token")


DUNES = {"Dune (2021)": 438631, "Dune (1984)": 841, "Dune: Part Two (2024)": 693134}


def request_bodies(run):
	return [r.get("json") or json.loads(r.get("body") or "{}")
	        for r in run.seerr_calls("POST", r"^/api/v1/request$")]


def case_dm_choice_buttons(run):
	"""A DM request shows the choices as embeds with posters and buttons; button 2 requests
	the second title."""
	run.ready()
	run.message("get dune", mid="1030")
	msg = run.wait("the question", lambda: run.sent(DM, pred=lambda j: "Which one?" in j["content"]))[0]
	body = msg["json"]
	n = body["content"].count("\n")
	expect(body["content"].startswith("I found %d. Which one?\n1) " % n), "content %r" % body["content"])
	embeds = body.get("embeds", [])
	expect(len(embeds) == n, "embeds %r" % embeds)
	expect(embeds[0]["title"].startswith("1) Dune"), "embed %r" % embeds[0])
	expect(embeds[0]["thumbnail"]["url"].startswith("https://image.tmdb.org/"), "embed %r" % embeds[0])
	expect(embeds[0]["description"].startswith("film · "), "embed %r" % embeds[0])
	ids = [b["custom_id"] for row in body["components"] for b in row["components"]]
	expect(ids == ["usher:choice:%d" % i for i in range(1, n + 1)], "buttons %r" % ids)
	second = embeds[1]["title"][3:]
	p = run.press("usher:choice:2", msg["id"])
	cb = run.wait("the press acknowledged", lambda: run.callbacks(p["token"]))[0]
	expect(cb["json"] == {"type": 6}, "callback %r" % cb)
	run.wait("the request in Seerr", lambda: request_bodies(run))
	got = request_bodies(run)
	expect(len(got) == 1 and got[0].get("mediaId") == DUNES[second], "requested %r, want %s" % (got, second))
	answer = run.answers(p["token"])[0]
	expect(second in answer["json"]["content"], "answer %r" % answer["json"]["content"])


def case_select_menu(run):
	"""More than five choices are one select menu; selecting the sixth requests it."""
	run.ready()
	run.message("get star trek", mid="1031")
	msg = run.wait("the question", lambda: run.sent(DM, pred=lambda j: "Which one?" in j["content"]))[0]
	rows = msg["json"]["components"]
	expect(len(rows) == 1 and rows[0]["components"][0]["type"] == 3, "components %r" % rows)
	menu = rows[0]["components"][0]
	expect(menu["custom_id"] == "usher:choice", "menu %r" % menu)
	opts = menu["options"]
	expect([o["value"] for o in opts] == ["1", "2", "3", "4", "5", "6"], "options %r" % opts)
	expect(len(msg["json"]["embeds"]) == 6, "embeds %r" % msg["json"]["embeds"])
	sixth = opts[5]["label"][3:]
	p = run.press("usher:choice", msg["id"], values=["6"])
	run.wait("the request in Seerr", lambda: request_bodies(run))
	catalog = json.load(open(SEERR_ARGS["select_menu"][1]))
	want = [m["tmdbId"] for m in catalog["movies"] if sixth.startswith(m["title"] + " (")]
	got = request_bodies(run)
	expect(len(got) == 1 and [got[0].get("mediaId")] == want, "requested %r, want %r" % (got, want))
	run.answers(p["token"])


def pending_list(run, guild=False):
	"""Mum asks what waits; returns the message with the Approve/Decline buttons."""
	run.message("<@%s> approve" % BOT if guild else "approve", author=MUM, guild=guild,
	            mentions=[BOT] if guild else [], mid="1040")
	msg = run.wait("the list", lambda: run.sent(GUILD_CHANNEL if guild else DM,
	                                            pred=lambda j: "Waiting for approval" in j["content"]))[0]
	buttons = [b for row in msg["json"]["components"] for b in row["components"]]
	expect([b["label"] for b in buttons] == ["Approve Frozen (2013)", "Decline Frozen (2013)"],
	       "buttons %r" % buttons)
	expect([b["style"] for b in buttons] == [1, 4], "styles %r" % buttons)
	expect([b["custom_id"] for b in buttons] == ["usher:act:1", "usher:act:2"], "%r" % buttons)
	return msg


def case_approve_button(run):
	run.ready()
	msg = pending_list(run)
	p = run.press("usher:act:1", msg["id"], user=MUM)
	cb = run.wait("the press acknowledged", lambda: run.callbacks(p["token"]))[0]
	expect(cb["json"] == {"type": 6}, "callback %r" % cb)
	run.wait("the approval in Seerr", lambda: run.seerr_calls("POST", r"^/api/v1/request/\d+/approve$"))
	answer = run.answers(p["token"])[0]
	expect("Approved Frozen (2013) for Kid" in answer["json"]["content"], "answer %r" % answer)
	# a button on a message usher does not know (a restart) has expired
	p = run.press("usher:act:1", "1999999999999999999", user=MUM)
	cb = run.wait("the stale press answered", lambda: run.callbacks(p["token"]))[0]
	expect(cb["json"]["type"] == 4 and cb["json"]["data"]["flags"] == 64 and
	       "expired" in cb["json"]["data"]["content"], "stale %r" % cb)


def case_member_approve_refused(run):
	run.ready()
	msg = pending_list(run, guild=True)
	p = run.press("usher:act:1", msg["id"], user=BOB, guild=True)
	answer = run.answers(p["token"])[0]
	expect("Only an admin can approve" in answer["json"]["content"], "answer %r" % answer)
	time.sleep(0.5)
	expect(not run.seerr_calls("POST", r"^/api/v1/request/\d+/(approve|decline)$"),
	       "a member's press reached Seerr")


def case_slash_cancel_approve(run):
	run.ready()
	put = run.wait("registration", lambda: [e for e in run.log("rest") if e["method"] == "PUT"])[0]
	cancel = [c for c in put["json"] if c["name"] == "cancel"][0]
	expect(cancel["options"][0]["autocomplete"], "cancel %r" % cancel)
	ix = run.interaction(2, {"id": "3", "name": "cancel", "type": 1, "options": [
		{"type": 3, "name": "title", "value": "Barbie"}]})
	run.wait("the cancel in Seerr", lambda: run.seerr_calls("DELETE", r"^/api/v1/request/\d+$"))
	hook = run.wait("the answer", lambda: run.hooks(ix["token"]))[0]
	expect("Cancelled the request for Barbie (2023)" in hook["json"]["content"], "%r" % hook)
	ix = run.interaction(2, {"id": "4", "name": "approve", "type": 1, "options": [
		{"type": 3, "name": "title", "value": "Frozen"}]}, user=MUM)
	run.wait("the approval in Seerr", lambda: run.seerr_calls("POST", r"^/api/v1/request/\d+/approve$"))
	hook = run.wait("the answer", lambda: run.hooks(ix["token"]))[0]
	expect("Approved Frozen (2013) for Kid" in hook["json"]["content"], "%r" % hook)


def case_typing_offer(run):
	"""A slow answer shows "typing"; a title not there yet comes with Request buttons."""
	run.ready()
	run.seerr_routes([{"method": "GET", "path": "/api/v1/search", "delay_ms": 1200, "json": {
		"page": 1, "totalPages": 1, "totalResults": 1, "results": [{
			"id": 872585, "mediaType": "movie", "title": "Oppenheimer",
			"releaseDate": "2023-07-19", "posterPath": "/8Gxv8gSFCU0XGDykEGv7zR1n2ua.jpg"}]}}])
	run.message("do we have oppenheimer", mid="1050")
	run.wait("typing", lambda: [e for e in run.log("rest")
	                            if e["method"] == "POST" and e["path"] == "/channels/%s/typing" % DM])
	msg = run.wait("the answer", lambda: run.sent(DM), timeout=30)[0]
	expect("isn't in the library yet" in msg["json"]["content"], "%r" % msg["json"]["content"])
	buttons = [b for row in msg["json"]["components"] for b in row["components"]]
	expect([b["label"] for b in buttons] == ["Request", "Request in 4K"], "buttons %r" % buttons)
	p = run.press("usher:act:1", msg["id"])
	run.wait("the request in Seerr", lambda: request_bodies(run), timeout=30)
	got = request_bodies(run)
	expect(got[0].get("mediaId") == 872585 and not got[0].get("is4k"), "requested %r" % got)


def case_ready_by_dm(run):
	"""Dora follows Barbie from the server; she hears it is ready in a DM usher opens with
	POST /users/@me/channels."""
	run.ready()
	run.message("<@%s> tell me when Barbie is ready" % BOT, author=DORA, guild=True,
	            mentions=[BOT], mid="1060")
	run.wait("the follow", lambda: run.sent(GUILD_CHANNEL, pred=lambda j: "I'll tell you" in j["content"]))
	run.seerr_routes([{"method": "GET", "path": "/api/v1/request", "json": {
		"pageInfo": {"pages": 1, "pageSize": 100, "results": 1, "page": 1},
		"results": [{"id": 2, "status": 2, "type": "movie", "is4k": False,
		             "media": {"tmdbId": 346698, "mediaType": "movie", "status": 5},
		             "requestedBy": {"id": 2}}]}}])
	opened = run.wait("the DM channel opened", lambda: [
		e for e in run.log("rest") if e["method"] == "POST" and e["path"] == "/users/@me/channels"],
		timeout=20)
	expect(opened[0]["json"] == {"recipient_id": DORA}, "%r" % opened[0])
	dm = run.wait("the ready message", lambda: [
		m for m in run.log("message") if m["channel"] not in (DM, GUILD_CHANNEL) and
		"Barbie" in m["json"]["content"]], timeout=20)
	expect("ready" in dm[0]["json"]["content"].lower(), "%r" % dm[0]["json"]["content"])
	time.sleep(1.5)
	# the room keeps its progress message, but the ping is the DM's alone
	expect(not run.sent(GUILD_CHANNEL, pred=lambda j: "@dora" in j["content"]),
	       "also pinged in the server: %r" % run.sent(GUILD_CHANNEL))


CASES = {k[5:]: v for k, v in globals().items() if k.startswith("case_")}


def main():
	usher, repo, case = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
	run = Run.__new__(Run)
	run.usher = run.fake = run.seerr = None
	run.tmp = None
	try:
		run.__init__(usher, repo, case)
		CASES[case](run)
		run.close_usher()
		if "Sanitizer" in run.stderr() or "runtime error" in run.stderr():
			raise Fail("sanitizer report:\n" + run.stderr()[-4000:])
	except Fail as e:
		print("FAIL %s: %s" % (case, e))
		return 1
	finally:
		run.close()
	print("ok %s" % case)
	return 0


if __name__ == "__main__":
	sys.exit(main())

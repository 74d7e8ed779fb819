#!/usr/bin/python3
"""Drives the real usher against tests/fakes/fake_discord.py: harness.py USHER REPO CASE.

Each case injects gateway events through the fake's control API and checks what usher sent
back (REST calls and gateway payloads in the fake's log). Exit 0 pass, 1 fail.
Every wait is bounded; usher and the fake are always killed and reaped."""

import json
import os
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
         "seerr_discord_id"}
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
				      "discordId": CAROL}])], stdout=subprocess.PIPE,
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
			        "[store]\npath = %s/usher.db\n"
			        % (TOKEN, self.base, extra, ALICE, BOB, self.tmp))
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
		          lambda: self.stderr().count("discord: connected as user %s" % BOT) >= count)

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
	run.wait("RESUMED", lambda: "session resumed" in run.stderr())
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
	run.wait("RESUMED", lambda: "session resumed" in run.stderr())
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
	expect(names == ["request", "status", "requests", "help"], "commands %r" % names)
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

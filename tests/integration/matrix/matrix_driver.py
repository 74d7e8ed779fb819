#!/usr/bin/python3
"""Drives the real usher binary against tests/fakes/fake_matrix.py (in this process).

    matrix_driver.py --usher PATH SCENARIO

Each scenario starts usher with a config holding only [matrix] and people, injects events into the
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

	def config(self, auth="token", extra=""):
		cred = "access_token = %s" % TOKEN if auth == "token" else "password = %s" % PASSWORD
		path = os.path.join(self.tmp, "usher.conf")
		with open(path, "w") as f:
			f.write("[usher]\nlog_level = debug\n[matrix]\nhomeserver = %s\nuser_id = %s\n%s\n"
			        "device_id = USHERTEST\n%s\n[person alice]\nmatrix = %s\n[person bob]\n"
			        "matrix = %s\n" % (self.fake.url, USHER, cred, extra, ALICE, BOB))
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

	def settle(self):
		"""Waits until usher has handled everything injected so far (and a little more)."""
		check(self.fake.wait_synced(self.fake.position()), "usher stopped syncing")
		time.sleep(0.3)


def sent_bodies(fake, room):
	return [s["content"].get("body", "") for s in fake.sent_in(room)]


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


SCENARIOS = {f.__name__: f for f in (dm_help, group_room, invites, restart, send_retry,
                                     rate_limit, encrypted)}


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

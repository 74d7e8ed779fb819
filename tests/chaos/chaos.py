#!/usr/bin/python3
"""Crash-safety harness: kill usher with SIGKILL at random moments and prove no request is lost,
made twice, or made without the person being told.

One person (kid, Seerr user 3: her requests wait for approval, so they stay in Seerr's list) talks
to `usher run` over the console gateway, against the stateful fake Seerr
(tests/fakes/fake_seerr.py --no-library). The script is a stream of conversations: films with one
clear match ("get paddington 2"), a question and its answer ("get dune" then "2"), a cancel and a
few "my requests". Kill points (step, delay after the message was written) come from a seeded RNG
(the seed is printed; --seed repeats a run). After a kill usher is restarted on the same store and
the person goes on as a person would: a message that got no answer is sent again. That re-send is
exactly what must not create a duplicate.

At the end usher runs once more with no input until it exits (it finishes queued work first), and
the harness checks the fake's records, Seerr's request list, usher's store and the transcript:

- lost:        a title acknowledged in chat ("Requested X for you", or "X was already requested")
               that is not in Seerr (and was not cancelled by the person);
- duplicated:  a title in Seerr's list more than once, more than one POST /api/v1/request for it,
               or "Requested X for you" said more than once;
- unacknowledged: a request in Seerr the person was never told about and that is not still
               queued in usher's store (requests.state = 'queued').

It prints "kills N, acknowledged A, created C, lost L, duplicated D, unacknowledged U" and exits 1
when L, D or U > 0 (or usher hung, or crashed other than by our SIGKILL), 0 otherwise.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FAKE_SEERR = os.path.join(REPO, "tests", "fakes", "fake_seerr.py")
API_KEY = "test-seerr-key"
SEERR_USER = 3

# (message, label Seerr knows it by, tmdbId): one clear match each in contrib/demo/catalog.json.
FILMS = [
	("get paddington 2", "Paddington 2 (2017)", 346648),
	("get toy story 3", "Toy Story 3 (2010)", 10193),
	("get interstellar", "Interstellar (2014)", 157336),
	("get inception", "Inception (2010)", 27205),
	("get barbie", "Barbie (2023)", 346698),
	("get oppenheimer", "Oppenheimer (2023)", 872585),
	("get parasite", "Parasite (2019)", 496243),
	("get fight club", "Fight Club (1999)", 550),
	("get jurassic park", "Jurassic Park (1993)", 329),
	("get finding nemo", "Finding Nemo (2003)", 12),
	("get back to the future", "Back to the Future (1985)", 105),
	("get spirited away", "Spirited Away (2001)", 129),
	("get top gun maverick", "Top Gun: Maverick (2022)", 361743),
	("get the shawshank redemption", "The Shawshank Redemption (1994)", 278),
	("get the dark knight", "The Dark Knight (2008)", 155),
	("get frozen ii", "Frozen II (2019)", 330457),
]
DUNE_1984 = ("Dune (1984)", 841)
CANCELLED = "Toy Story 3 (2010)"


def build_script(rng):
	"""Steps: (message, regex an answer matches, what it is about)."""
	films = FILMS[:]
	rng.shuffle(films)
	steps = []
	for i, (msg, label, _tmdb) in enumerate(films):
		steps.append((msg, answer_re(label), label))
		if i % 5 == 2:
			steps.append(("my requests", r"Your requests|requests", "list"))
	# The cancel comes after Toy Story 3 was asked for, whichever position it got.
	pos = next(i for i, s in enumerate(steps) if s[2] == CANCELLED)
	steps.insert(pos + 2, ("cancel toy story 3", r"Toy Story 3|cancel|Cancel|can.t read|Overseerr", "cancel"))
	# The question and its answer stay together (a cancel in between would end the question).
	pos = next(i for i, s in enumerate(steps) if s[2] == films[4][1])
	steps[pos + 1:pos + 1] = [
		("get dune", r"Which one\?|" + answer_re(DUNE_1984[0]), "question"),
		("2", answer_re(DUNE_1984[0]) + r"|understand|choose anything|Which one", DUNE_1984[0])]
	return steps


def answer_re(label):
	t = re.escape(label)
	return (r"Requested %s for you|%s was already requested|%s is already on its way|"
	        r"saved your request for %s|already sending your request for %s|"
	        r"can't search Overseerr|can't reach Overseerr|isn't answering" % (t, t, t, t, t))


class Usher:
	"""One `usher run` process; its stdout lines go to the shared transcript."""

	def __init__(self, usher, conf, transcript, errpath, stdin=True):
		self.lines = transcript
		self.start_index = len(transcript)
		self.err = open(errpath, "w")
		self.p = subprocess.Popen([usher, "run", "--config", conf],
		                          stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
		                          stdout=subprocess.PIPE, stderr=self.err, cwd=os.path.dirname(conf),
		                          env=usher_env(os.path.dirname(conf)))
		self.th = threading.Thread(target=self._read, daemon=True)
		self.th.start()

	def _read(self):
		for raw in self.p.stdout:
			self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

	def say(self, text):
		try:
			self.p.stdin.write(text.encode() + b"\n")
			self.p.stdin.flush()
			return True
		except (BrokenPipeError, OSError):
			return False

	def kill(self):
		self.p.send_signal(signal.SIGKILL)
		self.p.wait()
		self.th.join(5)
		self.err.close()

	def close_and_wait(self, timeout):
		try:
			if self.p.stdin:
				self.p.stdin.close()
		except OSError:
			pass
		try:
			self.p.wait(timeout)
		except subprocess.TimeoutExpired:
			self.p.kill()
			self.p.wait()
			self.th.join(5)
			self.err.close()
			return None
		self.th.join(5)
		self.err.close()
		return self.p.returncode


def usher_env(tmp):
	"""The runner's environment minus USHER_*, HOME in the temp dir (as run_scenario.py does)."""
	env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
	env.update({"HOME": tmp, "XDG_CONFIG_HOME": os.path.join(tmp, ".config"),
	            "XDG_DATA_HOME": os.path.join(tmp, ".local/share"),
	            "XDG_STATE_HOME": os.path.join(tmp, ".local/state"), "LC_ALL": "C.UTF-8",
	            "TZ": "UTC", "NO_COLOR": "1"})
	return env


def http_json(url, headers=None):
	req = urllib.request.Request(url, headers=headers or {})
	with urllib.request.urlopen(req, timeout=10) as r:
		return json.load(r)


def inject_fault(base, rng, log):
	"""Seerr fails the next few calls of one kind (route faults come before the fake's state, so
	a failed POST creates nothing). `log` gets (time, method, path, times)."""
	method, path = rng.choice([("GET", "/api/v1/search"), ("GET", "/api/v1/request"),
	                           ("POST", "/api/v1/request")])
	route = {"method": method, "path": path, "times": rng.randint(1, 3)}
	if rng.random() < 0.5:
		route.update({"status": 503, "json": {"message": "Service Unavailable"}})
	else:
		route["fault"] = "drop"
	body = json.dumps({"routes": [route], "mode": "prepend"}).encode()
	urllib.request.urlopen(urllib.request.Request(base + "/__fake/routes", data=body,
	                                              method="POST"), timeout=5).read()
	log.append((time.time(), method, path, route["times"]))


def clear_faults(base):
	body = json.dumps({"routes": [], "mode": "replace"}).encode()
	urllib.request.urlopen(urllib.request.Request(base + "/__fake/routes", data=body,
	                                              method="POST"), timeout=5).read()


def faulted_posts(rec, log):
	"""How many recorded POST /api/v1/request were answered by an injected fault."""
	budget, n, faults = 0, 0, sorted(f for f in log if f[1] == "POST")
	for r in sorted(rec, key=lambda r: r["time"]):
		if r["method"] != "POST" or r["path"] != "/api/v1/request":
			continue
		while faults and faults[0][0] <= r["time"] + 0.05:
			budget += faults.pop(0)[3]
		if budget > 0:
			budget -= 1
			n += 1
	return n


def start_fake(tmp):
	out = open(os.path.join(tmp, "fake.out"), "w+")
	err = open(os.path.join(tmp, "fake.err"), "w")
	p = subprocess.Popen(["/usr/bin/python3", FAKE_SEERR, "--no-library", "--port", "0"],
	                     stdout=out, stderr=err)
	end = time.monotonic() + 10
	while time.monotonic() < end:
		out.seek(0)
		m = re.search(r"^LISTENING (\d+)", out.read(), re.M)
		if m:
			return p, int(m.group(1))
		if p.poll() is not None:
			break
		time.sleep(0.05)
	p.kill()
	p.wait()
	raise SystemExit("chaos: fake seerr did not start")


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--usher", required=True)
	ap.add_argument("--kills", type=int, default=10)
	ap.add_argument("--seed", type=int, default=None)
	ap.add_argument("--max-delay-ms", type=int, default=120,
	                help="a kill lands up to this long after a message was written")
	ap.add_argument("--step-timeout", type=float, default=8.0)
	ap.add_argument("--faults", type=float, default=0.0,
	                help="chance per message that Seerr fails (503 or a dropped connection) for a "
	                     "few calls, so orders wait, retry and are resumed across kills")
	ap.add_argument("--keep", action="store_true", help="keep the temp dir and print its path")
	ap.add_argument("--verbose", action="store_true")
	a = ap.parse_args()
	a.usher = os.path.abspath(a.usher)

	seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1, 2**31)
	print("chaos: seed %d (repeat with --seed %d), %d kills" % (seed, seed, a.kills), flush=True)
	rng = random.Random(seed)
	steps = build_script(rng)
	# Kill points: for each kill, the step it lands in and a delay after that step's message.
	kills = sorted((rng.randrange(len(steps)), rng.uniform(0, a.max_delay_ms / 1000.0))
	               for _ in range(a.kills))

	tmp = tempfile.mkdtemp(prefix="usher-chaos-")
	fake, port = start_fake(tmp)
	base = "http://127.0.0.1:%d" % port
	conf = os.path.join(tmp, "usher.conf")
	db = os.path.join(tmp, "usher.db")
	with open(conf, "w") as f:
		f.write("[seerr]\nurl = %s\napi_key = %s\n[store]\npath = %s\n[console]\nperson = kid\n"
		        "[person kid]\nseerr_user = %d\n" % (base, API_KEY, db, SEERR_USER))
	os.chmod(conf, 0o600)

	transcript = []
	fault_log = []
	problems = []
	runs = 0
	killed = 0

	def new_run(stdin=True):
		nonlocal runs
		runs += 1
		return Usher(a.usher, conf, transcript, os.path.join(tmp, "err%d" % runs), stdin)

	def wait_answer(u, since, pattern, timeout):
		end = time.monotonic() + timeout
		rx = re.compile(pattern)
		while time.monotonic() < end:
			for line in transcript[since:]:
				if line.startswith("usher: ") and rx.search(line):
					return True
			if u.p.poll() is not None:
				return False
			time.sleep(0.01)
		return False

	try:
		u = new_run()
		ki = 0
		for si, (msg, pattern, _about) in enumerate(steps):
			while True:
				since = len(transcript)
				if a.verbose:
					print("chaos: > %s" % msg, flush=True)
				if a.faults and rng.random() < a.faults:
					inject_fault(base, rng, fault_log)
				u.say(msg)
				if ki < len(kills) and kills[ki][0] <= si:
					time.sleep(kills[ki][1])
					ki += 1
					u.kill()
					killed += 1
					if u.p.returncode != -signal.SIGKILL:
						problems.append("run %d ended by itself (exit %s) before the kill" %
						                (runs, u.p.returncode))
					answered = any(l.startswith("usher: ") and re.search(pattern, l)
					               for l in transcript[since:])
					u = new_run()
					if answered:
						break
					# The person got no answer: give the restarted usher a moment to
					# say what it was doing, then send the message again.
					if wait_answer(u, since, pattern, 0.3):
						break
					continue
				if not wait_answer(u, since, pattern, a.step_timeout):
					problems.append("no answer to %r within %.0f s (run %d)" %
					                (msg, a.step_timeout, runs))
				break
		# Kills left over (several landed on the last step): kill while usher lists.
		while ki < len(kills):
			u.say("my requests")
			time.sleep(kills[ki][1])
			ki += 1
			u.kill()
			killed += 1
			u = new_run()
		rc = u.close_and_wait(30)
		if rc != 0:
			problems.append("run %d: usher exited %s at the end of input" % (runs, rc))
		# Seerr is back for good; a last run with no input finishes what is queued, then exits.
		clear_faults(base)
		u = new_run(stdin=False)
		rc = u.close_and_wait(60)
		if rc != 0:
			problems.append("drain run %d: usher exited %s" % (runs, rc))

		rec = http_json(base + "/__fake/requests")
		lst = http_json(base + "/api/v1/request?take=1000&filter=all",
		                {"X-Api-Key": API_KEY})["results"]
		con = sqlite3.connect(db, timeout=10)
		queued = con.execute("SELECT title, year, tmdb_id, state FROM requests").fetchall()
		con.close()
	finally:
		try:
			if u.p.poll() is None:
				u.kill()
		except Exception:
			pass
		fake.terminate()
		try:
			fake.wait(5)
		except subprocess.TimeoutExpired:
			fake.kill()
			fake.wait()

	for i in range(1, runs + 1):
		with open(os.path.join(tmp, "err%d" % i), errors="replace") as f:
			m = re.search(r"ERROR: \w+Sanitizer.*|runtime error:.*", f.read())
		if m:
			problems.append("run %d: %s (see err%d)" % (i, m.group(0), i))
	label_of = {tmdb: label for _m, label, tmdb in FILMS}
	label_of[DUNE_1984[1]] = DUNE_1984[0]
	posts = {}
	for r in rec:
		if r["method"] == "POST" and r["path"] == "/api/v1/request" and r.get("json"):
			posts[r["json"].get("mediaId")] = posts.get(r["json"].get("mediaId"), 0) + 1
	deleted = sum(1 for r in rec if r["method"] == "DELETE" and r["path"].startswith("/api/v1/request/"))
	in_seerr = {}
	for r in lst:
		t = r["media"]["tmdbId"]
		in_seerr[t] = in_seerr.get(t, 0) + 1

	said = {}
	told = set()
	cancelled = set()
	for line in transcript:
		m = re.search(r"Requested (.+?) for you", line)
		if m:
			said[m.group(1)] = said.get(m.group(1), 0) + 1
			told.add(m.group(1))
		m = re.search(r"(?:^usher: |Overseerr is back: )(.+?) (?:was already requested|is "
		              r"already on its way)", line)
		if m:
			told.add(m.group(1))
		m = re.search(r"Cancelled the request for (.+?)\.$", line)
		if m:
			cancelled.add(m.group(1))
	still_queued = {"%s (%d)" % (t, y) if y else t for t, y, _id, st in queued if st == "queued"}

	lost = []
	for label in sorted(told):
		tmdb = next((k for k, v in label_of.items() if v == label), None)
		if tmdb is None:
			continue
		if in_seerr.get(tmdb, 0) == 0 and not (label == CANCELLED and deleted):
			lost.append(label)
	dup = []
	for tmdb, n in sorted(in_seerr.items()):
		if n > 1:
			dup.append("%s in Seerr %d times" % (label_of.get(tmdb, tmdb), n))
	failed_posts = faulted_posts(rec, fault_log)
	extra_posts = sum(posts.values()) - len(posts) - failed_posts
	if extra_posts > 0:
		for tmdb, n in sorted(posts.items()):
			if n > 1:
				dup.append("%s POSTed %d times (%d POSTs in all were failed on purpose)" %
				           (label_of.get(tmdb, tmdb), n, failed_posts))
	posted = {}
	for line in transcript:
		m = re.match(r"usher: (.+? \(\d{4}\)): ", line)
		if m and not re.search(r"Requested|already|Cancelled", line):
			posted[m.group(1)] = posted.get(m.group(1), 0) + 1
		m = re.search(r"usher: @\S+ (.+?) is ready to watch", line)
		if m:
			posted["ready " + m.group(1)] = posted.get("ready " + m.group(1), 0) + 1
	for label, n in sorted(posted.items()):
		if n > 1:
			dup.append("progress message for %s posted %d times (not edited)" % (label, n))
	for label, n in sorted(said.items()):
		if n > 1:
			dup.append("\"Requested %s for you\" said %d times" % (label, n))
	unack = []
	for tmdb in sorted(set(in_seerr) | set(posts)):
		label = label_of.get(tmdb, str(tmdb))
		if label not in told and label not in still_queued:
			later = [w for w, pat in (("a progress message", r"^usher: %s: "),
			                          ("\"my requests\"", r"^\s+\d+\) %s ·"))
			         if any(re.search(pat % re.escape(label), l) for l in transcript)]
			unack.append(label + (" (never said \"Requested\"; only %s mentioned it)" %
			                      " and ".join(later) if later else " (never mentioned)"))
	created = len(posts)

	print("chaos: runs %d, steps %d, Seerr list %d, POSTs %d (%d failed on purpose), DELETEs %d, "
	      "faults injected %d, cancelled %s, queued at the end %d" %
	      (runs, len(steps), len(lst), sum(posts.values()), failed_posts, deleted, len(fault_log),
	       sorted(cancelled) or "-", len(still_queued)))
	for what, items in (("LOST", lost), ("DUPLICATED", dup), ("UNACKNOWLEDGED", unack),
	                    ("PROBLEM", problems)):
		for it in items:
			print("chaos: %s: %s" % (what, it))
	bad = lost or dup or unack or problems
	if bad or a.verbose:
		print("chaos: transcript:")
		for line in transcript:
			print("  | " + line)
	print("kills %d, acknowledged %d, created %d, lost %d, duplicated %d, unacknowledged %d" %
	      (killed, len(told), created, len(lost), len(dup), len(unack)), flush=True)
	with open(os.path.join(tmp, "transcript.txt"), "w") as f:
		f.write("\n".join(transcript) + "\n")
	if a.keep or bad:
		print("chaos: files kept in %s" % tmp)
	else:
		shutil.rmtree(tmp, ignore_errors=True)
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())

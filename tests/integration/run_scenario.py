#!/usr/bin/python3
"""Runs one integration scenario (.scn) against the real usher binary.

usage: run_scenario.py --usher PATH [--keep] FILE.scn

Starts the scenario's fakes, writes its config, runs usher with its arguments and stdin, then
checks stdout, stderr, the exit code and the requests each fake recorded. Exit 0 = pass, 1 = fail,
2 = the scenario file itself is wrong. The format is described in tests/integration/README.md.
"""

import argparse
import difflib
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKEHTTP = os.path.join(REPO, "tests", "fakes", "fakehttp.py")
PYTHON = sys.executable or "/usr/bin/python3"
USHER_TIMEOUT = float(os.environ.get("USHER_SCENARIO_TIMEOUT", "60"))
FAKE_START_TIMEOUT = 10.0

KNOWN = ("fake", "config", "env", "args", "input", "expect", "expect-contains",
         "expect-stderr-contains", "expect-exit", "expect-not", "expect-requests")
HEADER = re.compile(r"^\[([a-z-]+)((?:\s+[^\]\s]+)*)\s*\]\s*(?:#.*)?$")


class ScenarioError(Exception):
	"""The .scn file is malformed (exit 2)."""


class Stop(BaseException):
	"""SIGTERM (ctest timeout): unwind through every finally."""


# Parsing -------------------------------------------------------------------------------------
class Section:
	def __init__(self, kind, args, line):
		self.kind = kind
		self.args = args
		self.line = line
		self.lines = []

	def body(self):
		"""Lines without trailing blank lines."""
		out = list(self.lines)
		while out and not out[-1].strip():
			out.pop()
		return out


def parse(text):
	"""Returns the list of sections. Lines starting with '#' are comments everywhere ('\\#'
	escapes a literal '#'); `[name ...]` lines whose name is not a runner section belong to the
	current section (that is how [config] holds INI sections)."""
	sections = []
	cur = None
	for no, raw in enumerate(text.splitlines(), 1):
		line = raw.rstrip("\r")
		if line.startswith("#"):
			continue
		if line.startswith("\\#"):
			line = line[1:]
		m = HEADER.match(line)
		if m and m.group(1) in KNOWN:
			cur = Section(m.group(1), m.group(2).split(), no)
			sections.append(cur)
			continue
		if cur is None:
			if line.strip():
				raise ScenarioError("line %d: text before the first section: %r" % (no, line))
			continue
		cur.lines.append(line)
	return sections


def fake_var(name):
	return "FAKE_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def substitute(text, vars_, where):
	def rep(m):
		k = m.group(1)
		if k not in vars_:
			raise ScenarioError("%s: unknown variable ${%s} (known: %s)" %
			                    (where, k, ", ".join(sorted(vars_))))
		return vars_[k]
	return re.sub(r"\$\{([A-Za-z0-9_]+)\}", rep, text)


# Matching ------------------------------------------------------------------------------------
def line_matches(pattern, line):
	if pattern.startswith("~ "):
		try:
			return re.fullmatch(pattern[2:], line) is not None
		except re.error as e:
			raise ScenarioError("bad regex %r: %s" % (pattern[2:], e))
	return pattern.rstrip() == line.rstrip()


def match_all(expected, actual):
	"""Whole-output match where '...' matches any number of lines."""
	memo = {}

	def go(i, j):
		key = (i, j)
		if key in memo:
			return memo[key]
		if i == len(expected):
			r = j == len(actual)
		elif expected[i] == "...":
			r = any(go(i + 1, k) for k in range(j, len(actual) + 1))
		else:
			r = j < len(actual) and line_matches(expected[i], actual[j]) and go(i + 1, j + 1)
		memo[key] = r
		return r

	sys.setrecursionlimit(max(10000, 4 * (len(expected) + len(actual)) + 100))
	return go(0, 0)


def match_in_order(expected, actual):
	"""Returns None when every expected line matches some actual line, in order; else the index
	of the first expected line that could not be found."""
	j = 0
	for i, pat in enumerate(expected):
		while j < len(actual) and not line_matches(pat, actual[j]):
			j += 1
		if j == len(actual):
			return i
		j += 1
	return None


def subset(want, have):
	if isinstance(want, dict):
		return isinstance(have, dict) and all(k in have and subset(v, have[k])
		                                      for k, v in want.items())
	if isinstance(want, list):
		return (isinstance(have, list) and len(want) == len(have) and
		        all(subset(w, h) for w, h in zip(want, have)))
	if isinstance(want, bool) or isinstance(have, bool):
		return want is have
	return want == have


class ExpectedRequest:
	def __init__(self, method, path, body_json, line):
		self.method = method.upper()
		self.query = None
		self.regex = None
		if path.startswith("~"):
			self.regex = re.compile(path[1:])
			self.path = path
		else:
			url = urllib.parse.urlsplit(path)
			self.path = url.path
			if url.query:
				self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
		self.json = body_json
		self.headers = []
		self.body_regex = []
		self.line = line

	def __str__(self):
		return self.line.strip()

	def matches(self, rec):
		if self.method != rec.get("method"):
			return False
		if self.regex is not None:
			if not self.regex.fullmatch(rec.get("path", "")):
				return False
		elif self.path != rec.get("path"):
			return False
		if self.query:
			q = rec.get("query") or {}
			for k, vals in self.query.items():
				if not all(v in q.get(k, []) for v in vals):
					return False
		if self.json is not None and not subset(self.json, rec.get("json")):
			return False
		hdrs = {k.lower(): v for k, v in (rec.get("headers") or {}).items()}
		for name, value in self.headers:
			if hdrs.get(name.lower()) != value:
				return False
		for rx in self.body_regex:
			if not rx.search(rec.get("body") or ""):
				return False
		return True


def parse_expected_requests(lines, where):
	out = []
	for raw in lines:
		if not raw.strip():
			continue
		if raw[0] in " \t":
			if not out:
				raise ScenarioError("%s: indented line before any request: %r" % (where, raw))
			s = raw.strip()
			m = re.match(r"header\s+([^:\s]+):\s?(.*)$", s)
			if m:
				out[-1].headers.append((m.group(1), m.group(2).rstrip()))
				continue
			m = re.match(r"body\s+~\s?(.*)$", s)
			if m:
				out[-1].body_regex.append(re.compile(m.group(1)))
				continue
			raise ScenarioError("%s: expected `header Name: value` or `body ~ REGEX`: %r" %
			                    (where, raw))
		parts = raw.strip().split(None, 2)
		if len(parts) < 2:
			raise ScenarioError("%s: expected `METHOD /path [JSON]`: %r" % (where, raw))
		body = None
		if len(parts) == 3:
			try:
				body = json.loads(parts[2])
			except ValueError as e:
				raise ScenarioError("%s: bad JSON in %r: %s" % (where, raw, e))
		out.append(ExpectedRequest(parts[0], parts[1], body, raw))
	return out


def describe_request(rec):
	q = rec.get("query") or {}
	path = rec.get("path", "")
	if q:
		path += "?" + urllib.parse.urlencode(q, doseq=True)
	s = "%s %s" % (rec.get("method"), path)
	if rec.get("json") is not None:
		s += " " + json.dumps(rec["json"], sort_keys=True)
	elif rec.get("body"):
		b = rec["body"]
		s += " body=%r" % (b if len(b) < 300 else b[:300] + "...")
	interesting = {k: v for k, v in (rec.get("headers") or {}).items()
	               if k.lower() in ("x-api-key", "x-api-user", "authorization", "cookie",
	                                "content-type")}
	if interesting:
		s += "\n      headers: " + json.dumps(interesting)
	return s


# Processes -----------------------------------------------------------------------------------
class Fake:
	def __init__(self, name, tmp, spec_lines, vars_, where):
		self.name = name
		self.proc = None
		self.cached = None      # records and stderr, kept once stopped (the temp dir goes)
		self.cached_err = None
		self.port = None
		self.record = os.path.join(tmp, "fake-%s.jsonl" % name)
		self.stderr_path = os.path.join(tmp, "fake-%s.stderr" % name)
		script = FAKEHTTP
		script_args = []
		scenario = None
		text = "\n".join(spec_lines)
		rest = []
		in_json = False
		for line in spec_lines:
			if not in_json:
				if not line.strip():
					continue
				m = re.match(r"\s*(file|script)\s*=\s*(.+?)\s*$", line)
				if m:
					val = substitute(m.group(2), vars_, where)
					if m.group(1) == "file":
						p = val if os.path.isabs(val) else os.path.join(REPO, val)
						with open(p, encoding="utf-8") as f:
							scenario = substitute(f.read(), vars_, p)
					else:
						words = shlex.split(val)
						script = words[0] if os.path.isabs(words[0]) else os.path.join(REPO, words[0])
						script_args = words[1:]
					continue
				in_json = True
			rest.append(line)
		if rest:
			if scenario is not None:
				raise ScenarioError("%s: both file = and inline JSON" % where)
			scenario = substitute("\n".join(rest), vars_, where)
		if scenario is None:
			scenario = '{"routes": []}'
		try:
			json.loads(scenario)
		except ValueError as e:
			raise ScenarioError("%s: scenario JSON does not parse: %s\n%s" % (where, e, text))
		self.scenario_path = os.path.join(tmp, "fake-%s.json" % name)
		with open(self.scenario_path, "w", encoding="utf-8") as f:
			f.write(scenario)
		self.argv = [PYTHON, script] + script_args + [
			"--scenario", self.scenario_path, "--port", "0", "--record", self.record]

	def start(self):
		self.err = open(self.stderr_path, "wb")
		self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self.err,
		                             stdin=subprocess.DEVNULL, cwd=REPO)
		q = queue.Queue()
		threading.Thread(target=lambda: q.put(self.proc.stdout.readline()), daemon=True).start()
		try:
			line = q.get(timeout=FAKE_START_TIMEOUT).decode("utf-8", "replace")
		except queue.Empty:
			line = ""
		m = re.match(r"LISTENING (\d+)\s*$", line)
		if not m:
			raise ScenarioError("fake %s did not start (said %r); stderr:\n%s" %
			                    (self.name, line, self.stderr_text()))
		self.port = int(m.group(1))

	@property
	def url(self):
		return "http://127.0.0.1:%d" % self.port

	def control(self, path, body):
		import urllib.request
		req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
		                             method="POST", headers={"Content-Type": "application/json"})
		with urllib.request.urlopen(req, timeout=5) as r:
			r.read()

	def requests(self):
		if self.cached is not None:
			return self.cached
		out = []
		try:
			with open(self.record, encoding="utf-8") as f:
				for line in f:
					if line.strip():
						out.append(json.loads(line))
		except (OSError, ValueError):
			pass
		return out

	def stderr_text(self):
		if self.cached_err is not None:
			return self.cached_err
		try:
			with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
				return f.read()
		except OSError:
			return ""

	def stop(self):
		if self.proc is None:
			return
		if self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(3)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()
		self.proc.stdout.close()
		self.err.close()
		self.proc = None
		self.cached = self.requests()
		self.cached_err = self.stderr_text()


class Usher:
	"""usher with stdout/stderr collected by threads, so [input] can wait for output."""

	def __init__(self, argv, env, cwd):
		self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
		                             stderr=subprocess.PIPE, env=env, cwd=cwd,
		                             start_new_session=True)
		self.out = bytearray()
		self.errb = bytearray()
		self.cond = threading.Condition()
		self.readers = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out),
		                                 daemon=True),
		                threading.Thread(target=self._pump, args=(self.proc.stderr, self.errb),
		                                 daemon=True)]
		for t in self.readers:
			t.start()

	def _pump(self, pipe, buf):
		while True:
			chunk = pipe.read1(65536)
			if not chunk:
				break
			with self.cond:
				buf += chunk
				self.cond.notify_all()

	def stdout(self):
		with self.cond:
			return bytes(self.out).decode("utf-8", "replace")

	def stderr(self):
		with self.cond:
			return bytes(self.errb).decode("utf-8", "replace")

	def write(self, data):
		try:
			self.proc.stdin.write(data)
			self.proc.stdin.flush()
		except (BrokenPipeError, OSError):
			pass

	def close_stdin(self):
		try:
			self.proc.stdin.close()
		except (BrokenPipeError, OSError):
			pass

	def wait_output(self, rx, deadline):
		with self.cond:
			while True:
				text = bytes(self.out).decode("utf-8", "replace")
				if any(rx.search(line) for line in text.splitlines()):
					return True
				left = deadline - time.monotonic()
				if left <= 0 or self.proc.poll() is not None:
					return any(rx.search(line) for line in text.splitlines())
				self.cond.wait(min(left, 0.1))

	def wait(self, deadline):
		"""Returns the exit code, or None after killing usher at the deadline."""
		try:
			code = self.proc.wait(max(0.0, deadline - time.monotonic()))
		except subprocess.TimeoutExpired:
			self.kill()
			code = None
		for t in self.readers:
			t.join(5)
		return code

	def reap_leftovers(self):
		"""usher runs in its own process group: anything still in it after usher exited (a
		demo service, a helper) was left behind. Kills it; returns True if there was any."""
		try:
			os.killpg(self.proc.pid, 0)
		except (ProcessLookupError, PermissionError):
			return False
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except OSError:
			pass
		return True

	def kill(self):
		if self.proc.poll() is None:
			try:
				os.killpg(self.proc.pid, signal.SIGKILL)
			except OSError:
				self.proc.kill()
		self.proc.wait()


# Running -------------------------------------------------------------------------------------
class Result:
	def __init__(self):
		self.failures = []

	def fail(self, title, detail=""):
		self.failures.append((title, detail))


def run(scn_path, usher_path, keep):
	with open(scn_path, encoding="utf-8") as f:
		sections = parse(f.read())
	singles = {}
	for s in sections:
		if s.kind in ("fake", "expect-requests"):
			continue
		if s.kind in singles:
			raise ScenarioError("line %d: second [%s] section" % (s.line, s.kind))
		singles[s.kind] = s
	for s in sections:
		if s.kind == "fake" and len(s.args) != 1:
			raise ScenarioError("line %d: [fake NAME] needs exactly one name" % s.line)
		if s.kind == "expect-requests" and (not s.args or len(s.args) > 2 or
		                                    (len(s.args) == 2 and s.args[1] != "exact")):
			raise ScenarioError("line %d: [expect-requests NAME] or [expect-requests NAME exact]"
			                    % s.line)
	tmp = tempfile.mkdtemp(prefix="usher-scn-")
	vars_ = {"TMP": tmp, "REPO": REPO}
	fakes = {}
	usher = None
	res = Result()
	out = err = ""
	code = None
	try:
		for s in sections:
			if s.kind != "fake":
				continue
			name = s.args[0]
			if name in fakes:
				raise ScenarioError("line %d: fake %s declared twice" % (s.line, name))
			fk = Fake(name, tmp, s.body(), vars_, "%s:%d" % (scn_path, s.line))
			fakes[name] = fk
			fk.start()
			vars_[fake_var(name)] = fk.url
			vars_[fake_var(name) + "_PORT"] = str(fk.port)
		for s in sections:
			if s.kind == "expect-requests" and s.args[0] not in fakes:
				raise ScenarioError("line %d: no fake named %s" % (s.line, s.args[0]))

		conf = os.path.join(tmp, "usher.conf")
		conf_text = ""
		if "config" in singles:
			conf_text = substitute("\n".join(singles["config"].body()) + "\n", vars_,
			                       "[config]")
		fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
		with os.fdopen(fd, "w", encoding="utf-8") as f:
			f.write(conf_text)
		os.chmod(conf, 0o600)

		env = {k: v for k, v in os.environ.items() if not k.startswith("USHER_")}
		env.update({"HOME": tmp, "XDG_CONFIG_HOME": os.path.join(tmp, ".config"),
		            "XDG_DATA_HOME": os.path.join(tmp, ".local", "share"),
		            "XDG_STATE_HOME": os.path.join(tmp, ".local", "state"),
		            "LC_ALL": "C.UTF-8", "TZ": "UTC", "NO_COLOR": "1"})
		for line in singles["env"].body() if "env" in singles else []:
			if not line.strip():
				continue
			k, sep, v = line.partition("=")
			if not sep:
				raise ScenarioError("[env]: expected KEY=VALUE: %r" % line)
			env[k.strip()] = substitute(v, vars_, "[env]")

		args_line = "run --config ${TMP}/usher.conf"
		if "args" in singles:
			args_line = " ".join(l.strip() for l in singles["args"].body() if l.strip())
		argv = [usher_path] + shlex.split(substitute(args_line, vars_, "[args]"))

		steps = []  # ("data", bytes) | ("sleep", s) | ("wait", regex) | ("routes", name, obj)
		for line in singles["input"].lines if "input" in singles else []:
			if line.startswith("@@"):
				steps.append(("data", (line[1:] + "\n").encode()))
			elif line.startswith("@sleep "):
				steps.append(("sleep", float(line.split()[1])))
			elif line.startswith("@wait "):
				steps.append(("wait", re.compile(line[len("@wait "):])))
			elif line.startswith("@routes "):
				_, name, js = line.split(None, 2)
				if name not in fakes:
					raise ScenarioError("[input]: @routes for unknown fake %s" % name)
				steps.append(("routes", name, json.loads(substitute(js, vars_, "[input]"))))
			elif line.startswith("@"):
				raise ScenarioError("[input]: unknown directive %r (use @@ for a literal @)" % line)
			else:
				steps.append(("data", (line + "\n").encode()))
		while steps and steps[-1][0] == "data" and steps[-1][1] == b"\n":
			steps.pop()

		deadline = time.monotonic() + USHER_TIMEOUT
		usher = Usher(argv, env, tmp)
		for st in steps:
			if st[0] == "data":
				usher.write(st[1])
			elif st[0] == "sleep":
				time.sleep(min(st[1], max(0, deadline - time.monotonic())))
			elif st[0] == "wait":
				if not usher.wait_output(st[1], deadline):
					res.fail("[input] @wait %s: no such line in stdout before usher exited or "
					         "timed out" % st[1].pattern)
					break
			elif st[0] == "routes":
				fakes[st[1]].control("/__fake/routes", st[2])
		usher.close_stdin()
		code = usher.wait(deadline)
		out, err = usher.stdout(), usher.stderr()
		if code is None:
			res.fail("usher did not exit within %d s (killed)" % USHER_TIMEOUT)
		elif usher.reap_leftovers():
			res.fail("usher exited but left processes of its group running (killed them)")
		check(singles, sections, fakes, out, err, code, res)
	finally:
		if usher is not None:
			usher.kill()
		for fk in fakes.values():
			fk.stop()
		if not keep:
			shutil.rmtree(tmp, ignore_errors=True)

	if res.failures:
		report(scn_path, argv, res, out, err, code, fakes, tmp if keep else None)
		return 1
	print("PASS %s" % scn_path)
	if keep:
		print("kept %s" % tmp)
	return 0


def check(singles, sections, fakes, out, err, code, res):
	out_lines = [l.rstrip() for l in out.splitlines()]
	err_lines = [l.rstrip() for l in err.splitlines()]
	while out_lines and not out_lines[-1]:
		out_lines.pop()

	want_code = 0
	if "expect-exit" in singles:
		body = [l for l in singles["expect-exit"].body() if l.strip()]
		try:
			want_code = int(body[0].strip())
		except (IndexError, ValueError):
			raise ScenarioError("[expect-exit] needs one integer")
	if code is not None and code != want_code:
		res.fail("[expect-exit] exit code %s, expected %d" % (code, want_code))

	if "expect" in singles:
		exp = [l.rstrip() for l in singles["expect"].body()]
		if not match_all(exp, out_lines):
			diff = difflib.unified_diff(exp, out_lines, "expected", "stdout", lineterm="")
			res.fail("[expect] stdout differs", "\n".join(diff))

	for kind, lines, label in (("expect-contains", out_lines, "stdout"),
	                           ("expect-stderr-contains", err_lines, "stderr")):
		if kind not in singles:
			continue
		exp = [l for l in singles[kind].body() if l.strip()]
		i = match_in_order(exp, lines)
		if i is not None:
			res.fail("[%s] line %d not found in %s (in order): %r" % (kind, i + 1, label, exp[i]),
			         "all expected lines:\n" + "\n".join("  " + e for e in exp))

	if "expect-not" in singles:
		for pat in [l.strip() for l in singles["expect-not"].body() if l.strip()]:
			try:
				rx = re.compile(pat)
			except re.error as e:
				raise ScenarioError("[expect-not] bad regex %r: %s" % (pat, e))
			for label, text in (("stdout", out), ("stderr", err)):
				m = rx.search(text)
				if m:
					res.fail("[expect-not] %r matched in %s: %r" % (pat, label, m.group(0)))

	for s in sections:
		if s.kind != "expect-requests":
			continue
		name = s.args[0]
		exact = len(s.args) == 2
		exp = parse_expected_requests(s.body(), "[expect-requests %s]" % name)
		got = fakes[name].requests()
		if exact:
			bad = None
			for i in range(max(len(exp), len(got))):
				if i >= len(exp) or i >= len(got) or not exp[i].matches(got[i]):
					bad = i
					break
			if bad is not None:
				want = str(exp[bad]) if bad < len(exp) else "(no more requests)"
				have = describe_request(got[bad]) if bad < len(got) else "(no more requests)"
				res.fail("[expect-requests %s exact] request %d differs" % (name, bad + 1),
				         "expected: %s\nactual:   %s" % (want, have))
		else:
			j = 0
			for e in exp:
				while j < len(got) and not e.matches(got[j]):
					j += 1
				if j == len(got):
					res.fail("[expect-requests %s] not recorded (in order): %s" % (name, e))
					break
				j += 1


def report(scn_path, argv, res, out, err, code, fakes, kept):
	w = sys.stdout.write
	w("FAIL %s\n" % scn_path)
	for title, detail in res.failures:
		w("\n--- check failed: %s\n" % title)
		if detail:
			w(detail.rstrip() + "\n")
	w("\n--- usher command: %s\n" % " ".join(shlex.quote(a) for a in argv))
	w("--- exit code: %s\n" % code)
	w("--- usher stdout (%d lines):\n%s" % (len(out.splitlines()), out))
	if out and not out.endswith("\n"):
		w("\n")
	w("--- usher stderr (%d lines):\n%s" % (len(err.splitlines()), err))
	if err and not err.endswith("\n"):
		w("\n")
	for name, fk in fakes.items():
		reqs = fk.requests()
		w("--- fake %s (%s) recorded %d requests:\n" % (name, fk.url if fk.port else "?",
		                                                len(reqs)))
		for i, r in enumerate(reqs, 1):
			w("  %d. %s\n" % (i, describe_request(r)))
		e = fk.stderr_text()
		if e.strip():
			w("--- fake %s stderr:\n%s\n" % (name, e.rstrip()))
	if kept:
		w("--- temp dir kept: %s\n" % kept)
	sys.stdout.flush()


def main():
	ap = argparse.ArgumentParser(description="run one usher integration scenario")
	ap.add_argument("--usher", required=True, help="path of the usher binary (or a stand-in)")
	ap.add_argument("--keep", action="store_true", help="keep the temp dir (or USHER_KEEP_TMP=1)")
	ap.add_argument("scenario")
	a = ap.parse_args()
	keep = a.keep or os.environ.get("USHER_KEEP_TMP") == "1"

	def on_term(signum, frame):
		raise Stop()

	signal.signal(signal.SIGTERM, on_term)
	try:
		return run(a.scenario, a.usher, keep)
	except ScenarioError as e:
		print("ERROR %s: %s" % (a.scenario, e))
		return 2
	except FileNotFoundError as e:
		print("ERROR %s: %s" % (a.scenario, e))
		return 2
	except (KeyboardInterrupt, Stop):
		print("INTERRUPTED %s" % a.scenario)
		return 1


if __name__ == "__main__":
	sys.exit(main())

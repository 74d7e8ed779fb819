#!/usr/bin/python3
"""Secrets sweep: usher run at log_level = debug, and every secret it was given searched for in
all it printed, stdout and stderr: none may be there.

usage: secrets_sweep.py scenarios USHER REPO [-k SUBSTRING]   tests/integration/*/*.scn
       secrets_sweep.py shell USHER REPO [-k SUBSTRING]       tests/integration/*/*.sh
       secrets_sweep.py record RUN REPO ARG...  the wrapper's own step, once per usher run

The tests run as they are, with USHER replaced by a wrapper script (one per test, in the sweep's
folder; the scenario runner and the test helpers clear USHER_* variables, so it carries its paths
itself). For each usher it starts, the wrapper
  - records the secrets that run can see (`record`): the values of the keys config.c reads as
    T_SECRET in the file of --config (else $USHER_CONFIG, else ./usher.conf), the contents of
    their *_file keys, the USHER_* variables of those keys, and the demo services' keys for
    `usher demo`;
  - sets USHER_USHER_LOG_LEVEL=debug: the environment wins over [usher] log_level;
  - execs the real usher, so the pid and the exit code are usher's (tests signal it and check how
    it ended), with stdout and stderr through two tee processes into the run's folder. The tees
    run in their own session, so a test's signals to usher's process group, and its checks for
    usher's children, do not see them; they end when usher's side of their pipe closes.
When every test is done, every secret of 8 characters or more recorded by any run is searched
for in every run's output, as it is, percent-encoded, JSON-escaped and inside base64 at each of
the three alignments (an "Authorization: Basic" header, whatever the user name); for a secret
that is a whole Authorization value ("Bearer X") X is too. So is the token fake_matrix.py hands
out at login, which usher keeps as a secret too. The fakes' own output is not usher's and is
not searched.

What the tests themselves check is kept or dropped as follows. Scenarios: only their expected
exit code is kept (debug logging is not what they check), and a scenario that then fails fails
the sweep, so that a run cut short does not pass by saying nothing. Shell tests cannot be cut
like that: one that fails under the sweep is counted and shown, and fails the sweep only if
it leaked. The sweep fails on any leak, any run whose secrets could not be recorded or whose
output was still being written 20 s after the end, or when no run had a secret at all.
"""

import base64
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

PY = "/usr/bin/python3"
HERE = os.path.abspath(__file__)
MIN_LEN = 8
JOBS = 2
SCENARIO_TIMEOUT = 300
SHELL_TIMEOUT = 150
TEE_WAIT = 20
# Tokens usher is handed at run time rather than given: fake_matrix.py's password logins.
ISSUED = (rb"syt_login_[0-9]+",)
# Shell tests not swept. Every chat network's test is (matrix, discord, xmpp); of the rest, not:
#  - the two that rerun the scenarios many times over (the scenarios are swept on their own),
#    this sweep itself, and two that check built files, not a running usher;
#  - for time (together 40 s more on the sweep's 3 minutes, on two cores), ones that give usher
#    the same config and take the same paths as others swept: three of the progress tests on
#    film_env.inc (restart_mid_download, mcp_followed and webhook_push are swept), a real
#    qBittorrent's 20 s download (the progress scenarios and tests log in to the fake one), the
#    demo's progress (its config is swept in five other demo runs) and a locked store;
#  - two that give usher no secret of 8 characters or more.
SHELL_SKIP = ("chaos/injection", "chaos/secrets_sweep", "chaos/secrets_sweep_shell",
              "chaos/bench_smoke", "ops/install",
              "progress/two_followers", "progress/me_too", "progress/notify_restart",
              "progress/real_qbittorrent", "ops/demo_progress", "chaos/db_locked",
              "ops/healthz_metrics", "llm/parse_llm")
# Scenario sections that check output: dropped (their [expect-exit] stays).
DROP = ("expect", "expect-contains", "expect-stderr-contains", "expect-requests", "expect-not")
KNOWN = ("fake", "config", "env", "args", "input", "expect", "expect-contains",
         "expect-stderr-contains", "expect-exit", "expect-not", "expect-requests")
SCN_HEADER = re.compile(r"^\[([a-z-]+)(?:\s[^\]]*)?\]\s*(?:#.*)?$")

# The tees take no environment: a test looking for its processes by a variable must not find
# them. Each leaves a mark when done.
WRAPPER = """#!/bin/bash
# usher for the secrets sweep (tests/integration/chaos/secrets_sweep.py).
run="$(mktemp -d {runs}/run.XXXXXX)" || exit 125
{py} {me} record "$run" {repo} "$@" </dev/null 2>"$run/record.err"
mkfifo "$run/stdout.fifo" "$run/stderr.fifo" || exit 125
tee='/usr/bin/tee "$1/$2" <"$1/$2.fifo" >&$3; : >"$1/$2.done"'
setsid -f env -i /bin/sh -c "$tee" - "$run" stdout 1 </dev/null
setsid -f env -i /bin/sh -c "$tee" - "$run" stderr 2 </dev/null
exec >"$run/stdout.fifo" 2>"$run/stderr.fifo"
export USHER_USHER_LOG_LEVEL=debug
exec {usher} "$@"
"""


# What is a secret --------------------------------------------------------------------------------
def secret_keys(repo):
	"""The keys config.c's schema types T_SECRET, whatever their section."""
	with open(os.path.join(repo, "src", "core", "config.c")) as f:
		keys = set(re.findall(r'"([a-z_]+)",\s*T_SECRET\b', f.read()))
	if "api_key" not in keys:
		raise SystemExit("secrets_sweep: found no T_SECRET keys in src/core/config.c")
	return keys


def read_value_file(path, base):
	"""A *_file setting's contents, trimmed as config.c trims them ("" when unreadable)."""
	try:
		with open(os.path.join(base, path), "rb") as f:
			return f.read(64 * 1024).decode("utf-8", "replace").strip()
	except OSError:
		return ""


def ini_secrets(path, keys):
	"""[(value, where)] of the secret keys, and of their *_file keys, in an INI file."""
	out, section = [], "?"
	try:
		with open(path, encoding="utf-8", errors="replace") as f:
			lines = f.read().splitlines()
	except OSError:
		return out
	for n, line in enumerate(lines, 1):
		line = line.strip().lstrip("\ufeff")
		if not line or line[0] in ";#":
			continue
		if line.startswith("["):
			section = line.strip("[]").strip()
			continue
		cut = min([i for i in (line.find("="), line.find(":")) if i >= 0], default=-1)
		if cut < 0:
			continue
		key, value = line[:cut].strip().lower(), line[cut + 1:].strip()
		where = "%s:%d [%s] %s" % (path, n, section, key)
		if key in keys:
			out.append((value, where))
		elif key.endswith("_file") and key[:-5] in keys:
			out.append((read_value_file(value, os.path.dirname(path)), where))
	return out


def env_secrets(environ, keys):
	"""[(value, where)] of USHER_<SECTION>_<KEY> and USHER_<SECTION>_<KEY>_FILE variables."""
	out = []
	for name, value in environ.items():
		low = name.lower()
		if not low.startswith("usher_"):
			continue
		via_file = low.endswith("_file")
		base = low[:-5] if via_file else low
		if any(base.endswith("_" + k) for k in keys):
			out.append((read_value_file(value, os.getcwd()) if via_file else value, name))
	return out


def demo_secrets(repo):
	"""`usher demo` writes its own config: the keys come from the demo services."""
	path = os.path.join(repo, "contrib", "demo", "demo_services.py")
	with open(path) as f:
		text = f.read()
	out = [(v, "%s %s" % (path, k)) for k, v in re.findall(r'^(\w+_KEY) = "([^"]*)"', text, re.M)]
	m = re.search(r'^QBIT_USER, QBIT_PASS = "[^"]*", "([^"]*)"', text, re.M)
	if m:
		out.append((m.group(1), path + " QBIT_PASS"))
	return out


def config_path(args):
	"""The file usher reads, as main.c's default_config_path() and --config decide."""
	for i, a in enumerate(args):
		if a in ("--config", "-c") and i + 1 < len(args):
			return args[i + 1]
		if a.startswith("--config="):
			return a[len("--config="):]
		if a.startswith("-c") and len(a) > 2 and a[1] != "-":
			return a[2:]
	if os.environ.get("USHER_CONFIG"):
		return os.environ["USHER_CONFIG"]
	return "usher.conf"


def record(run, repo, args):
	keys = secret_keys(repo)
	found = ini_secrets(os.path.abspath(config_path(args)), keys)
	found += env_secrets(os.environ, keys)
	if "demo" in args:
		found += demo_secrets(repo)
	with open(os.path.join(run, "secrets.json"), "w") as f:
		json.dump({"args": args, "secrets": [s for s in found if s[0] != "CHANGE-ME"]}, f)


def b64_inside(secret):
	"""What the secret becomes inside any base64 text, at each of the 3 byte alignments: the
	characters that depend on its bytes alone."""
	out = []
	for pad in range(3):
		enc = base64.b64encode(b"\0" * pad + secret).rstrip(b"=")
		full, rest = divmod(pad + len(secret), 3)
		frag = enc[(0, 2, 3)[pad]:4 * full + rest]
		out += [frag, frag.translate(bytes.maketrans(b"+/", b"-_"))]
	return out


def forms(secret):
	"""{bytes: how it was written} of every form of the secret searched for. A secret that is a
	whole Authorization value ("Bearer X", as webhook_secret is) is X as well."""
	raw = secret.encode()
	scheme = re.match(r"(?i)(?:bearer|basic|token|bot)\s+(\S{%d,})$" % MIN_LEN, secret)
	out = {}
	if scheme:
		out = {f: "its credential, " + how for f, how in forms(scheme.group(1)).items()}
	out.update({f: "in base64" for f in b64_inside(raw)})
	out[json.dumps(secret)[1:-1].encode()] = "JSON-escaped"
	out[json.dumps(secret, ensure_ascii=False)[1:-1].encode()] = "JSON-escaped"
	out[urllib.parse.quote_plus(secret, safe="").encode()] = "form-encoded"
	out[urllib.parse.quote(secret, safe="").encode()] = "percent-encoded"
	out[raw] = "as it is"
	return out


# Running -----------------------------------------------------------------------------------------
def write_wrapper(folder, usher, repo):
	runs = os.path.join(folder, "runs")
	os.makedirs(runs)
	path = os.path.join(folder, "usher")
	q = shlex.quote
	with open(path, "w") as f:
		f.write(WRAPPER.format(runs=q(runs), py=PY, me=q(HERE), repo=q(repo),
		                       usher=q(os.path.abspath(usher))))
	os.chmod(path, 0o755)
	return path


def run_group(argv, timeout, env=None):
	"""Runs argv in its own process group; returns (exit code or None on timeout, output,
	seconds). Whatever of the group is left afterwards (a stray usher, a fake) is killed."""
	start = time.monotonic()
	p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
	                     stderr=subprocess.STDOUT, start_new_session=True, env=env)
	try:
		out, code = p.communicate(timeout=timeout)[0], p.returncode
	except subprocess.TimeoutExpired:
		out, code = b"", None
	try:
		os.killpg(p.pid, signal.SIGKILL)
	except OSError:
		pass
	if code is None:
		try:
			out = p.communicate(timeout=10)[0]
		except subprocess.TimeoutExpired:
			p.kill()
	p.wait()
	return code, out.decode("utf-8", "replace"), time.monotonic() - start


def scn_sections(text):
	"""[(kind, lines)]: a header starts a section only when it names a scenario section (the
	config's own INI headers stay in its body)."""
	out = []
	for line in text.split("\n"):
		m = SCN_HEADER.match(line)
		if m and m.group(1) in KNOWN:
			out.append((m.group(1), [line]))
		elif out:
			out[-1][1].append(line)
	return out


def sweep_scenario(job):
	scn, folder, usher, repo = job
	wrapper = write_wrapper(folder, usher, repo)
	kept = "".join("\n".join(lines) + "\n" for kind, lines in scn_sections(open(scn).read())
	               if kind not in DROP)
	copy = os.path.join(folder, os.path.basename(scn))
	with open(copy, "w") as f:
		f.write(kept)
	return run_group([PY, os.path.join(repo, "tests/integration/run_scenario.py"),
	                  "--usher", wrapper, copy], SCENARIO_TIMEOUT)


def sweep_shell(job):
	sh, folder, usher, repo = job
	env = dict(os.environ)
	# ack_after_crash hands gdb this, the real binary, when usher is a wrapper script. Only
	# there: elsewhere it says "under valgrind" (kill10 waits longer then).
	if sh.endswith("/chaos/ack_after_crash.sh"):
		env["VALGRIND_USHER_BINARY"] = os.path.abspath(usher)
	return run_group(["bash", sh, write_wrapper(folder, usher, repo), repo], SHELL_TIMEOUT, env)


def wait_for_tees(runs, seconds=TEE_WAIT):
	"""A tee ends when the last writer of its FIFO goes: usher, or nobody at all when a wrapper
	was killed between starting the tees and opening the FIFOs (chaos/kill10 kills at random):
	that tee still waits for a first writer, and opening its FIFO once lets it go. Bounded wait
	for the end marks; returns the streams still open then."""
	pending = []
	for r in runs:
		for s in ("stdout", "stderr"):
			fifo = os.path.join(r, s + ".fifo")
			if not os.path.exists(fifo) or os.path.exists(os.path.join(r, s + ".done")):
				continue
			try:
				os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
			except OSError:  # ENXIO: no tee reads it, so nothing was written through it
				continue
			pending.append(os.path.join(r, s))
	deadline = time.monotonic() + seconds
	while pending and time.monotonic() < deadline:
		time.sleep(0.2)
		pending = [p for p in pending if not os.path.exists(p + ".done")]
	return pending


# Searching ---------------------------------------------------------------------------------------
def read_text(path):
	try:
		with open(path, errors="replace") as f:
			return f.read()
	except OSError:
		return ""


class Run:
	"""One usher run's folder: what the wrapper recorded and what usher printed."""

	def __init__(self, path):
		self.path = path
		self.secrets, self.args, self.error = [], [], None
		why = read_text(os.path.join(path, "record.err")).strip()[-300:]
		try:
			with open(os.path.join(path, "secrets.json")) as f:
				rec = json.load(f)
			self.args, self.secrets = rec["args"], [tuple(s) for s in rec["secrets"]]
		except (OSError, ValueError, KeyError):
			# A wrapper killed before usher started (chaos/kill10 kills at random) leaves
			# nothing to search; one that ran usher without knowing its secrets does.
			if not why and not any(read_text(os.path.join(path, s)) for s in ("stdout",
			                                                                    "stderr")):
				return
			why = why or "no secrets.json"
		if why:
			self.error = "run %s: its secrets were not recorded: %s" % (os.path.basename(path),
			                                                             why)

	def long_secrets(self):
		return [s for s in self.secrets if len(s[0]) >= MIN_LEN]


def build_pattern(runs):
	"""One regex of every form of every secret any run saw; and what each form stands for."""
	what = {}
	for r in runs:
		for value, where in r.long_secrets():
			for fm, how in forms(value).items():
				what.setdefault(fm, "%s, %s" % (where, how))
	alts = sorted((re.escape(f) for f in what), key=len, reverse=True) + list(ISSUED)
	return (re.compile(b"|".join(alts)) if alts else None), what


def leaks_in(run, pattern, what):
	"""["stream:line: text"] of every line of the run's output holding a secret, the secret
	itself replaced by what it is."""
	out = []
	for stream in ("stdout", "stderr"):
		try:
			data = open(os.path.join(run.path, stream), "rb").read()
		except OSError:
			continue
		for n, line in enumerate(data.split(b"\n"), 1):
			if pattern.search(line):
				shown = pattern.sub(lambda m: ("<<%s>>" % what.get(m.group(0), "an issued token"))
				                    .encode(), line)
				out.append("%s:%d: %s" % (stream, n, shown.decode("utf-8", "replace")[:400]))
	return out


def report(name, rs, code, output, seconds, pattern, what, still_open, strict):
	"""Prints one test's line (and what went wrong); returns its verdict and whether any of its
	runs had a secret."""
	bad = [(r, ls) for r, ls in ((r, leaks_in(r, pattern, what)) for r in rs) if ls]
	errors = [r.error for r in rs if r.error] + [
	    "run %s: its %s was still open %d s after the test (a process of usher's left behind?)"
	    % (os.path.basename(os.path.dirname(s)), os.path.basename(s), TEE_WAIT) for s in still_open]
	nsec = len({v for r in rs for v, _ in r.long_secrets()})
	if bad or errors:
		verdict = "LEAK" if bad else "ERROR"
	elif code == 77:
		verdict = "skip"
	elif code != 0:
		verdict = "FAIL"
	elif nsec == 0:
		verdict = "none"
	else:
		verdict = "ok"
	how = "" if code in (0, 77) else ", the test itself %s" % (
	    "timed out" if code is None else "exited %d" % code)
	print("%-5s %s: %d usher runs, %d secrets%s (%.0f s)" % (verdict, name, len(rs), nsec, how,
	                                                        seconds))
	for r, ls in bad:
		print("  run %s: usher %s" % (os.path.basename(r.path), shlex.join(r.args)))
		print("\n".join("    " + l for l in ls))
	for e in errors:
		print("  " + e)
	if code not in (0, 77):
		lines = output.splitlines()
		said = [l for l in lines if l.startswith("FAIL")][:3]
		shown = lines[-25:] if strict or bad else said or lines[-5:]
		print("\n".join("  | " + l for l in shown))
	return verdict, nsec > 0


def sweep(mode, usher, repo, only):
	top = os.path.join(repo, "tests", "integration")
	if mode == "scenarios":
		# Only those that give usher a secret long enough to look for (a ${VAR} is).
		given = re.compile(r"^\s*(?:USHER_\w+_)?(?:%s)(?:_file)?\s*[=:]\s*\S.{%d,}$" % (
		    "|".join(sorted(secret_keys(repo))), MIN_LEN - 1), re.I | re.M)
		items = [p for p in sorted(glob.glob(os.path.join(top, "*", "*.scn")))
		         if given.search(open(p).read())]
	else:
		items = [p for p in sorted(glob.glob(os.path.join(top, "*", "*.sh")))
		         if os.path.relpath(p, top)[:-3] not in SHELL_SKIP]
	items = [p for p in items if only is None or only in os.path.relpath(p, top)]
	names = [os.path.relpath(p, top) for p in items]
	tmp = tempfile.mkdtemp(prefix="usher-secrets-")
	folders = [os.path.join(tmp, n.replace("/", "_")) for n in names]
	start = time.monotonic()
	with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
		results = list(pool.map(sweep_scenario if mode == "scenarios" else sweep_shell,
		                        [(p, f, usher, repo) for p, f in zip(items, folders)]))
	elapsed = time.monotonic() - start
	runs = {f: [Run(r) for r in sorted(glob.glob(os.path.join(f, "runs", "run.*")))]
	        for f in folders}
	still_open = wait_for_tees([r.path for rs in runs.values() for r in rs])
	pattern, what = build_pattern([r for rs in runs.values() for r in rs])
	judged = [report(n, runs[f], code, out, secs, pattern, what,
	                   [s for s in still_open if s.startswith(f + os.sep)], mode == "scenarios")
	            for n, f, (code, out, secs) in zip(names, folders, results)]
	shutil.rmtree(tmp, ignore_errors=True)
	verdicts = [v for v, _ in judged]
	count = {v: verdicts.count(v) for v in ("ok", "LEAK", "ERROR", "FAIL", "skip", "none")}
	swept = sum(had for _, had in judged)
	print("secrets sweep (%s, %.0f s): %d of %d swept at debug level (%d usher runs, %d secrets "
	      "in %d forms): %d ok, %d leaking, %d not recorded whole, %d failing under the sweep; "
	      "%d skipped, %d without secrets" % (
	          mode, elapsed, swept, len(names), sum(len(rs) for rs in runs.values()),
	          len({v for rs in runs.values() for r in rs for v, _ in r.long_secrets()}), len(what),
	          count["ok"], count["LEAK"], count["ERROR"], count["FAIL"], count["skip"],
	          count["none"]))
	if swept == 0:
		print("FAIL: no usher run had a secret: nothing was swept")
	return 1 if count["LEAK"] or count["ERROR"] or swept == 0 or (
	    mode == "scenarios" and count["FAIL"]) else 0


def main(argv):
	if len(argv) >= 4 and argv[1] == "record":
		record(argv[2], argv[3], argv[4:])
		return 0
	only = argv[argv.index("-k") + 1] if "-k" in argv[4:-1] else None
	if len(argv) != (4 if only is None else 6) or argv[1] not in ("scenarios", "shell"):
		sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
		return 2
	return sweep(argv[1], argv[2], os.path.abspath(argv[3]), only)


if __name__ == "__main__":
	sys.exit(main(sys.argv))

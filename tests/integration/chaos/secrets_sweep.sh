#!/usr/bin/env bash
# Secrets sweep: every integration scenario (tests/integration/*/*.scn) run
# again with usher at log_level = debug, and every secret its config holds
# (api keys, passwords, tokens, webhook secrets of 8 characters or more)
# searched for in all of usher's output, stdout and stderr. The fakes' own
# logs are not usher's and are not searched. The scenarios' other
# expectations are dropped (debug logging is not what they check); the exit
# code they expect is kept, so a run that fails early does not pass by
# saying nothing.
set -euo pipefail
usher="$1"; repo="$2"
exec /usr/bin/python3 - "$usher" "$repo" <<'PY'
import concurrent.futures, glob, os, re, shutil, subprocess, sys, tempfile

usher, repo = sys.argv[1], sys.argv[2]
SECRET_KEYS = ("api_key", "password", "token", "access_token", "webhook_secret")
DROP = ("expect", "expect-contains", "expect-stderr-contains", "expect-requests")
tmp = tempfile.mkdtemp(prefix="usher-secrets-")


KNOWN = ("fake", "config", "env", "args", "input", "expect", "expect-contains",
         "expect-stderr-contains", "expect-exit", "expect-not", "expect-requests")


def scn_sections(text):
	"""[(kind, lines)]: a header starts a section only when it names a scenario section (the
	config's own INI headers stay in its body)."""
	out = []
	for line in text.split("\n"):
		m = re.match(r"^\[([a-z-]+)(?:\s[^\]]*)?\]\s*(?:#.*)?$", line)
		if m and m.group(1) in KNOWN:
			out.append((m.group(1), [line]))
		elif out:
			out[-1][1].append(line)
	return out


def sweep(scn):
	secrets, out = set(), []
	for kind, lines in scn_sections(open(scn).read()):
		if kind in DROP or kind == "expect-not":
			continue
		if kind == "config":
			body = [l for l in lines if l.partition("=")[0].strip() != "log_level"]
			for l in body:
				k, eq, v = l.partition("=")
				if eq and k.strip() in SECRET_KEYS and len(v.strip()) >= 8 and "${" not in v:
					secrets.add(v.strip())
			if "[usher]" in (l.strip() for l in body):
				i = [l.strip() for l in body].index("[usher]")
				body.insert(i + 1, "log_level = debug")
			else:
				while body and not body[-1].strip():
					body.pop()
				body += ["[usher]", "log_level = debug", ""]
			lines = body
		out.append("\n".join(lines) + "\n")
	if not secrets:
		return scn, None, []
	out.append("[expect-not]\n" + "".join(re.escape(s) + "\n" for s in sorted(secrets)))
	copy = os.path.join(tmp, os.path.basename(os.path.dirname(scn)) + "_" + os.path.basename(scn))
	with open(copy, "w") as f:
		f.write("".join(out))
	p = subprocess.run([sys.executable, os.path.join(repo, "tests/integration/run_scenario.py"),
	                    "--usher", usher, copy], capture_output=True, text=True, timeout=300)
	return scn, p, sorted(secrets)


failed = swept = 0
scns = sorted(glob.glob(os.path.join(repo, "tests/integration/*/*.scn")))
with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
	for scn, p, secrets in pool.map(sweep, scns):
		name = os.path.relpath(scn, repo)
		if p is None:
			continue
		swept += 1
		leaked = [l for l in p.stdout.splitlines() if "check failed" in l]
		if p.returncode != 0:
			failed += 1
			print("FAIL %s (secrets %s):" % (name, ", ".join(secrets)))
			print("\n".join("  " + l for l in (leaked or p.stdout.splitlines()[-30:])))
		else:
			print("ok   %s: %d secrets, none in usher's output" % (name, len(secrets)))
shutil.rmtree(tmp, ignore_errors=True)
print("secrets sweep: %d scenarios at debug level, %d leaking or failing" % (swept, failed))
sys.exit(1 if failed or swept == 0 else 0)
PY

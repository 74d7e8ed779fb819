#!/usr/bin/python3
"""Self-test of tests/integration/run_scenario.py with stand-ins for usher.

Each *.scn here opens with `# selftest: usher=PATH expect=pass|fail|error [timeout=S]
[want="text" ...]`: the runner must exit 0 (pass), 1 (fail) or 2 (error), and its output must
contain every `want` text. Run: /usr/bin/python3 tests/fakes/selftest/run_selftests.py"""
import glob
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "..", "..", "integration", "run_scenario.py")
CODES = {"pass": 0, "fail": 1, "error": 2}


def main():
	bad = 0
	files = sorted(glob.glob(os.path.join(HERE, "*.scn")))
	for scn in files:
		with open(scn) as f:
			first = f.readline()
		if not first.startswith("# selftest:"):
			print("SKIP %s (no selftest line)" % scn)
			continue
		opts, wants = {}, []
		for word in shlex.split(first[len("# selftest:"):]):
			k, _, v = word.partition("=")
			if k == "want":
				wants.append(v)
			else:
				opts[k] = v
		env = dict(os.environ)
		env.pop("USHER_KEEP_TMP", None)
		if "timeout" in opts:
			env["USHER_SCENARIO_TIMEOUT"] = opts["timeout"]
		p = subprocess.run([sys.executable, RUNNER, "--usher", opts["usher"], scn],
		                   capture_output=True, text=True, env=env, timeout=120)
		problems = []
		if p.returncode != CODES[opts["expect"]]:
			problems.append("runner exited %d, expected %d" % (p.returncode, CODES[opts["expect"]]))
		for w in wants:
			if w not in p.stdout:
				problems.append("output lacks %r" % w)
		name = os.path.basename(scn)
		if problems:
			bad += 1
			print("FAIL %s: %s\n%s%s" % (name, "; ".join(problems), p.stdout, p.stderr))
		else:
			print("ok   %s (%s)" % (name, opts["expect"]))
	print("%d of %d self-tests failed" % (bad, len(files)))
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())

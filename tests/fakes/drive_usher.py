#!/usr/bin/python3
"""Drives `usher run` through the console like a person at a keyboard.

usage: drive_usher.py [--wait-s S] USHER CONFIG OUT ERR STEP...

Each STEP is "say TEXT" (a line typed), "wait REGEX" (until usher printed a
line matching it, at most S seconds, default 20), "run CMD" (a shell command,
e.g. moving a fake on) or "sleep SECONDS". Then input ends and usher must exit
0 within 30 s. usher's stdout and stderr are written to OUT and ERR. Exit 0
when every step went through and usher exited 0.
"""
import re
import subprocess
import sys
import threading
import time


def main(argv):
	wait_s = 20.0
	if argv[:1] == ["--wait-s"]:
		wait_s = float(argv[1])
		argv = argv[2:]
	usher, conf, out, err = argv[:4]
	steps = argv[4:]
	with open(out, "w") as fo, open(err, "w") as fe:
		p = subprocess.Popen([usher, "run", "--config", conf], stdin=subprocess.PIPE,
		                     stdout=subprocess.PIPE, stderr=fe, text=True, bufsize=1)
		lines = []

		def reader():
			for line in p.stdout:
				lines.append(line.rstrip("\n"))
				fo.write(line)
				fo.flush()

		th = threading.Thread(target=reader, daemon=True)
		th.start()
		ok = True
		for st in steps:
			kind, _, arg = st.partition(" ")
			if kind == "say":
				p.stdin.write(arg + "\n")
				p.stdin.flush()
			elif kind == "sleep":
				time.sleep(float(arg))
			elif kind == "run":
				subprocess.run(arg, shell=True, check=True)
			elif kind == "wait":
				end = time.monotonic() + wait_s
				while not any(re.search(arg, l) for l in lines):
					if time.monotonic() > end or p.poll() is not None:
						print("timed out waiting for %r" % arg)
						ok = False
						break
					time.sleep(0.05)
				if not ok:
					break
		p.stdin.close()
		try:
			p.wait(30)
		except subprocess.TimeoutExpired:
			p.kill()
			p.wait()
			print("usher did not exit")
			ok = False
		th.join(5)
	return 0 if ok and p.returncode == 0 else 1


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""A stand-in for usher in the runner's self-tests: reads the scenario's config, then obeys
stdin lines:  METHOD PATH [JSON]  -> calls [seerr] url with its api_key (and X-Api-User from
[person <name>] seerr_user when [console] person is set), prints `STATUS BODY`;
`say TEXT` -> prints TEXT; `err TEXT` -> prints TEXT on stderr; `env NAME` -> prints the
variable; `exit N` -> exits with N."""
import configparser
import json
import os
import sys
import urllib.error
import urllib.request

cfg = configparser.ConfigParser(interpolation=None)
cfg.read(sys.argv[1])
base = cfg.get("seerr", "url", fallback="")
key = cfg.get("seerr", "api_key", fallback="")
person = cfg.get("console", "person", fallback=None)
user = cfg.get("person " + person, "seerr_user", fallback=None) if person else None
for line in sys.stdin:
	line = line.rstrip("\n")
	word, _, rest = line.partition(" ")
	if word == "say":
		print(rest)
	elif word == "err":
		print(rest, file=sys.stderr)
	elif word == "env":
		print(os.environ.get(rest, ""))
	elif word == "exit":
		sys.stdout.flush()
		sys.exit(int(rest))
	elif word in ("GET", "POST", "DELETE"):
		path, _, body = rest.partition(" ")
		hdrs = {"X-Api-Key": key}
		if user:
			hdrs["X-Api-User"] = user
		data = None
		if body:
			data = body.encode()
			hdrs["Content-Type"] = "application/json"
		req = urllib.request.Request(base + path, data=data, method=word, headers=hdrs)
		try:
			with urllib.request.urlopen(req, timeout=5) as r:
				print(r.status, r.read().decode())
		except urllib.error.HTTPError as e:
			print(e.code, e.read().decode())
	sys.stdout.flush()

#!/usr/bin/python3
"""A scripted MCP client for tests: drives `usher mcp` over stdio and checks every answer
against the JSON-RPC 2.0 and MCP shapes before a scenario looks at it.

    mcp_client.py --usher BIN --config CFG --as NAME --seerr URL SCENARIO

SCENARIO is one of the functions named scenario_* below. Prints "ok: ..." and exits 0 when every
check holds; prints "FAIL: ..." with the exchange so far and exits 1 otherwise. Every wait is
bounded; the child is always killed and reaped.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import time
import urllib.request

TIMEOUT = 15.0


class Fail(Exception):
	pass


def check(cond, what):
	if not cond:
		raise Fail(what)


class Client:
	def __init__(self, argv):
		self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
		                             stderr=subprocess.PIPE)
		self.buf = b""
		self.log = []
		self.next_id = 1

	def send_raw(self, data):
		self.log.append(">> " + data[:300].decode("utf-8", "replace").rstrip("\n"))
		self.proc.stdin.write(data)
		self.proc.stdin.flush()

	def send(self, obj):
		self.send_raw(json.dumps(obj).encode() + b"\n")

	def recv(self, timeout=TIMEOUT):
		"""The next line from usher as JSON, checked as a JSON-RPC response."""
		deadline = time.monotonic() + timeout
		fd = self.proc.stdout.fileno()
		while b"\n" not in self.buf:
			left = deadline - time.monotonic()
			check(left > 0, "no answer within %.0f s" % timeout)
			r, _, _ = select.select([fd], [], [], left)
			if r:
				chunk = os.read(fd, 65536)
				check(chunk, "usher closed stdout (exit %s)" % self.proc.poll())
				self.buf += chunk
		line, self.buf = self.buf.split(b"\n", 1)
		self.log.append("<< " + line[:600].decode("utf-8", "replace"))
		try:
			msg = json.loads(line)
		except ValueError:
			raise Fail("usher wrote a line that is not JSON: %r" % line[:200])
		check_response(msg)
		return msg

	def request(self, method, params=None):
		"""Sends a request and returns its response (result or error)."""
		rid = self.next_id
		self.next_id += 1
		msg = {"jsonrpc": "2.0", "id": rid, "method": method}
		if params is not None:
			msg["params"] = params
		self.send(msg)
		ans = self.recv()
		check(ans["id"] == rid, "answer for id %r, expected %r" % (ans["id"], rid))
		return ans

	def result(self, method, params=None):
		ans = self.request(method, params)
		check("result" in ans, "%s failed: %r" % (method, ans.get("error")))
		return ans["result"]

	def call(self, tool, args=None):
		"""tools/call; returns the CallToolResult, checked."""
		res = self.result("tools/call", {"name": tool, "arguments": args or {}})
		check_tool_result(res)
		return res

	def handshake(self, version="2025-06-18"):
		res = self.result("initialize", {"protocolVersion": version, "capabilities": {},
		                                 "clientInfo": {"name": "mcp_client.py", "version": "1"}})
		self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
		return res

	def close(self, timeout=TIMEOUT):
		"""Closes stdin; returns usher's exit code (it must end by itself)."""
		self.proc.stdin.close()
		try:
			return self.proc.wait(timeout)
		except subprocess.TimeoutExpired:
			raise Fail("usher did not exit after the end of input")

	def kill(self):
		if self.proc.poll() is None:
			self.proc.kill()
		self.proc.wait()
		err = self.proc.stderr.read().decode("utf-8", "replace")
		self.proc.stdout.close()
		self.proc.stderr.close()
		return err


def check_response(msg):
	check(isinstance(msg, dict), "a response must be an object: %r" % msg)
	check(msg.get("jsonrpc") == "2.0", "jsonrpc must be \"2.0\": %r" % msg)
	check("id" in msg, "a response carries an id (null when unknown): %r" % msg)
	check(msg["id"] is None or isinstance(msg["id"], (int, str)), "bad id type: %r" % msg)
	check(("result" in msg) != ("error" in msg), "exactly one of result/error: %r" % msg)
	if "error" in msg:
		e = msg["error"]
		check(isinstance(e, dict) and isinstance(e.get("code"), int)
		      and isinstance(e.get("message"), str) and e["message"],
		      "error needs an integer code and a message: %r" % e)
	else:
		check(isinstance(msg["result"], dict), "result must be an object: %r" % msg)
	check(set(msg) <= {"jsonrpc", "id", "result", "error"}, "unexpected members: %r" % msg)


def check_tool_result(res):
	content = res.get("content")
	check(isinstance(content, list) and content, "content must be a non-empty list: %r" % res)
	for c in content:
		check(c.get("type") == "text" and isinstance(c.get("text"), str) and c["text"],
		      "content items are text: %r" % c)
	check(isinstance(res.get("structuredContent"), dict), "structuredContent must be an object")
	check(isinstance(res.get("isError", False), bool), "isError must be a boolean")


def text_of(res):
	return res["content"][0]["text"]


def expect_error(ans, code, words=None):
	check("error" in ans, "expected error %d, got %r" % (code, ans))
	check(ans["error"]["code"] == code, "expected code %d, got %r" % (code, ans["error"]))
	if words:
		check(words in ans["error"]["message"], "expected %r in %r" % (words, ans["error"]))


def fake_requests(seerr):
	with urllib.request.urlopen(seerr + "/__fake/requests", timeout=5) as r:
		return json.load(r)


def header(rec, name):
	for k, v in rec["headers"].items():
		if k.lower() == name.lower():
			return v
	return None


# ---- scenarios ----

TOOLS = {"search_media", "request_media", "request_status", "list_requests", "downloads",
         "approve_request", "decline_request"}


def scenario_protocol(c, a):
	"""Handshake, tools/list, ping, every JSON-RPC error, oversized line, EOF."""
	res = c.handshake("2025-03-26")
	check(res["protocolVersion"] == "2025-03-26", "a supported version is echoed: %r" % res)
	check(res["serverInfo"]["name"] == "usher" and res["serverInfo"]["version"], "serverInfo")
	check(isinstance(res["capabilities"].get("tools"), dict), "tools capability")
	res = c.result("initialize", {"protocolVersion": "1999-01-01"})
	check(res["protocolVersion"] == "2025-06-18", "unknown version -> latest: %r" % res)
	expect_error(c.request("initialize", {}), -32602, "protocolVersion")

	check(c.result("ping") == {}, "ping answers {}")
	tools = c.result("tools/list")["tools"]
	names = {t["name"] for t in tools}
	check(names == TOOLS, "tools: %r" % sorted(names))
	for t in tools:
		s = t.get("inputSchema")
		check(isinstance(s, dict) and s.get("type") == "object", "%s inputSchema" % t["name"])
		check(isinstance(t.get("description"), str) and t["description"], "%s description"
		      % t["name"])
		for req in s.get("required", []):
			check(req in s["properties"], "%s: required %s is a property" % (t["name"], req))

	expect_error(c.request("resources/list"), -32601, "resources/list")
	expect_error(c.request("tools/call", {"name": "format_disk", "arguments": {}}), -32602,
	             "unknown tool")
	expect_error(c.request("tools/call", {"name": "request_media", "arguments": {"tmdbId": "x",
	             "type": "movie"}}), -32602, "tmdbId")
	expect_error(c.request("tools/call", {"name": "search_media", "arguments": {"query": "x",
	             "rm": 1}}), -32602, "rm")
	expect_error(c.request("tools/call", {"arguments": {}}), -32602)
	expect_error(c.request("tools/list", [1, 2]), -32602)

	c.send_raw(b"this is not json\n")
	ans = c.recv()
	expect_error(ans, -32700)
	check(ans["id"] is None, "a parse error has id null")
	c.send_raw(b'{"jsonrpc":"2.0","id":7,"method":"ping"\n')
	expect_error(c.recv(), -32700)
	c.send_raw(b"[1,2]\n")
	expect_error(c.recv(), -32600)
	c.send_raw(b"42\n")
	expect_error(c.recv(), -32600)
	c.send_raw(b'{"jsonrpc":"1.0","id":8,"method":"ping"}\n')
	ans = c.recv()
	expect_error(ans, -32600)
	check(ans["id"] == 8, "an invalid request with a readable id keeps it")
	c.send_raw(b'{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}\n')
	expect_error(c.recv(), -32600)
	c.send_raw(b'{"jsonrpc":"2.0","id":9}\n')
	expect_error(c.recv(), -32600)
	# Notifications and stray responses are never answered: the next answer is the ping's.
	c.send({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {}})
	c.send({"jsonrpc": "2.0", "id": 99, "result": {}})
	c.send_raw(b"\n\r\n")
	ans = c.request("ping")
	check(ans.get("result") == {}, "still answering after bad input")

	big = b'{"jsonrpc":"2.0","id":10,"method":"ping","params":{"pad":"' + b"a" * (1100 * 1024) \
	      + b'"}}\n'
	c.send_raw(big)
	ans = c.recv()
	expect_error(ans, -32600, "too large")
	ans = c.request("ping")
	check(ans.get("result") == {}, "the line after an oversized one is read: %r" % ans)
	# A last request without its newline is still answered at EOF.
	c.send_raw(b'{"jsonrpc":"2.0","id":"last","method":"ping"}')
	c.proc.stdin.close()
	ans = c.recv()
	check(ans["id"] == "last" and ans.get("result") == {}, "last line answered: %r" % ans)
	rc = c.proc.wait(TIMEOUT)
	check(rc == 0, "exit code at EOF is %r" % rc)
	return "handshake, tools/list, ping, -32700/-32600/-32601/-32602, 1 MiB cap, EOF exit 0"


def scenario_member(c, a):
	"""A member searches, requests as herself, and is refused admin tools."""
	c.handshake()
	res = c.call("search_media", {"query": "dune", "type": "movie"})
	check(not res["isError"], "search failed: %r" % res)
	found = res["structuredContent"]["results"]
	check(found and all(r["type"] == "movie" for r in found), "movies only: %r" % found)
	d84 = [r for r in found if r["tmdbId"] == 841]
	check(d84 and d84[0]["year"] == 1984 and d84[0]["title"] == "Dune", "Dune (1984): %r" % found)
	check(d84[0]["availability"] == "not requested yet", "availability: %r" % d84)
	d21 = [r for r in found if r["tmdbId"] == 438631]
	check(d21 and d21[0]["availability"] == "ready to watch", "Dune (2021) is there: %r" % found)
	check("Dune (1984)" in text_of(res), "summary: %r" % text_of(res))
	seen = {r["type"] for r in c.call("search_media", {"query": "dune"})["structuredContent"]
	        ["results"]}
	check(seen == {"movie", "tv"}, "without a type both kinds come back: %r" % seen)

	res = c.call("request_media", {"tmdbId": 841, "type": "movie"})
	check(not res["isError"], "request refused: %r" % res)
	req = res["structuredContent"]["request"]
	check(res["structuredContent"]["made"] is True and req["requestId"] > 0, "made: %r" % res)
	check(req["state"] == "waiting for approval", "a Kid request waits: %r" % req)
	posts = [r for r in fake_requests(a.seerr)
	         if r["method"] == "POST" and r["path"] == "/api/v1/request"]
	check(len(posts) == 1 and posts[0]["json"]["mediaId"] == 841, "one POST: %r" % posts)
	check(header(posts[0], "X-Api-User") == a.seerr_user,
	      "X-Api-User %r, expected %r" % (header(posts[0], "X-Api-User"), a.seerr_user))

	res = c.call("request_media", {"tmdbId": 841, "type": "movie"})
	check(res["isError"] and res["structuredContent"]["reason"] == "already_requested",
	      "second request: %r" % res)
	posts = [r for r in fake_requests(a.seerr)
	         if r["method"] == "POST" and r["path"] == "/api/v1/request"]
	check(len(posts) == 1, "no second POST: %d" % len(posts))

	res = c.call("request_media", {"tmdbId": 438631, "type": "movie"})
	check(res["isError"] and res["structuredContent"]["reason"] == "already_available",
	      "Dune (2021) is in the library: %r" % res)
	res = c.call("request_media", {"tmdbId": 136315, "type": "tv", "seasons": [9]})
	check(res["isError"] and res["structuredContent"]["reason"] == "no_such_season",
	      "season 9 of The Bear: %r" % res)
	res = c.call("request_media", {"tmdbId": 136315, "type": "tv", "seasons": [1, 2]})
	check(not res["isError"] and res["structuredContent"]["request"]["seasons"] == [1, 2],
	      "seasons 1-2 of The Bear: %r" % res)

	res = c.call("request_status", {"requestId": req["requestId"]})
	check(not res["isError"] and res["structuredContent"]["request"]["state"]
	      == "waiting for approval", "status: %r" % res)
	res = c.call("request_status", {"title": "Dune Part Two"})
	check(not res["isError"] and res["structuredContent"]["tmdbId"] == 693134, "by title: %r"
	      % res)
	expect_error(c.request("tools/call", {"name": "request_status", "arguments": {}}), -32602)

	res = c.call("list_requests")
	mine = res["structuredContent"]["requests"]
	check(not res["isError"] and len(mine) == 2, "two requests of mine: %r" % res)
	res = c.call("list_requests", {"scope": "all"})
	check(res["isError"] and "admin" in text_of(res), "scope all refused: %r" % res)
	res = c.call("approve_request", {"requestId": req["requestId"]})
	check(res["isError"] and text_of(res) == "only an admin can approve requests",
	      "approve refused: %r" % res)
	res = c.call("decline_request", {"requestId": req["requestId"]})
	check(res["isError"] and "only an admin" in text_of(res), "decline refused: %r" % res)
	acts = [r for r in fake_requests(a.seerr) if r["method"] == "POST" and
	        ("/approve" in r["path"] or "/decline" in r["path"])]
	check(not acts, "a refused approval never reaches Seerr: %r" % acts)
	res = c.call("downloads")
	check(not res["isError"] and res["structuredContent"]["scope"] == "mine", "downloads %r"
	      % res)
	check(c.close() == 0, "exit 0 at EOF")
	return "search, request as user %s, duplicates, seasons, status, admin tools refused" \
	       % a.seerr_user


def scenario_admin(c, a):
	"""An admin sees everyone's requests, approves one and declines another."""
	c.handshake()
	res = c.call("list_requests", {"scope": "all", "filter": "pending"})
	pending = res["structuredContent"]["requests"]
	check(not res["isError"] and len(pending) == 2, "two pending requests: %r" % res)
	film = [r for r in pending if r["type"] == "movie"]
	check(film and film[0]["tmdbId"] == 841, "Dune (1984) is pending: %r" % pending)
	first = film[0]["requestId"]
	second = [r["requestId"] for r in pending if r["requestId"] != first][0]
	res = c.call("approve_request", {"requestId": first})
	check(not res["isError"] and res["structuredContent"]["request"]["approval"] == "approved",
	      "approve: %r" % res)
	check(text_of(res).startswith("Approved request %d" % first), "summary: %r" % text_of(res))
	res = c.call("decline_request", {"requestId": second})
	check(not res["isError"] and res["structuredContent"]["request"]["state"] == "declined",
	      "decline: %r" % res)
	acts = [r for r in fake_requests(a.seerr) if r["method"] == "POST" and
	        r["path"] in ("/api/v1/request/%d/approve" % first,
	                      "/api/v1/request/%d/decline" % second)]
	check(len(acts) == 2 and all(header(r, "X-Api-User") == a.seerr_user for r in acts),
	      "approve and decline sent as the admin: %r" % acts)
	res = c.call("approve_request", {"requestId": 9999})
	check(res["isError"], "no request 9999: %r" % res)
	res = c.call("downloads")
	check(not res["isError"] and res["structuredContent"]["scope"] == "all",
	      "downloads: %r" % res)
	dl = [r for r in res["structuredContent"]["requests"] if r["requestId"] == first]
	check(dl and dl[0]["tmdbId"] == 841, "the approved request is being fetched: %r" % res)
	check(dl[0].get("percent") == 52 and dl[0].get("timeLeftSeconds") == 540,
	      "percent and time left from Radarr's queue: %r" % dl)
	check(dl[0]["state"] == "downloading 52% ETA 9 min", "state words: %r" % dl)
	check("downloading 52% ETA 9 min" in text_of(res), "summary: %r" % text_of(res))
	check(c.close() == 0, "exit 0 at EOF")
	return "list all, approve, decline as user %s, downloads with Radarr's percent" % a.seerr_user


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--usher", required=True)
	ap.add_argument("--config", required=True)
	ap.add_argument("--as", dest="person", required=True)
	ap.add_argument("--seerr", default="")
	ap.add_argument("--seerr-user", default="")
	ap.add_argument("scenario")
	a = ap.parse_args()
	fn = globals().get("scenario_" + a.scenario)
	if fn is None:
		print("FAIL: no scenario %s" % a.scenario)
		return 2
	c = Client([a.usher, "mcp", "--config", a.config, "--as", a.person])
	try:
		what = fn(c, a)
	except (Fail, OSError, KeyError, TypeError) as e:
		err = c.kill()
		print("FAIL: %s: %s" % (a.scenario, e))
		print("\n".join(c.log[-40:]))
		print("--- usher stderr\n" + err[-4000:])
		return 1
	c.kill()
	print("ok: %s" % what)
	return 0


if __name__ == "__main__":
	sys.exit(main())

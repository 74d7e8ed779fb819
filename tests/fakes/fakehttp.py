#!/usr/bin/python3
"""A fake HTTP service for tests: canned routes, faults, and a record of every request.

Command line (what C unit tests and the scenario runner use):

    fakehttp.py --scenario FILE.json [--port 0] [--record FILE.jsonl] [--verbose]

binds 127.0.0.1, prints exactly one line `LISTENING <port>` once ready, serves until
SIGTERM/SIGINT. The scenario is `{"routes": [ROUTE, ...]}`; a ROUTE is

    {"method": "GET",                      # or "*"/absent for any method
     "path": "/x" | "path_regex": "^/api/v1/movie/\\d+$",
     "query": {"k": "v"},                  # optional: these parameters must be present with these values
     "status": 200,
     "json": {...} | "body": "text" | "body_size": N,
     "headers": {"Name": "value"},
     "delay_ms": 0,
     "fault": null | "drop" | "malformed" | "stall" | "garbage",
     "times": N | null,                    # answers N times, then the next matching route answers
     "require_headers": {"X-Api-Key": "secret"}}   # mismatch -> 401 {"error": "Unauthorized"}

The first matching route that is not used up answers; nothing matching -> 404
{"error": "no route for METHOD PATH"}. A 401 for a require_headers mismatch does not use up the
route's `times`.

A service-specific fake (stateful Python handlers) gets the same command line with
`sys.exit(run_cli(lambda routes, **kw: make_my_fake(routes, **kw)))`.

Control API (never recorded): GET /__fake/requests, POST /__fake/reset,
POST /__fake/routes {"routes": [...], "mode": "prepend"|"replace"|"append"}, GET /__fake/health.

As a module, service-specific fakes keep state in Python:

    from fakehttp import FakeServer, Response
    srv = FakeServer(routes=[...])
    srv.add_handler("GET", r"^/api/v1/movie/(\\d+)$", lambda req: {"id": int(req.match.group(1))})
    srv.start()            # serves on a background thread; srv.port, srv.url
    ...
    srv.stop()

A handler gets a Request (method, path, query, headers, body, json, match, server) and returns a
Response, a dict/list (200 JSON), a (status, json) or (status, json, headers) tuple, or None (404).
"""

import argparse
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

FAULTS = (None, "drop", "malformed", "stall", "garbage")
MAX_BODY = 64 * 1024 * 1024


class Response:
	"""What a handler answers. Exactly one of json/body/body_size gives the body (json wins)."""

	def __init__(self, status=200, json=None, body=None, body_size=None, headers=None,
	             delay_ms=0, fault=None, content_type=None):
		if fault not in FAULTS:
			raise ValueError("unknown fault %r" % (fault,))
		self.status = int(status)
		self.json = json
		self.body = body
		self.body_size = body_size
		self.headers = dict(headers or {})
		self.delay_ms = delay_ms or 0
		self.fault = fault
		self.content_type = content_type

	@classmethod
	def from_route(cls, route):
		return cls(status=route.get("status", 200), json=route.get("json"), body=route.get("body"),
		           body_size=route.get("body_size"), headers=route.get("headers"),
		           delay_ms=route.get("delay_ms", 0), fault=route.get("fault"))

	def payload(self):
		"""Returns (bytes, content type)."""
		if self.json is not None:
			return (json.dumps(self.json).encode(), self.content_type or "application/json")
		if self.body is not None:
			b = self.body.encode() if isinstance(self.body, str) else bytes(self.body)
			return (b, self.content_type or "text/plain; charset=utf-8")
		if self.body_size is not None:
			return (b"x" * int(self.body_size), self.content_type or "text/plain")
		return (b"", self.content_type)


class Request:
	"""One request as a handler sees it. headers keep their case; header() looks up caselessly."""

	def __init__(self, method, path, query, headers, body, server):
		self.method = method
		self.path = path
		self.query = query            # dict of lists, as urllib.parse.parse_qs gives
		self.headers = headers        # dict name -> value (last one wins)
		self.body = body              # text (UTF-8, undecodable bytes replaced)
		self.raw_body = b""
		self.server = server
		self.match = None             # the path_regex match object, for handler routes
		try:
			self.json = json.loads(body) if body else None
		except ValueError:
			self.json = None

	def header(self, name, default=None):
		low = name.lower()
		for k, v in self.headers.items():
			if k.lower() == low:
				return v
		return default

	def arg(self, name, default=None):
		"""The first value of a query parameter."""
		vals = self.query.get(name)
		return vals[0] if vals else default

	def form(self):
		"""The body parsed as application/x-www-form-urlencoded, first value per key."""
		return {k: v[0] for k, v in urllib.parse.parse_qs(self.body, keep_blank_values=True).items()}

	def record(self):
		return {"method": self.method, "path": self.path, "query": self.query,
		        "headers": self.headers, "body": self.body, "json": self.json, "time": time.time()}


class _Route:
	def __init__(self, spec, handler=None):
		self.spec = spec
		self.method = (spec.get("method") or "*").upper()
		self.path = spec.get("path")
		self.regex = re.compile(spec["path_regex"]) if spec.get("path_regex") else None
		if self.path is None and self.regex is None:
			raise ValueError("route needs path or path_regex: %r" % (spec,))
		self.query = spec.get("query") or {}
		self.times = spec.get("times")
		self.used = 0
		self.require = spec.get("require_headers") or {}
		self.handler = handler
		if spec.get("fault") not in FAULTS:
			raise ValueError("unknown fault %r" % (spec.get("fault"),))

	def matches(self, method, path, query):
		"""Returns the match object (or True) when method, path and query fit, else None."""
		if self.method not in ("*", method):
			return None
		if self.times is not None and self.used >= self.times:
			return None
		m = True
		if self.path is not None:
			if self.path != path:
				return None
		else:
			m = self.regex.search(path)
			if not m:
				return None
		for k, v in self.query.items():
			want = v if isinstance(v, list) else [v]
			have = query.get(k, [])
			if not all(str(w) in have for w in want):
				return None
		return m


class _HTTPServer(http.server.ThreadingHTTPServer):
	daemon_threads = True
	request_queue_size = 1024
	allow_reuse_address = True

	def handle_error(self, request, client_address):
		# Clients that hang up mid-answer are routine in fault tests.
		exc = sys.exc_info()[1]
		if isinstance(exc, (ConnectionError, socket.timeout, OSError)):
			return
		super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	# Headers and body go out as separate writes: without this every
	# request waits for the peer's delayed ACK (~40 ms).
	disable_nagle_algorithm = True
	server_version = "fakehttp/1"

	def log_message(self, fmt, *args):
		if self.server.fake.verbose:
			sys.stderr.write("fakehttp: %s\n" % (fmt % args))

	def _read_body(self):
		te = (self.headers.get("Transfer-Encoding") or "").lower()
		if "chunked" in te:
			out = bytearray()
			while True:
				line = self.rfile.readline(65537)
				if not line:
					break
				size = int(line.split(b";")[0].strip() or b"0", 16)
				if size == 0:
					while True:  # trailers
						t = self.rfile.readline(65537)
						if t in (b"\r\n", b"\n", b""):
							break
					break
				out += self.rfile.read(size)
				self.rfile.readline(3)
				if len(out) > MAX_BODY:
					break
			return bytes(out)
		n = int(self.headers.get("Content-Length") or 0)
		return self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""

	def _dispatch(self):
		fake = self.server.fake
		url = urllib.parse.urlsplit(self.path)
		path = url.path
		query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
		raw = self._read_body()
		headers = {}
		for k, v in self.headers.items():
			headers[k] = v
		req = Request(self.command, path, query, headers, raw.decode("utf-8", "replace"), fake)
		req.raw_body = raw
		if path.startswith("/__fake/"):
			self._send(fake._control(req))
			return
		fake._record(req)
		resp = fake._answer(req)
		self._send(resp)

	def _send(self, resp):
		fake = self.server.fake
		if resp.delay_ms:
			if fake._stopping.wait(resp.delay_ms / 1000.0):
				self.close_connection = True
				return
		if resp.fault == "drop":
			self._hangup()
			return
		if resp.fault == "stall":
			fake._stopping.wait()
			self._hangup()
			return
		if resp.fault == "garbage":
			try:
				self.wfile.write(b"\x00\xff\xfe GARBAGE \x01" + os.urandom(48) + b"\r\n\x7f")
				self.wfile.flush()
			except OSError:
				pass
			self._hangup()
			return
		body, ctype = resp.payload()
		if resp.fault == "malformed":
			if resp.json is None:
				body = b'{"results": [{"id": 1, "title": "Trunc'
			else:
				body = body[: max(1, len(body) // 2)]
				if body.endswith(b"}") or body.endswith(b"]"):
					body = body[:-1]
			ctype = "application/json"
		self.send_response(resp.status)
		names = {k.lower() for k in resp.headers}
		if ctype and "content-type" not in names:
			self.send_header("Content-Type", ctype)
		for k, v in resp.headers.items():
			if isinstance(v, list):
				for item in v:
					self.send_header(k, item)
			else:
				self.send_header(k, str(v))
		if "content-length" not in names:
			self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		if self.command != "HEAD":
			self.wfile.write(body)
		self.wfile.flush()

	def _hangup(self):
		self.close_connection = True
		try:
			self.wfile.flush()
			self.connection.shutdown(socket.SHUT_RDWR)
		except OSError:
			pass

	do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch


class FakeServer:
	"""One fake service on 127.0.0.1. Routes are consulted in order; handler routes are routes
	whose answer comes from a Python function."""

	def __init__(self, routes=None, port=0, record_path=None, verbose=False):
		self.verbose = verbose
		self._lock = threading.Lock()
		self._routes = [_Route(r) for r in (routes or [])]
		self._requests = []
		self._record_path = record_path
		self._record_file = open(record_path, "a", encoding="utf-8") if record_path else None
		self._stopping = threading.Event()
		self._httpd = _HTTPServer(("127.0.0.1", port), _Handler)
		self._httpd.fake = self
		self._thread = None
		self.port = self._httpd.server_address[1]
		self.url = "http://127.0.0.1:%d" % self.port

	# Routes -------------------------------------------------------------------------------
	def set_routes(self, routes, mode="replace"):
		new = [_Route(r) for r in routes]
		with self._lock:
			if mode == "replace":
				# Handler routes are part of the service's code, not of the scenario: keep them.
				self._routes = new + [r for r in self._routes if r.handler]
			elif mode == "prepend":
				self._routes = new + self._routes
			elif mode == "append":
				self._routes = self._routes + new
			else:
				raise ValueError("mode must be prepend, replace or append")

	def add_handler(self, method, path_regex, fn, prepend=False):
		"""Routes METHOD requests whose path matches path_regex (re.search) to fn(req)."""
		r = _Route({"method": method, "path_regex": path_regex}, handler=fn)
		with self._lock:
			if prepend:
				self._routes.insert(0, r)
			else:
				self._routes.append(r)

	def route(self, method, path_regex):
		"""Decorator form of add_handler."""
		def deco(fn):
			self.add_handler(method, path_regex, fn)
			return fn
		return deco

	# Records ------------------------------------------------------------------------------
	def requests(self):
		with self._lock:
			return list(self._requests)

	def reset(self):
		with self._lock:
			self._requests = []

	def wait_for_requests(self, n, timeout=5.0):
		"""Waits until at least n requests are recorded; returns the records (maybe fewer)."""
		end = time.monotonic() + timeout
		while time.monotonic() < end:
			got = self.requests()
			if len(got) >= n:
				return got
			time.sleep(0.01)
		return self.requests()

	def _record(self, req):
		rec = req.record()
		with self._lock:
			self._requests.append(rec)
			if self._record_file:
				self._record_file.write(json.dumps(rec) + "\n")
				self._record_file.flush()

	# Answering ----------------------------------------------------------------------------
	def _answer(self, req):
		with self._lock:
			chosen, m = None, None
			for r in self._routes:
				m = r.matches(req.method, req.path, req.query)
				if m is not None:
					chosen = r
					break
			if chosen is None:
				return Response(404, json={"error": "no route for %s %s" % (req.method, req.path)})
			for name, want in chosen.require.items():
				if req.header(name) != str(want):
					return Response(401, json={"error": "Unauthorized"})
			chosen.used += 1
		if chosen.handler is None:
			return Response.from_route(chosen.spec)
		req.match = m if m is not True else None
		try:
			out = chosen.handler(req)
		except Exception as e:  # a bug in a fake must show, not hang the client
			import traceback
			traceback.print_exc()
			return Response(500, json={"error": "fake handler raised: %r" % (e,)})
		return _coerce(out, req)

	def _control(self, req):
		p = req.path
		if p == "/__fake/health":
			return Response(200, json={"ok": True})
		if p == "/__fake/requests" and req.method == "GET":
			return Response(200, json=self.requests())
		if p == "/__fake/reset" and req.method == "POST":
			self.reset()
			return Response(200, json={"ok": True})
		if p == "/__fake/routes" and req.method == "POST":
			try:
				spec = json.loads(req.body)
				self.set_routes(spec.get("routes", []), spec.get("mode", "prepend"))
			except (ValueError, KeyError, TypeError, re.error) as e:
				return Response(400, json={"error": str(e)})
			return Response(200, json={"ok": True})
		return Response(404, json={"error": "no control endpoint %s %s" % (req.method, p)})

	# Life ---------------------------------------------------------------------------------
	def start(self):
		"""Serves on a daemon thread; returns self."""
		self._thread = threading.Thread(target=self._httpd.serve_forever,
		                                kwargs={"poll_interval": 0.05}, daemon=True)
		self._thread.start()
		return self

	def serve_forever(self):
		self._httpd.serve_forever(poll_interval=0.05)

	def stop(self):
		"""Releases stalled and delayed answers, stops serving, closes the socket."""
		self._stopping.set()
		if self._thread is not None:
			self._httpd.shutdown()
			self._thread.join(5)
		self._httpd.server_close()
		if self._record_file:
			self._record_file.close()
			self._record_file = None

	def __enter__(self):
		return self.start()

	def __exit__(self, *exc):
		self.stop()


def _coerce(out, req):
	if isinstance(out, Response):
		return out
	if out is None:
		return Response(404, json={"error": "no route for %s %s" % (req.method, req.path)})
	if isinstance(out, tuple):
		status = out[0]
		body = out[1] if len(out) > 1 else None
		headers = out[2] if len(out) > 2 else None
		if isinstance(body, (bytes, str)):
			return Response(status, body=body, headers=headers)
		return Response(status, json=body, headers=headers)
	if isinstance(out, (str, bytes)):
		return Response(200, body=out)
	return Response(200, json=out)


def run_cli(make_server=FakeServer, argv=None, description="fake HTTP service for tests"):
	"""The command line every fake shares, so the scenario runner can start any of them the same
	way: make_server(routes, port=, record_path=, verbose=) returns a FakeServer (or subclass).
	Prints `LISTENING <port>`, serves until SIGTERM/SIGINT, returns the exit status."""
	ap = argparse.ArgumentParser(description=description)
	ap.add_argument("--scenario", help="JSON file with {\"routes\": [...]}")
	ap.add_argument("--port", type=int, default=0)
	ap.add_argument("--record", help="append every request to this JSONL file")
	ap.add_argument("--verbose", action="store_true")
	a = ap.parse_args(argv)
	routes = []
	if a.scenario:
		with open(a.scenario, encoding="utf-8") as f:
			routes = json.load(f).get("routes", [])
	srv = make_server(routes, port=a.port, record_path=a.record, verbose=a.verbose)
	done = threading.Event()

	def on_signal(signum, frame):
		done.set()

	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)
	srv.start()
	sys.stdout.write("LISTENING %d\n" % srv.port)
	sys.stdout.flush()
	while not done.wait(0.2):
		pass
	srv.stop()
	return 0


def main(argv=None):
	return run_cli(FakeServer, argv)


if __name__ == "__main__":
	sys.exit(main())

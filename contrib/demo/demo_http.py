"""Tiny HTTP plumbing shared by the demo services: a route table per service, requests parsed
once (query, JSON or form body, cookies), answers with Content-Length on HTTP/1.1 keep-alive.
Every handler runs under the world's lock, after world.tick()."""

import http.server
import json
import re
import socket
import sys
import threading
import urllib.parse


class Req:
	def __init__(self, method, path, query, headers, body):
		self.method = method
		self.path = path
		self.query = query
		self.headers = headers
		self.body = body
		self.match = None
		self.user = None
		self.session = None

	def arg(self, name, default=None):
		v = self.query.get(name)
		return v[0] if v else default

	def args(self, name):
		"""Every value of a repeatable parameter (movieIds=1&movieIds=2, or 1,2)."""
		out = []
		for v in self.query.get(name, []):
			out.extend(x for x in v.split(",") if x)
		return out

	def int_arg(self, name, default):
		try:
			return int(self.arg(name, default))
		except (TypeError, ValueError):
			return default

	def bool_arg(self, name, default=False):
		v = self.arg(name)
		return default if v is None else v.lower() == "true"

	def header(self, name):
		return self.headers.get(name)

	def json(self):
		try:
			return json.loads(self.body or b"null")
		except ValueError:
			return None

	def form(self):
		return {k: v[0] for k, v in urllib.parse.parse_qs(
			self.body.decode("utf-8", "replace"), keep_blank_values=True).items()}

	def cookies(self):
		out = {}
		for part in (self.headers.get("Cookie") or "").split(";"):
			k, _, v = part.strip().partition("=")
			if k:
				out[k] = v
		return out


class Resp:
	def __init__(self, status=200, body=None, headers=None, text=None):
		self.status = status
		self.headers = dict(headers or {})
		if text is not None:
			self.data = text.encode()
			self.headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
		elif body is None:
			self.data = b""
		else:
			self.data = json.dumps(body).encode()
			self.headers.setdefault("Content-Type", "application/json; charset=utf-8")


class Service:
	"""One HTTP service: routes (method, regex, fn) plus an auth hook run before every route.
	fn(req) returns a Resp or a JSON-able value (200)."""

	def __init__(self, name, world):
		self.name = name
		self.world = world
		self.routes = []
		# qBittorrent only insists on POST for actions that change state; reads take either.
		self.get_accepts_post = False

	def route(self, method, pattern):
		rx = re.compile("^" + pattern + "$")

		def deco(fn):
			self.routes.append((method, rx, fn))
			return fn
		return deco

	def authenticate(self, req):
		"""Returns None to go on, or a Resp that refuses the request."""
		return None

	def dispatch(self, req):
		allowed = False
		for method, rx, fn in self.routes:
			m = rx.match(req.path)
			if not m:
				continue
			allowed = True
			if method != req.method and not (method == "GET" and (
					req.method == "HEAD" or (req.method == "POST" and self.get_accepts_post))):
				continue
			req.match = m
			with self.world.lock:
				self.world.tick()
				refuse = self.authenticate(req)
				if refuse is not None:
					return refuse
				out = fn(req)
			return out if isinstance(out, Resp) else Resp(200, out)
		if allowed:
			return self.method_not_allowed(req)
		return self.not_found(req)

	def not_found(self, req):
		return Resp(404, {"message": "Not Found"})

	def method_not_allowed(self, req):
		return Resp(405, {"message": "Method Not Allowed"})


class _Handler(http.server.BaseHTTPRequestHandler):
	disable_nagle_algorithm = True  # headers and body are separate writes
	protocol_version = "HTTP/1.1"
	server_version = "usher-demo"

	def log_message(self, fmt, *args):
		if self.server.verbose:
			sys.stderr.write("demo %s: %s\n" % (self.server.service.name, fmt % args))

	def _do(self):
		url = urllib.parse.urlsplit(self.path)
		n = int(self.headers.get("Content-Length") or 0)
		body = self.rfile.read(min(n, 16 << 20)) if n > 0 else b""
		req = Req(self.command, url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True),
		          self.headers, body)
		try:
			resp = self.server.service.dispatch(req)
		except Exception as e:  # a demo bug must answer, not hang the client
			import traceback
			traceback.print_exc()
			resp = Resp(500, {"message": "demo error: %r" % (e,)})
		self.send_response(resp.status)
		for k, v in resp.headers.items():
			for item in (v if isinstance(v, list) else [v]):
				self.send_header(k, item)
		self.send_header("Content-Length", str(len(resp.data)))
		self.end_headers()
		if self.command != "HEAD":
			self.wfile.write(resp.data)

	do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _do


class Server(http.server.ThreadingHTTPServer):
	daemon_threads = True
	request_queue_size = 1024

	def __init__(self, service, verbose=False):
		super().__init__(("127.0.0.1", 0), _Handler)
		self.service = service
		self.verbose = verbose
		self.url = "http://127.0.0.1:%d" % self.server_address[1]
		self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
		                               daemon=True)

	def handle_error(self, request, client_address):
		if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
			return
		super().handle_error(request, client_address)

#!/usr/bin/python3
"""Self-test of fakehttp.py: the command line as C tests use it, every fault, the control API,
and the module API with Python handlers. Run: /usr/bin/python3 tests/fakes/test_fakehttp.py"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fakehttp import FakeServer, Response  # noqa: E402

SCENARIO = {"routes": [
	{"method": "GET", "path": "/once", "json": {"n": 1}, "times": 1},
	{"method": "GET", "path": "/once", "json": {"n": 2}},
	{"method": "GET", "path_regex": r"^/api/v1/movie/\d+$", "query": {"language": "en"},
	 "json": {"ok": True}, "require_headers": {"X-Api-Key": "secret"}},
	{"method": "POST", "path": "/echo", "status": 201, "body": "made",
	 "headers": {"X-Extra": "yes"}},
	{"path": "/drop", "fault": "drop"},
	{"path": "/malformed", "status": 200, "fault": "malformed", "json": {"results": [1, 2, 3]}},
	{"path": "/garbage", "fault": "garbage"},
	{"path": "/stall", "fault": "stall"},
	{"path": "/slow", "delay_ms": 300, "json": {}},
	{"path": "/big", "body_size": 200000},
]}


def request(port, method, path, body=None, headers=None, timeout=5):
	c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
	try:
		c.request(method, path, body=body, headers=headers or {})
		r = c.getresponse()
		return r.status, dict(r.getheaders()), r.read()
	finally:
		c.close()


class CliTest(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		cls.tmp = tempfile.TemporaryDirectory()
		scn = os.path.join(cls.tmp.name, "s.json")
		cls.rec = os.path.join(cls.tmp.name, "rec.jsonl")
		with open(scn, "w") as f:
			json.dump(SCENARIO, f)
		cls.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fakehttp.py"),
		                             "--scenario", scn, "--port", "0", "--record", cls.rec],
		                            stdout=subprocess.PIPE, text=True)
		line = cls.proc.stdout.readline()
		assert line.startswith("LISTENING "), line
		cls.port = int(line.split()[1])

	@classmethod
	def tearDownClass(cls):
		if cls.proc.poll() is None:
			cls.proc.kill()
		cls.proc.wait(5)
		cls.proc.stdout.close()
		cls.tmp.cleanup()

	def setUp(self):
		request(self.port, "POST", "/__fake/reset")

	def recorded(self):
		s, _, b = request(self.port, "GET", "/__fake/requests")
		self.assertEqual(s, 200)
		return json.loads(b)

	def test_times_then_next_route(self):
		self.assertEqual(json.loads(request(self.port, "GET", "/once")[2]), {"n": 1})
		self.assertEqual(json.loads(request(self.port, "GET", "/once")[2]), {"n": 2})
		self.assertEqual(json.loads(request(self.port, "GET", "/once")[2]), {"n": 2})

	def test_regex_query_and_required_header(self):
		s, _, b = request(self.port, "GET", "/api/v1/movie/42?language=en",
		                  headers={"X-Api-Key": "secret"})
		self.assertEqual((s, json.loads(b)), (200, {"ok": True}))
		s, _, b = request(self.port, "GET", "/api/v1/movie/42?language=en",
		                  headers={"X-Api-Key": "wrong"})
		self.assertEqual((s, json.loads(b)), (401, {"error": "Unauthorized"}))
		s, _, b = request(self.port, "GET", "/api/v1/movie/42?language=fr",
		                  headers={"X-Api-Key": "secret"})
		self.assertEqual(s, 404)
		self.assertEqual(json.loads(b), {"error": "no route for GET /api/v1/movie/42"})

	def test_body_status_headers_and_record(self):
		s, h, b = request(self.port, "POST", "/echo?a=1&a=2", body=b'{"mediaId": 5}',
		                  headers={"Content-Type": "application/json", "X-Api-User": "3"})
		self.assertEqual((s, b, h.get("X-Extra")), (201, b"made", "yes"))
		rec = self.recorded()
		self.assertEqual(len(rec), 1)
		r = rec[0]
		self.assertEqual((r["method"], r["path"], r["query"]), ("POST", "/echo", {"a": ["1", "2"]}))
		self.assertEqual(r["json"], {"mediaId": 5})
		self.assertEqual(r["headers"]["X-Api-User"], "3")
		with open(self.rec) as f:
			lines = [json.loads(x) for x in f if x.strip()]
		self.assertTrue(any(x["path"] == "/echo" for x in lines))

	def test_body_size_and_keepalive(self):
		c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
		c.request("GET", "/big")
		r = c.getresponse()
		self.assertEqual(len(r.read()), 200000)
		sock = c.sock
		c.request("GET", "/__fake/health")
		r = c.getresponse()
		r.read()
		self.assertIs(c.sock, sock, "connection was not kept alive")
		c.close()

	def test_drop(self):
		with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
			request(self.port, "GET", "/drop")

	def test_malformed(self):
		s, h, b = request(self.port, "GET", "/malformed")
		self.assertEqual(s, 200)
		self.assertEqual(h["Content-Type"], "application/json")
		with self.assertRaises(ValueError):
			json.loads(b)

	def test_garbage(self):
		with self.assertRaises((http.client.BadStatusLine, http.client.RemoteDisconnected,
		                        ConnectionError)):
			request(self.port, "GET", "/garbage")

	def test_stall_does_not_block_others(self):
		t0 = time.monotonic()
		with self.assertRaises(socket.timeout):
			request(self.port, "GET", "/stall", timeout=0.5)
		self.assertGreaterEqual(time.monotonic() - t0, 0.45)
		self.assertEqual(request(self.port, "GET", "/__fake/health")[0], 200)

	def test_delay(self):
		t0 = time.monotonic()
		self.assertEqual(request(self.port, "GET", "/slow")[0], 200)
		self.assertGreaterEqual(time.monotonic() - t0, 0.28)

	def test_unmatched_and_control_not_recorded(self):
		s, _, b = request(self.port, "DELETE", "/nothing")
		self.assertEqual((s, json.loads(b)), (404, {"error": "no route for DELETE /nothing"}))
		self.assertEqual(request(self.port, "GET", "/__fake/health")[0], 200)
		self.assertEqual([r["path"] for r in self.recorded()], ["/nothing"])

	def test_routes_at_run_time(self):
		s, _, _ = request(self.port, "POST", "/__fake/routes", body=json.dumps(
			{"routes": [{"method": "GET", "path": "/big", "status": 503, "json": {"down": 1},
			             "times": 1}], "mode": "prepend"}))
		self.assertEqual(s, 200)
		self.assertEqual(request(self.port, "GET", "/big")[0], 503)
		self.assertEqual(request(self.port, "GET", "/big")[0], 200)

	def test_concurrent(self):
		results = []

		def one():
			results.append(request(self.port, "GET", "/slow")[0])

		ts = [threading.Thread(target=one) for _ in range(20)]
		t0 = time.monotonic()
		for t in ts:
			t.start()
		for t in ts:
			t.join(10)
		self.assertEqual(results, [200] * 20)
		self.assertLess(time.monotonic() - t0, 3.0)

	def test_zz_sigterm_with_stalled_client(self):
		s = socket.create_connection(("127.0.0.1", self.port))
		s.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
		time.sleep(0.2)
		t0 = time.monotonic()
		self.proc.send_signal(signal.SIGTERM)
		self.assertEqual(self.proc.wait(5), 0)
		self.assertLess(time.monotonic() - t0, 3.0)
		s.close()


class ModuleTest(unittest.TestCase):
	def test_handlers_keep_state(self):
		srv = FakeServer(routes=[{"method": "GET", "path": "/static", "json": [1]}])
		count = {"n": 0}

		def bump(req):
			count["n"] += 1
			return {"n": count["n"], "id": int(req.match.group(1)), "q": req.arg("q")}

		srv.add_handler("POST", r"^/thing/(\d+)$", bump)

		@srv.route("GET", r"^/fail$")
		def fail(req):
			return Response(502, body="bad gateway")

		with srv:
			self.assertEqual(json.loads(request(srv.port, "POST", "/thing/7?q=z")[2]),
			                 {"n": 1, "id": 7, "q": "z"})
			self.assertEqual(json.loads(request(srv.port, "POST", "/thing/7")[2])["n"], 2)
			self.assertEqual(request(srv.port, "GET", "/fail")[0], 502)
			self.assertEqual(json.loads(request(srv.port, "GET", "/static")[2]), [1])
			srv.set_routes([{"method": "GET", "path": "/static", "json": [2]}], "replace")
			self.assertEqual(json.loads(request(srv.port, "GET", "/static")[2]), [2])
			self.assertEqual(request(srv.port, "POST", "/thing/1")[0], 200)
			self.assertEqual(len(srv.requests()), 6)


if __name__ == "__main__":
	unittest.main(verbosity=2)

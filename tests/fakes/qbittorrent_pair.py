#!/usr/bin/python3
"""Runs two real qbittorrent-nox on loopback, one seeding a file to the other, for progress tests.

Each instance gets a throwaway profile (Web UI and BitTorrent on free loopback ports, DHT/PeX/LSD
off, interface lo, our own Web UI password); the downloader has a download rate limit
(--limit KiB/s, default 1000) so a test sees several progress updates. The helper writes a file
of --size bytes (default 8 MB), makes a single-file .torrent for it, adds it to the seeder (with
the file, skip_checking) and to the downloader (empty folder, paused), then prints one line

    READY <downloader webui port> <username> <password> <hash>

or `SKIP <why>` / `ERROR <why>`. Then it reads commands from stdin, one a line:
    start   resumes the download and joins the peers (POST /api/v2/torrents/addPeers)
and stops both instances (SIGTERM, then SIGKILL; by pid) and removes the profiles when stdin
closes or on SIGTERM. The children also get SIGKILL if this script dies (PR_SET_PDEATHSIG).
"""

import argparse
import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qbittorrent_real import (USER, PASSWORD, free_port, make_torrent, multipart,  # noqa: E402
                              pbkdf2_value, set_pdeathsig)


class Instance:
	def __init__(self, exe, root, name, dl_limit_bytes=0):
		self.root = os.path.join(root, name)
		self.webui, self.bt = free_port(), free_port()
		conf_dir = os.path.join(self.root, "qBittorrent", "config")
		os.makedirs(conf_dir)
		limit = "Session\\GlobalDLSpeedLimit=%d\n" % (dl_limit_bytes // 1024) if dl_limit_bytes else ""
		with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
			f.write("[LegalNotice]\nAccepted=true\n\n"
			        "[BitTorrent]\nSession\\DHTEnabled=false\nSession\\PeXEnabled=false\n"
			        "Session\\LSDEnabled=false\nSession\\Port=%d\nSession\\Interface=lo\n"
			        "Session\\InterfaceName=lo\n%s\n"
			        "[Preferences]\nWebUI\\Port=%d\nWebUI\\Address=127.0.0.1\n"
			        "WebUI\\LocalHostAuth=true\nWebUI\\Username=%s\n"
			        "WebUI\\Password_PBKDF2=\"%s\"\nConnection\\PortRangeMin=%d\n"
			        "General\\Locale=en\n" % (self.bt, limit, self.webui, USER,
			                                  pbkdf2_value(PASSWORD), self.bt))
		self.proc = subprocess.Popen([exe, "--profile=" + self.root], stdin=subprocess.DEVNULL,
		                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
		                             preexec_fn=set_pdeathsig)
		self.base = "http://127.0.0.1:%d" % self.webui
		self.opener = urllib.request.build_opener(
		    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

	def wait_up(self, seconds=30):
		deadline = time.monotonic() + seconds
		while True:
			if self.proc.poll() is not None:
				raise RuntimeError("qbittorrent-nox exited with status %d" % self.proc.returncode)
			try:
				socket.create_connection(("127.0.0.1", self.webui), timeout=0.5).close()
				break
			except OSError:
				if time.monotonic() > deadline:
					raise RuntimeError("the Web UI did not open port %d" % self.webui)
				time.sleep(0.2)
		form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
		ans = self.opener.open(self.base + "/api/v2/auth/login", form, timeout=10).read().decode()
		if ans.strip() != "Ok.":
			raise RuntimeError("login answered %r" % ans)

	def post(self, path, fields):
		data = urllib.parse.urlencode(fields).encode()
		return self.opener.open(self.base + path, data, timeout=10).read().decode()

	def add(self, torrent, save, skip, paused):
		body, ctype = multipart({"savepath": save, "skip_checking": skip, "paused": paused},
		                        {"torrents": ("t.torrent", torrent)})
		req = urllib.request.Request(self.base + "/api/v2/torrents/add", body,
		                             {"Content-Type": ctype})
		ans = self.opener.open(req, timeout=10).read().decode()
		if ans.strip() != "Ok.":
			raise RuntimeError("adding a torrent answered %r" % ans)

	def stop(self):
		if self.proc.poll() is None:
			self.proc.terminate()
			try:
				self.proc.wait(timeout=10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--size", type=int, default=8 * 1000 * 1000)
	ap.add_argument("--limit", type=int, default=1000, help="download limit, KiB/s")
	a = ap.parse_args()
	exe = shutil.which("qbittorrent-nox")
	if exe is None:
		print("SKIP qbittorrent-nox is not installed (Debian package qbittorrent-nox)", flush=True)
		return 0
	root = tempfile.mkdtemp(prefix="usher-qbt-pair-")
	insts = []

	def cleanup(*_):
		for i in insts:
			i.stop()
		shutil.rmtree(root, ignore_errors=True)

	def on_term(signum, frame):
		cleanup()
		sys.exit(0)

	signal.signal(signal.SIGTERM, on_term)
	try:
		seeder = Instance(exe, root, "seeder")
		insts.append(seeder)
		leecher = Instance(exe, root, "leecher", a.limit * 1024)
		insts.append(leecher)
		seeder.wait_up()
		leecher.wait_up()
		seed_dir = os.path.join(root, "seed-data")
		dl_dir = os.path.join(root, "download")
		os.makedirs(seed_dir)
		os.makedirs(dl_dir)
		data_path = os.path.join(seed_dir, "Big.Buck.Test.2008.1080p.bin")
		with open(data_path, "wb") as f:
			f.write(os.urandom(a.size))
		torrent, h = make_torrent(data_path, piece=65536)
		seeder.add(torrent, seed_dir, "true", "false")
		leecher.add(torrent, dl_dir, "false", "true")
		print("READY %d %s %s %s" % (leecher.webui, USER, PASSWORD, h), flush=True)
		for line in sys.stdin:
			if line.strip() == "start":
				leecher.post("/api/v2/torrents/resume", {"hashes": h})
				leecher.post("/api/v2/torrents/addPeers",
				             {"hashes": h, "peers": "127.0.0.1:%d" % seeder.bt})
				print("STARTED", flush=True)
		return 0
	except Exception as e:  # any failure must still stop both instances
		print("ERROR %r" % (e,), flush=True)
		return 1
	finally:
		cleanup()


if __name__ == "__main__":
	sys.exit(main())

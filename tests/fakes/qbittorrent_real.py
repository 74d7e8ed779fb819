#!/usr/bin/python3
"""Runs a real qbittorrent-nox for tests/unit/test_qbittorrent_real.c.

Makes a throwaway profile (Web UI on a free loopback port, DHT/PeX/LSD off, a password of our own
stored the way qBittorrent 4.5 stores it: PBKDF2-SHA512), starts `qbittorrent-nox --profile=DIR`,
waits (bounded) for the Web UI, adds two torrents (one seeding a file it has, one that can never
download), then prints one line

    READY <webui port> <username> <password> <seeding hash> <stalled hash> <file size>

or `SKIP <why>` / `ERROR <why>`, and waits until its stdin closes (or SIGTERM), when it kills and
reaps qbittorrent-nox by pid and removes the profile. qbittorrent-nox also gets SIGKILL if this
script dies (PR_SET_PDEATHSIG), so no test leaves one behind.
"""

import base64
import ctypes
import hashlib
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

USER = "usher"
PASSWORD = "usher-test-pass-1"


def free_port():
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def pbkdf2_value(password):
	salt = os.urandom(16)
	key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100000, 64)
	return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


def bencode(v):
	if isinstance(v, int):
		return b"i%de" % v
	if isinstance(v, str):
		v = v.encode()
	if isinstance(v, bytes):
		return b"%d:%s" % (len(v), v)
	if isinstance(v, dict):
		out = b"d"
		for k in sorted(v):
			out += bencode(k) + bencode(v[k])
		return out + b"e"
	raise TypeError(type(v))


def make_torrent(path, piece=16384):
	data = open(path, "rb").read()
	pieces = b"".join(hashlib.sha1(data[i:i + piece]).digest() for i in range(0, len(data), piece))
	info = {"length": len(data), "name": os.path.basename(path), "piece length": piece,
	        "pieces": pieces}
	meta = {"announce": "http://127.0.0.1:9/announce", "info": info}
	return bencode(meta), hashlib.sha1(bencode(info)).hexdigest()


def multipart(fields, files):
	boundary = "usherboundary%d" % os.getpid()
	out = b""
	for k, v in fields.items():
		out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
		        % (boundary, k, v)).encode()
	for k, (fname, content) in files.items():
		out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
		        "Content-Type: application/x-bittorrent\r\n\r\n" % (boundary, k, fname)).encode()
		out += content + b"\r\n"
	out += ("--%s--\r\n" % boundary).encode()
	return out, "multipart/form-data; boundary=" + boundary


def set_pdeathsig():
	try:
		ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
	except OSError:
		pass


def main():
	exe = shutil.which("qbittorrent-nox")
	if exe is None:
		print("SKIP qbittorrent-nox is not installed (Debian package qbittorrent-nox)", flush=True)
		return 0
	root = tempfile.mkdtemp(prefix="usher-qbt-")
	proc = None

	def cleanup(*_):
		if proc is not None and proc.poll() is None:
			proc.terminate()
			try:
				proc.wait(timeout=10)
			except subprocess.TimeoutExpired:
				proc.kill()
				proc.wait()
		shutil.rmtree(root, ignore_errors=True)

	def on_term(signum, frame):
		cleanup()
		sys.exit(0)

	signal.signal(signal.SIGTERM, on_term)
	try:
		webui, bt = free_port(), free_port()
		conf_dir = os.path.join(root, "qBittorrent", "config")
		os.makedirs(conf_dir)
		seed_dir = os.path.join(root, "seed")
		empty_dir = os.path.join(root, "empty")
		os.makedirs(seed_dir)
		os.makedirs(empty_dir)
		with open(os.path.join(conf_dir, "qBittorrent.conf"), "w") as f:
			f.write("[LegalNotice]\nAccepted=true\n\n"
			        "[BitTorrent]\nSession\\DHTEnabled=false\nSession\\PeXEnabled=false\n"
			        "Session\\LSDEnabled=false\nSession\\Port=%d\nSession\\Interface=lo\n"
			        "Session\\InterfaceName=lo\n\n"
			        "[Preferences]\nWebUI\\Port=%d\nWebUI\\Address=127.0.0.1\n"
			        "WebUI\\LocalHostAuth=true\nWebUI\\Username=%s\n"
			        "WebUI\\Password_PBKDF2=\"%s\"\nConnection\\PortRangeMin=%d\n"
			        "General\\Locale=en\n" % (bt, webui, USER, pbkdf2_value(PASSWORD), bt))
		proc = subprocess.Popen([exe, "--profile=" + root], stdin=subprocess.DEVNULL,
		                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
		                        preexec_fn=set_pdeathsig)
		base = "http://127.0.0.1:%d" % webui
		deadline = time.monotonic() + 30
		while True:
			if proc.poll() is not None:
				print("ERROR qbittorrent-nox exited with status %d" % proc.returncode, flush=True)
				return 1
			try:
				socket.create_connection(("127.0.0.1", webui), timeout=0.5).close()
				break
			except OSError:
				if time.monotonic() > deadline:
					print("ERROR the Web UI did not open port %d within 30 s" % webui, flush=True)
					return 1
				time.sleep(0.2)

		jar = http.cookiejar.CookieJar()
		opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
		form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
		ans = opener.open(base + "/api/v2/auth/login", form, timeout=10).read().decode()
		if ans.strip() != "Ok.":
			print("ERROR login with the configured password answered %r" % ans, flush=True)
			return 1

		data_path = os.path.join(seed_dir, "usher-test.bin")
		with open(data_path, "wb") as f:
			f.write(os.urandom(100000))
		seed_torrent, seed_hash = make_torrent(data_path)
		other_path = os.path.join(root, "usher-missing.bin")
		with open(other_path, "wb") as f:
			f.write(os.urandom(50000))
		dl_torrent, dl_hash = make_torrent(other_path)
		os.unlink(other_path)
		for content, save, skip in ((seed_torrent, seed_dir, "true"),
		                            (dl_torrent, empty_dir, "false")):
			body, ctype = multipart({"savepath": save, "skip_checking": skip},
			                        {"torrents": ("t.torrent", content)})
			req = urllib.request.Request(base + "/api/v2/torrents/add", body,
			                             {"Content-Type": ctype})
			ans = opener.open(req, timeout=10).read().decode()
			if ans.strip() != "Ok.":
				print("ERROR adding a torrent answered %r" % ans, flush=True)
				return 1
		print("READY %d %s %s %s %s %d" % (webui, USER, PASSWORD, seed_hash, dl_hash, 100000),
		      flush=True)
		while sys.stdin.read(4096):
			pass
		return 0
	except Exception as e:  # any failure must still stop qbittorrent-nox
		print("ERROR %r" % (e,), flush=True)
		return 1
	finally:
		cleanup()


if __name__ == "__main__":
	sys.exit(main())

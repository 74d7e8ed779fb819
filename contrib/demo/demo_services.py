#!/usr/bin/python3
"""The demo services `usher demo` starts: a simulated Seerr, Radarr, Sonarr and qBittorrent in
one process, Python standard library only.

usage: demo_services.py [--speed FACTOR] [--flavour seerr|overseerr] [--catalog FILE]
                        [--stay] [--verbose]

Binds four free loopback ports, then prints one line of JSON with their URLs and credentials.
Exits on SIGTERM/SIGINT, or when stdin reaches EOF (usher holds the pipe, so the demo never
outlives it) unless --stay. See README.md next to this file."""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import demo_arr  # noqa: E402
import demo_qbit  # noqa: E402
import demo_seerr  # noqa: E402
from demo_http import Server  # noqa: E402
from demo_world import World, default_catalog  # noqa: E402

SEERR_KEY = "demo-seerr-key"
RADARR_KEY = "demo-radarr-key"
SONARR_KEY = "demo-sonarr-key"
QBIT_USER, QBIT_PASS = "admin", "adminadmin"


def start(world, verbose=False):
	"""Starts the four servers; returns (servers, the JSON-able description)."""
	servers = {
		"seerr": Server(demo_seerr.make(world, SEERR_KEY), verbose),
		"radarr": Server(demo_arr.make_radarr(world, RADARR_KEY), verbose),
		"sonarr": Server(demo_arr.make_sonarr(world, SONARR_KEY), verbose),
		"qbittorrent": Server(demo_qbit.make(world, QBIT_USER, QBIT_PASS), verbose),
	}
	for s in servers.values():
		s.thread.start()
	info = {name: s.url for name, s in servers.items()}
	info.update({"seerr_api_key": SEERR_KEY, "radarr_api_key": RADARR_KEY,
	             "sonarr_api_key": SONARR_KEY, "qbittorrent_username": QBIT_USER,
	             "qbittorrent_password": QBIT_PASS, "seerr_user": 1})
	return servers, info


def main():
	ap = argparse.ArgumentParser(description="usher's demo media services")
	ap.add_argument("--speed", type=float, default=1.0,
	                help="simulated seconds per wall second (default 1)")
	ap.add_argument("--flavour", choices=("seerr", "overseerr"), default="seerr",
	                help="seerr marks finished requests COMPLETED (5); overseerr keeps APPROVED")
	ap.add_argument("--catalog", default=default_catalog())
	ap.add_argument("--stay", action="store_true", help="do not exit when stdin closes")
	ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
	a = ap.parse_args()
	if a.speed <= 0:
		ap.error("--speed must be positive")

	world = World(a.catalog, speed=a.speed, flavour=a.flavour)
	done = threading.Event()

	def on_signal(signum, frame):
		done.set()

	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)
	servers, info = start(world, a.verbose)
	sys.stdout.write(json.dumps(info) + "\n")
	sys.stdout.flush()

	if not a.stay:
		def watch_stdin():
			try:
				while os.read(0, 4096):
					pass
			except OSError:
				pass
			done.set()
		threading.Thread(target=watch_stdin, daemon=True).start()

	while not done.wait(0.5):
		pass
	for s in servers.values():
		s.shutdown()
		s.server_close()
	return 0


if __name__ == "__main__":
	sys.exit(main())

#!/usr/bin/python3
"""A throwaway prosody for one XMPP test (shared/TESTING-NOTES.md recipe).

    xmpp_prosody.py setup DIR [--port N] USER:PASSWORD...

writes DIR/prosody.cfg.lua (loopback only, plain connections allowed, smacks,
offline storage, a MUC component rooms.localhost), registers the accounts on
the host "localhost" with prosodyctl and prints `PORT <n>` (a free port when
--port is 0 or absent). The test itself starts `prosody --config
DIR/prosody.cfg.lua` in the background, so that it owns the process and can
stop it by pid and start it again on the same port and data.

    xmpp_prosody.py wait PORT [SECONDS]

returns 0 as soon as 127.0.0.1:PORT accepts connections, 1 at the deadline.
"""

import os
import socket
import subprocess
import sys
import time

CONFIG = """-- written by tests/fakes/xmpp_prosody.py for one test
run_as_root = true
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
log = {{ info = "{dir}/prosody.log" }}
c2s_ports = {{ {port} }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
component_ports = {{ }}
c2s_direct_tls_ports = {{ }}
legacy_ssl_ports = {{ }}
modules_enabled = {{ "roster", "saslauth", "tls", "disco", "ping", "smacks", "offline" }}
modules_disabled = {{ "s2s" }}
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
-- a resumable session survives a short drop, so a restart test sees both paths
smacks_hibernation_time = 60
VirtualHost "localhost"
Component "rooms.localhost" "muc"
  muc_room_locking = false
"""


def free_port():
	s = socket.socket()
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def setup(argv):
	d = os.path.abspath(argv[0])
	port = 0
	accounts = []
	i = 1
	while i < len(argv):
		if argv[i] == "--port":
			port = int(argv[i + 1])
			i += 2
			continue
		accounts.append(argv[i].split(":", 1))
		i += 1
	if port == 0:
		port = free_port()
	os.makedirs(os.path.join(d, "data"), exist_ok=True)
	cfg = os.path.join(d, "prosody.cfg.lua")
	with open(cfg, "w") as f:
		f.write(CONFIG.format(dir=d, port=port))
	for user, password in accounts:
		r = subprocess.run(["prosodyctl", "--config", cfg, "register", user, "localhost", password],
		                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
		if r.returncode != 0:
			sys.stderr.write("prosodyctl register %s failed: %s\n" % (user, r.stdout.decode()))
			return 1
	print("PORT %d" % port)
	return 0


def wait(argv):
	port = int(argv[0])
	deadline = time.monotonic() + (float(argv[1]) if len(argv) > 1 else 15)
	while time.monotonic() < deadline:
		try:
			socket.create_connection(("127.0.0.1", port), timeout=1).close()
			return 0
		except OSError:
			time.sleep(0.1)
	return 1


if __name__ == "__main__":
	if len(sys.argv) < 3 or sys.argv[1] not in ("setup", "wait"):
		sys.stderr.write(__doc__)
		sys.exit(2)
	sys.exit(setup(sys.argv[2:]) if sys.argv[1] == "setup" else wait(sys.argv[2:]))

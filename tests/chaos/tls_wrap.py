#!/usr/bin/python3
"""A TLS front for a plain-HTTP fake: tls_wrap.py --cert C --key K --to PORT [--port 0].

Accepts TLS on 127.0.0.1 with the given (self-signed) certificate and pipes the bytes to
127.0.0.1:PORT, so a fake service can be reached over https with a certificate usher does not
trust. Prints `LISTENING <port>` once ready; serves until SIGTERM.
"""

import argparse
import signal
import socket
import ssl
import sys
import threading


def pipe(src, dst):
	try:
		while True:
			data = src.recv(65536)
			if not data:
				break
			dst.sendall(data)
	except OSError:
		pass
	finally:
		for s in (src, dst):
			try:
				s.shutdown(socket.SHUT_RDWR)
			except OSError:
				pass


def serve(conn, ctx, to):
	try:
		tls = ctx.wrap_socket(conn, server_side=True)
	except (ssl.SSLError, OSError):
		conn.close()  # the client refused our certificate: exactly what is tested
		return
	try:
		back = socket.create_connection(("127.0.0.1", to), timeout=10)
	except OSError:
		tls.close()
		return
	threading.Thread(target=pipe, args=(back, tls), daemon=True).start()
	pipe(tls, back)


def main():
	ap = argparse.ArgumentParser()
	ap.add_argument("--cert", required=True)
	ap.add_argument("--key", required=True)
	ap.add_argument("--to", type=int, required=True)
	ap.add_argument("--port", type=int, default=0)
	a = ap.parse_args()
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
	ctx.load_cert_chain(a.cert, a.key)
	ls = socket.socket()
	ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	ls.bind(("127.0.0.1", a.port))
	ls.listen(16)
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
	print("LISTENING %d" % ls.getsockname()[1], flush=True)
	while True:
		conn, _ = ls.accept()
		threading.Thread(target=serve, args=(conn, ctx, a.to), daemon=True).start()


if __name__ == "__main__":
	sys.exit(main())

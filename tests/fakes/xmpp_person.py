#!/usr/bin/python3
"""A person on XMPP for tests: Debian's python3-slixmpp behind a blocking API.

    from xmpp_person import Person
    alice = Person("alice@localhost", "secret", port)   # connects, plain, loopback only
    alice.send("usher@localhost", "help")
    m = alice.expect(lambda m: "help" in m["body"], timeout=15)
    alice.join("family@rooms.localhost", "alice")
    alice.send("family@rooms.localhost", "usher: help", mtype="groupchat")
    alice.quiet(lambda m: m["type"] == "groupchat", seconds=3)
    alice.close()

slixmpp runs its asyncio loop on a thread of its own; every received message
becomes a dict (type, from, id, body, replace, oob, reply_id, reply_to, delay,
stanza_id, state, t) in a queue the test reads with bounded waits; chat
states (XEP-0085), with a body or without, also go to a queue of their own
(expect_state). Every wait has a deadline and raises AssertionError (with
what did arrive) when it passes.
"""

import asyncio
import queue
import threading
import time
import xml.etree.ElementTree as ET

import slixmpp

NS_CORRECT = "{urn:xmpp:message-correct:0}"
NS_OOB = "{jabber:x:oob}"
NS_REPLY = "{urn:xmpp:reply:0}"
NS_DELAY = "{urn:xmpp:delay}"
NS_SID = "{urn:xmpp:sid:0}"
NS_MUC_USER = "{http://jabber.org/protocol/muc#user}"
NS_CHATSTATES = "{http://jabber.org/protocol/chatstates}"
CHAT_STATES = ("active", "composing", "paused", "inactive", "gone")


def _text(el, path):
	e = el.find(path)
	return e.text if e is not None else None


def _chat_state(xml):
	return next((s for s in CHAT_STATES if xml.find(NS_CHATSTATES + s) is not None), None)


class _Client(slixmpp.ClientXMPP):
	def __init__(self, jid, password, owner):
		super().__init__(jid, password,
		                 plugin_config={"feature_mechanisms": {"unencrypted_plain": True}})
		self.owner = owner
		self.add_event_handler("session_start", self._start)
		self.add_event_handler("message", self._message)
		self.add_event_handler("groupchat_message", self._message)
		self.add_event_handler("presence", self._presence)
		# slixmpp reports only messages with a body as "message".
		self.register_plugin("xep_0085")
		self.add_event_handler("chatstate", self._chatstate)
		self.add_event_handler("disconnected", lambda e: self.owner.disconnected.set())

	async def _start(self, event):
		self.send_presence()
		self.owner.ready.set()

	def _message(self, msg):
		xml = msg.xml
		body = _text(xml, "{jabber:client}body")
		state = _chat_state(xml)
		if body is None and msg["type"] != "error":
			return
		rep = xml.find(NS_REPLY + "reply")
		sid = xml.find(NS_SID + "stanza-id")
		self.owner.inbox.put({
			"type": msg["type"],
			"from": str(msg["from"]),
			"id": msg["id"],
			"body": body or "",
			"replace": xml.find(NS_CORRECT + "replace").get("id")
			if xml.find(NS_CORRECT + "replace") is not None else None,
			"oob": _text(xml, NS_OOB + "x/" + NS_OOB + "url"),
			"reply_id": rep.get("id") if rep is not None else None,
			"reply_to": rep.get("to") if rep is not None else None,
			"delay": xml.find(NS_DELAY + "delay") is not None,
			"stanza_id": sid.get("id") if sid is not None else None,
			"state": state,
			"t": time.monotonic(),
			"xml": ET.tostring(xml, encoding="unicode"),
		})

	def _chatstate(self, msg):
		self.owner.states.put({"from": str(msg["from"]), "type": msg["type"],
		                       "state": _chat_state(msg.xml),
		                       "body": msg.xml.find("{jabber:client}body") is not None,
		                       "t": time.monotonic()})

	def _presence(self, pres):
		x = pres.xml.find(NS_MUC_USER + "x")
		codes = {s.get("code") for s in x.findall(NS_MUC_USER + "status")} if x is not None else set()
		self.owner.presences.put((str(pres["from"]), pres["type"], codes))


class Person:
	def __init__(self, jid, password, port, timeout=15):
		self.jid = jid
		self.inbox = queue.Queue()
		self.states = queue.Queue()  # XEP-0085 chat states, with or without a body
		self.seen_states = []
		self.presences = queue.Queue()
		self.ready = threading.Event()
		self.disconnected = threading.Event()
		self.seen = []
		self.loop = asyncio.new_event_loop()
		self.client = None
		started = threading.Event()

		def run():
			asyncio.set_event_loop(self.loop)
			self.client = _Client(jid, password, self)
			self.client.connect(("127.0.0.1", port), disable_starttls=True)
			started.set()
			self.loop.run_forever()
			# Let slixmpp's tasks end here rather than complain at exit.
			pending = asyncio.all_tasks(self.loop)
			for t in pending:
				t.cancel()
			self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
			self.loop.close()

		self.thread = threading.Thread(target=run, daemon=True)
		self.thread.start()
		if not started.wait(timeout) or not self.ready.wait(timeout):
			raise AssertionError("%s could not log in within %ss" % (jid, timeout))

	def _call(self, fn, *args, **kw):
		done = threading.Event()
		result = []

		def call():
			try:
				result.append(fn(*args, **kw))
			finally:
				done.set()

		self.loop.call_soon_threadsafe(call)
		if not done.wait(10):
			raise AssertionError("the XMPP client thread did not answer")
		return result[0] if result else None

	def send(self, to, body, mtype="chat", extra=None):
		"""Sends a message; `extra` is raw XML appended inside it. Returns its id."""
		def build():
			m = self.client.make_message(mto=to, mbody=body, mtype=mtype)
			m["id"] = self.client.new_id()
			if extra:
				m.append(ET.fromstring(extra))
			m.send()
			return m["id"]
		return self._call(build)

	def send_raw(self, xml):
		self._call(self.client.send_raw, xml)

	def subscribe(self, to):
		self._call(self.client.send_presence, pto=to, ptype="subscribe")

	def join(self, room, nick, timeout=15):
		"""Joins a room and waits for the self-presence (status 110)."""
		xml = ("<presence to='%s/%s'><x xmlns='http://jabber.org/protocol/muc'>"
		       "<history maxstanzas='20'/></x></presence>" % (room, nick))
		self.send_raw(xml)
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			try:
				frm, ptype, codes = self.presences.get(timeout=0.2)
			except queue.Empty:
				continue
			if frm == "%s/%s" % (room, nick) and "110" in codes:
				return
		raise AssertionError("%s could not join %s within %ss" % (self.jid, room, timeout))

	def wait_presence(self, frm, ptype, timeout=15):
		"""Waits for a presence of `ptype` ("subscribed", "subscribe", ...) from `frm`."""
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			try:
				f, t, codes = self.presences.get(timeout=0.2)
			except queue.Empty:
				continue
			if f.split("/")[0] == frm and t == ptype:
				return
		raise AssertionError("%s: no presence %s from %s within %ss" % (self.jid, ptype, frm, timeout))

	def wait_occupant(self, room, nick, timeout=15):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			try:
				frm, ptype, codes = self.presences.get(timeout=0.2)
			except queue.Empty:
				continue
			if frm == "%s/%s" % (room, nick) and ptype != "unavailable":
				return
		raise AssertionError("%s did not see %s in %s within %ss" % (self.jid, nick, room, timeout))

	@staticmethod
	def _first(q, seen, pred, seconds):
		"""The first item of `q` satisfying `pred` within `seconds`, or None;
		every item read is appended to `seen`."""
		deadline = time.monotonic() + seconds
		while time.monotonic() < deadline:
			try:
				m = q.get(timeout=min(0.2, max(0.01, deadline - time.monotonic())))
			except queue.Empty:
				continue
			seen.append(m)
			if pred(m):
				return m
		return None

	def expect(self, pred, timeout=15, what="a matching message"):
		"""Returns the first message satisfying `pred`; earlier ones stay in `seen`."""
		m = self._first(self.inbox, self.seen, pred, timeout)
		if m is None:
			raise AssertionError("%s: no %s within %ss; received: %r" % (
				self.jid, what, timeout, [(m["from"], m["body"]) for m in self.seen]))
		return m

	def quiet(self, pred, seconds, what="message"):
		"""Asserts that no message satisfying `pred` arrives for `seconds`."""
		m = self._first(self.inbox, self.seen, pred, seconds)
		if m is not None:
			raise AssertionError("%s: unexpected %s: %r" % (self.jid, what, m))

	def expect_state(self, pred, timeout=15, what="a matching chat state"):
		"""Returns the first chat state (dict: from, type, state, body, t) satisfying `pred`."""
		s = self._first(self.states, self.seen_states, pred, timeout)
		if s is None:
			raise AssertionError("%s: no %s within %ss; received: %r" % (
				self.jid, what, timeout, self.seen_states))
		return s

	def quiet_state(self, pred, seconds, what="chat state"):
		"""Asserts that no chat state satisfying `pred` arrives for `seconds`."""
		s = self._first(self.states, self.seen_states, pred, seconds)
		if s is not None:
			raise AssertionError("%s: unexpected %s: %r" % (self.jid, what, s))

	def configure_room(self, room, fields, timeout=10):
		"""Submits the owner's room configuration form (XEP-0045 10.2), e.g.
		{"muc#roomconfig_whois": "moderators"}; waits for the server's answer."""
		async def submit():
			iq = self.client.make_iq_set(ito=room)
			q = ET.SubElement(iq.xml, "{http://jabber.org/protocol/muc#owner}query")
			x = ET.SubElement(q, "{jabber:x:data}x", {"type": "submit"})
			f = ET.SubElement(x, "{jabber:x:data}field", {"var": "FORM_TYPE"})
			ET.SubElement(f, "{jabber:x:data}value").text = \
				"http://jabber.org/protocol/muc#roomconfig"
			for var, value in fields.items():
				f = ET.SubElement(x, "{jabber:x:data}field", {"var": var})
				ET.SubElement(f, "{jabber:x:data}value").text = value
			return await iq.send(timeout=timeout)
		fut = asyncio.run_coroutine_threadsafe(submit(), self.loop)
		res = fut.result(timeout + 2)
		if res["type"] != "result":
			raise AssertionError("%s: cannot configure %s: %s" % (self.jid, room, res))

	def close(self):
		if self.client is not None:
			try:
				self._call(self.client.disconnect)
			except AssertionError:
				pass
			self.disconnected.wait(5)
		self.loop.call_soon_threadsafe(self.loop.stop)
		self.thread.join(5)

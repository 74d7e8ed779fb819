#include "core/ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define WS_HANDSHAKE_MAX (16 * 1024)
#define WS_CLOSE_WAIT_MS 2000
/* curl's multi interface has no way to hand us its sockets for just the
 * connect phase without a second socket-callback machinery; the connect
 * (DNS, TCP, TLS) lasts a few round trips, so polling it is cheap. */
#define WS_CONNECT_TICK_MS 5

enum ws_state {
	WS_CONNECTING,
	WS_HANDSHAKE,
	WS_OPEN,
	WS_CLOSING,
	WS_DONE,
};

struct ws {
	struct loop *loop;
	struct ws_callbacks cb;
	enum ws_state state;
	size_t max_message;
	long connect_timeout_ms;

	CURL *easy;
	CURLM *multi;
	curl_socket_t fd;
	int watch_events; /* 0: not watching */

	char *request; /* the Upgrade request, until sent */
	char accept[29];
	struct buf in;
	struct buf out;
	struct buf msg;
	bool in_message;
	bool msg_binary;
	bool close_sent;

	loop_timer_id tick_timer;
	loop_timer_id timeout_timer;
	loop_timer_id close_timer;
	loop_timer_id report_timer;
	int close_code;
	char close_reason[128];

	int busy; /* inside one of our loop callbacks */
	bool freed;
};

/* --- SHA-1 and base64, only for the handshake's accept key --- */

static uint32_t
ws_rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
ws_sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] << 24 | (uint32_t)p[i * 4 + 1] << 16 |
		       (uint32_t)p[i * 4 + 2] << 8 | p[i * 4 + 3];
	for (i = 16; i < 80; i++)
		w[i] = ws_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		t = ws_rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = ws_rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void
ws_sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	const uint8_t *p = data;
	uint8_t block[128];
	size_t rest, i, total;
	uint64_t bits = (uint64_t)len * 8;

	for (; len >= 64; p += 64, len -= 64)
		ws_sha1_block(h, p);
	rest = len;
	memset(block, 0, sizeof(block));
	memcpy(block, p, rest);
	block[rest] = 0x80;
	total = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		block[total - 1 - i] = (uint8_t)(bits >> (8 * i));
	ws_sha1_block(h, block);
	if (total == 128)
		ws_sha1_block(h, block + 64);
	for (i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void
ws_base64(const uint8_t *in, size_t len, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*out++ = tab[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[(in[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		*out++ = tab[in[i] >> 2];
		*out++ = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*out++ = tab[(in[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

void
ws_accept_key(const char *key, char out[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char joined[128];
	uint8_t digest[20];
	int n = snprintf(joined, sizeof(joined), "%s%s", key, guid);

	if (n < 0 || (size_t)n >= sizeof(joined))
		n = (int)sizeof(joined) - 1;
	ws_sha1(joined, (size_t)n, digest);
	ws_base64(digest, sizeof(digest), out);
}

/* --- frames --- */

enum ws_parse_result
ws_frame_parse(const uint8_t *buf, size_t len, size_t max_payload, struct ws_frame *f)
{
	size_t need = 2;
	uint64_t plen;
	int op;

	memset(f, 0, sizeof(*f));
	if (len < 2)
		return WS_PARSE_NEED_MORE;
	f->fin = (buf[0] & 0x80) != 0;
	op = buf[0] & 0x0f;
	f->opcode = op;
	f->masked = (buf[1] & 0x80) != 0;
	plen = buf[1] & 0x7f;
	f->error_code = WS_CLOSE_PROTOCOL;
	if (buf[0] & 0x70) {
		f->error = "reserved bits set";
		return WS_PARSE_ERROR;
	}
	if (op != WS_OP_CONT && op != WS_OP_TEXT && op != WS_OP_BINARY && op != WS_OP_CLOSE &&
	    op != WS_OP_PING && op != WS_OP_PONG) {
		f->error = "unknown opcode";
		return WS_PARSE_ERROR;
	}
	if (op >= WS_OP_CLOSE && !f->fin) {
		f->error = "fragmented control frame";
		return WS_PARSE_ERROR;
	}
	if (op >= WS_OP_CLOSE && plen > 125) {
		f->error = "control frame longer than 125 bytes";
		return WS_PARSE_ERROR;
	}
	if (plen == 126) {
		need = 4;
		if (len < need)
			return WS_PARSE_NEED_MORE;
		plen = (uint64_t)buf[2] << 8 | buf[3];
	} else if (plen == 127) {
		int i;

		need = 10;
		if (len < need)
			return WS_PARSE_NEED_MORE;
		plen = 0;
		for (i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		if (plen >> 63) {
			f->error = "payload length with the top bit set";
			return WS_PARSE_ERROR;
		}
	}
	if (plen > max_payload) {
		f->error_code = WS_CLOSE_TOO_BIG;
		f->error = "message too big";
		return WS_PARSE_ERROR;
	}
	if (f->masked) {
		if (len < need + 4)
			return WS_PARSE_NEED_MORE;
		memcpy(f->mask, buf + need, 4);
		need += 4;
	}
	if (len < need || plen > len - need)
		return WS_PARSE_NEED_MORE;
	f->error_code = 0;
	f->payload = buf + need;
	f->payload_len = (size_t)plen;
	f->frame_len = need + (size_t)plen;
	return WS_PARSE_FRAME;
}

void
ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset)
{
	size_t i;

	for (i = 0; i < len; i++)
		data[i] ^= mask[(i + offset) & 3];
}

size_t
ws_frame_size(size_t len, bool masked)
{
	size_t head = len < 126 ? 2 : len <= 0xffff ? 4 : 10;

	return head + (masked ? 4 : 0) + len;
}

size_t
ws_frame_encode(uint8_t *out, int opcode, bool fin, const void *payload, size_t len,
                const uint8_t *mask)
{
	size_t n = 0;
	int i;

	out[n++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else if (len <= 0xffff) {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = (uint8_t)((mask ? 0x80 : 0) | 127);
		for (i = 7; i >= 0; i--)
			out[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		memcpy(out + n, mask, 4);
		n += 4;
	}
	if (len > 0)
		memcpy(out + n, payload, len);
	if (mask)
		ws_mask(out + n, len, mask, 0);
	return n + len;
}

/* --- the connection --- */

static void ws_readable(struct loop *loop, int fd, int events, void *arg);

static void
ws_random(void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t got = getrandom(b, n, 0);

		if (got <= 0)
			fatal("ws: getrandom");
		b += got;
		n -= (size_t)got;
	}
}

static void
ws_watch(struct ws *ws, int events)
{
	if (events == ws->watch_events)
		return;
	if (events == 0) {
		loop_unwatch_fd(ws->loop, ws->fd);
	} else if (loop_watch_fd(ws->loop, ws->fd, events, ws_readable, ws) == -1) {
		log_warn("ws: watching the socket");
		return;
	}
	ws->watch_events = events;
}

/* Stops all I/O and timers; the curl handles go too, closing the socket. */
static void
ws_teardown(struct ws *ws)
{
	if (ws->watch_events)
		loop_unwatch_fd(ws->loop, ws->fd);
	ws->watch_events = 0;
	if (ws->tick_timer)
		loop_cancel_timer(ws->loop, ws->tick_timer);
	if (ws->timeout_timer)
		loop_cancel_timer(ws->loop, ws->timeout_timer);
	if (ws->close_timer)
		loop_cancel_timer(ws->loop, ws->close_timer);
	ws->tick_timer = ws->timeout_timer = ws->close_timer = 0;
	if (ws->multi && ws->easy)
		curl_multi_remove_handle(ws->multi, ws->easy);
	if (ws->easy)
		curl_easy_cleanup(ws->easy);
	if (ws->multi)
		curl_multi_cleanup(ws->multi);
	ws->easy = NULL;
	ws->multi = NULL;
}

static void
ws_destroy(struct ws *ws)
{
	ws_teardown(ws);
	if (ws->report_timer)
		loop_cancel_timer(ws->loop, ws->report_timer);
	buf_free(&ws->in);
	buf_free(&ws->out);
	buf_free(&ws->msg);
	free(ws->request);
	free(ws);
}

static void
ws_report(struct loop *loop, loop_timer_id id, void *arg)
{
	struct ws *ws = arg;

	(void)loop;
	(void)id;
	ws->report_timer = 0;
	ws->busy++;
	if (ws->cb.on_close)
		ws->cb.on_close(ws, ws->close_code, ws->close_reason, ws->cb.arg);
	if (--ws->busy == 0 && ws->freed)
		ws_destroy(ws);
}

/* Ends the connection; on_close follows from a timer, so it never runs
 * from inside a caller's ws_* call. */
static void
ws_finish(struct ws *ws, int code, const char *reason)
{
	if (ws->state == WS_DONE)
		return;
	ws->state = WS_DONE;
	ws->close_code = code;
	strlcpy_u(ws->close_reason, reason ? reason : "", sizeof(ws->close_reason));
	ws_teardown(ws);
	ws->report_timer = loop_add_timer(ws->loop, 0, ws_report, ws);
}

/* Sends what is queued; returns -1 when the connection broke. */
static int
ws_flush(struct ws *ws)
{
	while (ws->out.len > 0) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(ws->easy, ws->out.data, ws->out.len, &n);

		if (rc == CURLE_AGAIN)
			break;
		if (rc != CURLE_OK) {
			ws_finish(ws, WS_CLOSE_ABNORMAL, curl_easy_strerror(rc));
			return -1;
		}
		buf_consume(&ws->out, n);
	}
	ws_watch(ws, LOOP_READ | (ws->out.len > 0 ? LOOP_WRITE : 0));
	return 0;
}

static int
ws_queue(struct ws *ws, int opcode, const void *payload, size_t len)
{
	size_t size = ws_frame_size(len, true);
	uint8_t mask[4];
	uint8_t *frame = xmalloc(size);
	int rc;

	ws_random(mask, sizeof(mask));
	ws_frame_encode(frame, opcode, true, payload, len, mask);
	rc = buf_append(&ws->out, frame, size);
	free(frame);
	if (rc == -1) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "send queue full");
		return -1;
	}
	return ws_flush(ws);
}

static void
ws_send_close(struct ws *ws, int code, const char *reason)
{
	uint8_t payload[125];
	size_t rlen = reason ? strlen(reason) : 0;

	if (ws->close_sent)
		return;
	ws->close_sent = true;
	if (rlen > sizeof(payload) - 2)
		rlen = sizeof(payload) - 2;
	payload[0] = (uint8_t)(code >> 8);
	payload[1] = (uint8_t)code;
	if (rlen)
		memcpy(payload + 2, reason, rlen);
	ws_queue(ws, WS_OP_CLOSE, payload, rlen + 2);
}

/* Sends a close frame when we can and ends the connection at once. */
static void
ws_fail(struct ws *ws, int code, const char *reason)
{
	log_debug("ws: failing the connection: %s", reason);
	if (ws->state == WS_OPEN)
		ws_send_close(ws, code, reason);
	ws_finish(ws, code, reason);
}

static bool
ws_close_code_valid(int code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

static void
ws_on_close_frame(struct ws *ws, const uint8_t *p, size_t len)
{
	char reason[126];
	int code = WS_CLOSE_NO_STATUS;

	reason[0] = '\0';
	if (len == 1) {
		ws_fail(ws, WS_CLOSE_PROTOCOL, "close frame of one byte");
		return;
	}
	if (len >= 2) {
		code = p[0] << 8 | p[1];
		if (!ws_close_code_valid(code)) {
			ws_fail(ws, WS_CLOSE_PROTOCOL, "invalid close code");
			return;
		}
		memcpy(reason, p + 2, len - 2);
		reason[len - 2] = '\0';
	}
	if (ws->state == WS_OPEN)
		ws_send_close(ws, code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : code, NULL);
	ws_finish(ws, code, reason);
}

/* Hands the message in ws->msg to the owner. Returns -1 if the owner freed
 * or closed the connection from the callback. */
static int
ws_deliver(struct ws *ws, bool binary)
{
	size_t len = ws->msg.len;

	if (ws->state != WS_OPEN) {
		buf_reset(&ws->msg); /* closing: data after our close frame is dropped */
		return 0;
	}
	if (ws->cb.on_message)
		ws->cb.on_message(ws, ws->msg.data ? ws->msg.data : "", len, binary, ws->cb.arg);
	if (ws->freed || ws->state == WS_DONE)
		return -1;
	buf_reset(&ws->msg);
	return 0;
}

/* Handles one frame; returns -1 when the connection ended or was freed. */
static int
ws_on_frame(struct ws *ws, const struct ws_frame *f, uint8_t *payload)
{
	if (f->masked) {
		ws_fail(ws, WS_CLOSE_PROTOCOL, "masked frame from the server");
		return -1;
	}
	switch (f->opcode) {
	case WS_OP_PING:
		if (ws->state == WS_OPEN && ws_queue(ws, WS_OP_PONG, payload, f->payload_len) == -1)
			return -1;
		return 0;
	case WS_OP_PONG:
		return 0;
	case WS_OP_CLOSE:
		ws_on_close_frame(ws, payload, f->payload_len);
		return -1;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (ws->in_message) {
			ws_fail(ws, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
			return -1;
		}
		buf_reset(&ws->msg);
		/* Cannot fail: the parser already capped the payload at msg.max. */
		buf_append(&ws->msg, payload, f->payload_len);
		ws->msg_binary = f->opcode == WS_OP_BINARY;
		if (f->fin)
			return ws_deliver(ws, ws->msg_binary);
		ws->in_message = true;
		return 0;
	default: /* continuation */
		if (!ws->in_message) {
			ws_fail(ws, WS_CLOSE_PROTOCOL, "continuation without a message");
			return -1;
		}
		if (buf_append(&ws->msg, payload, f->payload_len) == -1) {
			ws_fail(ws, WS_CLOSE_TOO_BIG, "message too big");
			return -1;
		}
		if (!f->fin)
			return 0;
		ws->in_message = false;
		return ws_deliver(ws, ws->msg_binary);
	}
}

static void
ws_process_frames(struct ws *ws)
{
	size_t off = 0;

	while (ws->state == WS_OPEN || ws->state == WS_CLOSING) {
		struct ws_frame f;
		enum ws_parse_result r = ws_frame_parse((const uint8_t *)ws->in.data + off,
		                                        ws->in.len - off, ws->max_message, &f);
		uint8_t *payload;

		if (r == WS_PARSE_NEED_MORE)
			break;
		if (r == WS_PARSE_ERROR) {
			ws_fail(ws, f.error_code, f.error);
			return;
		}
		payload = (uint8_t *)ws->in.data + off + (f.frame_len - f.payload_len);
		off += f.frame_len;
		if (ws_on_frame(ws, &f, payload) == -1)
			return;
	}
	if (!ws->freed && ws->state != WS_DONE)
		buf_consume(&ws->in, off);
}

/* Checks the server's answer to the Upgrade request. Returns 1 when the
 * connection is open, 0 when more bytes are needed, -1 when it failed. */
static int
ws_handshake_check(struct ws *ws)
{
	char *end = memmem(ws->in.data, ws->in.len, "\r\n\r\n", 4);
	char *head, *line, *save = NULL;
	size_t hlen;
	int status = 0;
	bool upgrade = false, connection = false, accept = false, extensions = false;
	char why[160];

	if (end == NULL) {
		if (ws->in.len > WS_HANDSHAKE_MAX) {
			ws_finish(ws, WS_CLOSE_ABNORMAL, "handshake answer too long");
			return -1;
		}
		return 0;
	}
	hlen = (size_t)(end - ws->in.data) + 4;
	head = xstrndup(ws->in.data, hlen);
	for (line = strtok_r(head, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon, *value;

		if (status == 0) {
			if (sscanf(line, "HTTP/%*d.%*d %d", &status) != 1)
				status = -1;
			continue;
		}
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		value = str_trim(colon + 1);
		if (strcasecmp(line, "Upgrade") == 0)
			upgrade = strcasecmp(value, "websocket") == 0;
		else if (strcasecmp(line, "Connection") == 0)
			connection = strcasestr(value, "upgrade") != NULL;
		else if (strcasecmp(line, "Sec-WebSocket-Accept") == 0)
			accept = strcmp(value, ws->accept) == 0;
		else if (strcasecmp(line, "Sec-WebSocket-Extensions") == 0)
			extensions = true;
	}
	free(head);
	why[0] = '\0';
	if (status != 101)
		snprintf(why, sizeof(why), "the server answered HTTP %d instead of 101", status);
	else if (!upgrade || !connection)
		snprintf(why, sizeof(why), "the server did not upgrade to WebSocket");
	else if (!accept)
		snprintf(why, sizeof(why), "wrong Sec-WebSocket-Accept");
	else if (extensions)
		snprintf(why, sizeof(why), "the server chose an extension usher did not offer");
	if (why[0]) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, why);
		return -1;
	}
	buf_consume(&ws->in, hlen);
	if (ws->timeout_timer)
		loop_cancel_timer(ws->loop, ws->timeout_timer);
	ws->timeout_timer = 0;
	ws->state = WS_OPEN;
	if (ws->cb.on_open)
		ws->cb.on_open(ws, ws->cb.arg);
	if (ws->freed || ws->state != WS_OPEN)
		return -1;
	return 1;
}

static void ws_read(struct ws *ws);

static void
ws_read_more(struct loop *loop, loop_timer_id id, void *arg)
{
	struct ws *ws = arg;

	(void)loop;
	(void)id;
	ws->tick_timer = 0;
	ws->busy++;
	ws_read(ws);
	if (--ws->busy == 0 && ws->freed)
		ws_destroy(ws);
}

static void
ws_read(struct ws *ws)
{
	int rounds;

	/* Bounded so one busy peer cannot hold the loop; TLS may still hold
	 * decrypted bytes the socket no longer signals, so come back soon. */
	for (rounds = 0; rounds < 64; rounds++) {
		char chunk[16384];
		size_t n = 0;
		CURLcode rc;

		if (ws->freed || ws->state == WS_DONE || ws->state == WS_CONNECTING)
			return;
		rc = curl_easy_recv(ws->easy, chunk, sizeof(chunk), &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			ws_finish(ws, WS_CLOSE_ABNORMAL, curl_easy_strerror(rc));
			return;
		}
		if (n == 0) {
			ws_finish(ws, WS_CLOSE_ABNORMAL, "connection closed by the server");
			return;
		}
		if (buf_append(&ws->in, chunk, n) == -1) {
			ws_fail(ws, WS_CLOSE_TOO_BIG, "message too big");
			return;
		}
		if (ws->state == WS_HANDSHAKE && ws_handshake_check(ws) != 1)
			continue;
		ws_process_frames(ws);
	}
	if (!ws->freed && ws->state != WS_DONE && ws->tick_timer == 0)
		ws->tick_timer = loop_add_timer(ws->loop, 0, ws_read_more, ws);
}

static void
ws_readable(struct loop *loop, int fd, int events, void *arg)
{
	struct ws *ws = arg;

	(void)loop;
	(void)fd;
	ws->busy++;
	if ((events & LOOP_WRITE) && ws->state != WS_DONE)
		ws_flush(ws);
	if ((events & (LOOP_READ | LOOP_ERROR)) && ws->state != WS_DONE)
		ws_read(ws);
	if (--ws->busy == 0 && ws->freed)
		ws_destroy(ws);
}

static void
ws_connected(struct ws *ws)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (curl_easy_getinfo(ws->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "curl gave no socket");
		return;
	}
	ws->fd = fd;
	ws->state = WS_HANDSHAKE;
	buf_append_str(&ws->out, ws->request);
	free(ws->request);
	ws->request = NULL;
	ws_flush(ws);
}

static void
ws_connect_tick(struct loop *loop, loop_timer_id id, void *arg)
{
	struct ws *ws = arg;
	CURLMsg *m;
	int running = 0, queued = 0;
	bool done = false;
	CURLcode result = CURLE_OK;

	(void)id;
	ws->tick_timer = 0;
	ws->busy++;
	curl_multi_perform(ws->multi, &running);
	while ((m = curl_multi_info_read(ws->multi, &queued)) != NULL) {
		if (m->msg == CURLMSG_DONE) {
			done = true;
			result = m->data.result;
		}
	}
	if (!done) {
		ws->tick_timer = loop_add_timer(loop, WS_CONNECT_TICK_MS, ws_connect_tick, ws);
	} else if (result != CURLE_OK) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect: %s", curl_easy_strerror(result));
		ws_finish(ws, WS_CLOSE_ABNORMAL, why);
	} else {
		ws_connected(ws);
	}
	if (--ws->busy == 0 && ws->freed)
		ws_destroy(ws);
}

static void
ws_timeout(struct loop *loop, loop_timer_id id, void *arg)
{
	struct ws *ws = arg;

	(void)loop;
	(void)id;
	ws->timeout_timer = 0;
	ws_finish(ws, WS_CLOSE_ABNORMAL, "timed out opening the connection");
}

static void
ws_close_timeout(struct loop *loop, loop_timer_id id, void *arg)
{
	struct ws *ws = arg;

	(void)loop;
	(void)id;
	ws->close_timer = 0;
	ws_finish(ws, ws->close_code, "the server did not answer the close");
}

/* Splits `url` into the http(s) URL curl connects to and the Upgrade
 * request. Returns 0 or -1. */
static int
ws_prepare(struct ws *ws, const struct ws_opts *opts, char **curl_url_out)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
	uint8_t nonce[16];
	char key[25];
	struct buf req;
	const char *const *h;
	int rc = -1;

	if (u == NULL || opts->url == NULL ||
	    curl_url_set(u, CURLUPART_URL, opts->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "ws") != 0 && strcasecmp(scheme, "wss") != 0)
		goto out;
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	*curl_url_out = xasprintf("%s://%s%s%s/", strcasecmp(scheme, "wss") == 0 ? "https" : "http",
	                          host, port ? ":" : "", port ? port : "");
	ws_random(nonce, sizeof(nonce));
	ws_base64(nonce, sizeof(nonce), key);
	ws_accept_key(key, ws->accept);
	buf_init(&req, 0);
	buf_printf(&req,
	           "GET %s%s%s HTTP/1.1\r\nHost: %s%s%s\r\nUpgrade: websocket\r\n"
	           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
	           path && *path ? path : "/", query ? "?" : "", query ? query : "", host,
	           port ? ":" : "", port ? port : "", key);
	for (h = opts->headers; h && *h; h++)
		buf_printf(&req, "%s\r\n", *h);
	buf_append_str(&req, "\r\n");
	ws->request = buf_steal(&req);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

struct ws *
ws_open(struct loop *loop, const struct ws_opts *opts, const struct ws_callbacks *cb)
{
	struct ws *ws = xcalloc(1, sizeof(*ws));
	char *url = NULL;

	ws->loop = loop;
	ws->cb = *cb;
	ws->fd = CURL_SOCKET_BAD;
	ws->state = WS_CONNECTING;
	ws->max_message = opts->max_message ? opts->max_message : 1024 * 1024;
	ws->connect_timeout_ms = opts->connect_timeout_ms ? opts->connect_timeout_ms : 15000;
	buf_init(&ws->in, ws->max_message + 64 * 1024 + WS_HANDSHAKE_MAX);
	buf_init(&ws->out, 4 * ws->max_message + 64 * 1024);
	buf_init(&ws->msg, ws->max_message);
	if (ws_prepare(ws, opts, &url) == -1) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "not a ws:// or wss:// URL");
		return ws;
	}
	ws->easy = curl_easy_init();
	ws->multi = curl_multi_init();
	if (ws->easy == NULL || ws->multi == NULL)
		fatalx("ws: cannot initialise curl");
	curl_easy_setopt(ws->easy, CURLOPT_URL, url);
	curl_easy_setopt(ws->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Through an HTTP proxy, ask for a tunnel: the Upgrade is ours to send. */
	curl_easy_setopt(ws->easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(ws->easy, CURLOPT_CONNECTTIMEOUT_MS, ws->connect_timeout_ms);
	if (opts->tls_insecure) {
		curl_easy_setopt(ws->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(ws->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (opts->ca_file)
		curl_easy_setopt(ws->easy, CURLOPT_CAINFO, opts->ca_file);
	free(url);
	/* Kept in the multi for the connection's whole life: removing a
	 * CONNECT_ONLY transfer from its multi closes the connection. */
	curl_multi_add_handle(ws->multi, ws->easy);
	ws->tick_timer = loop_add_timer(loop, 0, ws_connect_tick, ws);
	ws->timeout_timer = loop_add_timer(loop, (uint64_t)ws->connect_timeout_ms, ws_timeout, ws);
	return ws;
}

int
ws_send_text(struct ws *ws, const char *text, size_t len)
{
	if (ws->state != WS_OPEN)
		return -1;
	return ws_queue(ws, WS_OP_TEXT, text, len);
}

void
ws_close(struct ws *ws, int code, const char *reason)
{
	if (ws->state == WS_DONE || ws->state == WS_CLOSING)
		return;
	if (ws->state != WS_OPEN) {
		ws_finish(ws, WS_CLOSE_ABNORMAL, "closed before the connection opened");
		return;
	}
	ws->state = WS_CLOSING;
	ws->close_code = code;
	ws_send_close(ws, code, reason);
	if (ws->state == WS_CLOSING)
		ws->close_timer = loop_add_timer(ws->loop, WS_CLOSE_WAIT_MS, ws_close_timeout, ws);
}

bool
ws_is_open(const struct ws *ws)
{
	return ws->state == WS_OPEN;
}

void
ws_free(struct ws *ws)
{
	if (ws == NULL)
		return;
	if (ws->busy > 0) {
		ws->freed = true;
		ws->state = WS_DONE;
		ws_teardown(ws);
		if (ws->report_timer)
			loop_cancel_timer(ws->loop, ws->report_timer);
		ws->report_timer = 0;
		return;
	}
	ws_destroy(ws);
}

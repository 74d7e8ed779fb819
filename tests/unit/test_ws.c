/* ws: the frame codec as pure functions, then whole connections against a
 * server played by the test itself on 127.0.0.1. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"
#include "core/util.h"
#include "core/ws.h"

/* --- pure parts --- */

static void
test_accept_key(void **state)
{
	char out[29];

	(void)state;
	/* The example in RFC 6455 section 1.3. */
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void
test_parse_masked_hello(void **state)
{
	/* RFC 6455 section 5.7: a masked "Hello". */
	static const uint8_t frame[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
	                                0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ws_frame f;
	uint8_t payload[5];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(frame); i++)
		assert_int_equal(ws_frame_parse(frame, i, 1000, &f), WS_PARSE_NEED_MORE);
	assert_int_equal(ws_frame_parse(frame, sizeof(frame), 1000, &f), WS_PARSE_FRAME);
	assert_true(f.fin);
	assert_true(f.masked);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_int_equal(f.payload_len, 5);
	assert_int_equal(f.frame_len, sizeof(frame));
	memcpy(payload, f.payload, 5);
	ws_mask(payload, 5, f.mask, 0);
	assert_memory_equal(payload, "Hello", 5);
}

static void
test_roundtrip_lengths(void **state)
{
	static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
	static const uint8_t key[4] = {1, 2, 3, 4};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i];
		uint8_t *payload = xmalloc(len + 1), *frame;
		struct ws_frame f;
		size_t n;
		int masked;

		for (j = 0; j < len; j++)
			payload[j] = (uint8_t)(j * 7);
		for (masked = 0; masked < 2; masked++) {
			frame = xmalloc(ws_frame_size(len, masked));
			n = ws_frame_encode(frame, WS_OP_BINARY, false, payload, len,
			                    masked ? key : NULL);
			assert_int_equal(n, ws_frame_size(len, masked));
			assert_int_equal(ws_frame_parse(frame, n - 1, 1 << 20, &f),
			                 WS_PARSE_NEED_MORE);
			assert_int_equal(ws_frame_parse(frame, n, 1 << 20, &f), WS_PARSE_FRAME);
			assert_false(f.fin);
			assert_int_equal(f.masked, masked);
			assert_int_equal(f.payload_len, len);
			assert_int_equal(f.frame_len, n);
			if (masked)
				ws_mask((uint8_t *)f.payload, len, f.mask, 0);
			if (len)
				assert_memory_equal(f.payload, payload, len);
			free(frame);
		}
		free(payload);
	}
}

static void
expect_error(const uint8_t *buf, size_t len, size_t max, int code)
{
	struct ws_frame f;

	assert_int_equal(ws_frame_parse(buf, len, max, &f), WS_PARSE_ERROR);
	assert_int_equal(f.error_code, code);
	assert_non_null(f.error);
}

static void
test_malformed_frames(void **state)
{
	uint8_t b[16] = {0};
	int op;

	(void)state;
	/* reserved bits */
	b[0] = 0x81 | 0x40;
	expect_error(b, 2, 100, WS_CLOSE_PROTOCOL);
	b[0] = 0x81 | 0x10;
	expect_error(b, 2, 100, WS_CLOSE_PROTOCOL);
	/* opcodes 3-7 and 0xB-0xF */
	for (op = 3; op <= 0xf; op++) {
		if (op >= 8 && op <= 0xa)
			continue;
		b[0] = (uint8_t)(0x80 | op);
		b[1] = 0;
		expect_error(b, 2, 100, WS_CLOSE_PROTOCOL);
	}
	/* a ping of 126 bytes, a fragmented close */
	b[0] = 0x89;
	b[1] = 126;
	expect_error(b, 2, 1000, WS_CLOSE_PROTOCOL);
	b[0] = 0x08;
	b[1] = 0;
	expect_error(b, 2, 1000, WS_CLOSE_PROTOCOL);
	/* 64-bit length with the top bit set */
	b[0] = 0x82;
	b[1] = 127;
	b[2] = 0x80;
	expect_error(b, 10, SIZE_MAX, WS_CLOSE_PROTOCOL);
	/* over the maximum: known from the header alone */
	b[0] = 0x81;
	b[1] = 126;
	b[2] = 0x01;
	b[3] = 0x00;
	expect_error(b, 4, 255, WS_CLOSE_TOO_BIG);
	b[1] = 101;
	expect_error(b, 2, 100, WS_CLOSE_TOO_BIG);
}

/* --- whole connections --- */

struct events {
	int opened;
	int messages;
	char last[256];
	size_t last_len;
	int closed;
	int close_code;
	char close_reason[128];
	bool free_on_message;
};

static void
ev_open(struct ws *ws, void *arg)
{
	struct events *e = arg;

	(void)ws;
	e->opened++;
}

static void
ev_message(struct ws *ws, const char *data, size_t len, bool binary, void *arg)
{
	struct events *e = arg;

	(void)binary;
	e->messages++;
	e->last_len = len;
	snprintf(e->last, sizeof(e->last), "%.*s", (int)len, data);
	if (e->free_on_message)
		ws_free(ws);
}

static void
ev_close(struct ws *ws, int code, const char *reason, void *arg)
{
	struct events *e = arg;

	(void)ws;
	e->closed++;
	e->close_code = code;
	snprintf(e->close_reason, sizeof(e->close_reason), "%s", reason);
}

struct server {
	struct loop *loop;
	int lfd;
	int fd;
	int port;
	uint8_t in[1 << 17];
	size_t in_len;
};

static void
server_listen(struct server *s, struct loop *loop)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->fd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	fcntl(s->lfd, F_SETFL, O_NONBLOCK);
}

static void
server_close(struct server *s)
{
	if (s->fd >= 0)
		close(s->fd);
	close(s->lfd);
}

/* Runs the loop (bounded: 2 s) until `done` says so. */
#define RUN_UNTIL(loop, cond)                                                                      \
	do {                                                                                       \
		int i_;                                                                            \
		bool ok_ = false;                                                                  \
		for (i_ = 0; i_ < 400 && !(ok_ = (cond)); i_++)                                    \
			loop_run_once((loop), 5);                                                  \
		assert_true(ok_);                                                                  \
	} while (0)

static bool
server_poll(struct server *s)
{
	ssize_t n;

	if (s->fd < 0) {
		s->fd = accept(s->lfd, NULL, NULL);
		if (s->fd >= 0)
			fcntl(s->fd, F_SETFL, O_NONBLOCK);
		return false;
	}
	n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
	if (n > 0)
		s->in_len += (size_t)n;
	return n == 0;
}

static void
server_write(struct server *s, const void *data, size_t len)
{
	assert_int_equal(write(s->fd, data, len), (ssize_t)len);
}

static void
server_frame(struct server *s, int op, bool fin, const char *payload, size_t len)
{
	uint8_t frame[1024];
	size_t n = ws_frame_encode(frame, op, fin, payload, len, NULL);

	server_write(s, frame, n);
}

static bool
server_has_request(struct server *s)
{
	server_poll(s);
	return s->in_len > 0 && memmem(s->in, s->in_len, "\r\n\r\n", 4) != NULL;
}

/* Takes the client's Upgrade request and answers it; `accept` NULL: the
 * right key. */
static void
server_handshake(struct server *s, const char *accept)
{
	char key[64], right[29], resp[256], *k;

	RUN_UNTIL(s->loop, server_has_request(s));
	s->in[s->in_len] = 0;
	assert_non_null(strstr((char *)s->in, "GET /gw?v=10 HTTP/1.1\r\n"));
	assert_non_null(strstr((char *)s->in, "Upgrade: websocket\r\n"));
	assert_non_null(strstr((char *)s->in, "Sec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr((char *)s->in, "X-Test: yes\r\n"));
	k = strstr((char *)s->in, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	assert_int_equal(sscanf(k, "Sec-WebSocket-Key: %63[^\r]", key), 1);
	ws_accept_key(key, right);
	snprintf(resp, sizeof(resp),
	         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
	         accept ? accept : right);
	s->in_len = 0;
	server_write(s, resp, strlen(resp));
}

/* Reads one frame from the client (they must be masked) into payload. */
static bool
server_take_frame(struct server *s, struct ws_frame *f, char *payload)
{
	server_poll(s);
	if (ws_frame_parse(s->in, s->in_len, sizeof(s->in), f) != WS_PARSE_FRAME)
		return false;
	assert_true(f->masked);
	memcpy(payload, f->payload, f->payload_len);
	ws_mask((uint8_t *)payload, f->payload_len, f->mask, 0);
	payload[f->payload_len] = 0;
	memmove(s->in, s->in + f->frame_len, s->in_len - f->frame_len);
	s->in_len -= f->frame_len;
	return true;
}

struct fixture {
	struct loop *loop;
	struct server srv;
	struct events ev;
	struct ws *ws;
};

static void
open_client(struct fixture *fx, size_t max_message)
{
	char url[64];
	const char *headers[] = {"X-Test: yes", NULL};
	struct ws_opts o = {.url = url, .headers = headers, .max_message = max_message};
	struct ws_callbacks cb = {ev_open, ev_message, ev_close, &fx->ev};

	fx->loop = loop_new();
	server_listen(&fx->srv, fx->loop);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/gw?v=10", fx->srv.port);
	fx->ws = ws_open(fx->loop, &o, &cb);
	assert_int_equal(fx->ev.opened, 0);
}

static void
open_and_handshake(struct fixture *fx, size_t max_message)
{
	open_client(fx, max_message);
	server_handshake(&fx->srv, NULL);
	RUN_UNTIL(fx->loop, fx->ev.opened == 1 || fx->ev.closed);
	assert_int_equal(fx->ev.opened, 1);
	assert_true(ws_is_open(fx->ws));
}

static void
teardown_fx(struct fixture *fx)
{
	ws_free(fx->ws);
	server_close(&fx->srv);
	loop_free(fx->loop);
}

static void
test_text_split_across_reads(void **state)
{
	struct fixture fx = {0};
	uint8_t frame[64];
	size_t n, i;

	(void)state;
	open_and_handshake(&fx, 0);
	n = ws_frame_encode(frame, WS_OP_TEXT, true, "hello there", 11, NULL);
	for (i = 0; i < n; i++) {
		server_write(&fx.srv, frame + i, 1);
		loop_run_once(fx.loop, 5);
		loop_run_once(fx.loop, 0);
		if (i + 1 < n)
			assert_int_equal(fx.ev.messages, 0);
	}
	RUN_UNTIL(fx.loop, fx.ev.messages == 1);
	assert_string_equal(fx.ev.last, "hello there");
	teardown_fx(&fx);
}

static void
test_fragments_with_ping_between(void **state)
{
	struct fixture fx = {0};
	struct ws_frame f;
	char payload[256];

	(void)state;
	open_and_handshake(&fx, 0);
	server_frame(&fx.srv, WS_OP_TEXT, false, "one ", 4);
	server_frame(&fx.srv, WS_OP_PING, true, "pp", 2);
	server_frame(&fx.srv, WS_OP_CONT, false, "two ", 4);
	server_frame(&fx.srv, WS_OP_CONT, true, "three", 5);
	RUN_UNTIL(fx.loop, fx.ev.messages == 1);
	assert_string_equal(fx.ev.last, "one two three");
	RUN_UNTIL(fx.loop, server_take_frame(&fx.srv, &f, payload));
	assert_int_equal(f.opcode, WS_OP_PONG);
	assert_string_equal(payload, "pp");
	assert_int_equal(fx.ev.closed, 0);
	teardown_fx(&fx);
}

static void
test_send_text_is_masked(void **state)
{
	struct fixture fx = {0};
	struct ws_frame f;
	char payload[256];

	(void)state;
	open_and_handshake(&fx, 0);
	assert_int_equal(ws_send_text(fx.ws, "{\"op\":1}", 8), 0);
	RUN_UNTIL(fx.loop, server_take_frame(&fx.srv, &f, payload));
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_true(f.fin);
	assert_string_equal(payload, "{\"op\":1}");
	teardown_fx(&fx);
}

static void
test_server_close_code(void **state)
{
	struct fixture fx = {0};
	struct ws_frame f;
	char payload[256];
	char close[] = "\x0f\xa4"
	               "Authentication failed.";

	(void)state;
	open_and_handshake(&fx, 0);
	server_frame(&fx.srv, WS_OP_CLOSE, true, close, sizeof(close) - 1);
	RUN_UNTIL(fx.loop, fx.ev.closed == 1);
	assert_int_equal(fx.ev.close_code, 4004);
	assert_string_equal(fx.ev.close_reason, "Authentication failed.");
	/* the client echoes the close */
	RUN_UNTIL(fx.loop, server_take_frame(&fx.srv, &f, payload));
	assert_int_equal(f.opcode, WS_OP_CLOSE);
	assert_int_equal((uint8_t)payload[0] << 8 | (uint8_t)payload[1], 4004);
	assert_false(ws_is_open(fx.ws));
	assert_int_equal(ws_send_text(fx.ws, "x", 1), -1);
	teardown_fx(&fx);
}

static void
test_client_close(void **state)
{
	struct fixture fx = {0};
	struct ws_frame f;
	char payload[256];

	(void)state;
	open_and_handshake(&fx, 0);
	ws_close(fx.ws, 4000, "resuming");
	assert_int_equal(fx.ev.closed, 0);
	RUN_UNTIL(fx.loop, server_take_frame(&fx.srv, &f, payload));
	assert_int_equal(f.opcode, WS_OP_CLOSE);
	assert_int_equal((uint8_t)payload[0] << 8 | (uint8_t)payload[1], 4000);
	assert_string_equal(payload + 2, "resuming");
	server_frame(&fx.srv, WS_OP_CLOSE, true, "\x0f\xa0", 2);
	RUN_UNTIL(fx.loop, fx.ev.closed == 1);
	assert_int_equal(fx.ev.close_code, 4000);
	teardown_fx(&fx);
}

static void
test_oversize_message(void **state)
{
	struct fixture fx = {0};
	struct ws_frame f;
	char big[200], payload[256];

	(void)state;
	memset(big, 'a', sizeof(big));
	open_and_handshake(&fx, 100);
	/* fragments that are small alone but too big together */
	server_frame(&fx.srv, WS_OP_TEXT, false, big, 60);
	server_frame(&fx.srv, WS_OP_CONT, true, big, 60);
	RUN_UNTIL(fx.loop, fx.ev.closed == 1);
	assert_int_equal(fx.ev.close_code, WS_CLOSE_TOO_BIG);
	assert_int_equal(fx.ev.messages, 0);
	RUN_UNTIL(fx.loop, server_take_frame(&fx.srv, &f, payload));
	assert_int_equal(f.opcode, WS_OP_CLOSE);
	assert_int_equal((uint8_t)payload[0] << 8 | (uint8_t)payload[1], 1009);
	teardown_fx(&fx);
}

static void
test_protocol_errors(void **state)
{
	static const uint8_t masked[] = {0x81, 0x81, 1, 2, 3, 4, 'x' ^ 1};
	static const uint8_t reserved[] = {0xC1, 0x01, 'x'};
	static const uint8_t stray_cont[] = {0x80, 0x01, 'x'};
	static const uint8_t bad_close[] = {0x88, 0x01, 0x03};
	const uint8_t *cases[] = {masked, reserved, stray_cont, bad_close};
	size_t sizes[] = {sizeof(masked), sizeof(reserved), sizeof(stray_cont), sizeof(bad_close)};
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct fixture fx = {0};

		open_and_handshake(&fx, 0);
		server_write(&fx.srv, cases[i], sizes[i]);
		RUN_UNTIL(fx.loop, fx.ev.closed == 1);
		assert_int_equal(fx.ev.close_code, WS_CLOSE_PROTOCOL);
		assert_int_equal(fx.ev.messages, 0);
		teardown_fx(&fx);
	}
}

static void
test_bad_accept(void **state)
{
	struct fixture fx = {0};

	(void)state;
	open_client(&fx, 0);
	server_handshake(&fx.srv, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	RUN_UNTIL(fx.loop, fx.ev.closed == 1);
	assert_int_equal(fx.ev.opened, 0);
	assert_int_equal(fx.ev.close_code, WS_CLOSE_ABNORMAL);
	assert_non_null(strstr(fx.ev.close_reason, "Accept"));
	teardown_fx(&fx);
}

static void
test_connect_refused_and_bad_url(void **state)
{
	struct loop *loop = loop_new();
	struct events e1 = {0}, e2 = {0};
	struct ws_callbacks cb1 = {ev_open, ev_message, ev_close, &e1};
	struct ws_callbacks cb2 = {ev_open, ev_message, ev_close, &e2};
	struct ws_opts o1 = {.url = "ws://127.0.0.1:1/"};
	struct ws_opts o2 = {.url = "http://127.0.0.1/"};
	struct ws *a = ws_open(loop, &o1, &cb1), *b = ws_open(loop, &o2, &cb2);

	(void)state;
	assert_int_equal(e2.closed, 0); /* never from inside ws_open */
	RUN_UNTIL(loop, e1.closed == 1 && e2.closed == 1);
	assert_int_equal(e1.close_code, WS_CLOSE_ABNORMAL);
	assert_int_equal(e2.close_code, WS_CLOSE_ABNORMAL);
	assert_int_equal(e1.opened + e2.opened, 0);
	loop_run_once(loop, 10);
	assert_int_equal(e1.closed + e2.closed, 2); /* exactly once */
	ws_free(a);
	ws_free(b);
	loop_free(loop);
}

static void
test_free_inside_message(void **state)
{
	struct fixture fx = {0};

	(void)state;
	open_and_handshake(&fx, 0);
	fx.ev.free_on_message = true;
	server_frame(&fx.srv, WS_OP_TEXT, true, "a", 1);
	server_frame(&fx.srv, WS_OP_TEXT, true, "b", 1);
	RUN_UNTIL(fx.loop, fx.ev.messages >= 1);
	loop_run_once(fx.loop, 10);
	assert_int_equal(fx.ev.messages, 1);
	assert_int_equal(fx.ev.closed, 0); /* never after ws_free */
	fx.ws = NULL;
	teardown_fx(&fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept_key),
	    cmocka_unit_test(test_parse_masked_hello),
	    cmocka_unit_test(test_roundtrip_lengths),
	    cmocka_unit_test(test_malformed_frames),
	    cmocka_unit_test(test_text_split_across_reads),
	    cmocka_unit_test(test_fragments_with_ping_between),
	    cmocka_unit_test(test_send_text_is_masked),
	    cmocka_unit_test(test_server_close_code),
	    cmocka_unit_test(test_client_close),
	    cmocka_unit_test(test_oversize_message),
	    cmocka_unit_test(test_protocol_errors),
	    cmocka_unit_test(test_bad_accept),
	    cmocka_unit_test(test_connect_refused_and_bad_url),
	    cmocka_unit_test(test_free_inside_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

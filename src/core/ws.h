/*
 * ws: a small RFC 6455 WebSocket client on usher's loop.
 *
 * Debian 12's libcurl (7.88) has no WebSocket API, so curl only opens the
 * connection (CURLOPT_CONNECT_ONLY: DNS, TCP, TLS, proxies) and this module
 * does the HTTP Upgrade handshake and the framing itself over
 * curl_easy_send/curl_easy_recv, watching the socket with the loop. When the
 * distribution's curl has curl_ws_*, only ws.c changes.
 *
 * A connection owns its curl handles, its buffers and its timers. Messages
 * are reassembled from fragments and capped at `max_message`; pings are
 * answered; frames a server must not send (masked, reserved bits, unknown
 * opcodes, malformed control frames) fail the connection with 1002.
 *
 * Callbacks: on_open once when the handshake succeeds; on_message for every
 * complete message; on_close exactly once, whatever ends the connection
 * (failed connect, bad handshake, peer close, protocol error, ws_close), and
 * never after ws_free(). None runs from inside ws_open(), ws_send_text() or
 * ws_close(). ws_free() may be called from inside any callback.
 *
 * The frame decoder and encoder are pure functions, for tests and fuzzing.
 */
#ifndef USHER_WS_H
#define USHER_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct ws;

/* Close codes usher reports besides the peer's own. */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_NO_STATUS = 1005, /* the peer's close frame carried no code */
	WS_CLOSE_ABNORMAL = 1006,  /* no close frame: connect failed or connection lost */
	WS_CLOSE_INVALID_DATA = 1007,
	WS_CLOSE_TOO_BIG = 1009,
};

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

struct ws_callbacks {
	void (*on_open)(struct ws *ws, void *arg);
	/* `data` (NUL-terminated, borrowed for the call) is one whole message. */
	void (*on_message)(struct ws *ws, const char *data, size_t len, bool binary, void *arg);
	/* `reason` is borrowed for the call, never NULL (may be ""). */
	void (*on_close)(struct ws *ws, int code, const char *reason, void *arg);
	void *arg;
};

struct ws_opts {
	const char *url; /* ws:// or wss:// */
	/* Extra request headers, NULL-terminated "Name: value" list; may be NULL. */
	const char *const *headers;
	size_t max_message;      /* 0: 1 MiB */
	long connect_timeout_ms; /* connect + TLS + handshake; 0: 15000 */
	bool tls_insecure;
	const char *ca_file; /* NULL: the system's trust store */
};

/* Starts connecting. Copies everything in `opts` and `cb`. Returns a new
 * connection the caller frees with ws_free(); never NULL (out-of-memory is
 * fatal). Failures, even a malformed URL, arrive later through on_close. */
struct ws *ws_open(struct loop *loop, const struct ws_opts *opts, const struct ws_callbacks *cb);
/* Queues one text message. Returns 0, or -1 when the connection is not
 * open or the send queue is full (the connection is then failed). */
int ws_send_text(struct ws *ws, const char *text, size_t len);
/* Starts the closing handshake with `code` (and a short `reason`, may be
 * NULL); on_close follows once the peer answers or after a short wait. A
 * connection still connecting is just dropped (on_close with 1006). */
void ws_close(struct ws *ws, int code, const char *reason);
/* Drops the connection without calling back. NULL is ignored. */
void ws_free(struct ws *ws);
bool ws_is_open(const struct ws *ws);

/* --- pure parts, for tests and fuzzing --- */

/* The Sec-WebSocket-Accept value for `key`: writes 28 characters and a NUL
 * to out (at least 29 bytes). */
void ws_accept_key(const char *key, char out[29]);

enum ws_parse_result {
	WS_PARSE_NEED_MORE = 0,
	WS_PARSE_FRAME = 1,
	WS_PARSE_ERROR = -1,
};

struct ws_frame {
	bool fin;
	int opcode;
	bool masked;
	uint8_t mask[4];
	const uint8_t *payload; /* points into the parsed buffer, still masked if masked */
	size_t payload_len;
	size_t frame_len;  /* bytes of the buffer this frame used */
	int error_code;    /* on WS_PARSE_ERROR: 1002 or 1009 */
	const char *error; /* on WS_PARSE_ERROR: what was wrong (static string) */
};

/* Decodes the frame at the start of buf[len]. Payloads over `max_payload`
 * are an error as soon as the header says so. Never reads past len. */
enum ws_parse_result ws_frame_parse(const uint8_t *buf, size_t len, size_t max_payload,
                                    struct ws_frame *out);
/* XORs data with the mask key, starting `offset` bytes into the key cycle. */
void ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], size_t offset);
/* The size ws_frame_encode() needs for a payload of `len` bytes. */
size_t ws_frame_size(size_t len, bool masked);
/* Writes one frame to out (ws_frame_size() bytes) and returns its length.
 * `mask` NULL: unmasked (server side, for tests). */
size_t ws_frame_encode(uint8_t *out, int opcode, bool fin, const void *payload, size_t len,
                       const uint8_t *mask);

#endif

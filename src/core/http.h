/*
 * http: asynchronous HTTP(S) requests on usher's loop.
 *
 * One curl multi handle per `struct http`, driven by the loop through
 * curl's socket and timer callbacks, so any number of requests run at once
 * on the loop's thread. Every request is a `struct http_call` handle that
 * calls back exactly once with a `struct http_response` unless cancelled
 * first, and never from inside http_start(). Every response body and header
 * block has a maximum; TLS is verified unless a call says otherwise; only
 * http and https URLs are followed; redirects are not followed unless asked.
 *
 * The module owns the multi handle, every call in flight and its copies of
 * the caller's options. Nothing here logs header values or query strings:
 * they carry API keys.
 *
 * Callbacks may start new calls and cancel other calls; they must not call
 * http_free() on the `struct http` that is calling them back, nor run the
 * loop recursively.
 */
#ifndef USHER_HTTP_H
#define USHER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct loop;
struct http;
struct http_call;
struct http_headers;

enum http_result {
	HTTP_OK = 0,        /* a response arrived, whatever its status */
	HTTP_ERR_CONNECT,   /* refused, unreachable, or the connection was lost */
	HTTP_ERR_DNS,       /* the host name does not resolve */
	HTTP_ERR_TIMEOUT,   /* no complete response within the timeout */
	HTTP_ERR_TOO_LARGE, /* the body passed max_body */
	HTTP_ERR_TLS,       /* certificate not trusted, handshake failed */
	HTTP_ERR_OTHER,     /* malformed URL, unsupported scheme, protocol error, ... */
};

struct http_response {
	enum http_result result;
	long status; /* HTTP status when result is HTTP_OK, else 0 */
	/* NUL-terminated, never NULL ("" when empty). Borrowed: valid until
	 * the callback returns. */
	const char *body;
	size_t body_len;
	/* NULL on HTTP_OK, else plain words ("connection refused", "timed out
	 * after 5000 ms", ...). Borrowed like body. */
	const char *error;
	/* Private: read through http_response_header(). NULL in a response
	 * built by hand (tests), which then has no headers. */
	const struct http_headers *headers;
};

struct http_opts {
	const char *method; /* NULL: "GET", or "POST" when body is set */
	const char *url;
	/* NULL-terminated list of "Name: value"; may be NULL. */
	const char *const *headers;
	const void *body; /* may be NULL */
	size_t body_len;
	long timeout_ms;         /* whole request; 0: 30000 */
	long connect_timeout_ms; /* 0: 10000 */
	size_t max_body;         /* 0: 8 MiB */
	bool tls_insecure;       /* true: skip certificate verification */
	const char *ca_file;     /* NULL: the system's trust store */
	bool follow_redirects;   /* at most 3, http and https only */
	/* Calls with the same id share one cookie store for the life of the
	 * `struct http` (qBittorrent's session cookie). NULL: no cookies. */
	const char *cookie_jar_id;
};

/* `resp` and everything it points to are borrowed for the callback only. */
typedef void http_done_cb(const struct http_response *resp, void *arg);

/* Returns a new client on `loop` (borrowed; it must outlive the client),
 * freed with http_free(). Fatal on out-of-memory or if libcurl cannot be
 * initialised. */
struct http *http_new(struct loop *loop);
/* Cancels every call in flight without calling any back and frees the
 * client. Not from inside one of its own callbacks. NULL is ignored. */
void http_free(struct http *http);

/* Starts a request. Everything `opts` points to is copied, so the caller's
 * strings may go away on return. `cb` runs exactly once on the loop,
 * never from inside this call (even a malformed URL is reported on a later
 * iteration), and never after http_cancel() or http_free(). Returns the
 * call's handle, valid until `cb` starts running or the call is cancelled;
 * never NULL (out-of-memory is fatal). */
struct http_call *http_start(struct http *http, const struct http_opts *opts, http_done_cb *cb,
                             void *arg);
/* Cancels a call that has not called back: its callback never runs. NULL
 * is ignored; so is a call whose callback is running. */
void http_cancel(struct http_call *call);
/* Calls started and not yet called back or cancelled. */
size_t http_in_flight(const struct http *http);

/* Returns the first response header called `name` (any case), value
 * trimmed; NULL if absent. Borrowed like resp->body. */
const char *http_response_header(const struct http_response *resp, const char *name);

/* Whether the body can be JSON at all: there is a response, the body is
 * not empty or only whitespace, and it is not an HTML page. False with a
 * message in plain words in `err`. */
bool http_response_may_be_json(const struct http_response *resp, char *err, size_t errlen);
/* Parses the body as a JSON object or array. Returns a new reference the
 * caller releases with json_decref(), or NULL with a message in plain words
 * in `err` (no response, empty body, an HTML page, malformed JSON). */
json_t *http_response_json(const struct http_response *resp, char *err, size_t errlen);

/* http_start() with `body` (borrowed; NULL for none) serialised as JSON and
 * "Accept: application/json" (and "Content-Type: application/json" with a
 * body) added unless `headers` already has them. `base` (may be NULL) gives
 * the other options; its method, url, headers and body are ignored. */
struct http_call *http_start_json(struct http *http, const char *method, const char *url,
                                  const char *const *headers, const json_t *body,
                                  const struct http_opts *base, http_done_cb *cb, void *arg);

#endif

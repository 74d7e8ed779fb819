/*
 * httpd: a small HTTP listener for usher's operational endpoints (the
 * Overseerr webhook; health and metrics later).
 *
 * Built on libmicrohttpd in "external epoll" mode: the daemon starts no
 * thread; usher's loop watches MHD's one epoll descriptor and a timer taken
 * from MHD_get_timeout(), and calls MHD_run() on either. Handlers therefore
 * run on the loop's thread and must not block.
 *
 * Everything is bounded: at most max_connections clients at once (more wait
 * in the listen backlog or are refused), a per-connection idle timeout, and
 * request bodies of at most max_body bytes (a declared Content-Length over
 * that is answered 413 before the body is read). Unknown paths get 404, a
 * known path with another method 405. Nothing here logs header values or
 * query strings: they may carry secrets.
 *
 * The module owns the daemon, its listen socket, its routes (copies of the
 * method and path) and every request body it reads; it never owns the
 * handlers' `arg` pointers.
 */
#ifndef USHER_HTTPD_H
#define USHER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct httpd;
struct httpd_conn; /* private: the connection behind a request */

struct httpd_opts {
	/* "127.0.0.1:8099", "[::1]:8099", or ":8099" (every address). Port 0
	 * picks a free port (tests; see httpd_port()). */
	const char *listen;
	size_t max_connections; /* 0: 16 */
	size_t max_body;        /* bytes; 0: 65536 */
	unsigned timeout_s;     /* idle time before a connection is closed; 0: 10 */
};

/* A request as a handler sees it. Everything is borrowed and valid only
 * until the handler returns. */
struct httpd_request {
	const char *method;
	const char *path; /* decoded, without the query string */
	const char *body; /* NUL-terminated, never NULL ("" when none) */
	size_t body_len;
	const char *peer; /* the client's address, "127.0.0.1" or "::1" */
	struct httpd_conn *conn;
};

/* What a handler fills in. It starts as status 200, no content type and an
 * empty body. */
struct httpd_response {
	unsigned status;
	const char *content_type; /* static string, or NULL for none */
	/* With body_owned, httpd takes the bytes (from malloc) and free()s them
	 * once sent; otherwise they must stay valid forever (a literal). */
	char *body;
	size_t body_len;
	bool body_owned;
};

typedef void httpd_handler(const struct httpd_request *req, struct httpd_response *resp, void *arg);

/* Starts listening on `opts->listen` on `loop` (borrowed; it must outlive
 * the httpd). Returns a new httpd the caller frees with httpd_free(), or
 * NULL with a message in plain words in `err` ("cannot listen on
 * 127.0.0.1:8099: address already in use"). */
struct httpd *httpd_start(struct loop *loop, const struct httpd_opts *opts, char *err,
                          size_t errlen);
/* Closes every connection without calling any handler and frees the
 * httpd. Not from inside one of its handlers. NULL is ignored. */
void httpd_free(struct httpd *h);

/* Routes `method` (e.g. "POST") on the exact `path` to `fn`; both strings
 * are copied, `arg` is borrowed and must outlive the httpd. Returns 0, or
 * -1 if that method and path are routed already. */
int httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler *fn,
                void *arg);

/* The port actually listened on. */
uint16_t httpd_port(const struct httpd *h);
/* The loop the httpd runs on (borrowed). */
struct loop *httpd_loop(const struct httpd *h);
size_t httpd_max_body(const struct httpd *h);

/* Returns the request header `name` (any case), or NULL. Borrowed like the
 * request. */
const char *httpd_request_header(const struct httpd_request *req, const char *name);
/* Returns the decoded query parameter `name`, or NULL. Borrowed like the
 * request. */
const char *httpd_request_query(const struct httpd_request *req, const char *name);

/* Sets status and a static (literal) body in one call. */
void httpd_respond_static(struct httpd_response *resp, unsigned status, const char *content_type,
                          const char *body);
/* Sets status and a copy of `body`. */
void httpd_respond_copy(struct httpd_response *resp, unsigned status, const char *content_type,
                        const char *body);

#endif

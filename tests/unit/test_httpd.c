#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/http.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"

/*
 * The server and its clients share the test's one thread and loop: the
 * clients are usher's own async http.c, or raw non-blocking sockets that
 * the test reads between loop iterations. Every wait is bounded.
 */

#define MAX_BODY 4096

struct fx {
	struct loop *loop;
	struct http *http;
	struct httpd *httpd;
	int handled;
	char last_peer[64];
};

struct result {
	bool done;
	long status;
	char body[8192];
	size_t body_len;
	char content_type[64];
	char allow[64];
	char error[128];
};

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
hello(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct fx *fx = arg;
	const char *name = httpd_request_query(req, "name");
	const char *test = httpd_request_header(req, "x-TEST");
	char text[256];

	fx->handled++;
	snprintf(text, sizeof(text), "hello %s %s", name ? name : "-", test ? test : "-");
	httpd_respond_copy(resp, 200, "text/plain", text);
}

static void
echo(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct fx *fx = arg;

	fx->handled++;
	snprintf(fx->last_peer, sizeof(fx->last_peer), "%s", req->peer);
	resp->status = 200;
	resp->content_type = "application/octet-stream";
	resp->body = malloc(req->body_len + 1);
	memcpy(resp->body, req->body, req->body_len + 1);
	resp->body_len = req->body_len;
	resp->body_owned = true;
}

static void
nothing(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct fx *fx = arg;

	(void)req;
	fx->handled++;
	httpd_respond_static(resp, 204, NULL, NULL);
}

static struct fx *
fx_new(unsigned timeout_s, size_t max_connections)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct httpd_opts opts = {
	    .listen = "127.0.0.1:0",
	    .max_connections = max_connections,
	    .max_body = MAX_BODY,
	    .timeout_s = timeout_s,
	};
	char err[256] = "";

	fx->loop = loop_new();
	fx->http = http_new(fx->loop);
	fx->httpd = httpd_start(fx->loop, &opts, err, sizeof(err));
	assert_non_null(fx->httpd);
	assert_int_not_equal(httpd_port(fx->httpd), 0);
	assert_int_equal(httpd_route(fx->httpd, "GET", "/hello", hello, fx), 0);
	assert_int_equal(httpd_route(fx->httpd, "POST", "/echo", echo, fx), 0);
	assert_int_equal(httpd_route(fx->httpd, "PUT", "/echo", echo, fx), 0);
	assert_int_equal(httpd_route(fx->httpd, "POST", "/nothing", nothing, fx), 0);
	assert_int_equal(httpd_route(fx->httpd, "POST", "/echo", echo, fx), -1);
	return fx;
}

static void
fx_free(struct fx *fx)
{
	http_free(fx->http);
	httpd_free(fx->httpd);
	loop_free(fx->loop);
	free(fx);
}

static void
on_done(const struct http_response *resp, void *arg)
{
	struct result *r = arg;
	const char *v;

	r->done = true;
	r->status = resp->status;
	if (resp->error)
		snprintf(r->error, sizeof(r->error), "%s", resp->error);
	r->body_len = resp->body_len < sizeof(r->body) - 1 ? resp->body_len : sizeof(r->body) - 1;
	memcpy(r->body, resp->body, r->body_len);
	r->body[r->body_len] = '\0';
	if ((v = http_response_header(resp, "Content-Type")) != NULL)
		snprintf(r->content_type, sizeof(r->content_type), "%s", v);
	if ((v = http_response_header(resp, "Allow")) != NULL)
		snprintf(r->allow, sizeof(r->allow), "%s", v);
}

/* Runs the loop until every result is done, at most `ms`. */
static void
run_until(struct fx *fx, struct result *r, size_t n, uint64_t ms)
{
	uint64_t deadline = real_ms() + ms;
	size_t done;

	do {
		loop_run_once(fx->loop, 50);
		done = 0;
		for (size_t i = 0; i < n; i++)
			done += r[i].done;
	} while (done < n && real_ms() < deadline);
}

static void
request(struct fx *fx, const char *method, const char *path, const char *const *headers,
        const void *body, size_t len, struct result *r)
{
	char url[128];
	struct http_opts opts = {
	    .method = method,
	    .url = url,
	    .headers = headers,
	    .body = body,
	    .body_len = len,
	    .timeout_ms = 5000,
	};

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", httpd_port(fx->httpd), path);
	http_start(fx->http, &opts, on_done, r);
	run_until(fx, r, 1, 6000);
	assert_true(r->done);
}

static void
test_get_route(void **state)
{
	struct fx *fx = fx_new(0, 0);
	const char *headers[] = {"X-Test: yes", NULL};
	struct result r;

	(void)state;
	request(fx, "GET", "/hello?name=bob%20b", headers, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "hello bob b yes");
	assert_string_equal(r.content_type, "text/plain");
	request(fx, "GET", "/hello", NULL, NULL, 0, &r);
	assert_string_equal(r.body, "hello - -");
	assert_int_equal(fx->handled, 2);
	fx_free(fx);
}

static void
test_post_body(void **state)
{
	struct fx *fx = fx_new(0, 0);
	char body[MAX_BODY];
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)('a' + i % 26);
	/* Exactly the limit is allowed. */
	request(fx, "POST", "/echo", NULL, body, sizeof(body), &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, sizeof(body));
	assert_memory_equal(r.body, body, sizeof(body));
	assert_string_equal(fx->last_peer, "127.0.0.1");
	request(fx, "PUT", "/echo", NULL, "", 0, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	request(fx, "POST", "/nothing", NULL, "x", 1, &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	assert_int_equal(fx->handled, 3);
	fx_free(fx);
}

static void
test_not_found_and_method(void **state)
{
	struct fx *fx = fx_new(0, 0);
	struct result r;

	(void)state;
	request(fx, "GET", "/nope", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 404);
	request(fx, "POST", "/hello/", NULL, "x", 1, &r);
	assert_int_equal(r.status, 404);
	request(fx, "DELETE", "/echo", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.allow, "POST"));
	assert_non_null(strstr(r.allow, "PUT"));
	request(fx, "GET", "/echo", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 405);
	assert_int_equal(fx->handled, 0);
	fx_free(fx);
}

static void
test_body_too_large(void **state)
{
	struct fx *fx = fx_new(0, 0);
	size_t len = 1024 * 1024;
	char *body = malloc(len);
	const char *expect[] = {"Expect: 100-continue", NULL};
	struct result r;

	(void)state;
	memset(body, 'x', len);
	/* A little over: read, dropped, answered. */
	request(fx, "POST", "/echo", NULL, body, MAX_BODY + 1, &r);
	assert_int_equal(r.status, 413);
	/* A megabyte declared: answered before it is read, which a client
	 * that waits for "100 Continue" sees cleanly... */
	request(fx, "POST", "/echo", expect, body, len, &r);
	assert_int_equal(r.status, 413);
	/* ...and one that sends at once may instead see the connection cut. */
	request(fx, "POST", "/echo", NULL, body, len, &r);
	assert_true(r.status == 413 || r.status == 0);
	assert_int_equal(fx->handled, 0);
	/* The server still works. */
	request(fx, "POST", "/echo", NULL, "ok", 2, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok");
	free(body);
	fx_free(fx);
}

/* A raw client socket, connected (non-blocking) to the server. */
static int
raw_connect(struct fx *fx)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(httpd_port(fx->httpd))};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

/* Writes all of `s`, running the loop while the socket is full. */
static void
raw_send(struct fx *fx, int fd, const char *s, size_t len)
{
	uint64_t deadline = real_ms() + 5000;
	ssize_t n;

	while (len > 0 && real_ms() < deadline) {
		n = send(fd, s, len, MSG_NOSIGNAL);
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			return; /* the server closed it: the caller checks the answer */
		} else {
			loop_run_once(fx->loop, 10);
		}
	}
}

struct raw {
	int fd;
	char in[4096];
	size_t len;
	bool closed;
};

/* Reads what is there; returns true once the peer closed or reset. */
static bool
raw_poll(struct raw *c)
{
	ssize_t n;

	while (!c->closed) {
		n = recv(c->fd, c->in + c->len, sizeof(c->in) - 1 - c->len, 0);
		if (n > 0) {
			c->len += (size_t)n;
			c->in[c->len] = '\0';
			if (c->len == sizeof(c->in) - 1)
				c->len = 0; /* only the start matters */
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			c->closed = true;
		} else {
			break;
		}
	}
	return c->closed;
}

static void
test_chunked_too_large(void **state)
{
	struct fx *fx = fx_new(0, 0);
	struct raw c = {0};
	char head[] = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	              "Connection: close\r\n\r\n";
	char chunk[2 * MAX_BODY + 64];
	uint64_t deadline;
	int n;

	(void)state;
	c.fd = raw_connect(fx);
	raw_send(fx, c.fd, head, strlen(head));
	n = snprintf(chunk, sizeof(chunk), "%x\r\n", 2 * MAX_BODY);
	memset(chunk + n, 'y', 2 * MAX_BODY);
	n += 2 * MAX_BODY;
	n += snprintf(chunk + n, sizeof(chunk) - (size_t)n, "\r\n0\r\n\r\n");
	raw_send(fx, c.fd, chunk, (size_t)n);
	deadline = real_ms() + 5000;
	while (!raw_poll(&c) && real_ms() < deadline)
		loop_run_once(fx->loop, 20);
	assert_true(c.closed);
	assert_true(strncmp(c.in, "HTTP/1.1 413", 12) == 0);
	assert_int_equal(fx->handled, 0);
	close(c.fd);
	fx_free(fx);
}

static void
test_listen_errors(void **state)
{
	struct fx *fx = fx_new(0, 0);
	char listen[64], err[256];
	struct httpd_opts opts = {.listen = listen};
	struct httpd *h;

	(void)state;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", httpd_port(fx->httpd));
	h = httpd_start(fx->loop, &opts, err, sizeof(err));
	assert_null(h);
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
	assert_non_null(strstr(err, "address already in use"));

	opts.listen = "localhost";
	assert_null(httpd_start(fx->loop, &opts, err, sizeof(err)));
	assert_non_null(strstr(err, "host:port"));
	opts.listen = "127.0.0.1:http-ish";
	assert_null(httpd_start(fx->loop, &opts, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot listen on 127.0.0.1:http-ish"));

	/* Every address. */
	opts.listen = ":0";
	h = httpd_start(fx->loop, &opts, err, sizeof(err));
	assert_non_null(h);
	assert_int_not_equal(httpd_port(h), 0);
	httpd_free(h);

	/* IPv6 loopback, where the host has it. */
	opts.listen = "[::1]:0";
	h = httpd_start(fx->loop, &opts, err, sizeof(err));
	if (h != NULL) {
		assert_int_not_equal(httpd_port(h), 0);
		httpd_free(h);
	}
	fx_free(fx);
}

/* More clients than the limit, all at once: each is answered or refused,
 * nothing crashes, and the server serves normally afterwards. */
static void
test_connection_limit(void **state)
{
	enum { LIMIT = 4, CLIENTS = 24 };
	struct fx *fx = fx_new(2, LIMIT);
	struct raw c[CLIENTS];
	const char *req = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	uint64_t deadline;
	int answered = 0, closed;
	struct result r;

	(void)state;
	memset(c, 0, sizeof(c));
	for (int i = 0; i < CLIENTS; i++) {
		c[i].fd = raw_connect(fx);
		raw_send(fx, c[i].fd, req, strlen(req));
	}
	deadline = real_ms() + 10000;
	do {
		loop_run_once(fx->loop, 20);
		closed = 0;
		for (int i = 0; i < CLIENTS; i++)
			closed += raw_poll(&c[i]);
	} while (closed < CLIENTS && real_ms() < deadline);
	assert_int_equal(closed, CLIENTS);
	for (int i = 0; i < CLIENTS; i++) {
		if (strncmp(c[i].in, "HTTP/1.1 200", 12) == 0)
			answered++;
		else
			assert_int_equal(c[i].len, 0); /* refused: closed without a word */
		close(c[i].fd);
	}
	assert_true(answered >= LIMIT);
	assert_int_equal(fx->handled, answered);
	request(fx, "GET", "/hello", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	fx_free(fx);
}

/* A client that sends half its headers and stops is closed after the
 * timeout and keeps nobody else waiting meanwhile. */
static void
test_slowloris(void **state)
{
	struct fx *fx = fx_new(1, 4);
	struct raw slow = {0};
	const char *half = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	uint64_t start, deadline;
	struct result r;

	(void)state;
	slow.fd = raw_connect(fx);
	raw_send(fx, slow.fd, half, strlen(half));
	start = real_ms();
	request(fx, "GET", "/hello", NULL, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	assert_true(real_ms() - start < 900);
	assert_false(raw_poll(&slow));
	deadline = start + 5000;
	while (!raw_poll(&slow) && real_ms() < deadline)
		loop_run_once(fx->loop, 50);
	assert_true(slow.closed);
	assert_true(real_ms() - start >= 900);
	assert_int_equal(fx->handled, 1);
	close(slow.fd);
	fx_free(fx);
}

/* Freeing the server with clients mid-request leaks nothing (ASan) and
 * calls no handler. */
static void
test_free_with_clients(void **state)
{
	struct fx *fx = fx_new(0, 0);
	int fd[3];
	const char *part = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";

	(void)state;
	for (int i = 0; i < 3; i++) {
		fd[i] = raw_connect(fx);
		raw_send(fx, fd[i], part, strlen(part));
	}
	for (int i = 0; i < 20; i++)
		loop_run_once(fx->loop, 10);
	assert_int_equal(fx->handled, 0);
	fx_free(fx);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_route),
	    cmocka_unit_test(test_post_body),
	    cmocka_unit_test(test_not_found_and_method),
	    cmocka_unit_test(test_body_too_large),
	    cmocka_unit_test(test_chunked_too_large),
	    cmocka_unit_test(test_listen_errors),
	    cmocka_unit_test(test_connection_limit),
	    cmocka_unit_test(test_slowloris),
	    cmocka_unit_test(test_free_with_clients),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "core/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#ifndef USHER_VERSION
#define USHER_VERSION "dev"
#endif

#define HTTP_DEFAULT_TIMEOUT_MS         30000L
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define HTTP_DEFAULT_MAX_BODY           ((size_t)8 << 20)
#define HTTP_MAX_HEADER_BYTES           ((size_t)64 << 10)
#define HTTP_MAX_REDIRECTS              3L
/* Caps the sockets one client holds; curl queues transfers past it. */
#define HTTP_MAX_CONNECTIONS 256L
/* Idle connections kept for reuse. curl's default keeps four per transfer
 * in progress, so after a quiet moment a burst of calls (a busy evening,
 * a progress cycle) opens new connections, each a handshake more per call. */
#define HTTP_IDLE_CONNECTIONS 32L
/* Transfers running at once to one host (scheme, host, port). A running
 * transfer costs about 25 KiB inside curl (its handle and receive buffer);
 * one waiting its turn costs only its copied options. A progress cycle
 * that posts a thousand messages must not hold a thousand curl handles. */
#define HTTP_MAX_RUNNING_PER_HOST 8u

struct http_header {
	char *name;
	char *value;
};

struct http_headers {
	struct http_header *v;
	size_t n, cap;
	size_t bytes;
};

enum call_state {
	CALL_QUEUED,    /* waiting for a free slot on its host */
	CALL_RUNNING,   /* in the multi handle */
	CALL_FAILED,    /* failed before curl ran; waiting on fail_timer */
	CALL_DONE,      /* finished, queued for its callback this round */
	CALL_CANCELLED, /* cancelled while CALL_DONE; freed by the round */
	CALL_CALLING,   /* its callback is running */
};

/* The calls to one host: how many run, and the ones waiting, in order. */
struct http_host {
	struct http_host *next;
	char *key; /* "scheme://host:port"; "" when the URL does not parse */
	unsigned running;
	struct http_call *queue, **queue_tail;
};

struct http_call {
	struct http *http;
	struct http_call *prev, *next; /* the client's QUEUED, RUNNING and FAILED calls */
	struct http_call *done_next;
	struct http_call *queue_next; /* QUEUED: the next on its host */
	struct http_host *host;
	bool holds_slot; /* counted in host->running */
	enum call_state state;
	http_done_cb *cb;
	void *arg;

	CURL *easy;
	struct curl_slist *req_headers;
	char *method;
	long timeout_ms;
	long connect_timeout_ms;
	uint64_t started_ms;
	/* The caller's options, copied, until the transfer is set up (and the
	 * body until it ends: curl reads it in place). */
	char *url;
	char *req_body;
	size_t req_body_len;
	bool has_req_body;
	bool tls_insecure;
	bool follow_redirects;
	char *ca_file;
	char *cookie_jar_id;

	struct buf body;
	struct http_headers headers;
	bool too_large;
	bool headers_too_large;
	loop_timer_id fail_timer;

	struct http_response resp;
	char error[256];
	char curl_error[CURL_ERROR_SIZE];
};

struct http_jar {
	struct http_jar *next;
	char *id;
	CURLSH *share;
};

struct http {
	struct loop *loop;
	CURLM *multi;
	loop_timer_id timer;
	struct http_call *calls;
	size_t in_flight;
	/* Which fds curl asked the loop to watch, so http_free() can unwatch
	 * whatever curl leaves behind. Indexed by fd. */
	bool *watched;
	size_t capwatched;
	struct http_jar *jars;
	struct http_host *hosts;
};

/* Response headers */

static void
headers_clear(struct http_headers *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].name);
		free(h->v[i].value);
	}
	h->n = 0;
	h->bytes = 0;
}

static void
headers_free(struct http_headers *h)
{
	headers_clear(h);
	free(h->v);
	h->v = NULL;
	h->cap = 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t
http_on_header(char *data, size_t size, size_t nitems, void *userp)
{
	struct http_call *c = userp;
	size_t len = size * nitems, nlen, vstart, vend;
	const char *colon;
	struct http_header *hd;

	/* A new status line starts a new header block (after "100 Continue"
	 * or a redirect): only the last response's headers count. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		headers_clear(&c->headers);
		return len;
	}
	if ((colon = memchr(data, ':', len)) == NULL)
		return len;
	if (c->headers.bytes + len > HTTP_MAX_HEADER_BYTES) {
		c->headers_too_large = true;
		return 0;
	}
	c->headers.bytes += len;
	nlen = (size_t)(colon - data);
	vstart = nlen + 1;
	vend = len;
	while (vstart < vend && is_space(data[vstart]))
		vstart++;
	while (vend > vstart && is_space(data[vend - 1]))
		vend--;
	if (c->headers.n == c->headers.cap) {
		c->headers.cap = c->headers.cap ? c->headers.cap * 2 : 16;
		c->headers.v = xrealloc(c->headers.v, c->headers.cap * sizeof(*c->headers.v));
	}
	hd = &c->headers.v[c->headers.n++];
	hd->name = xstrndup(data, nlen);
	hd->value = xstrndup(data + vstart, vend - vstart);
	return len;
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	const struct http_headers *h = resp->headers;

	if (h == NULL)
		return NULL;
	for (size_t i = 0; i < h->n; i++)
		if (str_eq_nocase(h->v[i].name, name))
			return h->v[i].value;
	return NULL;
}

static size_t
http_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_call *c = userp;
	size_t len = size * nmemb;

	/* Returning short makes curl abort with CURLE_WRITE_ERROR. */
	if (buf_append(&c->body, data, len) == -1) {
		c->too_large = true;
		return 0;
	}
	return len;
}

/* Calls: list, release and the callback */

static void
call_link(struct http *h, struct http_call *c)
{
	c->prev = NULL;
	c->next = h->calls;
	if (h->calls)
		h->calls->prev = c;
	h->calls = c;
}

static void
call_unlink(struct http *h, struct http_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		h->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Frees a call that is no longer in the multi handle nor in the list. */
static void
call_free(struct http_call *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->req_headers);
	free(c->method);
	free(c->url);
	free(c->req_body);
	free(c->ca_file);
	free(c->cookie_jar_id);
	buf_free(&c->body);
	headers_free(&c->headers);
	free(c);
}

static void
call_log(struct http_call *c)
{
	char *url = NULL, *host = NULL, *path = NULL;
	CURLU *u;

	if (log_get_level() < LOG_LEVEL_DEBUG || c->easy == NULL)
		return;
	/* Host and path only: query strings carry API keys. */
	curl_easy_getinfo(c->easy, CURLINFO_EFFECTIVE_URL, &url);
	if (url == NULL || (u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
	}
	log_event(LOG_LEVEL_DEBUG, "http", LOG_STR("method", c->method),
	          LOG_STR("host", host ? host : "?"), LOG_STR("path", path ? path : ""),
	          LOG_INT("status", c->resp.result == HTTP_OK ? c->resp.status : 0),
	          LOG_STR("error", c->resp.result == HTTP_OK ? NULL : c->resp.error),
	          LOG_INT("ms", loop_now_ms(c->http->loop) - c->started_ms));
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
}

/* Runs the callback of a call that has left the list, then frees it. */
static void
call_deliver(struct http_call *c)
{
	c->http->in_flight--;
	c->state = CALL_CALLING;
	c->resp.body = c->body.data ? c->body.data : "";
	c->resp.body_len = c->body.len;
	c->resp.headers = &c->headers;
	call_log(c);
	c->cb(&c->resp, c->arg);
	call_free(c);
}

static void call_set_error(struct http_call *c, enum http_result result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
call_set_error(struct http_call *c, enum http_result result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	c->resp.result = result;
	c->resp.status = 0;
	c->resp.error = c->error;
}

/* Turns curl's verdict into a result and words a person can act on. */
static void
call_classify(struct http_call *c, CURLcode rc)
{
	long os_errno = 0;
	curl_off_t connect_us = 0;

	if (rc == CURLE_OK) {
		c->resp.result = HTTP_OK;
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->resp.status);
		c->resp.error = NULL;
		return;
	}
	curl_easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			call_set_error(c, HTTP_ERR_CONNECT, "connection refused");
		else if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH)
			call_set_error(c, HTTP_ERR_CONNECT, "host unreachable");
		else if (os_errno != 0)
			call_set_error(c, HTTP_ERR_CONNECT, "cannot connect: %s",
			               strerror((int)os_errno));
		else
			call_set_error(c, HTTP_ERR_CONNECT, "cannot connect");
		break;
	case CURLE_GOT_NOTHING:
		call_set_error(c, HTTP_ERR_CONNECT, "connection closed without a response");
		break;
	case CURLE_PARTIAL_FILE:
		call_set_error(c, HTTP_ERR_CONNECT,
		               "connection closed before the whole response arrived");
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		call_set_error(c, HTTP_ERR_CONNECT, "connection lost%s%s", os_errno ? ": " : "",
		               os_errno ? strerror((int)os_errno) : "");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		call_set_error(c, HTTP_ERR_DNS, "cannot resolve host");
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		call_set_error(c, HTTP_ERR_DNS, "cannot resolve proxy");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us == 0)
			call_set_error(c, HTTP_ERR_TIMEOUT, "could not connect within %ld ms",
			               c->connect_timeout_ms < c->timeout_ms ? c->connect_timeout_ms
			                                                     : c->timeout_ms);
		else
			call_set_error(c, HTTP_ERR_TIMEOUT, "timed out after %ld ms",
			               c->timeout_ms);
		break;
	case CURLE_FILESIZE_EXCEEDED:
		call_set_error(c, HTTP_ERR_TOO_LARGE, "response larger than %zu bytes",
		               c->body.max);
		break;
	case CURLE_WRITE_ERROR:
		if (c->too_large) {
			call_set_error(c, HTTP_ERR_TOO_LARGE, "response larger than %zu bytes",
			               c->body.max);
			break;
		}
		call_set_error(c, HTTP_ERR_OTHER, "cannot store the response");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		call_set_error(c, HTTP_ERR_TLS, "TLS certificate not trusted");
		break;
	case CURLE_SSL_CACERT_BADFILE:
		call_set_error(c, HTTP_ERR_TLS, "cannot read the CA file");
		break;
	case CURLE_SSL_CONNECT_ERROR:
		call_set_error(c, HTTP_ERR_TLS, "TLS handshake failed");
		break;
	case CURLE_URL_MALFORMAT:
		call_set_error(c, HTTP_ERR_OTHER, "malformed URL");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		call_set_error(c, HTTP_ERR_OTHER, "unsupported URL scheme (http and https only)");
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		call_set_error(c, HTTP_ERR_OTHER, "more than %ld redirects", HTTP_MAX_REDIRECTS);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
		call_set_error(c, HTTP_ERR_OTHER, "the server's reply is not HTTP");
		break;
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		call_set_error(c, HTTP_ERR_TLS, "TLS error: %s", curl_easy_strerror(rc));
		break;
	default:
		if (c->headers_too_large)
			call_set_error(c, HTTP_ERR_TOO_LARGE,
			               "response headers larger than %zu bytes",
			               HTTP_MAX_HEADER_BYTES);
		else
			call_set_error(c, HTTP_ERR_OTHER, "%s",
			               c->curl_error[0] ? c->curl_error : curl_easy_strerror(rc));
		break;
	}
}

/* Driving curl from the loop. No curl_multi_* call happens inside a curl
 * callback: curl calls the two functions below from inside
 * curl_multi_socket_action() and friends, and they only touch the loop. */

static void http_on_timer(struct loop *loop, loop_timer_id id, void *arg);
static void hosts_run_queued(struct http *h);
static void call_release_slot(struct http_call *c);
static void call_unqueue(struct http_call *c);
static void http_on_fd(struct loop *loop, int fd, int events, void *arg);

static int
http_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (h->timer != 0)
		loop_cancel_timer(h->loop, h->timer);
	h->timer = 0;
	if (timeout_ms >= 0 &&
	    (h->timer = loop_add_timer(h->loop, (uint64_t)timeout_ms, http_on_timer, h)) == 0)
		fatalx("out of memory adding an http timer");
	return 0;
}

static int
http_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	int events = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch_fd(h->loop, s);
		if ((size_t)s < h->capwatched)
			h->watched[s] = false;
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= LOOP_WRITE;
	if (loop_watch_fd(h->loop, s, events, http_on_fd, h) == -1)
		return -1;
	if ((size_t)s >= h->capwatched) {
		size_t cap = h->capwatched ? h->capwatched : 64;
		while (cap <= (size_t)s)
			cap *= 2;
		h->watched = xrealloc(h->watched, cap * sizeof(*h->watched));
		memset(h->watched + h->capwatched, 0, (cap - h->capwatched) * sizeof(*h->watched));
		h->capwatched = cap;
	}
	h->watched[s] = true;
	return 0;
}

/* Collects every finished transfer first, then calls back, so callbacks
 * may start and cancel calls (even ones finished in this same round). */
static void
http_check_done(struct http *h)
{
	struct http_call *done = NULL, **tail = &done, *c;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		c = (struct http_call *)(void *)priv;
		curl_multi_remove_handle(h->multi, easy);
		call_unlink(h, c);
		call_release_slot(c);
		call_classify(c, rc);
		c->state = CALL_DONE;
		c->done_next = NULL;
		*tail = c;
		tail = &c->done_next;
	}
	if (done != NULL)
		hosts_run_queued(h);
	while ((c = done) != NULL) {
		done = c->done_next;
		if (c->state == CALL_CANCELLED)
			call_free(c);
		else
			call_deliver(c);
	}
}

static void
http_on_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct http *h = arg;
	int running;

	(void)loop;
	(void)id;
	h->timer = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

static void
http_on_fd(struct loop *loop, int fd, int events, void *arg)
{
	struct http *h = arg;
	int flags = 0, running;

	(void)loop;
	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_check_done(h);
}

/* The client */

struct http *
http_new(struct loop *loop)
{
	struct http *h = xcalloc(1, sizeof(*h));

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialise libcurl");
	h->loop = loop;
	if ((h->multi = curl_multi_init()) == NULL)
		fatalx("cannot create a curl multi handle");
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_curl_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_curl_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, HTTP_MAX_CONNECTIONS);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, HTTP_IDLE_CONNECTIONS);
	return h;
}

void
http_free(struct http *h)
{
	struct http_call *c;
	struct http_jar *j;
	struct http_host *ho;

	if (h == NULL)
		return;
	while ((c = h->calls) != NULL) {
		call_unlink(h, c);
		if (c->state == CALL_RUNNING)
			curl_multi_remove_handle(h->multi, c->easy);
		if (c->fail_timer != 0)
			loop_cancel_timer(h->loop, c->fail_timer);
		call_free(c);
	}
	curl_multi_cleanup(h->multi);
	if (h->timer != 0)
		loop_cancel_timer(h->loop, h->timer);
	for (size_t fd = 0; fd < h->capwatched; fd++)
		if (h->watched[fd])
			loop_unwatch_fd(h->loop, (int)fd);
	free(h->watched);
	while ((j = h->jars) != NULL) {
		h->jars = j->next;
		curl_share_cleanup(j->share);
		free(j->id);
		free(j);
	}
	while ((ho = h->hosts) != NULL) {
		h->hosts = ho->next;
		free(ho->key);
		free(ho);
	}
	free(h);
	curl_global_cleanup();
}

size_t
http_in_flight(const struct http *h)
{
	return h->in_flight;
}

static CURLSH *
http_jar(struct http *h, const char *id)
{
	struct http_jar *j;

	for (j = h->jars; j != NULL; j = j->next)
		if (strcmp(j->id, id) == 0)
			return j->share;
	j = xcalloc(1, sizeof(*j));
	if ((j->share = curl_share_init()) == NULL)
		fatalx("cannot create a curl share handle");
	curl_share_setopt(j->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
	j->id = xstrdup(id);
	j->next = h->jars;
	h->jars = j;
	return j->share;
}

static void
http_on_fail_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct http_call *c = arg;

	(void)loop;
	(void)id;
	c->fail_timer = 0;
	call_unlink(c->http, c);
	call_deliver(c);
}

/* Reports a failure found before curl ran, on a later iteration. A 0 ms
 * timer rather than loop_defer() because a timer can be cancelled. */
static struct http_call *
call_fail_later(struct http_call *c)
{
	c->state = CALL_FAILED;
	if ((c->fail_timer = loop_add_timer(c->http->loop, 0, http_on_fail_timer, c)) == 0)
		fatalx("out of memory adding an http timer");
	return c;
}

static bool
has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
			return true;
	return false;
}

static struct curl_slist *
slist_add(struct curl_slist *list, const char *s)
{
	struct curl_slist *n = curl_slist_append(list, s);

	if (n == NULL)
		fatalx("out of memory building http headers");
	return n;
}

/* Sets every option; returns false (with the error set) if curl refused one. */
static bool
call_setup(struct http_call *c, long timeout_ms)
{
	CURL *e = c->easy;
	bool ok = true;

	ok &= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)(void *)c) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_URL, c->url) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_error) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_USERAGENT, "usher/" USHER_VERSION) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_on_body) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_WRITEDATA, c) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_on_header) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HEADERDATA, c) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req_headers) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_insecure ? 0L : 1L) == CURLE_OK;
	ok &= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_insecure ? 0L : 2L) == CURLE_OK;
	if (c->ca_file != NULL)
		ok &= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK;
	if (c->follow_redirects) {
		ok &= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRECTS) == CURLE_OK;
	}
	if (c->cookie_jar_id != NULL) {
		ok &= curl_easy_setopt(e, CURLOPT_SHARE, http_jar(c->http, c->cookie_jar_id)) ==
		      CURLE_OK;
		/* An empty name turns the cookie engine on without a file. */
		ok &= curl_easy_setopt(e, CURLOPT_COOKIEFILE, "") == CURLE_OK;
	}

	if (c->has_req_body || strcmp(c->method, "POST") == 0) {
		/* Our copy outlives the transfer, so curl need not copy it again. */
		ok &= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                       (curl_off_t)c->req_body_len) == CURLE_OK;
		ok &= curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->req_body ? c->req_body : "") ==
		      CURLE_OK;
		if (strcmp(c->method, "POST") != 0)
			ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method) == CURLE_OK;
	} else if (strcmp(c->method, "HEAD") == 0) {
		ok &= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
	} else if (strcmp(c->method, "GET") != 0) {
		ok &= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, c->method) == CURLE_OK;
	}
	if (!ok)
		call_set_error(c, HTTP_ERR_OTHER, "cannot set up the request");
	return ok;
}

/* "scheme://host:port" for the per-host limit; "" when curl cannot parse
 * the URL (curl then reports it when the call runs). A new string. */
static char *
host_key(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *key;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		key = xasprintf("%s://%s:%s", scheme, host, port);
	else
		key = xstrdup("");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return key;
}

static struct http_host *
host_get(struct http *h, const char *url)
{
	char *key = host_key(url);
	struct http_host *ho;

	for (ho = h->hosts; ho != NULL; ho = ho->next)
		if (strcmp(ho->key, key) == 0) {
			free(key);
			return ho;
		}
	ho = xcalloc(1, sizeof(*ho));
	ho->key = key;
	ho->queue_tail = &ho->queue;
	ho->next = h->hosts;
	h->hosts = ho;
	return ho;
}

/* Hands a call to curl, or fails it (later) if that cannot be done or its
 * time ran out while it waited for a slot. */
static struct http_call *
call_run(struct http_call *c)
{
	struct http *h = c->http;
	long left = c->timeout_ms - (long)(loop_now_ms(h->loop) - c->started_ms);
	CURLMcode mrc;

	if (left <= 0) {
		call_set_error(c, HTTP_ERR_TIMEOUT,
		               "timed out after %ld ms waiting for a connection", c->timeout_ms);
		return call_fail_later(c);
	}
	if ((c->easy = curl_easy_init()) == NULL) {
		call_set_error(c, HTTP_ERR_OTHER, "cannot create a curl handle");
		return call_fail_later(c);
	}
	if (!call_setup(c, left))
		return call_fail_later(c);
	if ((mrc = curl_multi_add_handle(h->multi, c->easy)) != CURLM_OK) {
		call_set_error(c, HTTP_ERR_OTHER, "cannot start the request: %s",
		               curl_multi_strerror(mrc));
		return call_fail_later(c);
	}
	c->state = CALL_RUNNING;
	c->holds_slot = true;
	c->host->running++;
	return c;
}

/* Runs waiting calls while their hosts have free slots. */
static void
hosts_run_queued(struct http *h)
{
	for (struct http_host *ho = h->hosts; ho != NULL; ho = ho->next) {
		struct http_call *c;

		while (ho->running < HTTP_MAX_RUNNING_PER_HOST && (c = ho->queue) != NULL) {
			call_unqueue(c);
			loop_cancel_timer(h->loop, c->fail_timer);
			c->fail_timer = 0;
			call_run(c);
		}
	}
}

/* A call left curl: its host may run the next one. */
static void
call_release_slot(struct http_call *c)
{
	if (c->holds_slot) {
		c->holds_slot = false;
		c->host->running--;
	}
}

static void
call_unqueue(struct http_call *c)
{
	struct http_call **p = &c->host->queue;

	while (*p != c)
		p = &(*p)->queue_next;
	if ((*p = c->queue_next) == NULL)
		c->host->queue_tail = p;
	c->queue_next = NULL;
}

static void
http_on_queue_timeout(struct loop *loop, loop_timer_id id, void *arg)
{
	struct http_call *c = arg;

	(void)loop;
	(void)id;
	c->fail_timer = 0;
	call_unqueue(c);
	call_set_error(c, HTTP_ERR_TIMEOUT, "timed out after %ld ms waiting for a connection",
	               c->timeout_ms);
	call_unlink(c->http, c);
	call_deliver(c);
}

/* Copies everything the caller's options point to. */
static void
call_copy_opts(struct http_call *c, const struct http_opts *o)
{
	for (size_t i = 0; o->headers != NULL && o->headers[i] != NULL; i++)
		c->req_headers = slist_add(c->req_headers, o->headers[i]);
	/* curl would otherwise wait for "100 Continue" before larger bodies. */
	if (o->body != NULL && !has_header(o->headers, "Expect"))
		c->req_headers = slist_add(c->req_headers, "Expect:");
	c->url = xstrdup(o->url);
	if ((c->has_req_body = o->body != NULL)) {
		c->req_body = xmalloc(o->body_len + 1);
		memcpy(c->req_body, o->body, o->body_len);
		c->req_body[o->body_len] = '\0';
		c->req_body_len = o->body_len;
	}
	c->tls_insecure = o->tls_insecure;
	c->follow_redirects = o->follow_redirects;
	c->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	c->cookie_jar_id = o->cookie_jar_id ? xstrdup(o->cookie_jar_id) : NULL;
}

struct http_call *
http_start(struct http *h, const struct http_opts *o, http_done_cb *cb, void *arg)
{
	struct http_call *c = xcalloc(1, sizeof(*c));

	c->http = h;
	c->cb = cb;
	c->arg = arg;
	c->method = xstrdup(o->method ? o->method : o->body ? "POST" : "GET");
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	c->connect_timeout_ms =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	c->started_ms = loop_now_ms(h->loop);
	buf_init(&c->body, o->max_body > 0 ? o->max_body : HTTP_DEFAULT_MAX_BODY);
	h->in_flight++;
	call_link(h, c);

	if (o->url == NULL || o->url[0] == '\0') {
		call_set_error(c, HTTP_ERR_OTHER, "no URL");
		return call_fail_later(c);
	}
	call_copy_opts(c, o);
	c->host = host_get(h, c->url);
	if (c->host->running < HTTP_MAX_RUNNING_PER_HOST && c->host->queue == NULL)
		return call_run(c);
	c->state = CALL_QUEUED;
	*c->host->queue_tail = c;
	c->host->queue_tail = &c->queue_next;
	/* Its timeout counts from now, whether or not it has begun. */
	if ((c->fail_timer =
	         loop_add_timer(h->loop, (uint64_t)c->timeout_ms, http_on_queue_timeout, c)) == 0)
		fatalx("out of memory adding an http timer");
	return c;
}

void
http_cancel(struct http_call *c)
{
	struct http *h;

	if (c == NULL)
		return;
	h = c->http;
	switch (c->state) {
	case CALL_QUEUED:
		call_unqueue(c);
		loop_cancel_timer(h->loop, c->fail_timer);
		call_unlink(h, c);
		h->in_flight--;
		call_free(c);
		break;
	case CALL_RUNNING:
		call_unlink(h, c);
		curl_multi_remove_handle(h->multi, c->easy);
		h->in_flight--;
		call_release_slot(c);
		call_free(c);
		hosts_run_queued(h);
		break;
	case CALL_FAILED:
		call_unlink(h, c);
		loop_cancel_timer(h->loop, c->fail_timer);
		h->in_flight--;
		call_free(c);
		break;
	case CALL_DONE:
		/* Still on http_check_done()'s list, which frees it. */
		c->state = CALL_CANCELLED;
		h->in_flight--;
		break;
	case CALL_CANCELLED:
	case CALL_CALLING:
		break;
	}
}

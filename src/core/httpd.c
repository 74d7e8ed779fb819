#include "core/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define HTTPD_DEFAULT_CONNECTIONS 16
#define HTTPD_DEFAULT_BODY        65536
#define HTTPD_DEFAULT_TIMEOUT_S   10
/* Request line plus headers must fit in this per-connection pool; MHD
 * answers 431/414 past it. */
#define HTTPD_CONN_MEMORY (32 * 1024)
/* MHD lets a handler answer only before the body or after all of it. A
 * body declared far too large is answered 413 at once: a client that sent
 * "Expect: 100-continue" reads it cleanly, others may see the connection
 * reset while they send. A body over the limit by less than this factor,
 * or found too large only as it arrives (chunked), is read and dropped so
 * the client gets its 413 after all; past the factor the connection is
 * cut. */
#define HTTPD_DISCARD_FACTOR 4

struct route {
	char *method;
	char *path;
	httpd_handler *fn;
	void *arg;
};

struct httpd {
	struct loop *loop;
	struct MHD_Daemon *daemon;
	int epoll_fd;
	loop_timer_id timer;
	uint16_t port;
	size_t max_body;
	struct route *routes;
	size_t nroutes;
};

/* One request's state, from its headers to MHD's completion notice. */
struct httpd_conn {
	struct MHD_Connection *mc;
	const struct route *route;
	struct buf body;
	size_t discarded;
	bool too_big;
	bool answered;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* strerror() with a lower-case first letter, to read inside a sentence. */
static const char *
errwords(int errnum, char *tmp, size_t len)
{
	strlcpy_u(tmp, strerror(errnum), len);
	if (tmp[0] >= 'A' && tmp[0] <= 'Z' && !(tmp[1] >= 'A' && tmp[1] <= 'Z'))
		tmp[0] = (char)(tmp[0] - 'A' + 'a');
	return tmp;
}

static void __attribute__((format(printf, 2, 0))) mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_debug("httpd: %s", line);
}

/* Splits "host:port", "[v6]:port" or ":port". Returns a new host string
 * (NULL for "every address") in *host, or -1. */
static int
split_listen(const char *addr, char **host, char **port)
{
	const char *colon = strrchr(addr, ':');

	*host = NULL;
	*port = NULL;
	if (colon == NULL || colon[1] == '\0')
		return -1;
	if (addr[0] == '[') {
		if (colon == addr || colon[-1] != ']' || colon - addr < 3)
			return -1;
		*host = xstrndup(addr + 1, (size_t)(colon - addr - 2));
	} else if (colon != addr) {
		if (memchr(addr, ':', (size_t)(colon - addr)) != NULL)
			return -1;
		*host = xstrndup(addr, (size_t)(colon - addr));
	}
	*port = xstrdup(colon + 1);
	return 0;
}

/* Opens the listening socket ourselves rather than through MHD, so a
 * failure comes back as an errno we can put in plain words. */
static int
open_listener(const char *addr, char *err, size_t errlen)
{
	struct addrinfo hints = {0}, *res = NULL;
	char *host, *port, words[128];
	int fd = -1, one = 1, zero = 0, rc, saved;

	if (addr == NULL || split_listen(addr, &host, &port) < 0) {
		seterr(err, errlen,
		       "cannot listen on %s: write it as host:port, e.g. 127.0.0.1:8099",
		       addr ? addr : "(nothing)");
		return -1;
	}
	hints.ai_family = host ? AF_UNSPEC : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0 && host == NULL) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(host, port, &hints, &res);
	}
	if (rc != 0) {
		seterr(err, errlen, "cannot listen on %s: %s", addr,
		       rc == EAI_SERVICE ? "the port is not a number" : gai_strerror(rc));
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && host == NULL && res->ai_family == AF_INET6) {
		/* No IPv6 on this host: every IPv4 address instead. */
		struct sockaddr_in any = {.sin_family = AF_INET,
		                          .sin_port =
		                              ((struct sockaddr_in6 *)res->ai_addr)->sin6_port};

		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)
				goto fail;
			goto listening;
		}
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (host == NULL && res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
		goto fail;
listening:
	if (listen(fd, SOMAXCONN) < 0)
		goto fail;
	goto out;
fail:
	saved = errno;
	seterr(err, errlen, "cannot listen on %s: %s", addr, errwords(saved, words, sizeof(words)));
	if (fd >= 0)
		close(fd);
	fd = -1;
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd;
}

static void run(struct httpd *h);

static void
on_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct httpd *h = arg;

	(void)loop;
	(void)id;
	h->timer = 0;
	run(h);
}

static void
on_epoll(struct loop *loop, int fd, int events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	run(arg);
}

static unsigned
connections(const struct httpd *h)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info ? info->num_connections : 0;
}

/* MHD keeps connections with unprocessed data on an internal list and says
 * so through a zero timeout, so the timer is re-armed after every run.
 * At the connection limit MHD takes the listen socket out of its epoll set
 * and puts it back only at the start of a later run; when a run closed a
 * connection, run again at once, or clients waiting in the backlog would
 * wait for an event that cannot come. */
static void
run(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	unsigned before = connections(h);

	MHD_run(h->daemon);
	if (h->timer)
		loop_cancel_timer(h->loop, h->timer);
	h->timer = 0;
	if (connections(h) < before)
		h->timer = loop_add_timer(h->loop, 0, on_timer, h);
	else if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		h->timer = loop_add_timer(h->loop, ms, on_timer, h);
}

static enum MHD_Result
queue(struct httpd_conn *c, struct httpd_response *resp, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;
	const char *body = resp->body ? resp->body : "";

	r = MHD_create_response_from_buffer(
	    resp->body ? resp->body_len : 0, (void *)body,
	    resp->body && resp->body_owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (resp->body_owned)
			free(resp->body);
		return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(c->mc, resp->status, r);
	MHD_destroy_response(r);
	c->answered = true;
	return rc;
}

static enum MHD_Result
queue_static(struct httpd_conn *c, unsigned status, const char *text, const char *allow)
{
	struct httpd_response resp = {0};

	httpd_respond_static(&resp, status, "text/plain; charset=utf-8", text);
	return queue(c, &resp, allow);
}

/* Finds the route for method and path; *allow gets the methods the path
 * does have (a new string, NULL when the path is unknown). */
static const struct route *
route_find(const struct httpd *h, const char *method, const char *path, char **allow)
{
	struct buf methods;

	*allow = NULL;
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].path, path) == 0 &&
		    strcmp(h->routes[i].method, method) == 0)
			return &h->routes[i];
	buf_init(&methods, 0);
	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].path, path) == 0)
			buf_printf(&methods, "%s%s", methods.len ? ", " : "", h->routes[i].method);
	if (methods.len)
		*allow = buf_steal(&methods);
	buf_free(&methods);
	return NULL;
}

static void
peer_name(struct MHD_Connection *mc, char *out, size_t len)
{
	const union MHD_ConnectionInfo *info;
	const struct sockaddr *sa;

	strlcpy_u(out, "?", len);
	info = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info == NULL || info->client_addr == NULL)
		return;
	sa = info->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)len);
}

static enum MHD_Result
dispatch(struct httpd_conn *c, const char *method, const char *path)
{
	struct httpd_request req = {0};
	struct httpd_response resp = {.status = 200};
	char peer[INET6_ADDRSTRLEN];

	peer_name(c->mc, peer, sizeof(peer));
	req.method = method;
	req.path = path;
	req.body = c->body.data ? c->body.data : "";
	req.body_len = c->body.len;
	req.peer = peer;
	req.conn = c;
	c->route->fn(&req, &resp, c->route->arg);
	return queue(c, &resp, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct httpd *h = cls;
	struct httpd_conn *c = *con_cls;
	const char *cl;
	char *allow, *end;
	unsigned long long declared;
	enum MHD_Result rc;

	(void)version;
	if (c == NULL) {
		/* The headers are in; decide before reading any body. */
		c = xcalloc(1, sizeof(*c));
		c->mc = mc;
		buf_init(&c->body, h->max_body);
		*con_cls = c;
		c->route = route_find(h, method, url, &allow);
		if (c->route == NULL) {
			rc = allow ? queue_static(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                          "method not allowed\n", allow)
			           : queue_static(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
			free(allow);
			return rc;
		}
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			errno = 0;
			declared = strtoull(cl, &end, 10);
			if (errno == 0 && end != cl && declared > h->max_body) {
				if (declared <=
				    HTTPD_DISCARD_FACTOR * (unsigned long long)h->max_body) {
					c->too_big = true;
					return MHD_YES;
				}
				log_info(
				    "httpd: %s %s: body of %llu bytes refused, the limit is %zu",
				    method, url, declared, h->max_body);
				return queue_static(c, MHD_HTTP_CONTENT_TOO_LARGE,
				                    "request body too large\n", NULL);
			}
		}
		return MHD_YES;
	}
	if (c->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!c->too_big && buf_append(&c->body, upload_data, *upload_size) < 0) {
			c->too_big = true;
			c->discarded = c->body.len;
			buf_free(&c->body);
		}
		if (c->too_big) {
			c->discarded += *upload_size;
			if (c->discarded > HTTPD_DISCARD_FACTOR * h->max_body) {
				log_info("httpd: %s %s: body past %zu bytes, connection closed",
				         method, url, HTTPD_DISCARD_FACTOR * h->max_body);
				return MHD_NO;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (c->too_big) {
		log_info("httpd: %s %s: body over %zu bytes refused", method, url, h->max_body);
		return queue_static(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large\n",
		                    NULL);
	}
	return dispatch(c, method, url);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct httpd_conn *c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (c == NULL)
		return;
	buf_free(&c->body);
	free(c);
	*con_cls = NULL;
}

struct httpd *
httpd_start(struct loop *loop, const struct httpd_opts *opts, char *err, size_t errlen)
{
	struct httpd *h;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	size_t max_conn = opts->max_connections ? opts->max_connections : HTTPD_DEFAULT_CONNECTIONS;
	unsigned timeout = opts->timeout_s ? opts->timeout_s : HTTPD_DEFAULT_TIMEOUT_S;
	int fd;

	fd = open_listener(opts->listen, err, errlen);
	if (fd < 0)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->max_body = opts->max_body ? opts->max_body : HTTPD_DEFAULT_BODY;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                         : ((struct sockaddr_in *)&ss)->sin_port);
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	                             h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	                             MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
	                             (unsigned)max_conn, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEMORY,
	                             MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (h->daemon == NULL) {
		seterr(err, errlen, "cannot listen on %s: the HTTP server library refused to start",
		       opts->listen);
		/* Not closing fd: whether MHD already did depends on where it
		 * failed, and a double close could hit a descriptor reused since. */
		free(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	h->epoll_fd = info ? info->epoll_fd : -1;
	if (h->epoll_fd < 0 || loop_watch_fd(loop, h->epoll_fd, LOOP_READ, on_epoll, h) < 0) {
		seterr(err, errlen, "cannot listen on %s: cannot watch the server's events",
		       opts->listen);
		MHD_stop_daemon(h->daemon);
		free(h);
		return NULL;
	}
	run(h);
	return h;
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	loop_unwatch_fd(h->loop, h->epoll_fd);
	if (h->timer)
		loop_cancel_timer(h->loop, h->timer);
	/* Closes the listen socket and every connection; on_completed frees
	 * each request's state. */
	MHD_stop_daemon(h->daemon);
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].method);
		free(h->routes[i].path);
	}
	free(h->routes);
	free(h);
}

int
httpd_route(struct httpd *h, const char *method, const char *path, httpd_handler *fn, void *arg)
{
	struct route *r;

	for (size_t i = 0; i < h->nroutes; i++)
		if (strcmp(h->routes[i].method, method) == 0 &&
		    strcmp(h->routes[i].path, path) == 0)
			return -1;
	h->routes = xrealloc(h->routes, (h->nroutes + 1) * sizeof(*h->routes));
	r = &h->routes[h->nroutes++];
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	r->fn = fn;
	r->arg = arg;
	return 0;
}

uint16_t
httpd_port(const struct httpd *h)
{
	return h->port;
}

struct loop *
httpd_loop(const struct httpd *h)
{
	return h->loop;
}

size_t
httpd_max_body(const struct httpd *h)
{
	return h->max_body;
}

const char *
httpd_request_header(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_HEADER_KIND, name);
}

const char *
httpd_request_query(const struct httpd_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn->mc, MHD_GET_ARGUMENT_KIND, name);
}

void
httpd_respond_static(struct httpd_response *resp, unsigned status, const char *content_type,
                     const char *body)
{
	if (resp->body_owned)
		free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = (char *)body;
	resp->body_len = body ? strlen(body) : 0;
	resp->body_owned = false;
}

void
httpd_respond_copy(struct httpd_response *resp, unsigned status, const char *content_type,
                   const char *body)
{
	if (resp->body_owned)
		free(resp->body);
	resp->status = status;
	resp->content_type = content_type;
	resp->body = xstrdup(body ? body : "");
	resp->body_len = strlen(resp->body);
	resp->body_owned = true;
}

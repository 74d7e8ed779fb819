/*
 * The XMPP gateway: usher as an ordinary account, through libstrophe.
 *
 * libstrophe runs inside usher's loop with no thread of its own: the socket
 * it opens is captured by the sockopt callback and watched here, and
 * xmpp_run_once(ctx, 0) runs when the socket is ready, from a before-sleep
 * hook while libstrophe has output queued or a connect in progress, and on
 * a slow tick for its timed handlers. Reconnecting is ours: a new
 * connection after a backoff with jitter, carrying the stream management
 * (XEP-0198) state of the old one so unacknowledged stanzas are resent.
 * A server that stops answering without closing (frozen, or a link that
 * died silently) is noticed with a XEP-0199 ping after `ping_s` seconds of
 * silence; no answer in time drops the socket and takes the same path.
 *
 * This file owns the connection, the config and the gateway_ops table;
 * see xmpp_impl.h for the other parts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <strophe.h>

#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "gateway/xmpp_impl.h"

#define XMPPGW_TICK_MS      500
#define XMPPGW_RETRY_MIN_MS 1000
#define XMPPGW_RETRY_MAX_MS 60000
/* A ping unanswered this long (or ping_s, when shorter) means a dead link. */
#define XMPPGW_PING_WAIT_MAX_MS 30000
/* A connection attempt that has not logged in by then is given up. */
#define XMPPGW_CONNECT_MAX_MS 60000
/* Reads per readable event: one run reads at most 4 KiB, and a TLS record
 * (up to 16 KiB) can sit decrypted in OpenSSL where poll() cannot see it. */
#define XMPPGW_READS_PER_EVENT 5

/* The sockopt callback gets only the connection: find its gateway here. */
static struct xmppgw *xmppgw_live;

static void xmppgw_schedule_retry(struct xmppgw *x);

static bool
host_is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "[::1]") == 0 || str_starts_with(host, "127.");
}

/* ---- driving libstrophe from the loop ---- */

static void
xmppgw_run(struct xmppgw *x)
{
	if (x->ctx && x->conn)
		xmpp_run_once(x->ctx, 0);
}

static void
xmppgw_unwatch(struct xmppgw *x)
{
	if (x->fd != -1)
		loop_unwatch_fd(x->loop, x->fd);
	x->fd = -1;
	x->fd_events = 0;
}

static void
xmppgw_fd_ready(struct loop *loop, int fd, int events, void *arg)
{
	struct xmppgw *x = arg;
	int i;

	(void)loop;
	(void)fd;
	(void)events;
	for (i = 0; i < XMPPGW_READS_PER_EVENT && x->fd != -1; i++)
		xmppgw_run(x);
}

/* Watches the socket for reading, and for writing while a connect is in
 * progress or libstrophe holds output the socket would not take. */
static void
xmppgw_update_watch(struct xmppgw *x)
{
	int want;

	if (x->fd == -1 || x->conn == NULL)
		return;
	want = LOOP_READ;
	if (xmpp_conn_is_connecting(x->conn) || xmpp_conn_send_queue_len(x->conn) > 0)
		want |= LOOP_WRITE;
	if (want != x->fd_events && loop_watch_fd(x->loop, x->fd, want, xmppgw_fd_ready, x) == 0)
		x->fd_events = want;
}

static void
xmppgw_before_sleep(struct loop *loop, void *arg)
{
	struct xmppgw *x = arg;

	(void)loop;
	if (x->conn == NULL)
		return;
	if (xmpp_conn_send_queue_len(x->conn) > 0)
		xmppgw_run(x);
	xmppgw_update_watch(x);
}

/* Ends a connection that stopped answering without a goodbye to the
 * server (which is not listening): shutting the socket down makes
 * libstrophe read end-of-stream and report a disconnect, and the session
 * stays resumable (XEP-0198) on the server's side. */
static void
xmppgw_drop(struct xmppgw *x, const char *why)
{
	log_warnx("xmpp: %s; dropping the connection", why);
	if (x->fd != -1)
		shutdown(x->fd, SHUT_RDWR);
	x->ping_sent = 0;
	x->connect_started = 0;
	xmppgw_run(x);
}

static void
xmppgw_ping(struct xmppgw *x, uint64_t now)
{
	const char *server = strchr(x->jid, '@') + 1; /* checked by xmppgw_configure */
	char *id = xmpp_uuid_gen(x->ctx), *domain = xstrndup(server, xmppgw_bare_len(server));
	xmpp_stanza_t *iq = xmpp_iq_new(x->ctx, "get", id);

	xmpp_stanza_set_to(iq, domain);
	xmppgw_child(x->ctx, iq, "ping", NS_PING);
	xmppgw_send_now(x, iq);
	xmpp_stanza_release(iq);
	xmpp_free(x->ctx, id);
	free(domain);
	x->ping_sent = now;
}

/* After ping_s of silence a ping; after as long again (at most 30 s)
 * without a stanza, the link is dead. */
static void
xmppgw_watchdog(struct xmppgw *x)
{
	uint64_t now = loop_now_ms(x->loop);
	uint64_t wait = x->ping_ms < XMPPGW_PING_WAIT_MAX_MS ? x->ping_ms : XMPPGW_PING_WAIT_MAX_MS;
	char why[96];

	if (x->conn == NULL || x->fd == -1)
		return;
	if (!x->online) {
		if (x->connect_started && now - x->connect_started >= XMPPGW_CONNECT_MAX_MS)
			xmppgw_drop(x, "the server has not let usher in for a minute");
		return;
	}
	if (x->ping_ms == 0)
		return;
	if (x->ping_sent && now - x->ping_sent >= wait) {
		snprintf(why, sizeof(why), "no answer from the server for %llu s: the link is dead",
		         (unsigned long long)((now - x->last_rx) / 1000));
		xmppgw_drop(x, why);
	} else if (!x->ping_sent && now - x->last_rx >= x->ping_ms) {
		xmppgw_ping(x, now);
	}
}

static void
xmppgw_tick(struct loop *loop, loop_timer_id id, void *arg)
{
	struct xmppgw *x = arg;

	(void)id;
	x->tick = loop_add_timer(loop, XMPPGW_TICK_MS, xmppgw_tick, x);
	xmppgw_run(x);
	xmppgw_watchdog(x);
}

static int
xmppgw_sockopt(xmpp_conn_t *conn, void *sock)
{
	struct xmppgw *x;
	int fd = *(int *)sock;

	for (x = xmppgw_live; x && x->conn != conn; x = x->next_live)
		;
	if (x != NULL) {
		if (x->fd != -1 && x->fd != fd)
			xmppgw_unwatch(x);
		x->fd = fd;
		x->fd_events = 0;
		xmppgw_update_watch(x);
		if (x->fd_events == 0)
			log_warn("xmpp: cannot watch the connection");
	}
	/* Keepalives notice a peer that vanished without closing. */
	return xmpp_sockopt_cb_keepalive(conn, sock);
}

/* libstrophe's debug output carries every stanza, the SASL exchange
 * included: only its warnings and errors reach usher's log. */
static void
xmppgw_log(void *userdata, xmpp_log_level_t level, const char *area, const char *msg)
{
	(void)userdata;
	if (level >= XMPP_LEVEL_WARN)
		log_warnx("xmpp: %s: %s", area, msg);
}

/* ---- connection ---- */

/* Any stanza from the server proves the link alive. */
static int
xmppgw_on_any(xmpp_conn_t *conn, xmpp_stanza_t *st, void *arg)
{
	struct xmppgw *x = arg;

	(void)conn;
	(void)st;
	x->last_rx = loop_now_ms(x->loop);
	x->ping_sent = 0;
	return 1;
}

static void
xmppgw_on_conn(xmpp_conn_t *conn, xmpp_conn_event_t event, int error,
               xmpp_stream_error_t *stream_error, void *arg)
{
	struct xmppgw *x = arg;
	xmpp_stanza_t *p;
	size_t i;

	if (conn != x->conn)
		return;
	if (event == XMPP_CONN_CONNECT) {
		x->online = true;
		x->failures = 0;
		x->last_rx = loop_now_ms(x->loop);
		x->ping_sent = 0;
		x->connect_started = 0;
		xmppgw_composing_reset(x);
		log_event(LOG_LEVEL_INFO, "connected", LOG_STR("network", "xmpp"),
		          LOG_STR("as", x->jid),
		          LOG_STR("tls", xmpp_conn_is_secured(conn) ? "yes" : "no"));
		p = xmpp_presence_new(x->ctx);
		xmppgw_send_now(x, p);
		xmpp_stanza_release(p);
		for (i = 0; i < x->room_count; i++) {
			x->rooms[i].joined = false;
			xmppgw_occupants_clear(&x->rooms[i]);
			xmppgw_room_join(x, &x->rooms[i]);
		}
		xmppgw_flush(x);
		return;
	}
	if (event == XMPP_CONN_RAW_CONNECT)
		return;
	/* XMPP_CONN_DISCONNECT or XMPP_CONN_FAIL */
	xmppgw_unwatch(x);
	if (x->stopping) {
		log_event(LOG_LEVEL_INFO, "disconnected", LOG_STR("network", "xmpp"));
		x->online = false;
		return;
	}
	if (x->online)
		log_event(LOG_LEVEL_WARN, "connection_lost", LOG_STR("network", "xmpp"),
		          LOG_STR("error", stream_error ? stream_error->text : NULL));
	else
		log_event(LOG_LEVEL_WARN, "connect_failed", LOG_STR("network", "xmpp"),
		          LOG_STR("server", x->host ? x->host : x->jid),
		          LOG_STR("error", error ? strerror(error)
		                                 : "refused, timed out or not authorized"));
	x->online = false;
	x->ping_sent = 0;
	x->connect_started = 0;
	for (i = 0; i < x->room_count; i++)
		x->rooms[i].joined = false;
	if (!x->stopping)
		xmppgw_schedule_retry(x);
}

static int
xmppgw_connect(struct xmppgw *x)
{
	xmpp_sm_state_t *sm = NULL;
	const char *domain = NULL;
	int rc;

	if (x->conn) {
		/* Unacknowledged stanzas travel to the new connection. */
		sm = xmpp_conn_get_sm_state(x->conn);
		xmpp_conn_release(x->conn);
		x->conn = NULL;
	}
	x->conn = xmpp_conn_new(x->ctx);
	xmpp_conn_set_flags(x->conn, x->flags);
	xmpp_conn_set_jid(x->conn, x->jid);
	xmpp_conn_set_pass(x->conn, x->password);
	xmpp_conn_set_sockopt_callback(x->conn, xmppgw_sockopt);
	if (sm && xmpp_conn_set_sm_state(x->conn, sm) != XMPP_EOK)
		xmpp_free_sm_state(sm);
	xmpp_handler_add(x->conn, xmppgw_on_any, NULL, NULL, NULL, x);
	xmpp_handler_add(x->conn, xmppgw_on_message, NULL, "message", NULL, x);
	xmpp_handler_add(x->conn, xmppgw_on_presence, NULL, "presence", NULL, x);
	xmpp_handler_add(x->conn, xmppgw_on_iq, NULL, "iq", NULL, x);
	if (x->host)
		domain = x->host;
	else if (x->port)
		domain = strchr(x->jid, '@') + 1;
	x->connect_started = loop_now_ms(x->loop);
	rc = xmpp_connect_client(x->conn, domain, x->port, xmppgw_on_conn, x);
	if (rc != XMPP_EOK) {
		log_warnx("xmpp: cannot connect to %s (error %d)", domain ? domain : x->jid, rc);
		return -1;
	}
	return 0;
}

static void
xmppgw_retry_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct xmppgw *x = arg;

	(void)loop;
	(void)id;
	x->retry = 0;
	if (x->stopping)
		return;
	log_info("xmpp: reconnecting (attempt %u)", x->failures);
	if (xmppgw_connect(x) == -1)
		xmppgw_schedule_retry(x);
}

/* Doubling delays from 1 s up to a minute, each with up to half again of
 * random jitter so a family of bots does not return in step. */
static void
xmppgw_schedule_retry(struct xmppgw *x)
{
	uint64_t delay = XMPPGW_RETRY_MIN_MS;
	unsigned i;

	if (x->retry)
		return;
	for (i = 0; i < x->failures && delay < XMPPGW_RETRY_MAX_MS; i++)
		delay *= 2;
	if (delay > XMPPGW_RETRY_MAX_MS)
		delay = XMPPGW_RETRY_MAX_MS;
	delay += arc4random_uniform((uint32_t)(delay / 2 + 1));
	x->failures++;
	log_info("xmpp: next connection attempt in %llu ms", (unsigned long long)delay);
	x->retry = loop_add_timer(x->loop, delay, xmppgw_retry_fire, x);
}

/* ---- lifecycle ---- */

static int
xmppgw_add_room(struct xmppgw *x, const char *spec, const char *nick, char *err, size_t errlen)
{
	struct xmppgw_room *r;
	const char *res = xmppgw_resource(spec);
	size_t bl = xmppgw_bare_len(spec);
	const char *at = memchr(spec, '@', bl);

	if (at == NULL || at == spec || at + 1 == spec + bl || (res && *res == '\0')) {
		snprintf(err, errlen,
		         "[xmpp] rooms: '%s' is not a room address; write it as "
		         "room@conference.example.org or room@conference.example.org/nick",
		         spec);
		return -1;
	}
	x->rooms = xrealloc(x->rooms, (x->room_count + 1) * sizeof(*x->rooms));
	r = &x->rooms[x->room_count++];
	memset(r, 0, sizeof(*r));
	r->jid = xstrndup(spec, bl);
	r->nick = xstrdup(res ? res : nick);
	return 0;
}

static void xmppgw_free_impl(struct gateway *gw);

/* [person] xmpp_nick: the nicks stand for the person's first JID, which is
 * what the bot knows them by. */
static void
xmppgw_add_nicks(struct xmppgw *x, const struct config *cfg, const char *name, const char *jid)
{
	char **nicks;
	size_t i, n;

	nicks = xmppgw_split_list(config_person_get(cfg, name, "xmpp_nick"), &n);
	if (n && jid == NULL)
		log_warnx("xmpp: [person %s] xmpp_nick needs their JID as well (xmpp = ...); "
		          "their nick is not used",
		          name);
	for (i = 0; i < n; i++) {
		if (jid) {
			x->nicks = xrealloc(x->nicks, (x->nick_count + 1) * sizeof(*x->nicks));
			x->nicks[x->nick_count].nick = nicks[i];
			x->nicks[x->nick_count++].jid = xstrndup(jid, xmppgw_bare_len(jid));
		} else {
			free(nicks[i]);
		}
	}
	free(nicks);
}

static int
xmppgw_configure(struct xmppgw *x, const struct config *cfg, char *err, size_t errlen)
{
	const char *jid = config_get(cfg, "xmpp", "jid");
	const char *password = config_get(cfg, "xmpp", "password");
	const char *host = config_get(cfg, "xmpp", "host");
	const char *tls = config_get(cfg, "xmpp", "tls");
	const char *nick = config_get(cfg, "xmpp", "nick");
	const char *at, *target;
	char **rooms;
	size_t i, n;
	int rc = 0;

	if (jid == NULL || (at = strchr(jid, '@')) == NULL || at == jid || at[1] == '\0' ||
	    at[1] == '/') {
		snprintf(err, errlen, "[xmpp] jid: write the bot's account as name@example.org");
		return -1;
	}
	if (password == NULL || *password == '\0') {
		snprintf(err, errlen, "[xmpp] needs password (or password_file)");
		return -1;
	}
	x->jid = xstrdup(jid);
	x->password = xstrdup(password);
	x->host = host && *host ? xstrdup(host) : NULL;
	x->port = config_get(cfg, "xmpp", "port")
	              ? (unsigned short)config_get_int(cfg, "xmpp", "port")
	              : 0;
	target = x->host;
	if (target == NULL) {
		target = at + 1;
		/* a bare domain, without any resource */
	}
	if (tls == NULL || strcmp(tls, "required") == 0) {
		x->flags = XMPP_CONN_FLAG_MANDATORY_TLS;
	} else if (strcmp(tls, "trust-self-signed") == 0) {
		x->flags = XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_TRUST_TLS;
	} else {
		char *t = xstrndup(target, xmppgw_bare_len(target));

		if (!host_is_loopback(t)) {
			snprintf(err, errlen,
			         "[xmpp] tls = off-for-loopback-tests is only allowed when host is "
			         "127.0.0.1, ::1 or localhost, not '%s'; use tls = required (or "
			         "trust-self-signed for a server with its own certificate)",
			         t);
			rc = -1;
		}
		free(t);
		if (rc)
			return -1;
		x->flags = XMPP_CONN_FLAG_DISABLE_TLS;
	}
	rooms = xmppgw_split_list(config_get(cfg, "xmpp", "rooms"), &n);
	for (i = 0; i < n; i++) {
		if (rc == 0 && xmppgw_add_room(x, rooms[i], nick ? nick : "usher", err, errlen))
			rc = -1;
		free(rooms[i]);
	}
	free(rooms);
	if (rc)
		return -1;
	for (i = 0; i < config_person_count(cfg); i++) {
		const char *name = config_person_name(cfg, i);
		char **ids = xmppgw_split_list(config_person_get(cfg, name, "xmpp"), &n);
		size_t j;

		xmppgw_add_nicks(x, cfg, name, n ? ids[0] : NULL);
		x->known = xrealloc(x->known, (x->known_count + n + 1) * sizeof(*x->known));
		for (j = 0; j < n; j++)
			x->known[x->known_count++] = ids[j];
		free(ids);
	}
	x->ping_ms = config_get(cfg, "xmpp", "ping_s")
	                 ? (uint64_t)config_get_int(cfg, "xmpp", "ping_s") * 1000
	                 : 60000;
	return 0;
}

static int
xmppgw_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	struct xmppgw *x = xcalloc(1, sizeof(*x));

	x->gw = gw;
	x->loop = gateway_loop(gw);
	x->fd = -1;
	gateway_set_impl(gw, x);
	if (xmppgw_configure(x, cfg, err, errlen) == -1) {
		xmppgw_free_impl(gw);
		return -1;
	}
	xmpp_initialize();
	x->logger.handler = xmppgw_log;
	x->logger.userdata = x;
	x->ctx = xmpp_ctx_new(NULL, &x->logger);
	if (x->ctx == NULL) {
		snprintf(err, errlen, "xmpp: out of memory");
		xmpp_shutdown();
		xmppgw_free_impl(gw);
		return -1;
	}
	x->next_live = xmppgw_live;
	xmppgw_live = x;
	return 0;
}

static int
xmppgw_start(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw);

	x->stopping = false;
	x->hook = loop_add_hook(x->loop, xmppgw_before_sleep, x);
	x->tick = loop_add_timer(x->loop, XMPPGW_TICK_MS, xmppgw_tick, x);
	x->started = true;
	log_info("xmpp: connecting as %s to %s%s", x->jid, x->host ? x->host : "its server",
	         x->flags & XMPP_CONN_FLAG_DISABLE_TLS ? " without TLS (loopback test)" : "");
	/* A first failure is retried like a lost connection. */
	if (xmppgw_connect(x) == -1)
		xmppgw_schedule_retry(x);
	return 0;
}

static void
xmppgw_stop(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw);
	int i;

	if (x == NULL || !x->started)
		return;
	x->stopping = true;
	x->started = false;
	if (x->retry)
		loop_cancel_timer(x->loop, x->retry);
	x->retry = 0;
	if (x->tick)
		loop_cancel_timer(x->loop, x->tick);
	x->tick = 0;
	if (x->hook)
		loop_remove_hook(x->loop, x->hook);
	x->hook = 0;
	if (x->conn && x->online) {
		/* Say goodbye and let it go out: a bounded number of short runs. */
		xmpp_disconnect(x->conn);
		for (i = 0; i < 20 && !xmpp_conn_is_disconnected(x->conn); i++)
			xmpp_run_once(x->ctx, 10);
	}
	xmppgw_unwatch(x);
	x->online = false;
}

static void
xmppgw_free_impl(struct gateway *gw)
{
	struct xmppgw *x = gateway_impl(gw), **pp;
	size_t i;

	if (x == NULL)
		return;
	x->stopping = true;
	for (pp = &xmppgw_live; *pp; pp = &(*pp)->next_live) {
		if (*pp == x) {
			*pp = x->next_live;
			break;
		}
	}
	if (x->retry)
		loop_cancel_timer(x->loop, x->retry);
	if (x->tick)
		loop_cancel_timer(x->loop, x->tick);
	if (x->hook)
		loop_remove_hook(x->loop, x->hook);
	xmppgw_unwatch(x);
	xmppgw_send_free(x);
	if (x->conn)
		xmpp_conn_release(x->conn);
	if (x->ctx) {
		xmpp_ctx_free(x->ctx);
		xmpp_shutdown();
	}
	for (i = 0; i < x->room_count; i++) {
		xmppgw_occupants_clear(&x->rooms[i]);
		free(x->rooms[i].jid);
		free(x->rooms[i].nick);
	}
	free(x->rooms);
	for (i = 0; i < x->known_count; i++)
		free(x->known[i]);
	free(x->known);
	for (i = 0; i < x->nick_count; i++) {
		free(x->nicks[i].nick);
		free(x->nicks[i].jid);
	}
	free(x->nicks);
	xmppgw_recent_free(x);
	free(x->jid);
	free(x->password);
	free(x->host);
	free(x);
	gateway_set_impl(gw, NULL);
}

const struct gateway_ops xmpp_gateway_ops = {
    .name = "xmpp",
    .caps = GATEWAY_CAN_EDIT,
    .init = xmppgw_init,
    .start = xmppgw_start,
    .stop = xmppgw_stop,
    .send = xmppgw_send,
    .edit = xmppgw_edit,
    .typing = xmppgw_typing,
    .send_direct = xmppgw_send_direct,
    .free_impl = xmppgw_free_impl,
};

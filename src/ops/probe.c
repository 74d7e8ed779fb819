/*
 * probe: one `struct probe` per configured service or network, all started
 * at once on a private loop; each finishes once with its line, and one
 * timer finishes whatever has not answered.
 */
#include "ops/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "services/prowlarr.h"
#include "services/qbittorrent.h"
#include "services/radarr.h"
#include "services/seerr.h"
#include "services/service.h"
#include "services/sonarr.h"

#define PROBE_MAX 8

struct probe_run;

struct probe {
	struct probe_run *run;
	const char *name;    /* as people know it: "Radarr" */
	const char *section; /* "radarr" */
	const char *url_key; /* the key holding its address: "url", "homeserver" */
	/* What to change when the server refuses the credentials. */
	const char *auth_fix;
	bool done, ok;
	char line[512];
	/* At most one of these is in flight. */
	struct http_call *http_call;
	int fd; /* XMPP's connect, -1 when none */
	char *version;
	char *target; /* host:port, for messages */
};

struct probe_run {
	const struct config *cfg;
	struct loop *loop;
	struct http *http;
	long timeout_ms;
	struct seerr *seerr;
	struct radarr *radarr;
	struct sonarr *sonarr;
	struct prowlarr *prowlarr;
	struct qbittorrent *qbittorrent;
	struct probe probes[PROBE_MAX];
	size_t count, pending;
};

static void probe_finish(struct probe *p, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
probe_finish(struct probe *p, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (p->done)
		return;
	va_start(ap, fmt);
	vsnprintf(p->line, sizeof(p->line), fmt, ap);
	va_end(ap);
	p->done = true;
	p->ok = ok;
	p->http_call = NULL;
	if (p->fd != -1) {
		loop_unwatch_fd(p->run->loop, p->fd);
		close(p->fd);
		p->fd = -1;
	}
	p->run->pending--;
}

static struct probe *
probe_add(struct probe_run *run, const char *name, const char *section, const char *auth_fix)
{
	struct probe *p = &run->probes[run->count++];

	p->run = run;
	p->name = name;
	p->section = section;
	p->url_key = strcmp(section, "matrix") == 0 ? "homeserver" : "url";
	p->auth_fix = auth_fix;
	p->fd = -1;
	run->pending++;
	return p;
}

/* "http://radarr:7878/base" -> "radarr:7878"; the port made explicit. */
static char *
url_target(const char *url)
{
	const char *host = strstr(url, "://");
	bool tls = str_starts_with(url, "https");
	size_t n;
	char *out;

	host = host ? host + 3 : url;
	n = strcspn(host, "/?#");
	out = xstrndup(host, n);
	/* A port follows the last ':' unless that colon is inside [v6]. */
	if (strrchr(out, ':') == NULL ||
	    (strchr(out, ']') && strrchr(out, ':') < strchr(out, ']'))) {
		char *with = xasprintf("%s:%s", out, tls ? "443" : "80");
		free(out);
		out = with;
	}
	return out;
}

/* The words in the last parentheses of a service message ("Radarr isn't
 * answering (connection refused)"): the transport's own reason. */
static char *
message_reason(const char *msg)
{
	size_t len = strlen(msg);
	const char *open = strrchr(msg, '(');

	if (len > 0 && msg[len - 1] == ')' && open)
		return xstrndup(open + 1, (size_t)(msg + len - 1 - (open + 1)));
	return xstrdup(msg);
}

static const char *
status_words(long status)
{
	switch (status) {
	case 401:
		return "401 Unauthorized";
	case 403:
		return "403 Forbidden";
	default:
		return "login refused";
	}
}

/* One line that says what failed and what to change, for any service. */
static void
probe_fail(struct probe *p, const struct service_result *res, const char *url)
{
	char *target = url_target(url);
	char *reason = message_reason(res->message);

	switch (res->error) {
	case SERVICE_AUTH:
		probe_finish(p, false, "%s: %s — %s", p->name, status_words(res->http_status),
		             p->auth_fix);
		break;
	case SERVICE_UNREACHABLE:
		/* Connected but silent is a different fault from refused. */
		probe_finish(p, false, "%s: %s %s — %s; check [%s] %s and that %s is running",
		             p->name,
		             strstr(reason, "timed out") ? "no answer from" : "cannot connect to",
		             target, reason, p->section, p->url_key, p->name);
		break;
	case SERVICE_TLS:
		probe_finish(p, false,
		             "%s: TLS failed with %s — %s; set [%s] ca_file, or tls_verify = false "
		             "for a self-signed certificate",
		             p->name, target, reason, p->section);
		break;
	case SERVICE_NOT_FOUND:
		probe_finish(p, false,
		             "%s: %s answered 404 Not Found — [%s] %s should be the address you "
		             "open %s at (with its URL base, if it has one)",
		             p->name, target, p->section, p->url_key, p->name);
		break;
	default:
		probe_finish(p, false, "%s: %s — is [%s] %s really %s?", p->name, res->message,
		             p->section, p->url_key, p->name);
		break;
	}
	free(reason);
	free(target);
}

static void
probe_fail_here(struct probe *p, const struct service_result *res)
{
	probe_fail(p, res, config_get(p->run->cfg, p->section, "url"));
}

/* Seerr: the version (public), then /auth/me, which needs the key. */

static size_t
people_mapped(const struct config *cfg)
{
	size_t i, n = 0;

	for (i = 0; i < config_person_count(cfg); i++)
		if (config_person_get(cfg, config_person_name(cfg, i), "seerr_user"))
			n++;
	return n;
}

static void
seerr_me_done(const struct http_response *resp, void *arg)
{
	struct probe *p = arg;
	struct service_result res;
	json_t *me = service_json_body(&res, "Seerr", resp);
	const char *who = NULL;
	size_t mapped;

	p->http_call = NULL;
	if (me == NULL) {
		probe_fail_here(p, &res);
		return;
	}
	if (json_is_object(me)) {
		who = json_string_value(json_object_get(me, "displayName"));
		if (who == NULL || *who == '\0')
			who = json_string_value(json_object_get(me, "username"));
	}
	mapped = people_mapped(p->run->cfg);
	probe_finish(p, true, "Seerr ok (version %s, acting as %s; %zu %s mapped)", p->version,
	             who ? who : "the API key's owner", mapped, mapped == 1 ? "person" : "people");
	json_decref(me);
}

static void
seerr_status_done(void *arg, const struct service_result *res, const char *version)
{
	struct probe *p = arg;
	struct probe_run *run = p->run;
	struct service_conf conf;
	struct http_opts opts;
	char *key_header;
	const char *headers[2];

	if (res->error != SERVICE_OK) {
		probe_fail_here(p, res);
		return;
	}
	p->version = xstrdup(version && *version ? version : "unknown");
	if (!service_conf_load(&conf, run->cfg, "seerr")) {
		probe_finish(p, false, "Seerr: [seerr] has no url");
		return;
	}
	key_header = xasprintf("X-Api-Key: %s", conf.api_key ? conf.api_key : "");
	headers[0] = key_header;
	headers[1] = NULL;
	memset(&opts, 0, sizeof(opts));
	service_conf_apply(&conf, &opts);
	opts.url = service_url(conf.url, "/api/v1/auth/me");
	opts.headers = headers;
	opts.max_body = 1 << 20;
	p->http_call =
	    http_start_json(run->http, "GET", opts.url, headers, NULL, &opts, seerr_me_done, p);
	free((char *)opts.url);
	free(key_header);
	service_conf_free(&conf);
}

/* Radarr, Sonarr, Prowlarr and qBittorrent: their version call. */

static void
version_done(const struct service_result *res, const char *version, void *arg)
{
	struct probe *p = arg;

	if (res->error != SERVICE_OK)
		probe_fail_here(p, res);
	else
		probe_finish(p, true, "%s ok (version %s)", p->name,
		             version && *version ? version : "unknown");
}

/* Matrix: who the access token belongs to (or, with a password only,
 * that the homeserver answers). */

static void
matrix_done(const struct http_response *resp, void *arg)
{
	struct probe *p = arg;
	const struct config *cfg = p->run->cfg;
	struct service_result res;
	json_t *body = service_json_body(&res, "Matrix", resp);
	const char *user = config_get(cfg, "matrix", "user_id");
	const char *who;

	p->http_call = NULL;
	if (body == NULL) {
		if (res.error == SERVICE_AUTH)
			probe_finish(
			    p, false,
			    "Matrix: %s — the access_token is wrong or expired; log in again "
			    "for a new one and put it in [matrix] access_token, or set "
			    "password instead",
			    status_words(res.http_status));
		else
			probe_fail(p, &res, config_get(cfg, "matrix", "homeserver"));
		return;
	}
	if (p->version) { /* no token: the login itself is left to `usher run` */
		probe_finish(p, true,
		             "Matrix ok (homeserver answers; will log in as %s with the "
		             "password)",
		             user);
	} else {
		who = json_string_value(json_object_get(body, "user_id"));
		if (who == NULL)
			probe_finish(p, false,
			             "Matrix: the homeserver's whoami has no user_id — is "
			             "[matrix] homeserver really a Matrix homeserver?");
		else if (user && strcmp(who, user) != 0)
			probe_finish(p, false,
			             "Matrix: the access_token belongs to %s, not %s; fix [matrix] "
			             "user_id or the token",
			             who, user);
		else
			probe_finish(p, true, "Matrix ok (%s)", who);
	}
	json_decref(body);
}

static void
matrix_start(struct probe *p)
{
	const struct config *cfg = p->run->cfg;
	const char *token = config_get(cfg, "matrix", "access_token");
	const char *home = config_get(cfg, "matrix", "homeserver");
	char *auth = NULL, *url;
	const char *headers[2] = {NULL, NULL};
	struct http_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = p->run->timeout_ms;
	opts.max_body = 1 << 20;
	if (token && *token) {
		url = service_url(home, "/_matrix/client/v3/account/whoami");
		auth = xasprintf("Authorization: Bearer %s", token);
		headers[0] = auth;
	} else {
		url = service_url(home, "/_matrix/client/versions");
		p->version = xstrdup("password"); /* marks the password-only check */
	}
	p->http_call =
	    http_start_json(p->run->http, "GET", url, headers, NULL, &opts, matrix_done, p);
	free(url);
	free(auth);
}

/* Discord: the bot user the token belongs to. */

static void
discord_done(const struct http_response *resp, void *arg)
{
	struct probe *p = arg;
	struct service_result res;
	json_t *me = service_json_body(&res, "Discord", resp);
	const char *name, *id;

	p->http_call = NULL;
	if (me == NULL) {
		if (res.error == SERVICE_AUTH)
			probe_finish(p, false,
			             "Discord: %s — the token is wrong; reset it in the Discord "
			             "Developer Portal (your application → Bot) and put it in "
			             "[discord] token",
			             status_words(res.http_status));
		else
			probe_fail(p, &res, config_get(p->run->cfg, "discord", "api_url"));
		return;
	}
	name = json_string_value(json_object_get(me, "username"));
	id = json_string_value(json_object_get(me, "id"));
	probe_finish(p, true, "Discord ok (%s, id %s)", name ? name : "?", id ? id : "?");
	json_decref(me);
}

static void
discord_start(struct probe *p)
{
	const struct config *cfg = p->run->cfg;
	char *url = service_url(config_get(cfg, "discord", "api_url"), "/users/@me");
	char *auth = xasprintf("Authorization: Bot %s", config_get(cfg, "discord", "token"));
	const char *headers[2] = {auth, NULL};
	struct http_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = p->run->timeout_ms;
	opts.max_body = 1 << 20;
	p->http_call =
	    http_start_json(p->run->http, "GET", url, headers, NULL, &opts, discord_done, p);
	free(url);
	free(auth);
}

/* XMPP: a TCP connect to the server; logging in is left to `usher run`. */

static void
xmpp_connected(struct loop *loop, int fd, int events, void *arg)
{
	struct probe *p = arg;
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	(void)loop;
	(void)events;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0)
		probe_finish(p, true, "XMPP ok (%s reachable; the login is tried by usher run)",
		             p->target);
	else
		probe_finish(p, false,
		             "XMPP: cannot connect to %s — %s; check [xmpp] host and port (or the "
		             "JID's domain)",
		             p->target, strerror(soerr));
}

static void
xmpp_start(struct probe *p)
{
	const struct config *cfg = p->run->cfg;
	const char *host = config_get(cfg, "xmpp", "host");
	const char *port = config_get(cfg, "xmpp", "port");
	const char *jid = config_get(cfg, "xmpp", "jid");
	struct addrinfo hints, *ai = NULL;
	char *domain = NULL;
	int rc, fd;

	if (host == NULL || *host == '\0') {
		const char *at = strchr(jid, '@');
		const char *d = at ? at + 1 : jid;
		domain = xstrndup(d, strcspn(d, "/"));
		host = domain;
	}
	if (port == NULL || *port == '\0')
		port = "5222";
	p->target = xasprintf("%s:%s", host, port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* A blocking lookup: check-config is a one-shot command. */
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		probe_finish(p, false,
		             "XMPP: cannot find %s — %s; check the JID's domain or set "
		             "[xmpp] host",
		             host, gai_strerror(rc));
		free(domain);
		return;
	}
	free(domain);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		probe_finish(p, false, "XMPP: cannot make a socket — %s", strerror(errno));
		freeaddrinfo(ai);
		return;
	}
	p->fd = fd;
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc == 0 || errno == EINPROGRESS) {
		if (loop_watch_fd(p->run->loop, fd, LOOP_WRITE, xmpp_connected, p) == -1)
			probe_finish(p, false, "XMPP: cannot watch the socket — %s",
			             strerror(errno));
		return;
	}
	probe_finish(p, false,
	             "XMPP: cannot connect to %s — %s; check [xmpp] host and port (or the JID's "
	             "domain)",
	             p->target, strerror(errno));
}

static void
probe_timeout(struct loop *loop, loop_timer_id id, void *arg)
{
	struct probe_run *run = arg;
	size_t i;

	(void)loop;
	(void)id;
	for (i = 0; i < run->count; i++) {
		struct probe *p = &run->probes[i];
		if (!p->done)
			probe_finish(
			    p, false,
			    "%s: no answer within %ld s — check [%s] and that %s is running "
			    "and reachable from here",
			    p->name, (run->timeout_ms + 999) / 1000, p->section, p->name);
	}
}

static void
probe_start_all(struct probe_run *run)
{
	const struct config *cfg = run->cfg;
	struct probe *p;

	if ((run->seerr = seerr_new(run->http, cfg)) != NULL) {
		p = probe_add(run, "Seerr", "seerr",
		              "the api_key is wrong (Settings → General → API Key in Overseerr or "
		              "Jellyseerr)");
		seerr_status(run->seerr, seerr_status_done, p);
	}
	if ((run->radarr = radarr_new(run->http, cfg)) != NULL) {
		p = probe_add(run, "Radarr", "radarr",
		              "the api_key is wrong (Settings → General in Radarr)");
		radarr_system_status(run->radarr, version_done, p);
	}
	if ((run->sonarr = sonarr_new(run->http, cfg)) != NULL) {
		p = probe_add(run, "Sonarr", "sonarr",
		              "the api_key is wrong (Settings → General in Sonarr)");
		sonarr_system_status(run->sonarr, version_done, p);
	}
	if ((run->prowlarr = prowlarr_new(run->http, cfg)) != NULL) {
		p = probe_add(run, "Prowlarr", "prowlarr",
		              "the api_key is wrong (Settings → General in Prowlarr)");
		prowlarr_system_status(run->prowlarr, version_done, p);
	}
	if ((run->qbittorrent = qbittorrent_new(run->http, cfg)) != NULL) {
		p = probe_add(run, "qBittorrent", "qbittorrent",
		              "the username or password is wrong (qBittorrent → Options → Web UI → "
		              "Authentication)");
		qbittorrent_version(run->qbittorrent, version_done, p);
	}
	if (config_has_section(cfg, "xmpp"))
		xmpp_start(probe_add(run, "XMPP", "xmpp", NULL));
	if (config_has_section(cfg, "matrix"))
		matrix_start(probe_add(run, "Matrix", "matrix", NULL));
	if (config_has_section(cfg, "discord"))
		discord_start(probe_add(run, "Discord", "discord", NULL));
}

int
probe_config(const struct config *cfg, long timeout_ms, probe_line_cb *cb, void *arg)
{
	struct probe_run run;
	loop_timer_id timer;
	size_t i;
	int failed = 0;

	memset(&run, 0, sizeof(run));
	run.cfg = cfg;
	run.timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	if ((run.loop = loop_new()) == NULL)
		fatalx("out of memory");
	run.http = http_new(run.loop);
	probe_start_all(&run);
	timer = loop_add_timer(run.loop, (uint64_t)run.timeout_ms, probe_timeout, &run);
	while (run.pending > 0)
		if (loop_run_once(run.loop, -1) == -1)
			probe_timeout(run.loop, timer, &run);
	loop_cancel_timer(run.loop, timer);

	/* Freeing the clients cancels whatever the timeout cut short. */
	seerr_free(run.seerr);
	radarr_free(run.radarr);
	sonarr_free(run.sonarr);
	prowlarr_free(run.prowlarr);
	qbittorrent_free(run.qbittorrent);
	http_free(run.http);
	for (i = 0; i < run.count; i++) {
		struct probe *p = &run.probes[i];
		cb(p->ok, p->line, arg);
		if (!p->ok)
			failed++;
		free(p->version);
		free(p->target);
	}
	loop_free(run.loop);
	return failed;
}

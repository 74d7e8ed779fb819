/*
 * The MCP stdio server: line framing, JSON-RPC 2.0, the MCP lifecycle and
 * the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bot/people.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "mcp/mcp.h"
#include "mcp/mcp_tools.h"
#include "services/radarr.h"
#include "services/seerr.h"
#include "services/sonarr.h"

#define RPC_PARSE_ERROR      -32700
#define RPC_INVALID_REQUEST  -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS   -32602

/* Newest first: the answer to a client asking for one we do not know. */
static const char *const protocol_versions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

/* A tools/call not answered yet. */
struct pending {
	struct mcp *m;
	json_t *id;
	struct mcp_tool_call *call;
	struct pending *next;
};

struct mcp {
	struct mcp_tools_env env;
	mcp_write_fn *write;
	void *write_arg;
	struct buf line;
	bool skipping; /* inside a line past MCP_LINE_MAX */
	struct pending *pending;
	size_t npending;
	void (*idle)(void *arg);
	void *idle_arg;
};

/* Takes `msg`. */
static void
send_json(struct mcp *m, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s == NULL)
		fatalx("out of memory");
	if (m->write(m->write_arg, s, strlen(s)) == -1)
		log_warnx("mcp: the client is gone; dropped an answer");
	free(s);
	json_decref(msg);
}

/* `id` is borrowed (NULL: null); takes `result`. */
static void
send_result(struct mcp *m, json_t *id, json_t *result)
{
	send_json(m, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
	                       "result", result));
}

static void
send_error(struct mcp *m, json_t *id, int code, const char *message)
{
	send_json(m, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
	                       id ? id : json_null(), "error", "code", code, "message", message));
}

static void
pending_unlink(struct mcp *m, struct pending *p)
{
	struct pending **pp;

	for (pp = &m->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			m->npending--;
			return;
		}
	}
}

static void
pending_free(struct pending *p)
{
	json_decref(p->id);
	free(p);
}

static void
tool_done(void *arg, json_t *result)
{
	struct pending *p = arg;
	struct mcp *m = p->m;

	pending_unlink(m, p);
	send_result(m, p->id, result);
	pending_free(p);
	if (m->idle)
		m->idle(m->idle_arg);
}

static void
on_initialize(struct mcp *m, json_t *id, json_t *params)
{
	const char *want = json_string_value(json_object_get(params, "protocolVersion"));
	const char *version = protocol_versions[0];
	char instructions[512];
	size_t i;

	if (want == NULL) {
		send_error(m, id, RPC_INVALID_PARAMS, "initialize needs protocolVersion");
		return;
	}
	for (i = 0; i < sizeof(protocol_versions) / sizeof(protocol_versions[0]); i++)
		if (strcmp(want, protocol_versions[i]) == 0)
			version = protocol_versions[i];
	snprintf(instructions, sizeof(instructions),
	         "usher files film and TV requests in Overseerr as %s (%s) and says where they "
	         "stand. Search first to find the TMDB id, then request it.",
	         m->env.person->name, m->env.person->role == ROLE_ADMIN ? "admin" : "member");
	send_result(m, id,
	            json_pack("{s:s,s:{s:{s:b}},s:{s:s,s:s,s:s},s:s}", "protocolVersion", version,
	                      "capabilities", "tools", "listChanged", 0, "serverInfo", "name",
	                      "usher", "title", "usher", "version", USHER_VERSION, "instructions",
	                      instructions));
}

static void
on_tools_call(struct mcp *m, json_t *id, json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments"), *empty = NULL;
	struct pending *p;
	char err[256];

	if (name == NULL) {
		send_error(m, id, RPC_INVALID_PARAMS, "tools/call needs a tool name");
		return;
	}
	if (args && !json_is_object(args)) {
		send_error(m, id, RPC_INVALID_PARAMS, "arguments must be an object");
		return;
	}
	if (args == NULL)
		args = empty = json_object();
	p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->id = json_incref(id);
	p->call = mcp_tools_call(&m->env, name, args, tool_done, p, err, sizeof(err));
	json_decref(empty);
	if (p->call == NULL) {
		pending_free(p);
		send_error(m, id, RPC_INVALID_PARAMS, err);
		return;
	}
	p->next = m->pending;
	m->pending = p;
	m->npending++;
}

/* notifications/cancelled: the client no longer wants that answer. */
static void
on_cancelled(struct mcp *m, json_t *params)
{
	json_t *rid = json_object_get(params, "requestId");
	struct pending *p;

	for (p = m->pending; rid && p; p = p->next) {
		if (json_equal(p->id, rid)) {
			pending_unlink(m, p);
			mcp_tools_cancel(p->call);
			pending_free(p);
			if (m->idle)
				m->idle(m->idle_arg);
			return;
		}
	}
}

static void
on_notification(struct mcp *m, const char *method, json_t *params)
{
	if (strcmp(method, "notifications/cancelled") == 0)
		on_cancelled(m, params);
	else if (strcmp(method, "notifications/initialized") != 0)
		log_debug("mcp: ignoring notification %s", method);
}

static void
on_request(struct mcp *m, json_t *id, const char *method, json_t *params)
{
	char text[300];

	if (strcmp(method, "initialize") == 0) {
		on_initialize(m, id, params);
	} else if (strcmp(method, "ping") == 0) {
		send_result(m, id, json_object());
	} else if (strcmp(method, "tools/list") == 0) {
		send_result(m, id, json_pack("{s:o}", "tools", mcp_tools_list()));
	} else if (strcmp(method, "tools/call") == 0) {
		on_tools_call(m, id, params);
	} else {
		snprintf(text, sizeof(text), "method not found: %.200s", method);
		send_error(m, id, RPC_METHOD_NOT_FOUND, text);
	}
}

static void
handle_message(struct mcp *m, json_t *msg)
{
	json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *version = json_string_value(json_object_get(msg, "jsonrpc"));

	/* MCP ids are strings or integers, never null. */
	if (id && !json_is_string(id) && !json_is_integer(id)) {
		send_error(m, NULL, RPC_INVALID_REQUEST, "id must be a string or an integer");
		return;
	}
	if (version == NULL || strcmp(version, "2.0") != 0) {
		send_error(m, id, RPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
		return;
	}
	if (method == NULL) {
		/* A response to a request of ours: we send none, so drop it. */
		if (!id || (!json_object_get(msg, "result") && !json_object_get(msg, "error")))
			send_error(m, id, RPC_INVALID_REQUEST, "method must be a string");
		return;
	}
	if (params && !json_is_object(params)) {
		if (id)
			send_error(m, id, RPC_INVALID_PARAMS, "params must be an object");
		return;
	}
	if (id == NULL)
		on_notification(m, method, params);
	else
		on_request(m, id, method, params);
}

static void
handle_line(struct mcp *m, const char *line, size_t len)
{
	json_error_t jerr;
	char text[300];
	json_t *msg;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	/* Any JSON value parses, so that a scalar is -32600 rather than -32700. */
	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (msg == NULL) {
		snprintf(text, sizeof(text), "parse error: %s", jerr.text);
		send_error(m, NULL, RPC_PARSE_ERROR, text);
		return;
	}
	if (json_is_array(msg))
		send_error(m, NULL, RPC_INVALID_REQUEST, "batches are not supported");
	else if (!json_is_object(msg))
		send_error(m, NULL, RPC_INVALID_REQUEST, "a message must be a JSON object");
	else
		handle_message(m, msg);
	json_decref(msg);
}

void
mcp_feed(struct mcp *m, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		if (!m->skipping && buf_append(&m->line, data, n) == -1) {
			buf_reset(&m->line);
			m->skipping = true;
			send_error(m, NULL, RPC_INVALID_REQUEST, "message too large");
		}
		if (nl) {
			if (!m->skipping)
				handle_line(m, m->line.data ? m->line.data : "", m->line.len);
			buf_reset(&m->line);
			m->skipping = false;
			n++;
		}
		data += n;
		len -= n;
	}
}

struct mcp *
mcp_new(struct loop *loop, struct seerr *seerr, const struct person *person, mcp_write_fn *write,
        void *write_arg)
{
	struct mcp *m = xcalloc(1, sizeof(*m));

	m->env.loop = loop;
	m->env.seerr = seerr;
	m->env.person = person;
	m->write = write;
	m->write_arg = write_arg;
	buf_init(&m->line, MCP_LINE_MAX);
	return m;
}

void
mcp_set_arrs(struct mcp *m, struct radarr *radarr, struct sonarr *sonarr)
{
	m->env.radarr = radarr;
	m->env.sonarr = sonarr;
}

void
mcp_set_store(struct mcp *m, struct store *store)
{
	m->env.store = store;
}

void
mcp_free(struct mcp *m)
{
	struct pending *p;

	if (m == NULL)
		return;
	while ((p = m->pending) != NULL) {
		m->pending = p->next;
		mcp_tools_cancel(p->call);
		pending_free(p);
	}
	buf_free(&m->line);
	free(m);
}

size_t
mcp_pending(const struct mcp *m)
{
	return m->npending;
}

void
mcp_on_idle(struct mcp *m, void (*cb)(void *arg), void *arg)
{
	m->idle = cb;
	m->idle_arg = arg;
}

/* ---- usher mcp ---- */

struct stdio_server {
	struct loop *loop;
	struct mcp *mcp;
	bool eof;
};

static int
stdout_write(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (fwrite(line, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF)
		return -1;
	return 0;
}

/* At the end of input, stops once every call has been answered. */
static void
maybe_stop(void *arg)
{
	struct stdio_server *srv = arg;

	if (srv->eof && mcp_pending(srv->mcp) == 0)
		loop_stop(srv->loop);
}

static void
on_stdin(struct loop *loop, int fd, int events, void *arg)
{
	struct stdio_server *srv = arg;
	char chunk[65536];
	ssize_t n;

	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		mcp_feed(srv->mcp, chunk, (size_t)n);
		return;
	}
	if (n < 0)
		log_warn("mcp: reading stdin");
	loop_unwatch_fd(loop, fd);
	srv->eof = true;
	/* A last line without its newline still counts. */
	mcp_feed(srv->mcp, "\n", 1);
	maybe_stop(srv);
}

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	(void)arg;
	if (signo == SIGHUP)
		return;
	log_info("mcp: %s: stopping", strsignal(signo));
	loop_stop(loop);
}

static const char mcp_usage[] = "usage: usher mcp [--config FILE] [--as PERSON]\n";

static int
serve(const struct config *cfg, const struct person *person)
{
	struct stdio_server srv = {0};
	struct http *http;
	struct seerr *seerr;
	struct radarr *radarr;
	struct sonarr *sonarr;
	struct store *store;
	char err[512];
	int rc = 0;

	/* Without the store, requests made here would not be followed: the
	 * person would never hear they are ready. Say so, but still serve. */
	store = store_open_config(cfg, err, sizeof(err));
	if (store == NULL)
		log_warnx("mcp: requests made here will not be followed: %s", err);
	srv.loop = loop_new();
	if (srv.loop == NULL)
		fatalx("out of memory");
	http = http_new(srv.loop);
	if (http == NULL)
		fatalx("cannot start the HTTP client");
	seerr = seerr_new(http, cfg);
	radarr = radarr_new(http, cfg);
	sonarr = sonarr_new(http, cfg);
	srv.mcp = mcp_new(srv.loop, seerr, person, stdout_write, NULL);
	mcp_set_arrs(srv.mcp, radarr, sonarr);
	mcp_set_store(srv.mcp, store);
	mcp_on_idle(srv.mcp, maybe_stop, &srv);
	if (loop_handle_signals(srv.loop, on_signal, NULL) == -1 ||
	    loop_watch_fd(srv.loop, STDIN_FILENO, LOOP_READ, on_stdin, &srv) == -1) {
		log_warn("mcp: cannot watch stdin");
		rc = 1;
	} else {
		log_info("mcp: serving on stdio as %s", person->name);
		if (loop_run(srv.loop) == -1) {
			log_warn("event loop failed");
			rc = 1;
		}
	}
	mcp_free(srv.mcp);
	radarr_free(radarr);
	sonarr_free(sonarr);
	seerr_free(seerr);
	http_free(http);
	loop_free(srv.loop);
	store_close(store);
	return rc;
}

static const char *
default_config_path(void)
{
	const char *env = getenv("USHER_CONFIG");

	if (env && *env)
		return env;
	if (access("usher.conf", F_OK) == 0)
		return "usher.conf";
	return "/etc/usher/usher.conf";
}

/* The person the client acts as, or NULL after saying why on stderr. */
static const struct person *
choose_person(const struct config *cfg, const struct people *people, const char *path,
              const char *as)
{
	const struct person *person;

	if (as == NULL)
		as = config_get(cfg, "mcp", "person");
	if (as == NULL || *as == '\0') {
		fprintf(stderr,
		        "usher mcp: say whom the MCP client acts as: --as NAME, or person = NAME "
		        "in the [mcp] section of %s\n",
		        path);
		return NULL;
	}
	person = people_by_name(people, as);
	if (person == NULL)
		fprintf(stderr, "usher mcp: there is no [person %s] in %s\n", as, path);
	return person;
}

int
mcp_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"as", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = default_config_path(), *as = NULL;
	const struct person *person;
	struct people *people;
	struct config *cfg;
	enum log_level level;
	size_t i;
	int ch, rc = 2;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:a:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'h':
			fputs(mcp_usage, stdout);
			return 0;
		default:
			fputs(mcp_usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usher mcp: unexpected argument '%s'\n%s", argv[optind], mcp_usage);
		return 2;
	}
	cfg = config_load(path, NULL);
	if (cfg == NULL)
		fatalx("out of memory");
	for (i = 0; i < config_problem_count(cfg); i++) {
		const struct config_problem *p = config_problem_at(cfg, i);

		fprintf(stderr, "%s: %s: %s\n", p->where,
		        p->severity == CONFIG_ERROR ? "error" : "warning", p->message);
	}
	if (!config_ok(cfg)) {
		fprintf(stderr, "usher mcp: not starting until the configuration is fixed\n");
		config_free(cfg);
		return 2;
	}
	if (!config_has_section(cfg, "seerr")) {
		fprintf(stderr, "usher mcp: %s has no [seerr] section; the tools need Overseerr\n",
		        path);
		config_free(cfg);
		return 2;
	}
	people = people_new(cfg);
	person = choose_person(cfg, people, path, as);
	if (person != NULL) {
		if (log_level_parse(config_get(cfg, "usher", "log_level"), &level) == 0)
			log_set_level(level);
		/* A client that hangs up must not kill usher mid-answer. */
		signal(SIGPIPE, SIG_IGN);
		rc = serve(cfg, person);
	}
	people_free(people);
	config_free(cfg);
	return rc;
}

/*
 * progress: who hears "ready" and where (notify = room | dm | both, and
 * always directly for a request made without a room), rows written by
 * another process adopted by a running tracker, per-state counts, and the
 * FileBrowser link. Seerr is the loopback fake; the host records what
 * would be said.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bot/progress.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "services/seerr.h"

#include "fake_server.h"

#define SAID_MAX 16

struct said {
	char where[64]; /* "room:ROOM" or "direct:PERSON" */
	char text[600];
	char key[128];
};

struct host_log {
	struct said said[SAID_MAX];
	int n;
	bool direct_fails;
};

static void
host_note(struct host_log *h, const char *where, const char *who, const struct chat_out *out)
{
	struct said *s;

	if (h->n >= SAID_MAX)
		return;
	s = &h->said[h->n++];
	snprintf(s->where, sizeof(s->where), "%s:%s", where, who);
	snprintf(s->text, sizeof(s->text), "%s", out->text);
	snprintf(s->key, sizeof(s->key), "%s", out->key ? out->key : "");
}

static int
host_send(void *arg, const char *network, const char *room, const struct chat_out *out,
          gateway_done_cb *done, void *done_arg)
{
	struct host_log *h = arg;
	char id[16];

	(void)network;
	host_note(h, "room", room, out);
	snprintf(id, sizeof(id), "m%d", h->n);
	if (done)
		done(done_arg, 0, id, NULL);
	return 0;
}

static int
host_edit(void *arg, const char *network, const char *room, const char *msg_id,
          const struct chat_out *out, gateway_done_cb *done, void *done_arg)
{
	struct host_log *h = arg;

	(void)network;
	host_note(h, "edit", room, out);
	if (done)
		done(done_arg, 0, msg_id, NULL);
	return 0;
}

static bool
host_can_edit(void *arg, const char *network)
{
	(void)arg;
	(void)network;
	return true;
}

static int
host_direct(void *arg, const char *person, const char *network, const struct chat_out *out,
            gateway_done_cb *done, void *done_arg)
{
	struct host_log *h = arg;

	(void)network;
	if (h->direct_fails)
		return -1;
	host_note(h, "direct", person, out);
	if (done)
		done(done_arg, 0, "d1", NULL);
	return 0;
}

struct env {
	char dir[64];
	char db[96];
	struct fake seerr;
	struct config *cfg;
	struct loop *loop;
	struct http *http;
	struct seerr *client;
	struct store *st;
	struct host_log log;
	struct progress *p;
};

/* Seerr's list answers with one request: `status`, media `media`, after
 * `delay_ms`. */
static void
seerr_says_after(struct env *e, long id, long tmdb, int status, int media, int delay_ms)
{
	json_t *routes = json_pack(
	    "[{s:s, s:s, s:i, s:{s:{s:i, s:i, s:i, s:i}, s:[{s:I, s:i, s:s, s:b, s:{s:I, s:s, "
	    "s:i}, s:{s:i}}]}}]",
	    "method", "GET", "path", "/api/v1/request", "delay_ms", delay_ms, "json", "pageInfo",
	    "pages", 1, "pageSize", 100, "results", 1, "page", 1, "results", "id", (json_int_t)id,
	    "status", status, "type", "movie", "is4k", 0, "media", "tmdbId", (json_int_t)tmdb,
	    "mediaType", "movie", "status", media, "requestedBy", "id", 2);

	assert_int_equal(fake_set_routes(&e->seerr, routes), 0);
}

static void
seerr_says(struct env *e, long id, long tmdb, int status, int media)
{
	seerr_says_after(e, id, tmdb, status, media, 0);
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char conf[128], text[256], err[256];
	struct progress_services svc;
	struct progress_host host = {.send = host_send,
	                             .edit = host_edit,
	                             .can_edit = host_can_edit,
	                             .send_direct = host_direct};
	FILE *f;

	log_set_level(LOG_LEVEL_ERROR);
	e->seerr.pid = -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/usher-test-progress-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(fake_start(&e->seerr), 0);
	snprintf(conf, sizeof(conf), "%s/usher.conf", e->dir);
	snprintf(text, sizeof(text), "[seerr]\nurl = http://127.0.0.1:%d\napi_key = k\n",
	         e->seerr.port);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	e->cfg = config_load(conf, (char *const[]){NULL});
	assert_non_null(e->cfg);
	e->loop = loop_new();
	e->http = http_new(e->loop);
	e->client = seerr_new(e->http, e->cfg);
	assert_non_null(e->client);
	snprintf(e->db, sizeof(e->db), "%s/usher.db", e->dir);
	e->st = store_open(e->db, err, sizeof(err));
	assert_non_null(e->st);
	memset(&svc, 0, sizeof(svc));
	svc.seerr = e->client;
	host.arg = &e->log;
	e->p = progress_new(e->loop, e->st, &svc, &host, 3600 * 1000, 0);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	progress_free(e->p);
	store_close(e->st);
	seerr_free(e->client);
	http_free(e->http);
	loop_free(e->loop);
	config_free(e->cfg);
	fake_stop(&e->seerr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* One cycle, to its end (at most 10 s). */
static void
cycle(struct env *e)
{
	unsigned long long deadline = fake_now_ms() + 10000;

	progress_cycle_now(e->p);
	while (progress_cycle_running(e->p) && fake_now_ms() < deadline)
		loop_run_once(e->loop, 100);
	assert_false(progress_cycle_running(e->p));
}

static const struct said *
said_at(const struct env *e, const char *where)
{
	int i;

	for (i = 0; i < e->log.n; i++)
		if (strcmp(e->log.said[i].where, where) == 0)
			return &e->log.said[i];
	return NULL;
}

static void
test_enqueued_row_is_adopted_and_told_directly(void **state)
{
	struct env *e = *state;
	char err[256];
	struct store *other = store_open(e->db, err, sizeof(err)); /* as `usher mcp` */
	struct progress_item it = {.seerr_request_id = 7,
	                           .kind = SEERR_MOVIE,
	                           .tmdb_id = 438631,
	                           .label = "Dune (2021)",
	                           .person = "mum",
	                           .notify = NOTIFY_ROOM};
	const struct said *s;

	assert_non_null(other);
	progress_resume(e->p);
	assert_int_equal(progress_active(e->p), 0);
	assert_int_equal(progress_enqueue(other, &it), 0);
	store_close(other);
	seerr_says(e, 7, 438631, 2, 5);
	cycle(e);
	/* No room: nothing but "ready", and that directly, whatever notify. */
	assert_int_equal(e->log.n, 1);
	s = said_at(e, "direct:mum");
	assert_non_null(s);
	assert_string_equal(s->text, "Dune (2021) is ready to watch.");
	assert_string_equal(s->key, "track-1-ready-mum-dm");
	assert_int_equal(progress_active(e->p), 0);
	/* Told once: the row is done, the next cycle adopts nothing. */
	cycle(e);
	assert_int_equal(e->log.n, 1);
}

static void
track_dad(struct env *e, enum person_notify notify)
{
	struct progress_item it = {.seerr_request_id = 9,
	                           .kind = SEERR_MOVIE,
	                           .tmdb_id = 157336,
	                           .label = "Interstellar (2014)",
	                           .network = "console",
	                           .room = "den",
	                           .person = "dad",
	                           .notify = notify};

	assert_int_equal(progress_track(e->p, &it), 0);
}

static void
test_notify_both(void **state)
{
	struct env *e = *state;
	const struct said *s;
	size_t counts[PROGRESS_FAILED + 1];

	track_dad(e, NOTIFY_BOTH);
	seerr_says(e, 9, 157336, 1, 2);
	cycle(e);
	progress_count_by_state(e->p, counts);
	assert_int_equal(counts[PROGRESS_WAITING_APPROVAL], 1);
	assert_int_equal(counts[PROGRESS_DOWNLOADING], 0);
	assert_int_equal(e->log.n, 1);
	assert_string_equal(e->log.said[0].text,
	                    "Interstellar (2014): waiting for an admin to approve it");
	seerr_says(e, 9, 157336, 2, 5);
	cycle(e);
	s = said_at(e, "room:den");
	assert_non_null(s);
	s = said_at(e, "direct:dad");
	assert_non_null(s);
	assert_string_equal(s->text, "Interstellar (2014) is ready to watch.");
	assert_string_equal(e->log.said[e->log.n - 1].where, "room:den");
	assert_string_equal(e->log.said[e->log.n - 1].text,
	                    "@dad Interstellar (2014) is ready to watch.");
	assert_string_equal(e->log.said[e->log.n - 1].key, "track-1-ready-dad");
	progress_count_by_state(e->p, counts);
	assert_int_equal(counts[PROGRESS_WAITING_APPROVAL], 0);
}

static void
test_notify_dm_only(void **state)
{
	struct env *e = *state;
	int i, in_room = 0;

	track_dad(e, NOTIFY_DM);
	seerr_says(e, 9, 157336, 2, 5);
	cycle(e);
	assert_non_null(said_at(e, "direct:dad"));
	for (i = 0; i < e->log.n; i++)
		in_room += strstr(e->log.said[i].text, "@dad") != NULL;
	assert_int_equal(in_room, 0);
}

static void
test_notify_dm_unreachable_falls_back_to_room(void **state)
{
	struct env *e = *state;

	e->log.direct_fails = true;
	track_dad(e, NOTIFY_DM);
	seerr_says(e, 9, 157336, 2, 5);
	cycle(e);
	assert_null(said_at(e, "direct:dad"));
	assert_string_equal(e->log.said[e->log.n - 1].text,
	                    "@dad Interstellar (2014) is ready to watch.");
}

/* A webhook's poke while a cycle is out: that cycle's answer may predate
 * the news, so another cycle follows at once instead of an interval (an
 * hour here) later. */
static void
test_poke_during_cycle(void **state)
{
	struct env *e = *state;
	unsigned long long until;

	track_dad(e, NOTIFY_ROOM);
	seerr_says(e, 9, 157336, 2, 3);
	cycle(e);
	assert_string_equal(e->log.said[e->log.n - 1].text,
	                    "Interstellar (2014): searching: no release found yet");
	/* The Seerr answer on its way still says "processing"; then Seerr
	 * says "available" and pushes its webhook. */
	seerr_says_after(e, 9, 157336, 2, 3, 800);
	progress_cycle_now(e->p);
	until = fake_now_ms() + 300;
	while (fake_now_ms() < until)
		loop_run_once(e->loop, 50);
	assert_true(progress_cycle_running(e->p));
	seerr_says(e, 9, 157336, 2, 5);
	progress_poke(e->p);
	until = fake_now_ms() + 10000;
	while (said_at(e, "room:den") == NULL ||
	       strstr(e->log.said[e->log.n - 1].text, "ready") == NULL) {
		if (fake_now_ms() > until)
			break;
		loop_run_once(e->loop, 100);
	}
	assert_string_equal(e->log.said[e->log.n - 1].text,
	                    "@dad Interstellar (2014) is ready to watch.");
}

static void
test_library_link(void **state)
{
	char *s;

	(void)state;
	s = progress_library_link("http://files.home:8080/", "/data/media/", "/media",
	                          "/data/media/movies/Dune (2021)");
	assert_string_equal(s, "http://files.home:8080/files/media/movies/Dune%20%282021%29");
	free(s);
	s = progress_library_link("http://fb", "/data/media", "/", "/data/media/tv/Severance");
	assert_string_equal(s, "http://fb/files/tv/Severance");
	free(s);
	/* A sibling folder sharing the prefix is not under the root. */
	assert_null(progress_library_link("http://fb", "/data/media", "/", "/data/mediaX/tv"));
	assert_null(progress_library_link("http://fb", "/data/media", "/", "/srv/tv"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enqueued_row_is_adopted_and_told_directly, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_notify_both, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_dm_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_dm_unreachable_falls_back_to_room, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_poke_during_cycle, setup, teardown),
	    cmocka_unit_test(test_library_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

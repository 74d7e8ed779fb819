#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arr_test_util.h"
#include "core/util.h"
#include "services/radarr.h"

struct fx {
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct radarr *radarr;
};

/* What a queue call saw. */
struct qres {
	int calls;
	struct service_result res;
	struct arr_queue_item items[8];
	char titles[8][128], msgs[8][256], ids[8][64], states[8][32];
	size_t count, total;
};

static void
on_queue(const struct service_result *res, const struct arr_queue *q, void *arg)
{
	struct qres *r = arg;

	r->calls++;
	r->res = *res;
	if (q == NULL)
		return;
	r->count = q->count;
	r->total = q->total_records;
	for (size_t i = 0; i < q->count && i < 8; i++) {
		r->items[i] = q->items[i];
		/* The strings are borrowed: copy what the tests look at. */
		snprintf(r->titles[i], sizeof(r->titles[i]), "%s", q->items[i].title);
		snprintf(r->msgs[i], sizeof(r->msgs[i]), "%s", q->items[i].status_messages);
		snprintf(r->ids[i], sizeof(r->ids[i]), "%s", q->items[i].download_id);
		snprintf(r->states[i], sizeof(r->states[i]), "%s", q->items[i].status);
	}
	if (q->count == 3) /* the two-page queue */
		assert_ptr_equal(arr_queue_find(q, "8c212779b4abde7c6bc608063a0d008b7e40ce32"),
		                 &q->items[0]);
	assert_null(arr_queue_find(q, "ffff"));
}

static struct fx *
fx_new(const char *url_suffix, const char *key)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[128], keyv[128];
	const char *env[] = {url, keyv, "USHER_RADARR_TIMEOUT_MS=5000", NULL};

	snprintf(url, sizeof(url), "USHER_RADARR_URL=http://127.0.0.1:%d%s", fake.port, url_suffix);
	snprintf(keyv, sizeof(keyv), "USHER_RADARR_API_KEY=%s", key);
	arr_env_open(&f->loop, &f->http, &f->cfg, env);
	f->radarr = radarr_new(f->http, f->cfg);
	assert_non_null(f->radarr);
	return f;
}

static void
fx_free(struct fx *f)
{
	radarr_free(f->radarr);
	arr_env_close(f->loop, f->http, f->cfg);
	free(f);
}

static json_t *
route(const char *path, const char *page, const char *fixture)
{
	json_t *r = json_pack("{s:s, s:s, s:i, s:o, s:{s:s}}", "method", "GET", "path", path,
	                      "status", 200, "json", fake_fixture(fixture), "require_headers",
	                      "X-Api-Key", "radarr-key-1234");

	if (page != NULL)
		json_object_set_new(r, "query", json_pack("{s:s}", "page", page));
	return r;
}

static void
test_queue_pages(void **state)
{
	struct fx *f = fx_new("/radarr/", "radarr-key-1234");
	struct qres r = {0};
	json_t *reqs, *req;
	size_t i;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake,
	                    json_pack("[o, o, {s:s, s:{s:i, s:s, s:i, s:i}}]",
	                              route("/radarr/api/v3/queue", "1", "radarr_queue_p1.json"),
	                              route("/radarr/api/v3/queue", "2", "radarr_queue_p2.json"),
	                              "path", "/radarr/api/v3/movie/19", "json", "id", 19, "title",
	                              "Heat", "year", 1995, "tmdbId", 949)),
	    0);
	radarr_queue(f->radarr, on_queue, &r);
	/* Never from inside the call that started it. */
	assert_int_equal(r.calls, 0);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.total, 3);

	/* A full record. */
	assert_int_equal(r.items[0].id, 1833454012);
	assert_int_equal(r.items[0].media_id, 17);
	assert_int_equal(r.items[0].tmdb_id, 438631);
	assert_string_equal(r.titles[0], "Dune (2021)");
	assert_int_equal(r.items[0].size, 15032385536LL);
	assert_int_equal(r.items[0].sizeleft, 4294967296LL);
	assert_true(r.items[0].percent > 71.42 && r.items[0].percent < 71.43);
	assert_string_equal(r.states[0], "downloading");
	assert_int_equal(r.items[0].tracked_state, ARR_TRACKED_DOWNLOADING);
	assert_int_equal(r.items[0].tracked_status, ARR_STATUS_OK);
	assert_int_equal(r.items[0].timeleft_s, 12 * 60 + 31);
	assert_int_equal(r.items[0].estimated_completion, 1736075551);
	assert_string_equal(r.ids[0], "8C212779B4ABDE7C6BC608063A0D008B7E40CE32");
	assert_int_equal(r.items[0].protocol, ARR_PROTOCOL_TORRENT);
	assert_string_equal(r.msgs[0], "");

	/* Optional fields left out: no year, no timeleft, messages joined. */
	assert_string_equal(r.titles[1], "Amélie");
	assert_int_equal(r.items[1].timeleft_s, -1);
	assert_int_equal(r.items[1].estimated_completion, 0);
	assert_int_equal(r.items[1].tracked_state, ARR_TRACKED_IMPORT_PENDING);
	assert_int_equal(r.items[1].tracked_status, ARR_STATUS_WARNING);
	assert_true(r.items[1].percent == 100.0);
	assert_string_equal(r.msgs[1],
	                    "Not an upgrade for existing movie file; Sample; One or more "
	                    "movies expected in this release were not imported");

	/* No movie included: the film looked up by its id; a TimeSpan with
	 * days. */
	assert_string_equal(r.titles[2], "Heat (1995)");
	assert_int_equal(r.items[2].tmdb_id, 949);
	assert_int_equal(r.items[2].media_id, 19);
	assert_int_equal(r.items[2].tracked_state, ARR_TRACKED_FAILED_PENDING);
	assert_int_equal(r.items[2].timeleft_s, 86400 + 2 * 3600 + 3 * 60 + 4);
	assert_int_equal(r.items[2].protocol, ARR_PROTOCOL_USENET);
	assert_true(r.items[2].percent == 75.0);

	/* Exactly the requests usher must send: key in a header, never in
	 * the URL; the base path kept; no movie in each record; the film
	 * the records did not name looked up once. */
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 3);
	json_array_foreach(reqs, i, req)
	{
		char page[24];

		assert_string_equal(json_string_value(json_object_get(req, "method")), "GET");
		assert_null(fake_req_query(req, "apikey"));
		assert_string_equal(fake_req_header(req, "X-Api-Key"), "radarr-key-1234");
		if (i == 2) {
			assert_string_equal(json_string_value(json_object_get(req, "path")),
			                    "/radarr/api/v3/movie/19");
			continue;
		}
		snprintf(page, sizeof(page), "%zu", i + 1);
		assert_string_equal(json_string_value(json_object_get(req, "path")),
		                    "/radarr/api/v3/queue");
		assert_string_equal(fake_req_query(req, "page"), page);
		assert_string_equal(fake_req_query(req, "pageSize"), "1000");
		assert_null(fake_req_query(req, "includeMovie"));
	}
	json_decref(reqs);

	/* The next call knows the film: no look-up. */
	memset(&r, 0, sizeof(r));
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_string_equal(r.titles[2], "Heat (1995)");
	assert_int_equal(r.items[2].tmdb_id, 949);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 5);
	json_decref(reqs);
	fx_free(f);
}

/* A queue answered in one page, the same twice, then changed: the second
 * answer gives the same records, the third the new ones; a film whose
 * look-up failed is asked about again next time, one that left the queue
 * is forgotten. */
static void
test_queue_same_and_changed(void **state)
{
	struct fx *f = fx_new("", "radarr-key-1234");
	struct qres r = {0};
	json_t *reqs, *page = fake_fixture("radarr_queue_p2.json");

	(void)state;
	json_object_set_new(page, "page", json_integer(1));
	json_object_set_new(page, "totalRecords", json_integer(1));
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:O}, {s:s, s:i, s:s}]", "path",
	                                     "/api/v3/queue", "json", page, "path",
	                                     "/api/v3/movie/19", "status", 500, "body", "down")),
	    0);
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(r.count, 1);
	/* Radarr could not name it: the record stands, with the release. */
	assert_string_equal(r.titles[0], "Some.Usenet.Release");
	assert_int_equal(r.items[0].tmdb_id, 0);

	assert_int_equal(fake_set_routes(&fake, json_pack("[{s:s, s:O}, {s:s, s:{s:i, s:s, s:i}}]",
	                                                  "path", "/api/v3/queue", "json", page,
	                                                  "path", "/api/v3/movie/19", "json", "id",
	                                                  19, "title", "Heat", "tmdbId", 949)),
	                 0);
	memset(&r, 0, sizeof(r));
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.titles[0], "Heat");
	assert_int_equal(r.items[0].tmdb_id, 949);
	assert_int_equal(r.items[0].sizeleft, 250);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 2); /* the queue, the film again */
	json_decref(reqs);

	/* Changed: the new sizeleft shows. */
	json_object_set_new(json_array_get(json_object_get(page, "records"), 0), "sizeleft",
	                    json_integer(100));
	assert_int_equal(fake_set_routes(&fake, json_pack("[{s:s, s:O}]", "path", "/api/v3/queue",
	                                                  "json", page)),
	                 0);
	memset(&r, 0, sizeof(r));
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.items[0].sizeleft, 100);
	assert_int_equal(r.items[0].tmdb_id, 949);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 1); /* the film is known */
	json_decref(reqs);
	json_decref(page);
	fx_free(f);
}

static void
test_wrong_key(void **state)
{
	struct fx *f = fx_new("", "wrong-key-0000");
	struct qres r = {0};

	(void)state;
	assert_int_equal(fake_set_routes(&fake, json_pack("[o]", route("/api/v3/queue", NULL,
	                                                               "radarr_queue_p2.json"))),
	                 0);
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_int_equal(r.res.http_status, 401);
	assert_non_null(strstr(r.res.message, "Radarr rejected the API key (401)"));
	assert_non_null(strstr(r.res.message, "api_key in [radarr]"));
	/* The key itself never goes into a message. */
	assert_null(strstr(r.res.message, "wrong-key"));
	fx_free(f);
}

static void
test_refused(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct qres r = {0};
	char url[128];
	const char *env[] = {url, "USHER_RADARR_API_KEY=k", NULL};

	(void)state;
	snprintf(url, sizeof(url), "USHER_RADARR_URL=http://127.0.0.1:%d", closed_port());
	arr_env_open(&f->loop, &f->http, &f->cfg, env);
	f->radarr = radarr_new(f->http, f->cfg);
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_UNREACHABLE);
	assert_int_equal(r.res.http_status, 0);
	assert_true(str_starts_with(r.res.message, "Radarr isn't answering ("));
	assert_non_null(strstr(r.res.message, "refused"));
	fx_free(f);
}

static void
expect_queue_error(json_t *route_spec, enum service_error want, long status, const char *words)
{
	struct fx *f = fx_new("", "radarr-key-1234");
	struct qres r = {0};

	assert_int_equal(fake_set_routes(&fake, json_pack("[o]", route_spec)), 0);
	radarr_queue(f->radarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 15000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, want);
	assert_int_equal(r.res.http_status, status);
	if (strstr(r.res.message, words) == NULL)
		fail_msg("message '%s' lacks '%s'", r.res.message, words);
	fx_free(f);
}

static void
test_bad_bodies(void **state)
{
	(void)state;
	expect_queue_error(json_pack("{s:s, s:s}", "path", "/api/v3/queue", "body", "{\"page\":1,"),
	                   SERVICE_BAD_RESPONSE, 200, "can't read (malformed JSON");
	expect_queue_error(json_pack("{s:s, s:s}", "path", "/api/v3/queue", "body",
	                             "<html><body>Login</body></html>"),
	                   SERVICE_BAD_RESPONSE, 200, "HTML");
	/* The right JSON but the wrong shape. */
	expect_queue_error(json_pack("{s:s, s:[i]}", "path", "/api/v3/queue", "json", 1),
	                   SERVICE_BAD_RESPONSE, 200, "queue usher can't read");
	/* Past the 8 MiB cap. */
	expect_queue_error(
	    json_pack("{s:s, s:i}", "path", "/api/v3/queue", "body_size", 9 * 1024 * 1024),
	    SERVICE_BAD_RESPONSE, 0, "too large");
	expect_queue_error(json_pack("{s:s, s:i, s:{s:s}}", "path", "/api/v3/queue", "status", 500,
	                             "json", "message", "database is locked"),
	                   SERVICE_SERVER, 500, "internal error (500): database is locked");
	/* A base path missing from the url: Radarr's UI answers 404. */
	expect_queue_error(json_pack("{s:s, s:i, s:s}", "path", "/api/v3/queue", "status", 404,
	                             "body", "Not Found"),
	                   SERVICE_NOT_FOUND, 404, "Radarr doesn't know that (404)");
}

struct mres {
	int calls;
	struct service_result res;
	bool found;
	struct radarr_movie m;
	char title[64], path[64], root[64];
};

static void
on_movie(const struct service_result *res, const struct radarr_movie *m, void *arg)
{
	struct mres *r = arg;

	r->calls++;
	r->res = *res;
	r->found = m != NULL;
	if (m) {
		r->m = *m;
		snprintf(r->title, sizeof(r->title), "%s", m->title);
		snprintf(r->path, sizeof(r->path), "%s", m->path);
		snprintf(r->root, sizeof(r->root), "%s", m->root_folder_path);
	}
}

static void
test_movie_by_tmdb(void **state)
{
	struct fx *f = fx_new("", "radarr-key-1234");
	struct mres r = {0}, none = {0};
	json_t *reqs;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:{s:s}, s:o}, {s:s, s:{s:s}, s:[]}]", "path",
	                                     "/api/v3/movie", "query", "tmdbId", "438631", "json",
	                                     fake_fixture("radarr_movie.json"), "path",
	                                     "/api/v3/movie", "query", "tmdbId", "1", "json")),
	    0);
	radarr_movie_by_tmdb(f->radarr, 438631, on_movie, &r);
	radarr_movie_by_tmdb(f->radarr, 1, on_movie, &none);
	run_until(f->loop, &r.calls, 1, 10000);
	run_until(f->loop, &none.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_true(r.found);
	assert_int_equal(r.m.id, 17);
	assert_int_equal(r.m.tmdb_id, 438631);
	assert_int_equal(r.m.year, 2021);
	assert_true(r.m.has_file);
	assert_true(r.m.monitored);
	assert_string_equal(r.title, "Dune");
	assert_string_equal(r.path, "/movies/Dune (2021)");
	assert_string_equal(r.root, "/movies/");
	/* Not in the library is not an error. */
	assert_int_equal(none.calls, 1);
	assert_int_equal(none.res.error, SERVICE_OK);
	assert_false(none.found);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 2);
	json_decref(reqs);
	fx_free(f);
}

struct sres {
	int calls;
	struct service_result res;
	char version[32];
};

static void
on_status(const struct service_result *res, const char *version, void *arg)
{
	struct sres *r = arg;

	r->calls++;
	r->res = *res;
	snprintf(r->version, sizeof(r->version), "%s", version ? version : "(null)");
}

static void
test_status_and_cancel(void **state)
{
	struct fx *f = fx_new("", "radarr-key-1234");
	struct sres r = {0}, cancelled = {0};
	struct arr_call *c;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:{s:s, s:s}, s:i}]", "path",
	                                     "/api/v3/system/status", "json", "appName", "Radarr",
	                                     "version", "5.14.0.9383", "delay_ms", 200)),
	    0);
	radarr_system_status(f->radarr, on_status, &r);
	c = radarr_system_status(f->radarr, on_status, &cancelled);
	arr_cancel(c);
	run_until(f->loop, &r.calls, 1, 10000);
	run_for(f->loop, 400);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_string_equal(r.version, "5.14.0.9383");
	assert_int_equal(cancelled.calls, 0);
	/* Freeing with a call in flight calls nobody back. */
	radarr_system_status(f->radarr, on_status, &cancelled);
	radarr_free(f->radarr);
	f->radarr = NULL;
	run_for(f->loop, 400);
	assert_int_equal(cancelled.calls, 0);
	fx_free(f);
}

static void
test_absent_section(void **state)
{
	const char *env[] = {"USHER_SONARR_URL=http://127.0.0.1:1", NULL};
	struct config *cfg = config_from_env(env);
	struct loop *loop = loop_new();
	struct http *http = http_new(loop);

	(void)state;
	assert_null(radarr_new(http, cfg));
	http_free(http);
	loop_free(loop);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue_pages),    cmocka_unit_test(test_wrong_key),
	    cmocka_unit_test(test_refused),        cmocka_unit_test(test_bad_bodies),
	    cmocka_unit_test(test_movie_by_tmdb),  cmocka_unit_test(test_status_and_cancel),
	    cmocka_unit_test(test_absent_section), cmocka_unit_test(test_queue_same_and_changed),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, fake_group_setup, fake_group_teardown);
}

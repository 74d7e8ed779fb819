#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arr_test_util.h"
#include "services/sonarr.h"

struct fx {
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct sonarr *sonarr;
};

static struct fx *
fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[128];
	const char *env[] = {url, "USHER_SONARR_API_KEY=sonarr-key-5678", NULL};

	snprintf(url, sizeof(url), "USHER_SONARR_URL=http://127.0.0.1:%d", fake.port);
	arr_env_open(&f->loop, &f->http, &f->cfg, env);
	f->sonarr = sonarr_new(f->http, f->cfg);
	assert_non_null(f->sonarr);
	return f;
}

static void
fx_free(struct fx *f)
{
	sonarr_free(f->sonarr);
	arr_env_close(f->loop, f->http, f->cfg);
	free(f);
}

struct qres {
	int calls;
	struct service_result res;
	size_t count;
	struct arr_queue_item items[4];
	char titles[4][64], eps[4][64];
	const void *found;
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
	for (size_t i = 0; i < q->count && i < 4; i++) {
		r->items[i] = q->items[i];
		snprintf(r->titles[i], sizeof(r->titles[i]), "%s", q->items[i].title);
		snprintf(r->eps[i], sizeof(r->eps[i]), "%s", q->items[i].episode_title);
	}
	r->found = arr_queue_find(q, "abcdef0123456789abcdef0123456789abcdef01");
}

static void
test_queue(void **state)
{
	struct fx *f = fx_new();
	struct qres r = {0};
	json_t *reqs, *req;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:o, s:{s:s}}]", "path", "/api/v3/queue",
	                                     "json", fake_fixture("sonarr_queue.json"),
	                                     "require_headers", "X-Api-Key", "sonarr-key-5678")),
	    0);
	sonarr_queue(f->sonarr, on_queue, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	/* A season pack: one record per episode, one download. */
	assert_int_equal(r.count, 2);
	assert_non_null(r.found);
	assert_string_equal(r.titles[0], "Show (2011)");
	assert_int_equal(r.items[0].media_id, 3);
	assert_int_equal(r.items[0].tvdb_id, 121361);
	assert_int_equal(r.items[0].tmdb_id, 1399);
	assert_int_equal(r.items[0].episode_id, 120);
	assert_int_equal(r.items[0].season_number, 1);
	assert_int_equal(r.items[0].episode_number, 2);
	assert_string_equal(r.eps[0], "Pilot Part 2");
	assert_true(r.items[0].percent == 75.0);
	assert_int_equal(r.items[0].timeleft_s, 310);
	assert_int_equal(r.items[1].episode_number, 3);
	assert_int_equal(r.items[1].tmdb_id, 0);
	assert_int_equal(r.items[1].timeleft_s, -1);

	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 1);
	req = json_array_get(reqs, 0);
	assert_string_equal(fake_req_query(req, "includeSeries"), "true");
	assert_string_equal(fake_req_query(req, "includeEpisode"), "true");
	assert_string_equal(fake_req_query(req, "page"), "1");
	assert_null(fake_req_query(req, "apikey"));
	assert_string_equal(fake_req_header(req, "X-Api-Key"), "sonarr-key-5678");
	json_decref(reqs);
	fx_free(f);
}

struct sres {
	int calls;
	struct service_result res;
	bool found;
	struct sonarr_series s;
	struct sonarr_season seasons[4];
	char title[32];
};

static void
on_series(const struct service_result *res, const struct sonarr_series *s, void *arg)
{
	struct sres *r = arg;

	r->calls++;
	r->res = *res;
	r->found = s != NULL;
	if (s == NULL)
		return;
	r->s = *s;
	snprintf(r->title, sizeof(r->title), "%s", s->title);
	for (size_t i = 0; i < s->season_count && i < 4; i++)
		r->seasons[i] = s->seasons[i];
}

static void
test_series(void **state)
{
	struct fx *f = fx_new();
	struct sres r = {0}, none = {0}, bad = {0};

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake,
	                    json_pack("[{s:s, s:{s:s}, s:o}, {s:s, s:{s:s}, s:[]},"
	                              " {s:s, s:{s:s}, s:{}}]",
	                              "path", "/api/v3/series", "query", "tvdbId", "121361", "json",
	                              fake_fixture("sonarr_series.json"), "path", "/api/v3/series",
	                              "query", "tvdbId", "5", "json", "path", "/api/v3/series",
	                              "query", "tvdbId", "6", "json")),
	    0);
	sonarr_series_by_tvdb(f->sonarr, 121361, on_series, &r);
	sonarr_series_by_tvdb(f->sonarr, 5, on_series, &none);
	sonarr_series_by_tvdb(f->sonarr, 6, on_series, &bad);
	run_until(f->loop, &r.calls, 1, 10000);
	run_until(f->loop, &none.calls, 1, 10000);
	run_until(f->loop, &bad.calls, 1, 10000);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_true(r.found);
	assert_string_equal(r.title, "Show");
	assert_int_equal(r.s.id, 3);
	assert_int_equal(r.s.tmdb_id, 1399);
	assert_int_equal(r.s.season_count, 3);
	assert_int_equal(r.seasons[1].number, 1);
	assert_int_equal(r.seasons[1].episode_file_count, 8);
	assert_int_equal(r.seasons[1].episode_count, 10);
	assert_int_equal(r.seasons[0].total_episode_count, 4);
	/* A season without statistics counts zero. */
	assert_int_equal(r.seasons[2].number, 2);
	assert_int_equal(r.seasons[2].episode_file_count, 0);
	assert_int_equal(r.s.episode_file_count, 8);
	assert_int_equal(none.res.error, SERVICE_OK);
	assert_false(none.found);
	assert_int_equal(bad.res.error, SERVICE_BAD_RESPONSE);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_queue),
	    cmocka_unit_test(test_series),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, fake_group_setup, fake_group_teardown);
}

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
#include "services/prowlarr.h"

struct hres {
	int calls;
	struct service_result res;
	bool got;
	size_t count, enabled, failing;
	char failing_names[128];
	time_t disabled_till[8];
};

static void
on_health(const struct service_result *res, const struct prowlarr_health *h, void *arg)
{
	struct hres *r = arg;

	r->calls++;
	r->res = *res;
	r->got = h != NULL;
	if (h == NULL)
		return;
	r->count = h->count;
	r->enabled = h->enabled;
	r->failing = h->failing;
	for (size_t i = 0; i < h->count && i < 8; i++) {
		r->disabled_till[i] = h->indexers[i].disabled_till;
		if (h->indexers[i].enabled && h->indexers[i].failing) {
			strcat(r->failing_names, h->indexers[i].name);
			strcat(r->failing_names, ",");
		}
	}
}

static void
test_health(void **state)
{
	char url[128];
	const char *env[] = {url, "USHER_PROWLARR_API_KEY=prowlarr-key-9", NULL};
	struct loop *loop = loop_new();
	struct http *http = http_new(loop);
	struct config *cfg;
	struct prowlarr *p;
	struct hres r = {0}, err = {0};
	json_t *reqs;

	(void)state;
	snprintf(url, sizeof(url), "USHER_PROWLARR_URL=http://127.0.0.1:%d/prowlarr", fake.port);
	cfg = config_from_env(env);
	p = prowlarr_new(http, cfg);
	assert_non_null(p);
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:o, s:{s:s}}, {s:s, s:o, s:{s:s}}]", "path",
	                                     "/prowlarr/api/v1/indexer", "json",
	                                     fake_fixture("prowlarr_indexer.json"),
	                                     "require_headers", "X-Api-Key", "prowlarr-key-9",
	                                     "path", "/prowlarr/api/v1/indexerstatus", "json",
	                                     fake_fixture("prowlarr_indexerstatus.json"),
	                                     "require_headers", "X-Api-Key", "prowlarr-key-9")),
	    0);
	/* 2025-01-06: indexer 5's disabledTill (2020) has passed. */
	prowlarr_indexer_health(p, 1736121600, on_health, &r);
	run_until(loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(r.count, 5);
	assert_int_equal(r.enabled, 4);
	/* 1337x is disabled till 2030, TorrentGalaxy has a status without a
	 * date; OldTracker is failing but not enabled. */
	assert_int_equal(r.failing, 2);
	assert_string_equal(r.failing_names, "1337x,TorrentGalaxy,");
	assert_int_equal(r.disabled_till[0], 1893456000);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 2);
	json_decref(reqs);

	/* The second request failing fails the call. */
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:o}, {s:s, s:i}]", "path",
	                                     "/prowlarr/api/v1/indexer", "json",
	                                     fake_fixture("prowlarr_indexer.json"), "path",
	                                     "/prowlarr/api/v1/indexerstatus", "status", 503)),
	    0);
	prowlarr_indexer_health(p, 0, on_health, &err);
	run_until(loop, &err.calls, 1, 10000);
	assert_int_equal(err.calls, 1);
	assert_int_equal(err.res.error, SERVICE_SERVER);
	assert_false(err.got);
	assert_non_null(strstr(err.res.message, "Prowlarr had an internal error (503)"));

	prowlarr_free(p);
	http_free(http);
	config_free(cfg);
	loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_health),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, fake_group_setup, fake_group_teardown);
}

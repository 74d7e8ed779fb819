/* The Seerr client against tests/fakes/fake_seerr.py (a fresh fake per
 * test, since the fake keeps state), plus a raw socket for the one thing
 * the fake's record cannot show: the exact bytes of the query string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <strings.h>

#include "fake_server.h"

#include "core/config.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/util.h"
#include "services/seerr.h"

#define KEY "test-seerr-key"

struct fx {
	struct fake fake;
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct seerr *seerr;
};

static struct config *
make_config(const char *url, const char *key)
{
	char u[256], k[128];
	char *env[] = {u, k, NULL};

	snprintf(u, sizeof(u), "USHER_SEERR_URL=%s", url);
	snprintf(k, sizeof(k), "USHER_SEERR_API_KEY=%s", key);
	return config_load(NULL, env);
}

/* (Re)makes the client for `url` (NULL: the fake's root) and `key`. */
static void
client(struct fx *x, const char *url, const char *key)
{
	char buf[128];

	seerr_free(x->seerr);
	config_free(x->cfg);
	if (url == NULL) {
		snprintf(buf, sizeof(buf), "http://127.0.0.1:%d", x->fake.port);
		url = buf;
	}
	x->cfg = make_config(url, key);
	assert_non_null(x->cfg);
	x->seerr = seerr_new(x->http, x->cfg);
	assert_non_null(x->seerr);
}

static int
setup_with(void **state, const char *const *extra)
{
	struct fx *x = calloc(1, sizeof(*x));

	if (x == NULL || fake_start_script(&x->fake, "fakes/fake_seerr.py", extra) != 0)
		return -1;
	x->loop = loop_new();
	x->http = http_new(x->loop);
	client(x, NULL, KEY);
	*state = x;
	return 0;
}

static int
setup(void **state)
{
	return setup_with(state, NULL);
}

static int
setup_quota(void **state)
{
	static const char *const extra[] = {"--users",
	                                    USHER_TESTS_DIR "/fakes/seerr/users_quota.json", NULL};
	return setup_with(state, extra);
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	seerr_free(x->seerr);
	http_free(x->http);
	loop_free(x->loop);
	config_free(x->cfg);
	fake_stop(&x->fake);
	free(x);
	return 0;
}

static void
run_until(struct fx *x, const int *calls, int want, unsigned long long timeout_ms)
{
	unsigned long long deadline = fake_now_ms() + timeout_ms;

	while (*calls < want && fake_now_ms() < deadline)
		assert_true(loop_run_once(x->loop, 20) >= 0);
	assert_int_equal(*calls, want);
}

static void
run_for(struct fx *x, unsigned long long ms)
{
	unsigned long long deadline = fake_now_ms() + ms;

	while (fake_now_ms() < deadline)
		assert_true(loop_run_once(x->loop, 20) >= 0);
}

/* The requests the fake recorded since the last reset. */
static json_t *
recorded(struct fx *x)
{
	json_t *v = fake_requests(&x->fake);

	assert_non_null(v);
	return v;
}

static void
forget(struct fx *x)
{
	char *ans = fake_control(&x->fake, "POST", "/__fake/reset", "");

	assert_non_null(ans);
	free(ans);
}

/* Injects fault routes ahead of the fake's own handlers. */
static void
inject(struct fx *x, const char *routes_json)
{
	json_t *routes = json_loads(routes_json, 0, NULL);

	assert_non_null(routes);
	assert_int_equal(fake_set_routes(&x->fake, routes), 0);
}

/* What callbacks saw. */

struct got {
	int calls;
	struct service_result res;
	struct seerr_title items[32];
	size_t count;
	int pages;
	struct seerr_details details;
	bool has_details;
	enum seerr_create_outcome outcome;
	struct seerr_request req;
	bool has_req;
	struct seerr_request reqs[32];
	long total;
	long issue_id;
	char version[32];
};

static void
on_search(void *arg, const struct service_result *res, const struct seerr_title *items,
          size_t count, int pages)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->count = count;
	g->pages = pages;
	for (size_t i = 0; i < count && i < 32; i++)
		g->items[i] = items[i];
}

static void
on_details(void *arg, const struct service_result *res, const struct seerr_details *d)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->has_details = d != NULL;
	if (d != NULL)
		g->details = *d;
}

static void
on_create(void *arg, const struct service_result *res, enum seerr_create_outcome outcome,
          const struct seerr_request *req)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->outcome = outcome;
	g->has_req = req != NULL;
	if (req != NULL)
		g->req = *req;
}

static void
on_requests(void *arg, const struct service_result *res, const struct seerr_request *items,
            size_t count, long total)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->count = count;
	g->total = total;
	for (size_t i = 0; i < count && i < 32; i++)
		g->reqs[i] = items[i];
}

static void
on_request(void *arg, const struct service_result *res, const struct seerr_request *req)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->has_req = req != NULL;
	if (req != NULL)
		g->req = *req;
}

static void
on_issue(void *arg, const struct service_result *res, long issue_id)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	g->issue_id = issue_id;
}

static void
on_status(void *arg, const struct service_result *res, const char *version)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
	snprintf(g->version, sizeof(g->version), "%s", version);
}

static void
search(struct fx *x, long as_user, const char *q, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(seerr_search(x->seerr, as_user, q, 1, on_search, g));
	run_until(x, &g->calls, 1, 10000);
}

static void
details(struct fx *x, long as_user, enum seerr_kind kind, long id, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(seerr_details(x->seerr, as_user, kind, id, on_details, g));
	run_until(x, &g->calls, 1, 10000);
}

static void
create(struct fx *x, long as_user, const struct seerr_new_request *nr, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(seerr_create_request(x->seerr, as_user, nr, on_create, g));
	run_until(x, &g->calls, 1, 10000);
}

static void
create_movie(struct fx *x, long as_user, long tmdb_id, struct got *g)
{
	struct seerr_new_request nr = {.kind = SEERR_MOVIE, .tmdb_id = tmdb_id};

	create(x, as_user, &nr, g);
}

static void
list(struct fx *x, long as_user, enum seerr_request_filter f, long by, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(seerr_list_requests(x->seerr, as_user, f, by, 20, 0, on_requests, g));
	run_until(x, &g->calls, 1, 10000);
}

typedef struct seerr_call *request_fn(struct seerr *, long, long, seerr_request_cb *, void *);

static void
on_req(struct fx *x, request_fn *fn, long as_user, long id, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(fn(x->seerr, as_user, id, on_request, g));
	run_until(x, &g->calls, 1, 10000);
}

/* Search */

static void
test_search_keeps_films_and_shows(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs, *r;

	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_string_equal(g.res.message, "");
	/* Three films and one show; the fake also sent Denis Villeneuve. */
	assert_int_equal(g.count, 4);
	assert_int_equal(g.pages, 1);
	assert_int_equal(g.items[0].kind, SEERR_MOVIE);
	assert_int_equal(g.items[0].tmdb_id, 438631);
	assert_string_equal(g.items[0].title, "Dune");
	assert_int_equal(g.items[0].year, 2021);
	assert_string_equal(g.items[0].poster_url, "https://image.tmdb.org/t/p/w600_and_h900_bestv2"
	                                           "/d5NXSklXo0qyIYkgV94XAgMIckC.jpg");
	assert_int_equal(g.items[0].status, SEERR_MEDIA_AVAILABLE);
	assert_int_equal(g.items[0].status_4k, SEERR_MEDIA_UNKNOWN);
	assert_false(g.items[0].requested);
	assert_int_equal(g.items[1].year, 1984);
	assert_string_equal(g.items[1].poster_url, "");
	assert_int_equal(g.items[1].status, SEERR_MEDIA_UNKNOWN); /* no mediaInfo */
	for (size_t i = 0; i < g.count; i++)
		assert_true(g.items[i].kind == SEERR_MOVIE || g.items[i].kind == SEERR_TV);
	assert_int_equal(g.items[2].kind, SEERR_TV);
	assert_string_equal(g.items[2].title, "Dune: Prophecy");
	assert_int_equal(g.items[2].year, 2024);

	reqs = recorded(x);
	assert_int_equal(json_array_size(reqs), 1);
	r = json_array_get(reqs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(r, "path")), "/api/v1/search");
	assert_string_equal(fake_req_query(r, "query"), "dune");
	assert_string_equal(fake_req_query(r, "page"), "1");
	assert_string_equal(fake_req_header(r, "X-Api-Key"), KEY);
	assert_null(fake_req_header(r, "X-Api-User"));
	assert_non_null(strstr(fake_req_header(r, "Accept"), "application/json"));
	json_decref(reqs);
}

static void
test_search_query_reaches_server_whole(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs;

	search(x, 2, "Love, Death & Robots", &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.count, 1);
	assert_int_equal(g.items[0].tmdb_id, 86831);
	assert_int_equal(g.items[0].kind, SEERR_TV);

	search(x, 2, "Shōgun", &g);
	assert_int_equal(g.count, 1);
	assert_string_equal(g.items[0].title, "Shōgun");

	reqs = recorded(x);
	assert_int_equal(json_array_size(reqs), 2);
	assert_string_equal(fake_req_query(json_array_get(reqs, 0), "query"),
	                    "Love, Death & Robots");
	assert_string_equal(fake_req_header(json_array_get(reqs, 0), "X-Api-User"), "2");
	assert_string_equal(fake_req_query(json_array_get(reqs, 1), "query"), "Shōgun");
	json_decref(reqs);
}

/* The raw request line, from a socket that answers one canned page. */
static void
test_search_query_bytes(void **state)
{
	struct fx *x = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t slen = sizeof(sa);
	char url[64], head[4096] = "", answer[256];
	size_t len = 0;
	int lfd, cfd = -1;
	struct got g = {0};
	unsigned long long deadline;
	static const char page[] = "{\"page\":1,\"totalPages\":1,\"results\":[]}";
	int alen;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/base/", ntohs(sa.sin_port));
	client(x, url, KEY);

	assert_non_null(seerr_search(x->seerr, 3, "the 100: a/b & ü+", 2, on_search, &g));
	deadline = fake_now_ms() + 5000;
	while (fake_now_ms() < deadline && strstr(head, "\r\n\r\n") == NULL) {
		ssize_t n;
		head[len] = '\0';
		assert_true(loop_run_once(x->loop, 10) >= 0);
		if (cfd < 0 && (cfd = accept(lfd, NULL, NULL)) >= 0)
			fcntl(cfd, F_SETFL, O_NONBLOCK);
		if (cfd >= 0 && (n = read(cfd, head + len, sizeof(head) - len - 1)) > 0)
			len += (size_t)n;
		head[len] = '\0';
	}
	assert_true(cfd >= 0);
	assert_true(str_starts_with(head, "GET /base/api/v1/search?"
	                                  "query=the%20100%3A%20a%2Fb%20%26%20%C3%BC%2B&page=2 "
	                                  "HTTP/1.1\r\n"));
	assert_non_null(strcasestr(head, "\r\nX-Api-User: 3\r\n"));
	assert_non_null(strcasestr(head, "\r\nX-Api-Key: " KEY "\r\n"));
	alen =
	    snprintf(answer, sizeof(answer),
	             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\n\r\n%s",
	             strlen(page), page);
	fcntl(cfd, F_SETFL, 0);
	assert_int_equal(write(cfd, answer, (size_t)alen), alen);
	run_until(x, &g.calls, 1, 5000);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.count, 0);
	close(cfd);
	close(lfd);
}

static void
test_search_odd_fields(void **state)
{
	struct fx *x = *state;
	struct got g;

	/* The fixture goes in through a route file so the JSON stays readable. */
	{
		json_t *odd =
		    json_load_file(USHER_TESTS_DIR "/fakes/seerr/search_odd.json", 0, NULL);
		json_t *routes = json_pack("[{s:s, s:s, s:i, s:o}]", "method", "GET", "path",
		                           "/api/v1/search", "status", 200, "json", odd);
		assert_non_null(routes);
		assert_int_equal(fake_set_routes(&x->fake, routes), 0);
	}
	search(x, 0, "anything", &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.count, 3); /* 11, 13, 17; people, collection, junk dropped */
	assert_int_equal(g.pages, 1); /* "two" is not a number */
	assert_int_equal(g.items[0].tmdb_id, 11);
	assert_string_equal(g.items[0].title, "");
	assert_int_equal(g.items[0].year, 0);
	assert_string_equal(g.items[0].poster_url, "");
	assert_int_equal(g.items[0].status, SEERR_MEDIA_UNKNOWN);
	assert_int_equal(g.items[1].kind, SEERR_TV);
	assert_string_equal(g.items[1].title, "Odd Show");
	assert_int_equal(g.items[1].year, 0);
	assert_string_equal(g.items[1].poster_url,
	                    "https://image.tmdb.org/t/p/w600_and_h900_bestv2/no-slash.jpg");
	assert_int_equal(g.items[1].status, SEERR_MEDIA_UNKNOWN);
	assert_true(g.items[1].requested); /* a request with status 2 among junk */
	assert_int_equal(g.items[2].tmdb_id, 17);
	assert_int_equal(g.items[2].year, 1999);
	assert_int_equal(g.items[2].status, SEERR_MEDIA_PENDING);
	assert_false(g.items[2].requested); /* only a declined request */
}

static void
test_malformed_and_wrong_shape(void **state)
{
	struct fx *x = *state;
	struct got g;

	inject(x,
	       "[{\"method\": \"GET\", \"path\": \"/api/v1/search\", \"fault\": \"malformed\", "
	       "\"json\": {\"page\": 1, \"results\": [{\"id\": 1, \"mediaType\": \"movie\"}]}}]");
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);
	assert_int_equal(g.count, 0);
	assert_true(strlen(g.res.message) > 0);

	inject(x, "[{\"path\": \"/api/v1/search\", \"json\": [1, 2, 3]}]");
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);

	inject(x, "[{\"path\": \"/api/v1/search\", \"json\": {\"results\": {\"a\": 1}}}]");
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);

	inject(x, "[{\"path\": \"/api/v1/search\", \"body\": \"<html>proxy error</html>\", "
	          "\"status\": 200}]");
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);

	inject(x, "[{\"path\": \"/api/v1/movie/603\", \"json\": {\"title\": \"no id\"}}]");
	details(x, 0, SEERR_MOVIE, 603, &g);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);
	assert_false(g.has_details);

	inject(x, "[{\"path\": \"/api/v1/request\", \"method\": \"POST\", \"status\": 201, "
	          "\"json\": {\"status\": 1}}]");
	create_movie(x, 0, 603, &g);
	assert_int_equal(g.outcome, SEERR_CREATE_FAILED);
	assert_int_equal(g.res.error, SERVICE_BAD_RESPONSE);
	assert_false(g.has_req);
}

/* Details */

static void
test_movie_details(void **state)
{
	struct fx *x = *state;
	struct got g;

	details(x, 0, SEERR_MOVIE, 603, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_true(g.has_details);
	assert_int_equal(g.details.title.kind, SEERR_MOVIE);
	assert_int_equal(g.details.title.tmdb_id, 603);
	assert_string_equal(g.details.title.title, "The Matrix");
	assert_int_equal(g.details.title.year, 1999);
	assert_int_equal(g.details.title.status, SEERR_MEDIA_AVAILABLE);
	assert_non_null(strstr(g.details.overview, "simulation"));
	assert_int_equal(g.details.seasons_len, 0);
}

static void
test_tv_details(void **state)
{
	struct fx *x = *state;
	struct got g;

	details(x, 0, SEERR_TV, 2316, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.details.title.kind, SEERR_TV);
	assert_string_equal(g.details.title.title, "The Office");
	assert_int_equal(g.details.title.year, 2005);
	assert_int_equal(g.details.title.tvdb_id, 73244);
	assert_int_equal(g.details.title.status, SEERR_MEDIA_PARTIAL);
	assert_int_equal(g.details.season_count, 9);
	assert_int_equal(g.details.seasons_len, 9);
	assert_int_equal(g.details.seasons[0].number, 1);
	assert_int_equal(g.details.seasons[0].episodes, 6);
	assert_int_equal(g.details.seasons[0].status, SEERR_MEDIA_AVAILABLE);
	assert_int_equal(g.details.seasons[2].status, SEERR_MEDIA_AVAILABLE);
	assert_int_equal(g.details.seasons[3].number, 4);
	assert_int_equal(g.details.seasons[3].episodes, 19);
	assert_int_equal(g.details.seasons[3].status, SEERR_MEDIA_UNKNOWN);

	/* Odd shapes: the spec's numberOfSeason, junk seasons, specials. */
	{
		json_t *odd =
		    json_load_file(USHER_TESTS_DIR "/fakes/seerr/details_tv_odd.json", 0, NULL);
		json_t *routes = json_pack("[{s:s, s:o}]", "path", "/api/v1/tv/4242", "json", odd);
		assert_int_equal(fake_set_routes(&x->fake, routes), 0);
	}
	details(x, 0, SEERR_TV, 4242, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.details.season_count, 3);
	assert_int_equal(g.details.seasons_len, 4); /* 0, 1, 2, 3 */
	assert_int_equal(g.details.seasons[0].number, 0);
	assert_int_equal(g.details.seasons[1].episodes, 0);
	assert_int_equal(g.details.seasons[1].status, SEERR_MEDIA_UNKNOWN); /* "1" is no number */
	assert_int_equal(g.details.seasons[2].status, SEERR_MEDIA_AVAILABLE);
	assert_int_equal(g.details.seasons[2].episodes, 8);
	assert_int_equal(g.details.title.status, SEERR_MEDIA_PARTIAL);
}

static void
test_details_unknown_id(void **state)
{
	struct fx *x = *state;
	struct got g;

	details(x, 0, SEERR_MOVIE, 1, &g);
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);
	assert_int_equal(g.res.http_status, 500);
	assert_non_null(strstr(g.res.message, "film"));
	assert_false(g.has_details);
	details(x, 0, SEERR_TV, 1, &g);
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);
	assert_non_null(strstr(g.res.message, "show"));
}

/* Creating requests */

static void
test_create_movie_as_member_is_pending(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs, *r, *body;

	create_movie(x, 3, 872585, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.outcome, SEERR_CREATED);
	assert_true(g.has_req);
	assert_true(g.req.id > 0);
	assert_int_equal(g.req.status, SEERR_REQ_PENDING);
	assert_int_equal(g.req.kind, SEERR_MOVIE);
	assert_int_equal(g.req.tmdb_id, 872585);
	assert_false(g.req.is_4k);
	assert_int_equal(g.req.media_status, SEERR_MEDIA_PENDING);
	assert_int_equal(g.req.requested_by_id, 3);
	assert_string_equal(g.req.requested_by, "Kid");
	assert_true(str_starts_with(g.req.created_at, "2025-"));

	reqs = recorded(x);
	r = json_array_get(reqs, 0);
	assert_string_equal(json_string_value(json_object_get(r, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(r, "path")), "/api/v1/request");
	assert_string_equal(fake_req_header(r, "X-Api-User"), "3");
	assert_non_null(strstr(fake_req_header(r, "Content-Type"), "application/json"));
	body = json_object_get(r, "json");
	assert_string_equal(json_string_value(json_object_get(body, "mediaType")), "movie");
	assert_int_equal(json_integer_value(json_object_get(body, "mediaId")), 872585);
	assert_true(json_is_false(json_object_get(body, "is4k")));
	assert_null(json_object_get(body, "seasons"));
	assert_null(json_object_get(body, "userId"));
	json_decref(reqs);

	/* Everyone now sees it as asked for. */
	details(x, 0, SEERR_MOVIE, 872585, &g);
	assert_true(g.details.title.requested);
	assert_int_equal(g.details.title.status, SEERR_MEDIA_PENDING);
}

static void
test_create_movie_as_admin_is_approved(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs;

	create_movie(x, 1, 157336, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
	assert_int_equal(g.req.status, SEERR_REQ_APPROVED);
	assert_int_equal(g.req.media_status, SEERR_MEDIA_PROCESSING);
	assert_string_equal(g.req.requested_by, "Mum");
	create_movie(x, 0, 27205, &g); /* the key's owner: user 1 */
	assert_int_equal(g.req.status, SEERR_REQ_APPROVED);
	assert_int_equal(g.req.requested_by_id, 1);
	reqs = recorded(x);
	assert_string_equal(fake_req_header(json_array_get(reqs, 0), "X-Api-User"), "1");
	assert_null(fake_req_header(json_array_get(reqs, 1), "X-Api-User"));
	json_decref(reqs);
}

static void
test_create_duplicate(void **state)
{
	struct fx *x = *state;
	struct got g;

	create_movie(x, 2, 109445, &g); /* Frozen: Kid's request is pending */
	assert_int_equal(g.outcome, SEERR_ALREADY_REQUESTED);
	assert_int_equal(g.res.error, SERVICE_REJECTED);
	assert_int_equal(g.res.http_status, 409);
	assert_false(g.has_req);
}

static void
test_create_tv_seasons(void **state)
{
	struct fx *x = *state;
	struct seerr_new_request nr = {.kind = SEERR_TV,
	                               .tmdb_id = 1399,
	                               .tvdb_id = 121361,
	                               .seasons = {1, 2},
	                               .seasons_len = 2};
	struct got g;
	json_t *reqs, *body;

	create(x, 2, &nr, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
	assert_int_equal(g.req.kind, SEERR_TV);
	assert_int_equal(g.req.status, SEERR_REQ_APPROVED); /* Dad: AUTO_APPROVE */
	assert_int_equal(g.req.seasons_len, 2);
	assert_int_equal(g.req.seasons[0], 1);
	assert_int_equal(g.req.seasons[1], 2);
	reqs = recorded(x);
	body = json_object_get(json_array_get(reqs, 0), "json");
	assert_string_equal(json_string_value(json_object_get(body, "mediaType")), "tv");
	assert_int_equal(json_integer_value(json_object_get(body, "tvdbId")), 121361);
	assert_int_equal(json_array_size(json_object_get(body, "seasons")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(body, "seasons"), 1)),
	                 2);
	json_decref(reqs);

	/* Seasons already asked for are dropped by the server. */
	nr.seasons[0] = 2;
	nr.seasons[1] = 3;
	create(x, 3, &nr, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
	assert_int_equal(g.req.status, SEERR_REQ_PENDING);
	assert_int_equal(g.req.seasons_len, 1);
	assert_int_equal(g.req.seasons[0], 3);

	details(x, 0, SEERR_TV, 1399, &g);
	assert_int_equal(g.details.seasons[0].status, SEERR_MEDIA_PROCESSING);
	assert_int_equal(g.details.seasons[2].status, SEERR_MEDIA_PENDING);
	assert_int_equal(g.details.seasons[3].status, SEERR_MEDIA_UNKNOWN);
}

static void
test_create_tv_all_and_nothing_left(void **state)
{
	struct fx *x = *state;
	struct seerr_new_request nr = {.kind = SEERR_TV, .tmdb_id = 95396, .all_seasons = true};
	struct got g;
	json_t *reqs;

	create(x, 1, &nr, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
	assert_int_equal(g.req.seasons_len, 2);
	reqs = recorded(x);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(reqs, 0), "json"), "seasons")),
	                    "all");
	json_decref(reqs);

	/* Everything requested now: 202, not an error, no request. */
	create(x, 3, &nr, &g);
	assert_int_equal(g.outcome, SEERR_NOTHING_TO_REQUEST);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.res.http_status, 202);
	assert_false(g.has_req);

	/* Breaking Bad is all in the library. */
	nr.tmdb_id = 1396;
	nr.all_seasons = false;
	nr.seasons[0] = 1;
	nr.seasons_len = 1;
	create(x, 2, &nr, &g);
	assert_int_equal(g.outcome, SEERR_NOTHING_TO_REQUEST);
}

static void
test_create_quota_and_permission(void **state)
{
	struct fx *x = *state;
	struct got g;

	create_movie(x, 4, 346698, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
	create_movie(x, 4, 348, &g);
	assert_int_equal(g.outcome, SEERR_NOT_ALLOWED);
	assert_int_equal(g.res.error, SERVICE_REJECTED);
	assert_int_equal(g.res.http_status, 403);
	assert_string_equal(g.res.message, "Movie Quota exceeded.");

	create_movie(x, 5, 348, &g); /* Guest may not request at all */
	assert_int_equal(g.outcome, SEERR_NOT_ALLOWED);
	assert_string_equal(g.res.message, "You do not have permission to make movie requests.");
}

/* Failures of the connection and of the credentials */

static void
test_wrong_key_and_unknown_user(void **state)
{
	struct fx *x = *state;
	struct got g;

	client(x, NULL, "not-the-key");
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_AUTH);
	assert_int_equal(g.res.http_status, 403);
	assert_non_null(strstr(g.res.message, "API key"));
	create_movie(x, 0, 603, &g);
	assert_int_equal(g.outcome, SEERR_CREATE_FAILED);
	assert_int_equal(g.res.error, SERVICE_AUTH);

	client(x, NULL, KEY);
	search(x, 99, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_AUTH);
	assert_non_null(strstr(g.res.message, "99"));
}

static void
test_server_down(void **state)
{
	struct fx *x = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t slen = sizeof(sa);
	char url[64];
	int fd;
	struct got g;

	/* A port that was free a moment ago: nothing listens there. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	client(x, url, KEY);
	search(x, 0, "dune", &g);
	assert_int_equal(g.res.error, SERVICE_UNREACHABLE);
	assert_int_equal(g.res.http_status, 0);
	assert_non_null(strstr(g.res.message, "Seerr"));
	assert_non_null(strstr(g.res.message, "isn't answering"));
}

static void
test_url_with_api_path_and_status(void **state)
{
	struct fx *x = *state;
	char url[96];
	struct got g = {0};
	json_t *reqs;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/", x->fake.port);
	client(x, url, KEY);
	assert_non_null(seerr_status(x->seerr, on_status, &g));
	run_until(x, &g.calls, 1, 10000);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_string_equal(g.version, "1.33.2");
	reqs = recorded(x);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "path")),
	                    "/api/v1/status");
	json_decref(reqs);
}

static void
test_no_section(void **state)
{
	struct fx *x = *state;
	char *env[] = {NULL};
	struct config *cfg = config_load(NULL, env);

	assert_non_null(cfg);
	assert_null(seerr_new(x->http, cfg));
	config_free(cfg);
}

/* Listing and deciding */

static void
test_list_requests(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs, *r;

	create_movie(x, 3, 872585, &g);
	create_movie(x, 2, 157336, &g);
	forget(x);

	list(x, 3, SEERR_FILTER_ALL, 0, &g); /* Kid: Frozen and Oppenheimer */
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.total, 2);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.reqs[0].tmdb_id, 872585); /* newest first */
	assert_int_equal(g.reqs[1].tmdb_id, 109445);
	for (size_t i = 0; i < g.count; i++)
		assert_int_equal(g.reqs[i].requested_by_id, 3);

	list(x, 1, SEERR_FILTER_ALL, 0, &g);
	assert_int_equal(g.total, 3);
	assert_int_equal(g.reqs[0].requested_by_id, 2);
	assert_int_equal(g.reqs[0].status, SEERR_REQ_APPROVED);

	list(x, 0, SEERR_FILTER_PENDING, 3, &g);
	assert_int_equal(g.total, 2);
	list(x, 0, SEERR_FILTER_APPROVED, 0, &g);
	assert_int_equal(g.total, 1);

	list(x, 3, SEERR_FILTER_ALL, 2, &g); /* someone else's list */
	assert_int_equal(g.res.error, SERVICE_REJECTED);
	assert_non_null(strstr(g.res.message, "permission"));

	reqs = recorded(x);
	r = json_array_get(reqs, 2);
	assert_string_equal(json_string_value(json_object_get(r, "path")), "/api/v1/request");
	assert_string_equal(fake_req_query(r, "filter"), "pending");
	assert_string_equal(fake_req_query(r, "requestedBy"), "3");
	assert_string_equal(fake_req_query(r, "take"), "20");
	assert_string_equal(fake_req_query(r, "skip"), "0");
	assert_null(fake_req_query(json_array_get(reqs, 0), "requestedBy"));
	json_decref(reqs);

	/* Odd fields in a list. */
	{
		json_t *odd =
		    json_load_file(USHER_TESTS_DIR "/fakes/seerr/request_list_odd.json", 0, NULL);
		json_t *routes = json_pack("[{s:s, s:o}]", "path", "/api/v1/request", "json", odd);
		assert_int_equal(fake_set_routes(&x->fake, routes), 0);
	}
	list(x, 0, SEERR_FILTER_ALL, 0, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.count, 2);
	assert_int_equal(g.total, 2); /* "many" is not a number */
	assert_int_equal(g.reqs[0].kind, SEERR_TV);
	assert_int_equal(g.reqs[0].status, SEERR_REQ_PENDING);
	assert_false(g.reqs[0].is_4k);
	assert_int_equal(g.reqs[0].seasons_len, 1);
	assert_string_equal(g.reqs[0].requested_by, "kid");
	assert_string_equal(g.reqs[0].created_at, "");
	assert_int_equal(g.reqs[1].kind, SEERR_MOVIE);
	assert_true(g.reqs[1].is_4k);
	assert_int_equal(g.reqs[1].media_status, SEERR_MEDIA_PROCESSING); /* status4k */
	assert_int_equal(g.reqs[1].requested_by_id, 0);
}

static void
test_approve_decline_get(void **state)
{
	struct fx *x = *state;
	struct got g;
	long kid_req;
	json_t *reqs;

	create_movie(x, 3, 872585, &g);
	kid_req = g.req.id;
	forget(x);

	on_req(x, seerr_approve, 3, 1, &g); /* Kid may not approve */
	assert_int_equal(g.res.error, SERVICE_AUTH);
	assert_false(g.has_req);

	on_req(x, seerr_approve, 1, 1, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.req.id, 1);
	assert_int_equal(g.req.status, SEERR_REQ_APPROVED);
	assert_int_equal(g.req.tmdb_id, 109445);

	on_req(x, seerr_decline, 0, kid_req, &g);
	assert_int_equal(g.req.status, SEERR_REQ_DECLINED);

	on_req(x, seerr_get_request, 3, kid_req, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.req.status, SEERR_REQ_DECLINED);
	on_req(x, seerr_get_request, 2, kid_req, &g); /* Dad may not look */
	assert_int_equal(g.res.error, SERVICE_REJECTED);
	on_req(x, seerr_get_request, 0, 999, &g);
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);

	reqs = recorded(x);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 1), "method")),
	                    "POST");
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 1), "path")),
	                    "/api/v1/request/1/approve");
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 2), "path")),
	                    "/api/v1/request/2/decline");
	json_decref(reqs);

	/* A declined film may be asked for again. */
	create_movie(x, 3, 872585, &g);
	assert_int_equal(g.outcome, SEERR_CREATED);
}

static void
test_delete(void **state)
{
	struct fx *x = *state;
	struct got g;
	long id;
	json_t *reqs;

	create_movie(x, 3, 872585, &g);
	id = g.req.id;
	on_req(x, seerr_approve, 1, id, &g);
	forget(x);

	on_req(x, seerr_delete_request, 2, id, &g); /* not Dad's, no longer pending */
	assert_int_equal(g.res.error, SERVICE_REJECTED);
	assert_int_equal(g.res.http_status, 401);
	assert_non_null(strstr(g.res.message, "permission"));

	on_req(x, seerr_delete_request, 3, id, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_int_equal(g.res.http_status, 204);
	assert_false(g.has_req);

	on_req(x, seerr_delete_request, 3, id, &g);
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);

	reqs = recorded(x);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 1), "method")),
	                    "DELETE");
	json_decref(reqs);
}

/* Recommendations and issues */

static void
test_recommendations(void **state)
{
	struct fx *x = *state;
	struct got g = {0};
	json_t *reqs;

	assert_non_null(seerr_recommendations(x->seerr, 3, SEERR_MOVIE, 438631, on_search, &g));
	run_until(x, &g.calls, 1, 10000);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_true(g.count >= 3);
	assert_int_equal(g.items[0].kind, SEERR_MOVIE);
	assert_non_null(strstr(g.items[0].title, "Dune"));
	for (size_t i = 0; i < g.count; i++)
		assert_true(g.items[i].tmdb_id != 438631);

	memset(&g, 0, sizeof(g));
	assert_non_null(seerr_recommendations(x->seerr, 0, SEERR_TV, 1396, on_search, &g));
	run_until(x, &g.calls, 1, 10000);
	assert_true(g.count > 0);
	assert_int_equal(g.items[0].kind, SEERR_TV);

	reqs = recorded(x);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "path")),
	                    "/api/v1/movie/438631/recommendations");
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 1), "path")),
	                    "/api/v1/tv/1396/recommendations");
	json_decref(reqs);
}

static void
report(struct fx *x, long as_user, enum seerr_kind kind, long id, struct got *g)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(seerr_report_issue(x->seerr, as_user, kind, id, SEERR_ISSUE_AUDIO,
	                                   "no sound after 20 minutes", on_issue, g));
	run_until(x, &g->calls, 1, 10000);
}

static void
test_report_issue(void **state)
{
	struct fx *x = *state;
	struct got g;
	json_t *reqs, *post, *body;

	report(x, 1, SEERR_MOVIE, 438631, &g);
	assert_int_equal(g.res.error, SERVICE_OK);
	assert_true(g.issue_id > 0);
	reqs = recorded(x);
	assert_int_equal(json_array_size(reqs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(reqs, 0), "path")),
	                    "/api/v1/movie/438631");
	post = json_array_get(reqs, 1);
	assert_string_equal(json_string_value(json_object_get(post, "path")), "/api/v1/issue");
	assert_string_equal(fake_req_header(post, "X-Api-User"), "1");
	body = json_object_get(post, "json");
	assert_int_equal(json_integer_value(json_object_get(body, "issueType")), 2);
	assert_string_equal(json_string_value(json_object_get(body, "message")),
	                    "no sound after 20 minutes");
	assert_true(json_integer_value(json_object_get(body, "mediaId")) > 0);
	json_decref(reqs);

	/* Not in the library: no media row, nothing to report against. */
	forget(x);
	report(x, 1, SEERR_MOVIE, 872585, &g);
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);
	assert_non_null(strstr(g.res.message, "isn't in the library"));
	assert_int_equal(g.issue_id, 0);
	reqs = recorded(x);
	assert_int_equal(json_array_size(reqs), 1);
	json_decref(reqs);

	report(x, 1, SEERR_MOVIE, 1, &g); /* unknown title */
	assert_int_equal(g.res.error, SERVICE_NOT_FOUND);

	report(x, 3, SEERR_TV, 1396, &g); /* Kid has no issue permission */
	assert_int_equal(g.res.error, SERVICE_AUTH);
}

/* Cancelling */

static void
test_cancel_in_flight(void **state)
{
	struct fx *x = *state;
	struct got g = {0}, g2 = {0};
	struct seerr_call *c;
	unsigned long long deadline;
	json_t *reqs = NULL;

	inject(x, "[{\"path\": \"/api/v1/search\", \"delay_ms\": 400, \"json\": {\"results\": []}},"
	          " {\"method\": \"POST\", \"path\": \"/api/v1/issue\", \"delay_ms\": 400, "
	          "\"json\": {\"id\": 5}}]");
	c = seerr_search(x->seerr, 0, "dune", 1, on_search, &g);
	run_for(x, 100);
	seerr_cancel(c);
	seerr_cancel(NULL);
	run_for(x, 700);
	assert_int_equal(g.calls, 0);

	/* Cancel report_issue in its first step... */
	c = seerr_report_issue(x->seerr, 1, SEERR_MOVIE, 603, SEERR_ISSUE_VIDEO, "x", on_issue, &g);
	seerr_cancel(c);
	run_for(x, 300);
	assert_int_equal(g.calls, 0);

	/* ...and in its second, once the POST has reached the fake. */
	forget(x);
	c = seerr_report_issue(x->seerr, 1, SEERR_MOVIE, 603, SEERR_ISSUE_VIDEO, "x", on_issue, &g);
	deadline = fake_now_ms() + 5000;
	while (fake_now_ms() < deadline) {
		assert_true(loop_run_once(x->loop, 20) >= 0);
		json_decref(reqs);
		reqs = recorded(x);
		if (json_array_size(reqs) == 2)
			break;
	}
	assert_int_equal(json_array_size(reqs), 2);
	json_decref(reqs);
	seerr_cancel(c);
	run_for(x, 700);
	assert_int_equal(g.calls, 0);

	/* The client still works afterwards. */
	memset(&g2, 0, sizeof(g2));
	assert_non_null(seerr_status(x->seerr, on_status, &g2));
	run_until(x, &g2.calls, 1, 5000);
	assert_int_equal(g2.res.error, SERVICE_OK);
}

static void
test_free_with_calls_in_flight(void **state)
{
	struct fx *x = *state;
	struct got g = {0};

	inject(x, "[{\"path_regex\": \"^/api/v1/\", \"delay_ms\": 300, \"json\": {}}]");
	assert_non_null(seerr_search(x->seerr, 0, "a", 1, on_search, &g));
	assert_non_null(seerr_details(x->seerr, 0, SEERR_TV, 1396, on_details, &g));
	assert_non_null(seerr_report_issue(x->seerr, 0, SEERR_MOVIE, 603, SEERR_ISSUE_OTHER, "m",
	                                   on_issue, &g));
	assert_non_null(
	    seerr_list_requests(x->seerr, 0, SEERR_FILTER_ALL, 0, 5, 0, on_requests, &g));
	run_for(x, 50);
	seerr_free(x->seerr);
	x->seerr = NULL;
	assert_int_equal(http_in_flight(x->http), 0);
	run_for(x, 600);
	assert_int_equal(g.calls, 0);
}

/* Callbacks may start new calls: the handle is dead once it calls back. */
struct chain {
	struct seerr *seerr;
	struct got next;
	int calls;
};

static void
on_search_chain(void *arg, const struct service_result *res, const struct seerr_title *items,
                size_t count, int pages)
{
	struct chain *c = arg;

	(void)res, (void)items, (void)count, (void)pages;
	c->calls++;
	seerr_details(c->seerr, 0, SEERR_MOVIE, 603, on_details, &c->next);
}

static void
test_callback_starts_call(void **state)
{
	struct fx *x = *state;
	struct chain c = {.seerr = x->seerr};

	assert_non_null(seerr_search(x->seerr, 0, "matrix", 1, on_search_chain, &c));
	run_until(x, &c.next.calls, 1, 10000);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.next.details.title.title, "The Matrix");
}

static void
test_status_words(void **state)
{
	(void)state;
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_UNKNOWN), "not requested yet");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_PENDING), "waiting for approval");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_PROCESSING), "being fetched");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_PARTIAL), "partly ready");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_AVAILABLE), "ready to watch");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_BLOCKLISTED), "blocked");
	assert_string_equal(seerr_media_status_words(SEERR_MEDIA_DELETED), "deleted");
	assert_string_equal(seerr_request_status_words(SEERR_REQ_PENDING), "waiting for approval");
	assert_string_equal(seerr_request_status_words(SEERR_REQ_APPROVED), "approved");
	assert_string_equal(seerr_request_status_words(SEERR_REQ_DECLINED), "declined");
	assert_string_equal(seerr_request_status_words(SEERR_REQ_FAILED), "failed");
	assert_string_equal(seerr_request_status_words(SEERR_REQ_COMPLETED), "done");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_words),
	    T(test_search_keeps_films_and_shows),
	    T(test_search_query_reaches_server_whole),
	    T(test_search_query_bytes),
	    T(test_search_odd_fields),
	    T(test_malformed_and_wrong_shape),
	    T(test_movie_details),
	    T(test_tv_details),
	    T(test_details_unknown_id),
	    T(test_create_movie_as_member_is_pending),
	    T(test_create_movie_as_admin_is_approved),
	    T(test_create_duplicate),
	    T(test_create_tv_seasons),
	    T(test_create_tv_all_and_nothing_left),
	    cmocka_unit_test_setup_teardown(test_create_quota_and_permission, setup_quota,
	                                    teardown),
	    T(test_wrong_key_and_unknown_user),
	    T(test_server_down),
	    T(test_url_with_api_path_and_status),
	    T(test_no_section),
	    T(test_list_requests),
	    T(test_approve_decline_get),
	    T(test_delete),
	    T(test_recommendations),
	    T(test_report_issue),
	    T(test_cancel_in_flight),
	    T(test_free_with_calls_in_flight),
	    T(test_callback_starts_call),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

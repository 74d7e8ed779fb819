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
#include "services/qbittorrent.h"

struct fx {
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct qbittorrent *qb;
};

struct res {
	int calls;
	struct service_result res;
};

static void
on_done(const struct service_result *res, void *arg)
{
	struct res *r = arg;

	r->calls++;
	r->res = *res;
}

static struct fx *
fx_new(const char *password)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[128], pass[128];
	const char *env[] = {url, "USHER_QBITTORRENT_USERNAME=usher bot", pass, NULL};

	snprintf(url, sizeof(url), "USHER_QBITTORRENT_URL=http://127.0.0.1:%d/", fake.port);
	snprintf(pass, sizeof(pass), "USHER_QBITTORRENT_PASSWORD=%s", password);
	arr_env_open(&f->loop, &f->http, &f->cfg, env);
	f->qb = qbittorrent_new(f->http, f->cfg);
	assert_non_null(f->qb);
	return f;
}

static void
fx_free(struct fx *f)
{
	qbittorrent_free(f->qb);
	arr_env_close(f->loop, f->http, f->cfg);
	free(f);
}

static json_t *
login_ok(const char *cookie)
{
	return json_pack("{s:s, s:s, s:s, s:{s:s}}", "method", "POST", "path", "/api/v2/auth/login",
	                 "body", "Ok.", "headers", "Set-Cookie", cookie);
}

static json_t *
login_once(const char *cookie)
{
	json_t *r = login_ok(cookie);

	json_object_set_new(r, "times", json_integer(1));
	return r;
}

static json_t *
maindata(const char *rid, const char *fixture, const char *cookie)
{
	return json_pack("{s:s, s:{s:s}, s:o, s:{s:s}}", "path", "/api/v2/sync/maindata", "query",
	                 "rid", rid, "json", fake_fixture(fixture), "require_headers", "Cookie",
	                 cookie);
}

static void
sync_once(struct fx *f, struct res *r)
{
	memset(r, 0, sizeof(*r));
	qbittorrent_sync(f->qb, on_done, r);
	assert_int_equal(r->calls, 0);
	run_until(f->loop, &r->calls, 1, 10000);
	assert_int_equal(r->calls, 1);
}

static void
test_incremental(void **state)
{
	struct fx *f = fx_new("p&ss word");
	const struct qbittorrent_torrent *t;
	struct res r;
	json_t *reqs, *login;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake,
	                    json_pack("[o, o, o, o]", login_ok("SID=abc123; HttpOnly; path=/"),
	                              maindata("0", "qbt_maindata_full.json", "SID=abc123"),
	                              maindata("1", "qbt_maindata_partial.json", "SID=abc123"),
	                              maindata("2", "qbt_maindata_removed.json", "SID=abc123"))),
	    0);

	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_rid(f->qb), 1);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	assert_string_equal(qbittorrent_session_cookie(f->qb), "SID=abc123");
	/* Radarr's upper-case downloadId finds qBittorrent's lower-case hash. */
	t = qbittorrent_find(f->qb, "8C212779B4ABDE7C6BC608063A0D008B7E40CE32");
	assert_non_null(t);
	assert_string_equal(t->hash, "8c212779b4abde7c6bc608063a0d008b7e40ce32");
	assert_string_equal(t->name, "Dune.2021.2160p");
	assert_true(t->progress > 0.159 && t->progress < 0.161);
	assert_int_equal(t->dlspeed, 9681262);
	assert_int_equal(t->eta, 87);
	assert_int_equal(t->state, QBITTORRENT_DOWNLOADING);
	assert_int_equal(t->num_seeds, 54);
	assert_int_equal(t->num_leechs, 2);
	assert_int_equal(t->size, 657457152);
	assert_int_equal(t->amount_left, 551546880);
	assert_string_equal(t->save_path, "/downloads/radarr/");
	assert_string_equal(t->category, "radarr");
	t = qbittorrent_find(f->qb, "aaaabbbbccccddddeeeeffff0000111122223333");
	assert_non_null(t);
	/* 4.x's pausedDL is 5.x's stoppedDL; 8640000 is "unknown". */
	assert_int_equal(t->state, QBITTORRENT_STOPPED_DL);
	assert_int_equal(t->eta, -1);

	/* A partial update changes only the fields it carries. */
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_rid(f->qb), 2);
	assert_int_equal(qbittorrent_count(f->qb), 3);
	t = qbittorrent_find(f->qb, "8c212779b4abde7c6bc608063a0d008b7e40ce32");
	assert_true(t->progress > 0.199 && t->progress < 0.201);
	assert_int_equal(t->eta, 70);
	assert_int_equal(t->state, QBITTORRENT_STALLED_DL);
	assert_string_equal(t->name, "Dune.2021.2160p");
	assert_int_equal(t->dlspeed, 9681262);
	assert_int_equal(t->num_seeds, 54);
	t = qbittorrent_find(f->qb, "1111111111111111111111111111111111111111");
	assert_non_null(t);
	assert_int_equal(t->state, QBITTORRENT_META_DL);

	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_rid(f->qb), 3);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	assert_null(qbittorrent_find(f->qb, "aaaabbbbccccddddeeeeffff0000111122223333"));
	assert_non_null(qbittorrent_find(f->qb, "8c212779b4abde7c6bc608063a0d008b7e40ce32"));

	/* One login, then three syncs with the cookie; the form encoded, no
	 * Origin/Referer sent. */
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 4);
	login = json_array_get(reqs, 0);
	assert_string_equal(json_string_value(json_object_get(login, "path")),
	                    "/api/v2/auth/login");
	assert_string_equal(json_string_value(json_object_get(login, "body")),
	                    "username=usher%20bot&password=p%26ss%20word");
	assert_non_null(
	    strstr(fake_req_header(login, "Content-Type"), "application/x-www-form-urlencoded"));
	assert_null(fake_req_header(login, "Origin"));
	assert_null(fake_req_header(login, "Referer"));
	assert_string_equal(fake_req_query(json_array_get(reqs, 3), "rid"), "2");
	json_decref(reqs);
	fx_free(f);
}

static void
test_relogin_after_403(void **state)
{
	struct fx *f = fx_new("secret");
	struct res r;
	json_t *reqs;
	const char *paths[] = {"/api/v2/auth/login", "/api/v2/sync/maindata", "/api/v2/auth/login",
	                       "/api/v2/sync/maindata"};

	(void)state;
	/* The first session is refused once (expired), the second works;
	 * 5.2's cookie name on the second login. */
	assert_int_equal(
	    fake_set_routes(
	        &fake,
	        json_pack("[o, {s:s, s:s, s:s, s:{s:s}, s:i}, {s:s, s:i, s:s, s:i}, o]",
	                  login_once("SID=first"), "method", "POST", "path", "/api/v2/auth/login",
	                  "body", "", "headers", "Set-Cookie", "QBT_SID_8080=second; HttpOnly",
	                  "times", 1, "path", "/api/v2/sync/maindata", "status", 403, "body",
	                  "Forbidden", "times", 1,
	                  maindata("0", "qbt_maindata_full.json", "QBT_SID_8080=second"))),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(reqs, i), "path")), paths[i]);
	assert_string_equal(fake_req_header(json_array_get(reqs, 1), "Cookie"), "SID=first");
	assert_string_equal(fake_req_header(json_array_get(reqs, 3), "Cookie"),
	                    "QBT_SID_8080=second");
	json_decref(reqs);

	/* A server that keeps refusing: one re-login, then a plain error. */
	assert_int_equal(
	    fake_set_routes(&fake,
	                    json_pack("[o, {s:s, s:i, s:s}]", login_ok("SID=third"), "path",
	                              "/api/v2/sync/maindata", "status", 403, "body", "Forbidden")),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_int_equal(r.res.http_status, 403);
	reqs = fake_requests(&fake);
	assert_int_equal(json_array_size(reqs), 3);
	json_decref(reqs);
	fx_free(f);
}

static void
test_login_failures(void **state)
{
	struct fx *f = fx_new("wrong");
	struct res r;

	(void)state;
	assert_int_equal(fake_set_routes(&fake, json_pack("[{s:s, s:s}]", "path",
	                                                  "/api/v2/auth/login", "body", "Fails.")),
	                 0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_string_equal(r.res.message, "qBittorrent rejected the username or password; check "
	                                   "username and password in [qbittorrent]");
	assert_null(qbittorrent_session_cookie(f->qb));

	assert_int_equal(fake_set_routes(&fake, json_pack("[{s:s, s:i}]", "path",
	                                                  "/api/v2/auth/login", "status", 401)),
	                 0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_int_equal(r.res.http_status, 401);
	assert_non_null(strstr(r.res.message, "username or password (401)"));

	assert_int_equal(
	    fake_set_routes(&fake,
	                    json_pack("[{s:s, s:i, s:s}]", "path", "/api/v2/auth/login", "status",
	                              403, "body", "Your IP address has been banned")),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_non_null(strstr(r.res.message, "banned"));
	fx_free(f);
}

static void
test_bad_maindata(void **state)
{
	struct fx *f = fx_new("secret");
	struct res r;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[o, o]", login_ok("SID=x"),
	                                     maindata("0", "qbt_maindata_full.json", "SID=x"))),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	/* Wrong shape: the table must stay as it was. */
	assert_int_equal(fake_set_routes(&fake, json_pack("[{s:s, s:{s:s, s:i}}]", "path",
	                                                  "/api/v2/sync/maindata", "json",
	                                                  "torrents", "oops", "rid", 5)),
	                 0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_BAD_RESPONSE);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	assert_int_equal(qbittorrent_rid(f->qb), 1);
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:s}]", "path", "/api/v2/sync/maindata",
	                                     "body", "{\"rid\":")),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_BAD_RESPONSE);
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[{s:s, s:i}]", "path", "/api/v2/sync/maindata",
	                                     "body_size", 33 * 1024 * 1024)),
	    0);
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_BAD_RESPONSE);
	assert_non_null(strstr(r.res.message, "too large"));
	fx_free(f);
}

static void
on_version(const struct service_result *res, const char *version, void *arg)
{
	struct res *r = arg;

	r->calls++;
	r->res = *res;
	if (version)
		snprintf(r->res.message, sizeof(r->res.message), "%s", version);
}

static void
test_version_and_refused(void **state)
{
	struct fx *f = fx_new("secret");
	struct res r = {0}, c = {0};
	struct qbittorrent_call *call;

	(void)state;
	assert_int_equal(
	    fake_set_routes(&fake, json_pack("[o, {s:s, s:s}]", login_ok("SID=v"), "path",
	                                     "/api/v2/app/version", "body", "v4.5.2\n")),
	    0);
	qbittorrent_version(f->qb, on_version, &r);
	call = qbittorrent_version(f->qb, on_version, &c);
	qbittorrent_cancel(call);
	run_until(f->loop, &r.calls, 1, 10000);
	run_for(f->loop, 300);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_string_equal(r.res.message, "v4.5.2");
	assert_int_equal(c.calls, 0);
	fx_free(f);

	{
		char url[128];
		const char *env[] = {url, "USHER_QBITTORRENT_PASSWORD=x", NULL};

		f = calloc(1, sizeof(*f));
		snprintf(url, sizeof(url), "USHER_QBITTORRENT_URL=http://127.0.0.1:%d",
		         closed_port());
		f->loop = loop_new();
		f->http = http_new(f->loop);
		f->cfg = config_from_env(env);
		f->qb = qbittorrent_new(f->http, f->cfg);
		sync_once(f, &r);
		assert_int_equal(r.res.error, SERVICE_UNREACHABLE);
		assert_non_null(strstr(r.res.message, "qBittorrent isn't answering"));
		fx_free(f);
	}
}

static void
test_states(void **state)
{
	(void)state;
	assert_int_equal(qbittorrent_state_parse("pausedUP"), QBITTORRENT_STOPPED_UP);
	assert_int_equal(qbittorrent_state_parse("stoppedUP"), QBITTORRENT_STOPPED_UP);
	assert_int_equal(qbittorrent_state_parse("forcedMetaDL"), QBITTORRENT_FORCED_META_DL);
	assert_int_equal(qbittorrent_state_parse("missingFiles"), QBITTORRENT_MISSING_FILES);
	assert_int_equal(qbittorrent_state_parse("somethingNew"), QBITTORRENT_UNKNOWN);
	assert_string_equal(qbittorrent_state_name(QBITTORRENT_STOPPED_DL), "stoppedDL");
	assert_true(qbittorrent_state_is_download(QBITTORRENT_STALLED_DL));
	assert_false(qbittorrent_state_is_download(QBITTORRENT_STALLED_UP));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_incremental),         cmocka_unit_test(test_relogin_after_403),
	    cmocka_unit_test(test_login_failures),      cmocka_unit_test(test_bad_maindata),
	    cmocka_unit_test(test_version_and_refused), cmocka_unit_test(test_states),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, fake_group_setup, fake_group_teardown);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fake_server.h"

#include "core/http.h"
#include "core/loop.h"

/* The fake server (tests/fakes/fakehttp.py) runs for the whole group. */
static struct fake fake = {.pid = -1};

struct fx {
	struct loop *loop;
	struct http *http;
};

static int
group_setup(void **state)
{
	static const char *const args[] = {"--scenario", USHER_TESTS_DIR "/unit/http_fake.json",
	                                   NULL};

	(void)state;
	return fake_start_script(&fake, "fakes/fakehttp.py", args);
}

static int
group_teardown(void **state)
{
	(void)state;
	fake_stop(&fake);
	return 0;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->loop = loop_new()) == NULL)
		return -1;
	f->http = http_new(f->loop);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	http_free(f->http);
	loop_free(f->loop);
	free(f);
	return 0;
}

static char *
url(const char *path)
{
	static char buf[8][128];
	static int next;
	char *u = buf[next++ % 8];

	snprintf(u, sizeof(buf[0]), "http://127.0.0.1:%d%s", fake.port, path);
	return u;
}

/* What one call saw; `calls` must end at exactly 1. */
struct result {
	int calls;
	enum http_result result;
	long status;
	char body[512];
	size_t body_len;
	char error[256];
	char x_test[64];
	char json_err[256];
	json_t *json;
	bool *in_start;
	bool called_inside_start;
};

static void
on_done(const struct http_response *resp, void *arg)
{
	struct result *r = arg;
	const char *h;

	r->calls++;
	if (r->in_start != NULL && *r->in_start)
		r->called_inside_start = true;
	r->result = resp->result;
	r->status = resp->status;
	r->body_len = resp->body_len;
	snprintf(r->body, sizeof(r->body), "%s", resp->body);
	snprintf(r->error, sizeof(r->error), "%s", resp->error ? resp->error : "");
	if ((h = http_response_header(resp, "x-test")) != NULL)
		snprintf(r->x_test, sizeof(r->x_test), "%s", h);
	if (r->json)
		json_decref(r->json);
	r->json = http_response_json(resp, r->json_err, sizeof(r->json_err));
}

static void
result_clear(struct result *r)
{
	json_decref(r->json);
	r->json = NULL;
}

/* Runs the loop until *calls reaches `want` or `timeout_ms` passes. */
static void
run_until(struct fx *f, const int *calls, int want, uint64_t timeout_ms)
{
	unsigned long long deadline = fake_now_ms() + timeout_ms;

	while (*calls < want && fake_now_ms() < deadline)
		assert_true(loop_run_once(f->loop, 50) >= 0);
}

static void
run_for(struct fx *f, uint64_t ms)
{
	unsigned long long deadline = fake_now_ms() + ms;

	while (fake_now_ms() < deadline)
		assert_true(loop_run_once(f->loop, 20) >= 0);
}

static struct http_call *
get(struct fx *f, const char *path, struct result *r)
{
	struct http_opts o = {.url = url(path)};

	return http_start(f->http, &o, on_done, r);
}

static void
test_get_ok(void **state)
{
	struct fx *f = *state;
	struct result r = {0};

	assert_non_null(get(f, "/hello", &r));
	assert_int_equal(http_in_flight(f->http), 1);
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.error, "");
	assert_string_equal(r.x_test, "yes");
	assert_non_null(strstr(r.body, "\"world\""));
	assert_int_equal(r.body_len, strlen(r.body));
	assert_non_null(r.json);
	assert_string_equal(json_string_value(json_object_get(r.json, "hello")), "world");
	assert_int_equal(http_in_flight(f->http), 0);
	/* Exactly once: more iterations call nothing back. */
	run_for(f, 200);
	assert_int_equal(r.calls, 1);
	result_clear(&r);
}

/* Returns the recorded requests (a new reference). */
static json_t *
recorded_requests(struct fx *f)
{
	struct result r = {0};
	json_t *reqs;

	get(f, "/__fake/requests", &r);
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_non_null(r.json);
	assert_true(json_is_array(r.json));
	reqs = r.json;
	return reqs;
}

static void
test_post_json(void **state)
{
	struct fx *f = *state;
	struct result r = {0};
	const char *headers[] = {"X-Api-Key: s3cret", NULL};
	json_t *body = json_pack("{s:s, s:i}", "title", "Amélie", "year", 2001);
	json_t *reqs, *req, *found = NULL;
	size_t i;
	char path[64];

	snprintf(path, sizeof(path), "/echo");
	assert_non_null(
	    http_start_json(f->http, "POST", url(path), headers, body, NULL, on_done, &r));
	/* Everything was copied: the caller's copies may go now. */
	json_decref(body);
	memset(path, 0, sizeof(path));
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 201);
	result_clear(&r);

	reqs = recorded_requests(f);
	json_array_foreach(reqs, i, req)
	{
		if (strcmp(json_string_value(json_object_get(req, "path")), "/echo") == 0)
			found = req;
	}
	assert_non_null(found);
	assert_string_equal(json_string_value(json_object_get(found, "method")), "POST");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(found, "json"), "title")), "Amélie");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(found, "json"), "year")), 2001);
	assert_string_equal(fake_req_header(found, "Content-Type"), "application/json");
	assert_string_equal(fake_req_header(found, "Accept"), "application/json");
	assert_string_equal(fake_req_header(found, "X-Api-Key"), "s3cret");
	json_decref(reqs);
}

static void
test_status_500_is_ok(void **state)
{
	struct fx *f = *state;
	struct result r = {0};

	get(f, "/fail", &r);
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_OK);
	assert_int_equal(r.status, 500);
	assert_non_null(strstr(r.body, "boom"));
	result_clear(&r);
}

static void
test_never_calls_back_inside_start(void **state)
{
	struct fx *f = *state;
	bool in_start = false;
	const char *bad[] = {"http://[::1", "ftp://127.0.0.1/x", "", "http://127.0.0.1:99999/"};
	struct result r[4] = {0};
	struct http_opts o = {0};
	int total = 0;

	for (int i = 0; i < 4; i++) {
		r[i].in_start = &in_start;
		o.url = bad[i];
		in_start = true;
		assert_non_null(http_start(f->http, &o, on_done, &r[i]));
		in_start = false;
		assert_int_equal(r[i].calls, 0);
	}
	o.url = NULL;
	{
		struct result nourl = {.in_start = &in_start};
		in_start = true;
		http_start(f->http, &o, on_done, &nourl);
		in_start = false;
		run_until(f, &nourl.calls, 1, 5000);
		assert_int_equal(nourl.calls, 1);
		assert_int_equal(nourl.result, HTTP_ERR_OTHER);
		result_clear(&nourl);
	}
	for (int i = 0; i < 4; i++) {
		run_until(f, &r[i].calls, 1, 5000);
		total += r[i].calls;
		assert_int_equal(r[i].calls, 1);
		assert_false(r[i].called_inside_start);
		assert_int_not_equal(r[i].result, HTTP_OK);
		assert_true(strlen(r[i].error) > 0);
		assert_null(r[i].json);
		assert_non_null(strstr(r[i].json_err, "no response"));
	}
	assert_int_equal(total, 4);
	assert_int_equal(r[0].result, HTTP_ERR_OTHER);
	assert_int_equal(r[1].result, HTTP_ERR_OTHER);
	assert_int_equal(http_in_flight(f->http), 0);
}

static void
test_cancel_before_completion(void **state)
{
	struct fx *f = *state;
	struct result slow = {0}, bad = {0}, ok = {0};
	struct http_opts o = {.url = "http://[::1"};
	struct http_call *c;

	c = get(f, "/slow", &slow);
	assert_true(loop_run_once(f->loop, 50) >= 0);
	http_cancel(c);
	/* An immediate failure can be cancelled too. */
	http_cancel(http_start(f->http, &o, on_done, &bad));
	assert_int_equal(http_in_flight(f->http), 0);
	get(f, "/hello", &ok);
	run_until(f, &ok.calls, 1, 10000);
	/* Well past the slow route's 500 ms delay. */
	run_for(f, 900);
	assert_int_equal(ok.calls, 1);
	assert_int_equal(slow.calls, 0);
	assert_int_equal(bad.calls, 0);
	assert_int_equal(http_in_flight(f->http), 0);
	http_cancel(NULL);
	result_clear(&ok);
}

struct pair {
	struct http_call *other;
	int calls;
	int other_calls;
};

static void
on_cancel_other(const struct http_response *resp, void *arg)
{
	struct pair *p = arg;

	(void)resp;
	p->calls++;
	http_cancel(p->other);
}

static void
test_cancel_from_callback(void **state)
{
	struct fx *f = *state;
	struct pair a = {0}, b = {0};
	struct http_opts o = {.url = url("/hello")};
	struct http_call *ca, *cb;

	/* Each cancels the other: whichever finishes first (perhaps in the
	 * same round) must be the only one called back. */
	ca = http_start(f->http, &o, on_cancel_other, &a);
	cb = http_start(f->http, &o, on_cancel_other, &b);
	a.other = cb;
	b.other = ca;
	run_until(f, &a.calls, 1, 10000);
	if (a.calls == 0)
		run_until(f, &b.calls, 1, 10000);
	run_for(f, 300);
	assert_int_equal(a.calls + b.calls, 1);
	assert_int_equal(http_in_flight(f->http), 0);
}

static void
test_timeout(void **state)
{
	struct fx *f = *state;
	struct result r = {0};
	struct http_opts o = {.url = url("/stall"), .timeout_ms = 300};
	unsigned long long start = fake_now_ms();

	http_start(f->http, &o, on_done, &r);
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_ERR_TIMEOUT);
	assert_string_equal(r.error, "timed out after 300 ms");
	assert_true(fake_now_ms() - start >= 250);
	assert_true(fake_now_ms() - start < 3000);
}

static void
test_body_cap(void **state)
{
	struct fx *f = *state;
	struct result r = {0}, whole = {0};
	struct http_opts o = {.url = url("/big"), .max_body = 1000000};

	http_start(f->http, &o, on_done, &r);
	run_until(f, &r.calls, 1, 20000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_ERR_TOO_LARGE);
	assert_string_equal(r.error, "response larger than 1000000 bytes");
	/* The default cap (8 MiB) lets the same body through. */
	o.max_body = 0;
	http_start(f->http, &o, on_done, &whole);
	run_until(f, &whole.calls, 1, 20000);
	assert_int_equal(whole.result, HTTP_OK);
	assert_int_equal(whole.body_len, 2000000);
	result_clear(&whole);
}

static void
test_connection_refused(void **state)
{
	struct fx *f = *state;
	struct result r = {0};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	char u[64];

	/* A port the kernel just handed out and nobody listens on. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", ntohs(sa.sin_port));
	{
		struct http_opts o = {.url = u};
		http_start(f->http, &o, on_done, &r);
	}
	run_until(f, &r.calls, 1, 10000);
	close(s);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_ERR_CONNECT);
	assert_string_equal(r.error, "connection refused");
}

static void
test_dropped_connection(void **state)
{
	struct fx *f = *state;
	struct result r = {0};

	get(f, "/drop", &r);
	run_until(f, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.result, HTTP_ERR_CONNECT);
	assert_string_equal(r.error, "connection closed without a response");
}

static void
test_json_errors(void **state)
{
	struct fx *f = *state;
	struct result bad = {0}, html = {0};
	struct http_response hand = {.result = HTTP_OK, .status = 200, .body = "  ", .body_len = 2};
	char err[128];

	get(f, "/malformed", &bad);
	get(f, "/html", &html);
	run_until(f, &bad.calls, 1, 10000);
	run_until(f, &html.calls, 1, 10000);
	assert_int_equal(bad.result, HTTP_OK);
	assert_int_equal(bad.status, 200);
	assert_null(bad.json);
	assert_non_null(strstr(bad.json_err, "malformed JSON"));
	assert_int_equal(html.status, 502);
	assert_null(html.json);
	assert_string_equal(html.json_err, "expected JSON, got an HTML page (status 502)");
	/* A response built by hand: no headers, and an empty body. */
	assert_null(http_response_header(&hand, "Content-Type"));
	assert_null(http_response_json(&hand, err, sizeof(err)));
	assert_string_equal(err, "empty response (status 200)");
	hand.body = "[1,2]";
	hand.body_len = 5;
	{
		json_t *v = http_response_json(&hand, err, sizeof(err));
		assert_non_null(v);
		assert_int_equal(json_array_size(v), 2);
		json_decref(v);
	}
}

static void
test_cookie_jar(void **state)
{
	struct fx *f = *state;
	struct result login = {0}, me = {0}, anon = {0};
	struct http_opts o = {.method = "POST", .cookie_jar_id = "qbt"};
	json_t *reqs, *req;
	const char *cookie_me = NULL;
	bool anon_had_cookie = false;
	size_t i;

	o.url = url("/login");
	http_start(f->http, &o, on_done, &login);
	run_until(f, &login.calls, 1, 10000);
	assert_int_equal(login.status, 200);
	o.method = NULL;
	o.url = url("/whoami?who=me");
	http_start(f->http, &o, on_done, &me);
	run_until(f, &me.calls, 1, 10000);
	get(f, "/whoami?who=anon", &anon);
	run_until(f, &anon.calls, 1, 10000);
	result_clear(&me);
	result_clear(&anon);

	reqs = recorded_requests(f);
	json_array_foreach(reqs, i, req)
	{
		json_t *q = json_object_get(req, "query");
		json_t *who = json_array_get(json_object_get(q, "who"), 0);
		const char *c = fake_req_header(req, "Cookie");
		if (who == NULL)
			continue;
		if (strcmp(json_string_value(who), "me") == 0)
			cookie_me = c;
		else if (c != NULL)
			anon_had_cookie = true;
	}
	assert_non_null(cookie_me);
	assert_non_null(strstr(cookie_me, "SID=s3ss10n"));
	assert_false(anon_had_cookie);
	json_decref(reqs);
}

#define PARALLEL 1000

static void
test_parallel_1000(void **state)
{
	struct fx *f = *state;
	static struct result r[PARALLEL];
	int done = 0, ok = 0, ones = 0;
	unsigned long long deadline = fake_now_ms() + 60000;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < PARALLEL; i++)
		get(f, (i % 10 == 0) ? "/fail" : "/small", &r[i]);
	assert_int_equal(http_in_flight(f->http), PARALLEL);
	while (http_in_flight(f->http) > 0 && fake_now_ms() < deadline)
		assert_true(loop_run_once(f->loop, 100) >= 0);
	run_for(f, 100);
	for (int i = 0; i < PARALLEL; i++) {
		done += r[i].calls > 0;
		ones += r[i].calls == 1;
		if (r[i].result == HTTP_OK && r[i].status == ((i % 10 == 0) ? 500 : 200))
			ok++;
		result_clear(&r[i]);
	}
	assert_int_equal(done, PARALLEL);
	assert_int_equal(ones, PARALLEL);
	assert_int_equal(ok, PARALLEL);
}

static void
test_free_with_calls_in_flight(void **state)
{
	struct fx *f = *state;
	struct result r[6] = {0};
	struct http_opts bad = {.url = "http://[::1"};
	int total = 0;

	for (int i = 0; i < 5; i++)
		get(f, i % 2 ? "/slow" : "/stall", &r[i]);
	/* Let the connections open and the requests go out. */
	for (int i = 0; i < 5; i++)
		assert_true(loop_run_once(f->loop, 20) >= 0);
	assert_int_equal(r[0].calls + r[1].calls + r[2].calls + r[3].calls + r[4].calls, 0);
	/* And one whose failure is still waiting to be reported. */
	http_start(f->http, &bad, on_done, &r[5]);
	assert_int_equal(http_in_flight(f->http), 6);
	http_free(f->http);
	f->http = NULL;
	/* Nothing of the client may be left in the loop. */
	run_for(f, 800);
	for (int i = 0; i < 6; i++)
		total += r[i].calls;
	assert_int_equal(total, 0);
}

/* A listener that accepts and never answers: how many connections does
 * the client hold open to one host at once? */
struct mute {
	int lfd;
	int port;
	int conns[64];
	int nconns;
};

static void
mute_open(struct mute *m)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);

	m->nconns = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(m->lfd >= 0);
	assert_int_equal(bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(m->lfd, 64), 0);
	assert_int_equal(getsockname(m->lfd, (struct sockaddr *)&sa, &len), 0);
	m->port = ntohs(sa.sin_port);
}

/* Runs the loop for `ms`, accepting whatever connects. */
static void
mute_run(struct fx *f, struct mute *m, uint64_t ms)
{
	unsigned long long deadline = fake_now_ms() + ms;
	int fd;

	while (fake_now_ms() < deadline) {
		assert_true(loop_run_once(f->loop, 10) >= 0);
		while (m->nconns < 64 && (fd = accept(m->lfd, NULL, NULL)) >= 0)
			m->conns[m->nconns++] = fd;
	}
}

/* Hangs up on everything accepted so far. */
static void
mute_drop(struct mute *m)
{
	for (int i = 0; i < m->nconns; i++)
		close(m->conns[i]);
	m->nconns = 0;
}

#define TO_ONE_HOST 20

static void
test_per_host_limit(void **state)
{
	struct fx *f = *state;
	static struct result r[TO_ONE_HOST], other, late;
	struct mute m;
	char u[64];
	struct http_opts o = {.url = u};
	struct http_opts quick = {.url = u, .timeout_ms = 300};
	struct http_call *last = NULL;
	int calls = 0;

	memset(r, 0, sizeof(r));
	memset(&other, 0, sizeof(other));
	memset(&late, 0, sizeof(late));
	mute_open(&m);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/hold", m.port);
	for (int i = 0; i < TO_ONE_HOST; i++)
		last = http_start(f->http, &o, on_done, &r[i]);
	/* Waiting its turn does not stop a call's own timeout. */
	http_start(f->http, &quick, on_done, &late);
	assert_int_equal(http_in_flight(f->http), TO_ONE_HOST + 1);
	/* Another host is not held up by this one. */
	get(f, "/small", &other);
	mute_run(f, &m, 500);
	assert_int_equal(m.nconns, 8);
	assert_int_equal(other.calls, 1);
	assert_int_equal(other.status, 200);
	assert_int_equal(late.calls, 1);
	assert_int_equal(late.result, HTTP_ERR_TIMEOUT);
	assert_non_null(strstr(late.error, "waiting for a connection"));
	for (int i = 0; i < TO_ONE_HOST; i++)
		calls += r[i].calls;
	assert_int_equal(calls, 0);

	/* A waiting call can be cancelled; the next ones run as slots free. */
	http_cancel(last);
	mute_drop(&m);
	mute_run(f, &m, 500);
	assert_int_equal(m.nconns, 8);
	mute_drop(&m);
	mute_run(f, &m, 500);
	assert_int_equal(m.nconns, TO_ONE_HOST - 1 - 16);
	mute_drop(&m);
	mute_run(f, &m, 300);
	calls = 0;
	for (int i = 0; i < TO_ONE_HOST; i++) {
		assert_int_equal(r[i].calls, i == TO_ONE_HOST - 1 ? 0 : 1);
		if (r[i].calls)
			assert_int_equal(r[i].result, HTTP_ERR_CONNECT);
		result_clear(&r[i]);
	}
	assert_int_equal(http_in_flight(f->http), 0);
	close(m.lfd);
	result_clear(&other);
	result_clear(&late);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_500_is_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_calls_back_inside_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_before_completion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_from_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookie_jar, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parallel_1000, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_calls_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_per_host_limit, setup, teardown),
	};

	/* A fake that dies must not kill the test with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/webhook.h"
#include "core/http.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

/*
 * The payloads are the JSON files in tests/fakes/seerr_webhooks, written from the
 * default Overseerr template (NOTES 1.8). They are POSTed with usher's own
 * async client on the same loop as the listener.
 */

#define SECRET   "Bearer s3cret-webhook-value"
#define MAX_BODY 16384

struct fx {
	struct loop *loop;
	struct http *http;
	struct httpd *httpd;
	struct webhook *webhook;
	struct webhook_notice got[8];
	int ncalls;
	FILE *log;
	char *logbuf;
	size_t loglen;
};

/* One POST in flight. */
struct call {
	bool done;
	long status;
};

static uint64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_notice(const struct webhook_notice *n, void *arg)
{
	struct fx *fx = arg;

	if (fx->ncalls < 8)
		fx->got[fx->ncalls] = *n;
	fx->ncalls++;
}

static struct fx *
fx_new(const char *secret)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct httpd_opts opts = {.listen = "127.0.0.1:0", .max_body = MAX_BODY};
	char err[256];

	fx->log = open_memstream(&fx->logbuf, &fx->loglen);
	log_set_output(fx->log);
	log_set_level(LOG_LEVEL_INFO);
	fx->loop = loop_new();
	fx->http = http_new(fx->loop);
	fx->httpd = httpd_start(fx->loop, &opts, err, sizeof(err));
	assert_non_null(fx->httpd);
	fx->webhook = webhook_attach(fx->httpd, NULL, secret, on_notice, fx);
	assert_non_null(fx->webhook);
	return fx;
}

static void
fx_free(struct fx *fx)
{
	http_free(fx->http);
	httpd_free(fx->httpd);
	webhook_free(fx->webhook);
	loop_free(fx->loop);
	log_set_output(stderr);
	log_clear_secrets();
	fclose(fx->log);
	free(fx->logbuf);
	free(fx);
}

static const char *
fx_log(struct fx *fx)
{
	fflush(fx->log);
	return fx->logbuf ? fx->logbuf : "";
}

static void
on_done(const struct http_response *resp, void *arg)
{
	struct call *c = arg;

	c->done = true;
	c->status = resp->status;
}

/* POSTs `body` to the webhook with `auth` as Authorization (NULL: none),
 * then runs the loop a little longer so queued notices are delivered.
 * Returns the status (0: no answer). */
static long
post(struct fx *fx, const char *path, const char *auth, const char *body, size_t len)
{
	struct call c = {0};
	char url[128], authline[256];
	const char *headers[3] = {"Content-Type: application/json", NULL, NULL};
	struct http_opts opts = {
	    .method = "POST",
	    .url = url,
	    .headers = headers,
	    .body = body,
	    .body_len = len,
	    .timeout_ms = 5000,
	};
	uint64_t deadline = real_ms() + 6000;

	if (auth) {
		snprintf(authline, sizeof(authline), "Authorization: %s", auth);
		headers[1] = authline;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", httpd_port(fx->httpd),
	         path ? path : WEBHOOK_DEFAULT_PATH);
	http_start(fx->http, &opts, on_done, &c);
	while (!c.done && real_ms() < deadline)
		loop_run_once(fx->loop, 50);
	for (int i = 0; i < 5; i++)
		loop_run_once(fx->loop, 10);
	return c.status;
}

static char *
fixture(const char *name, size_t *len)
{
	char path[512];
	char *text;

	snprintf(path, sizeof(path), "%s/fakes/seerr_webhooks/%s", USHER_TESTS_DIR, name);
	text = file_read_all(path, 1 << 20, len);
	assert_non_null(text);
	return text;
}

static long
post_fixture(struct fx *fx, const char *name)
{
	size_t len;
	char *body = fixture(name, &len);
	long status = post(fx, NULL, SECRET, body, len);

	free(body);
	return status;
}

static void
test_default_payloads(void **state)
{
	static const struct {
		const char *file;
		enum webhook_event event;
		bool is_tv;
		long tmdb, tvdb, request;
		enum webhook_media_status status;
		const char *user;
	} cases[] = {
	    {"media_pending.json", WEBHOOK_MEDIA_PENDING, false, 438631, 0, 42,
	     WEBHOOK_STATUS_PENDING, "bob"},
	    {"media_approved.json", WEBHOOK_MEDIA_APPROVED, false, 438631, 0, 42,
	     WEBHOOK_STATUS_PROCESSING, "alice"},
	    {"media_auto_approved.json", WEBHOOK_MEDIA_AUTO_APPROVED, true, 95396, 371980, 17,
	     WEBHOOK_STATUS_PARTIALLY_AVAILABLE, "alice"},
	    {"media_available.json", WEBHOOK_MEDIA_AVAILABLE, false, 438631, 0, 42,
	     WEBHOOK_STATUS_AVAILABLE, "alice"},
	    {"media_declined.json", WEBHOOK_MEDIA_DECLINED, true, 2316, 73244, 43,
	     WEBHOOK_STATUS_UNKNOWN, "bob"},
	    {"media_failed.json", WEBHOOK_MEDIA_FAILED, false, 329865, 0, 44,
	     WEBHOOK_STATUS_PENDING, "alice"},
	};
	struct fx *fx = fx_new(SECRET);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct webhook_notice *n = &fx->got[0];

		fx->ncalls = 0;
		assert_int_equal(post_fixture(fx, cases[i].file), 204);
		assert_int_equal(fx->ncalls, 1);
		assert_int_equal(n->event, cases[i].event);
		assert_true(n->has_media);
		assert_true(n->has_request);
		assert_int_equal(n->is_tv, cases[i].is_tv);
		assert_false(n->is_4k);
		assert_int_equal(n->tmdb_id, cases[i].tmdb);
		assert_int_equal(n->tvdb_id, cases[i].tvdb);
		assert_int_equal(n->request_id, cases[i].request);
		assert_int_equal(n->status, cases[i].status);
		assert_int_equal(n->status_4k, WEBHOOK_STATUS_UNKNOWN);
		assert_string_equal(n->requested_by, cases[i].user);
		assert_int_equal(n->requested_by_id, 0);
	}

	/* The details of one of them. */
	fx->ncalls = 0;
	assert_int_equal(post_fixture(fx, "media_approved.json"), 204);
	assert_string_equal(fx->got[0].subject, "Dune (2021)");
	assert_string_equal(fx->got[0].event_text, "Movie Request Approved");
	assert_string_equal(fx->got[0].notification_type, "MEDIA_APPROVED");
	assert_string_equal(fx->got[0].message, "Paul Atreides, a brilliant and gifted young man…");
	assert_string_equal(fx->got[0].image, "https://image.tmdb.org/t/p/w600_and_h900_bestv2/"
	                                      "d5NXSklXo0qyIYkgV94XAgMIckC.jpg");
	assert_string_equal(fx->got[0].requested_by_email, "alice@example.com");
	assert_string_equal(fx->got[0].requested_by_discord_id, "123456789012345678");
	assert_string_equal(fx->got[0].requested_by_telegram_chat_id, "");
	assert_int_equal(fx->got[0].nseasons, 0);
	fx_free(fx);
}

static void
test_seasons_and_4k(void **state)
{
	struct fx *fx = fx_new(SECRET);

	(void)state;
	assert_int_equal(post_fixture(fx, "media_auto_approved.json"), 204);
	assert_int_equal(fx->got[0].nseasons, 2);
	assert_int_equal(fx->got[0].seasons[0], 1);
	assert_int_equal(fx->got[0].seasons[1], 2);
	assert_string_equal(fx->got[0].requested_by_telegram_chat_id, "555123");
	fx->ncalls = 0;
	assert_int_equal(post_fixture(fx, "media_pending_4k.json"), 204);
	assert_int_equal(fx->ncalls, 1);
	assert_true(fx->got[0].is_4k);
	assert_true(fx->got[0].is_tv);
	assert_int_equal(fx->got[0].status_4k, WEBHOOK_STATUS_PENDING);
	assert_int_equal(fx->got[0].nseasons, 1);
	assert_int_equal(fx->got[0].seasons[0], 2);
	fx_free(fx);
}

static void
test_test_notification(void **state)
{
	struct fx *fx = fx_new(SECRET);

	(void)state;
	assert_int_equal(post_fixture(fx, "test_notification.json"), 204);
	assert_int_equal(fx->ncalls, 1);
	assert_int_equal(fx->got[0].event, WEBHOOK_TEST);
	assert_false(fx->got[0].has_media);
	assert_false(fx->got[0].has_request);
	assert_int_equal(fx->got[0].tmdb_id, 0);
	assert_string_equal(fx->got[0].subject, "Test Notification");
	assert_string_equal(webhook_event_name(fx->got[0].event), "TEST_NOTIFICATION");
	fx_free(fx);
}

static void
test_other_types(void **state)
{
	struct fx *fx = fx_new(SECRET);
	const char *unknown = "{\"notification_type\":\"MEDIA_SOMETHING_NEW\",\"subject\":\"x\"}";
	const char *missing = "{\"subject\":\"no type at all\"}";

	(void)state;
	assert_int_equal(post_fixture(fx, "issue_created.json"), 204);
	assert_int_equal(fx->got[0].event, WEBHOOK_OTHER);
	assert_string_equal(fx->got[0].notification_type, "ISSUE_CREATED");
	assert_int_equal(fx->got[0].tmdb_id, 438631);
	assert_false(fx->got[0].has_request);
	assert_int_equal(post(fx, NULL, SECRET, unknown, strlen(unknown)), 204);
	assert_int_equal(fx->got[1].event, WEBHOOK_OTHER);
	assert_string_equal(fx->got[1].notification_type, "MEDIA_SOMETHING_NEW");
	assert_int_equal(post(fx, NULL, SECRET, missing, strlen(missing)), 204);
	assert_int_equal(fx->got[2].event, WEBHOOK_OTHER);
	assert_int_equal(fx->ncalls, 3);
	fx_free(fx);
}

/* An admin-edited template: numbers as numbers, a placeholder left as
 * is, extra fields, missing ones, odd entries in extra. */
static void
test_custom_template(void **state)
{
	struct fx *fx = fx_new(SECRET);
	const struct webhook_notice *n = &fx->got[0];

	(void)state;
	assert_int_equal(post_fixture(fx, "custom_template.json"), 204);
	assert_int_equal(fx->ncalls, 1);
	assert_int_equal(n->event, WEBHOOK_MEDIA_APPROVED);
	assert_int_equal(n->tmdb_id, 329865);
	assert_int_equal(n->tvdb_id, 0);
	assert_int_equal(n->status, WEBHOOK_STATUS_PROCESSING);
	assert_int_equal(n->status_4k, WEBHOOK_STATUS_NONE);
	assert_int_equal(n->request_id, 46);
	assert_int_equal(n->requested_by_id, 7);
	assert_string_equal(n->requested_by, "12345");
	assert_string_equal(n->event_text, "");
	assert_false(n->is_tv);
	assert_int_equal(n->nseasons, 0);
	fx_free(fx);
}

static void
test_string_ids(void **state)
{
	struct webhook_notice n;
	char err[128];
	const char *body =
	    "{\"notification_type\":\"MEDIA_PENDING\",\"media\":{\"media_type\":\"tv\","
	    "\"tmdbId\":\"{{media_tmdbid}}\",\"tvdbId\":\"12x\",\"status\":\"9\"},"
	    "\"request\":{\"request_id\":\"-4\",\"requestedBy_id\":2.0}}";
	const char *body2 = "{\"media\":{\"tmdbId\":\" 603 \",\"tvdbId\":1e30,"
	                    "\"status\":\"available\"},\"request\":{\"request_id\":1.5}}";

	(void)state;
	assert_int_equal(webhook_parse(body, strlen(body), &n, err, sizeof(err)), 0);
	assert_int_equal(n.event, WEBHOOK_MEDIA_PENDING);
	assert_true(n.is_tv);
	assert_int_equal(n.tmdb_id, 0);
	assert_int_equal(n.tvdb_id, 0);
	assert_int_equal(n.status, WEBHOOK_STATUS_NONE);
	assert_int_equal(n.request_id, 0);
	assert_int_equal(n.requested_by_id, 2);
	assert_int_equal(webhook_parse(body2, strlen(body2), &n, err, sizeof(err)), 0);
	assert_int_equal(n.tmdb_id, 603);
	assert_int_equal(n.tvdb_id, 0);
	assert_int_equal(n.status, WEBHOOK_STATUS_AVAILABLE);
	assert_int_equal(n.request_id, 0);
}

static char *
repeat_e_acute(const char *prefix, size_t count)
{
	size_t plen = strlen(prefix);
	char *s = malloc(plen + count * 2 + 1);

	memcpy(s, prefix, plen);
	for (size_t i = 0; i < count; i++) {
		s[plen + 2 * i] = (char)0xC3;
		s[plen + 2 * i + 1] = (char)0xA9;
	}
	s[plen + count * 2] = '\0';
	return s;
}

/* Long strings are cut to fit, never in the middle of a character. */
static void
test_truncation(void **state)
{
	struct webhook_notice n;
	char err[128], *body;
	char *even = repeat_e_acute("", 2000), *odd = repeat_e_acute("a", 2000);

	(void)state;
	body = xasprintf("{\"subject\":\"%s\",\"message\":\"%s\"}", even, odd);
	assert_int_equal(webhook_parse(body, strlen(body), &n, err, sizeof(err)), 0);
	/* 255 bytes would end in half an é: 254 are kept. */
	assert_int_equal(strlen(n.subject), sizeof(n.subject) - 2);
	assert_int_equal((unsigned char)n.subject[sizeof(n.subject) - 3], 0xA9);
	/* "a" + 511 é is exactly 1023 bytes. */
	assert_int_equal(strlen(n.message), sizeof(n.message) - 1);
	assert_int_equal((unsigned char)n.message[sizeof(n.message) - 2], 0xA9);
	free(body);
	free(even);
	free(odd);
}

static void
test_secret_refused(void **state)
{
	struct fx *fx = fx_new(SECRET);
	size_t len;
	char *body = fixture("media_approved.json", &len);

	(void)state;
	assert_int_equal(post(fx, NULL, NULL, body, len), 401);
	assert_int_equal(post(fx, NULL, "Bearer s3cret-webhook-valuE", body, len), 401);
	assert_int_equal(post(fx, NULL, "Bearer s3cret-webhook-value-and-more", body, len), 401);
	assert_int_equal(post(fx, NULL, "Bearer", body, len), 401);
	assert_int_equal(post(fx, NULL, "", body, len), 401);
	assert_int_equal(fx->ncalls, 0);
	assert_non_null(strstr(fx_log(fx), "wrong Authorization header"));
	assert_non_null(strstr(fx_log(fx), "no Authorization header"));
	assert_null(strstr(fx_log(fx), "s3cret"));
	/* The route only answers POST; the right secret works. */
	assert_int_equal(post(fx, "/webhook/other", SECRET, body, len), 404);
	assert_int_equal(post(fx, NULL, SECRET, body, len), 204);
	assert_int_equal(fx->ncalls, 1);
	free(body);
	fx_free(fx);
}

static void
test_no_secret_configured(void **state)
{
	struct fx *fx = fx_new("");
	size_t len;
	char *body = fixture("media_approved.json", &len);

	(void)state;
	assert_non_null(strstr(fx_log(fx), "webhook_secret is not set"));
	assert_int_equal(post(fx, NULL, NULL, body, len), 403);
	assert_int_equal(post(fx, NULL, "anything", body, len), 403);
	assert_int_equal(post(fx, NULL, "", body, len), 403);
	assert_int_equal(fx->ncalls, 0);
	assert_non_null(strstr(fx_log(fx), "[seerr] webhook_secret"));
	free(body);
	fx_free(fx);
}

static void
test_malformed_and_huge(void **state)
{
	struct fx *fx = fx_new(SECRET);
	static const char *bad[] = {
	    "", "{", "not json", "[1,2,3]", "\"MEDIA_APPROVED\"", "{\"a\":1}{", "null",
	};
	char *huge = malloc(MAX_BODY * 2);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(post(fx, NULL, SECRET, bad[i], strlen(bad[i])), 400);
	assert_non_null(strstr(fx_log(fx), "bad notification from 127.0.0.1"));
	memset(huge, ' ', MAX_BODY * 2);
	huge[0] = '{';
	huge[MAX_BODY * 2 - 1] = '}';
	assert_int_equal(post(fx, NULL, SECRET, huge, MAX_BODY * 2), 413);
	assert_int_equal(fx->ncalls, 0);
	/* Still serving. */
	assert_int_equal(post_fixture(fx, "test_notification.json"), 204);
	assert_int_equal(fx->ncalls, 1);
	free(huge);
	fx_free(fx);
}

/* A path is routed once; freeing in the documented order is clean. */
static void
test_attach_twice_and_free(void **state)
{
	struct fx *fx = fx_new(SECRET);
	struct loop *loop = fx->loop;

	(void)state;
	assert_null(webhook_attach(fx->httpd, NULL, SECRET, on_notice, fx));
	fx->ncalls = 0;
	http_free(fx->http);
	httpd_free(fx->httpd);
	webhook_free(fx->webhook);
	webhook_free(NULL);
	loop_run_once(loop, 0);
	assert_int_equal(fx->ncalls, 0);
	loop_free(loop);
	log_set_output(stderr);
	log_clear_secrets();
	fclose(fx->log);
	free(fx->logbuf);
	free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_payloads),
	    cmocka_unit_test(test_seasons_and_4k),
	    cmocka_unit_test(test_test_notification),
	    cmocka_unit_test(test_other_types),
	    cmocka_unit_test(test_custom_template),
	    cmocka_unit_test(test_string_ids),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_secret_refused),
	    cmocka_unit_test(test_no_secret_configured),
	    cmocka_unit_test(test_malformed_and_huge),
	    cmocka_unit_test(test_attach_twice_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

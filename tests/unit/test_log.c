/* Tests for core/log: format, levels, journald form, redaction, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/log.h"

struct capture {
	FILE *f;
	char *data;
	size_t len;
};

static struct capture cap;

static int
setup(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	cap.data = NULL;
	cap.len = 0;
	cap.f = open_memstream(&cap.data, &cap.len);
	assert_non_null(cap.f);
	log_set_output(cap.f);
	log_set_level(LOG_LEVEL_INFO);
	log_clear_secrets();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_output(NULL);
	log_set_format(LOG_FORMAT_TEXT);
	fclose(cap.f);
	free(cap.data);
	log_clear_secrets();
	unsetenv("JOURNAL_STREAM");
	return 0;
}

/* Everything written so far (the stream is flushed by every log call). */
static const char *
out(void)
{
	fflush(cap.f);
	return cap.data ? cap.data : "";
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
test_line_format(void **state)
{
	const char *o;

	(void)state;
	log_warnx("disk %s is %d%% full", "/srv", 93);
	o = out();
	/* "YYYY-MM-DD HH:MM:SS warn: message\n" */
	assert_int_equal(strlen(o), 20 + strlen("warn: disk /srv is 93% full\n"));
	assert_true(o[4] == '-' && o[7] == '-' && o[10] == ' ' && o[13] == ':' && o[16] == ':');
	assert_string_equal(o + 20, "warn: disk /srv is 93% full\n");
}

static void
test_levels(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_WARN);
	log_debug("d-line");
	log_info("i-line");
	log_warnx("w-line");
	log_error("e-line");
	assert_null(strstr(out(), "d-line"));
	assert_null(strstr(out(), "i-line"));
	assert_non_null(strstr(out(), "warn: w-line"));
	assert_non_null(strstr(out(), "error: e-line"));
	assert_int_equal(count_lines(out()), 2);

	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("d2-line");
	assert_non_null(strstr(out(), "debug: d2-line"));
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);

	log_set_level(LOG_LEVEL_ERROR);
	log_warnx("w2-line");
	assert_null(strstr(out(), "w2-line"));
}

static void
test_level_parse(void **state)
{
	enum log_level l = LOG_LEVEL_INFO;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_int_equal(l, LOG_LEVEL_WARN);
}

static void
test_warn_appends_strerror(void **state)
{
	(void)state;
	errno = ENOENT;
	log_warn("open %s", "/etc/usher.conf");
	assert_non_null(strstr(out(), "warn: open /etc/usher.conf: No such file or directory\n"));
	assert_int_equal(errno, ENOENT);
	errno = ENOENT;
	log_warnx("plain");
	assert_non_null(strstr(out(), "warn: plain\n"));
}

static void
test_journald_prefix(void **state)
{
	(void)state;
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_error("e");
	log_warnx("w");
	log_info("i");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("d");
	assert_string_equal(out(), "<3>e\n<4>w\n<6>i\n<7>d\n");
}

static void
test_secret_never_appears(void **state)
{
	const char *o;

	(void)state;
	log_add_secret("hunter2secret");
	log_info("x hunter2secret y");
	log_info("inhunter2secretword and again hunter2secret,hunter2secret.");
	log_info("%s%s", "hunter2", "secret");
	o = out();
	assert_null(strstr(o, "hunter2secret"));
	assert_null(strstr(o, "hunter2"));
	assert_non_null(strstr(o, "info: x [redacted] y\n"));
	assert_non_null(strstr(o, "in[redacted]word and again [redacted],[redacted].\n"));
	assert_int_equal(count_lines(o), 3);
}

static void
test_overlapping_secrets(void **state)
{
	char buf[128];

	(void)state;
	log_add_secret("abcd1234");
	log_add_secret("1234wxyz");
	log_redact("see abcd1234wxyz here", buf, sizeof(buf));
	assert_string_equal(buf, "see [redacted] here");
}

static void
test_short_secret_ignored(void **state)
{
	char buf[128];

	(void)state;
	log_add_secret("the");
	log_add_secret("");
	log_add_secret(NULL);
	log_redact("the theatre", buf, sizeof(buf));
	assert_string_equal(buf, "the theatre");
}

static void
test_clear_secrets(void **state)
{
	char buf[128];

	(void)state;
	log_add_secret("s3cr3t-value");
	log_redact("k s3cr3t-value", buf, sizeof(buf));
	assert_string_equal(buf, "k [redacted]");
	log_clear_secrets();
	log_redact("k s3cr3t-value", buf, sizeof(buf));
	assert_string_equal(buf, "k s3cr3t-value");
}

static void
check_redact(const char *in, const char *want)
{
	char buf[512];

	log_redact(in, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_carriers(void **state)
{
	(void)state;
	check_redact("GET /api/v1/movie?api_key=abc123&page=2 HTTP/1.1",
	             "GET /api/v1/movie?api_key=[redacted]&page=2 HTTP/1.1");
	check_redact("url=http://x/?APIKEY=Zz9 ok", "url=http://x/?APIKEY=[redacted] ok");
	check_redact("q?access_token=syt_abc'x", "q?access_token=[redacted]'x");
	check_redact("token=t0k\"", "token=[redacted]\"");
	check_redact("login password=pa55 user=bob", "login password=[redacted] user=bob");
	check_redact("Authorization: Bearer eyJhbGci.x.y done",
	             "Authorization: Bearer [redacted] done");
	check_redact("authorization: Bot NzA5.abc", "authorization: Bot [redacted]");
	check_redact("Authorization: rawtoken next", "Authorization: [redacted] next");
	check_redact("X-Api-Key: 0123456789abcdef sent", "X-Api-Key: [redacted] sent");
	check_redact("Cookie: SID=abc; other=def", "Cookie: [redacted]");
	check_redact("< Set-Cookie: SID=abc; HttpOnly\r\nnext", "< Set-Cookie: [redacted]\r\nnext");
	check_redact("{\"password\":\"p\\\"w\",\"user\":\"bob\"}",
	             "{\"password\":\"[redacted]\",\"user\":\"bob\"}");
	check_redact("{\"access_token\": \"syt_x\", \"n\": 1}",
	             "{\"access_token\": \"[redacted]\", \"n\": 1}");
	check_redact("{\"token\": 12345}", "{\"token\": [redacted]}");
	check_redact("the token\" was", "the token\" was");
	check_redact("password= empty", "password= empty");
	check_redact("nothing to see", "nothing to see");
}

static void
test_redact_truncates(void **state)
{
	char buf[8];

	(void)state;
	log_redact("0123456789", buf, sizeof(buf));
	assert_string_equal(buf, "0123456");
	log_redact("ab\xc3\xa9\xc3\xa9\xc3\xa9xyz", buf, sizeof(buf)); /* never half an é */
	assert_string_equal(buf, "ab\xc3\xa9\xc3\xa9");
}

static void
test_huge_line_truncated(void **state)
{
	size_t n = 100000;
	char *big = malloc(n + 1);
	const char *o, *msg;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', n);
	big[n] = '\0';
	log_info("%s", big);
	o = out();
	msg = strstr(o, "info: ");
	assert_non_null(msg);
	assert_int_equal(count_lines(o), 1);
	assert_true(strlen(o) < 8192 + 64);
	assert_true(strlen(o) > 8000);
	/* ends with the ellipsis and a newline */
	assert_string_equal(o + strlen(o) - 4, "\xe2\x80\xa6\n");
	free(big);
}

static void
test_huge_line_secret_at_cut(void **state)
{
	/* A long line whose formatting is cut inside a registered secret:
	 * the secret's first bytes must not show either. */
	const char *secret = "QQQQ-the-secret-ZZZZ";
	size_t n = 16384 - 256 - 8; /* cut falls inside the secret */
	char *big = malloc(n + 64);
	char *p;

	(void)state;
	assert_non_null(big);
	log_add_secret(secret);
	memset(big, ' ', n);
	strcpy(big + n, secret);
	log_info("%s", big);
	assert_null(strstr(out(), "QQQQ"));
	/* the same with the secret early: it is redacted even though the line is cut */
	memset(big, 'b', n);
	memcpy(big + 10, secret, strlen(secret));
	big[n] = '\0';
	log_info("%s", big);
	p = strstr(out(), "bbbbbbbbbb[redacted]bbb");
	assert_non_null(p);
	free(big);
}

static void
test_fatal_logs_and_aborts(void **state)
{
	FILE *f = tmpfile();
	char text[256] = "";
	int status = 0;
	pid_t pid;

	(void)state;
	assert_non_null(f);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		log_set_output(f);
		log_set_level(LOG_LEVEL_ERROR); /* fatal ignores the threshold */
		log_add_secret("fatal-secret");
		fatalx("invariant broken: %s", "fatal-secret");
	}
	for (int i = 0; i < 1000 && waitpid(pid, &status, WNOHANG) == 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (i == 999) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("child did not abort");
		}
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	rewind(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, " fatal: invariant broken: [redacted]\n"));
}

/* The text after "ts=<stamp> " of the only line written so far. */
static const char *
event_text(void)
{
	const char *o = out(), *sp;

	assert_int_equal(count_lines(o), 1);
	assert_true(strncmp(o, "ts=", 3) == 0);
	/* ts=2024-05-01T12:00:00.123Z */
	assert_true(o[7] == '-' && o[13] == 'T' && o[22] == '.' && o[26] == 'Z');
	sp = strchr(o, ' ');
	assert_non_null(sp);
	return sp + 1;
}

static void
test_event_text_fields(void **state)
{
	(void)state;
	log_event(LOG_LEVEL_INFO, "reply", LOG_STR("network", "matrix"), LOG_STR("person", "alice"),
	          LOG_STR("skipped", NULL), LOG_INT("status", 201), LOG_INT("ms", -42));
	assert_string_equal(
	    event_text(), "level=info event=reply network=matrix person=alice status=201 ms=-42\n");
}

static void
test_event_text_escaping(void **state)
{
	(void)state;
	log_event(LOG_LEVEL_WARN, "odd", LOG_STR("title", "The \"Big\" one"),
	          LOG_STR("text", "two\nlines\tand\\"), LOG_STR("eq", "a=b"), LOG_STR("empty", ""),
	          LOG_STR("bad", "x\x01\xff"), LOG_STR("uni", "Amélie"), LOG_STR("k y", "v"));
	assert_string_equal(event_text(), "level=warn event=odd title=\"The \\\"Big\\\" one\" "
	                                  "text=\"two\\nlines\\tand\\\\\" eq=\"a=b\" empty=\"\" "
	                                  "bad=\"x\\x01\\xff\" uni=Amélie k_y=v\n");
}

static void
test_event_level_and_journald(void **state)
{
	(void)state;
	log_set_level(LOG_LEVEL_WARN);
	log_event(LOG_LEVEL_INFO, "quiet", LOG_STR("a", "b"));
	assert_string_equal(out(), "");
	setenv("JOURNAL_STREAM", "8:1", 1);
	log_event(LOG_LEVEL_WARN, "loud", LOG_STR("a", "b"));
	log_event_fields(LOG_LEVEL_ERROR, "bare", NULL);
	assert_string_equal(out(), "<4>level=warn event=loud a=b\n<3>level=error event=bare\n");
}

static void
test_event_room_hash(void **state)
{
	char h1[LOG_HASH_SIZE], h2[LOG_HASH_SIZE], want[64];

	(void)state;
	log_hash("!secretroom:example.org", h1);
	log_hash("!otherroom:example.org", h2);
	assert_int_equal(strlen(h1), 8);
	assert_int_equal(strspn(h1, "0123456789abcdef"), 8);
	assert_string_not_equal(h1, h2);
	/* FNV-1a of "a" is fixed: the hash is the same on every run. */
	assert_string_equal(log_hash("a", h2), "e40c292c");
	log_event(LOG_LEVEL_INFO, "in", LOG_HASH("room", "!secretroom:example.org"));
	assert_null(strstr(out(), "secretroom"));
	snprintf(want, sizeof(want), "event=in room=%s\n", h1);
	assert_non_null(strstr(out(), want));
}

static void
test_event_redaction_text(void **state)
{
	const char *o;

	(void)state;
	log_add_secret("sekrit-value-1");
	log_event(LOG_LEVEL_INFO, "upstream", LOG_STR("path", "/api/v3/queue?apikey=abc123&page=1"),
	          LOG_STR("note", "has sekrit-value-1 inside"), LOG_STR("api_key", "plainkey"),
	          LOG_STR("access_token", "syt_zzz"));
	o = out();
	assert_null(strstr(o, "abc123"));
	assert_null(strstr(o, "sekrit"));
	assert_null(strstr(o, "plainkey"));
	assert_null(strstr(o, "syt_zzz"));
	assert_non_null(strstr(o, "path=\"/api/v3/queue?apikey=[redacted]&page=1\" "));
	assert_non_null(strstr(o, "note=\"has [redacted] inside\""));
	assert_non_null(strstr(o, "api_key=[redacted] access_token=[redacted]\n"));
}

/* Every line of the output parses as one JSON object; returns them as an
 * array (the caller json_decref()s it). */
static json_t *
json_lines(void)
{
	json_t *all = json_array();
	const char *p = out();

	while (*p) {
		const char *nl = strchr(p, '\n');
		json_error_t err;
		json_t *o;

		assert_non_null(nl);
		o = json_loadb(p, (size_t)(nl - p), 0, &err);
		if (o == NULL)
			fail_msg("not JSON (%s): %.*s", err.text, (int)(nl - p), p);
		assert_true(json_is_object(o));
		assert_true(json_is_string(json_object_get(o, "ts")));
		assert_true(json_is_string(json_object_get(o, "level")));
		json_array_append_new(all, o);
		p = nl + 1;
	}
	return all;
}

static void
test_json_free_text(void **state)
{
	json_t *lines;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	errno = ENOENT;
	log_warn("open \"%s\"", "/etc/x\ty");
	log_info("ctl \x01\x1f del \x7f bad \xc3\x28 over \xe0\x80\xaf end \\");
	lines = json_lines();
	assert_int_equal(json_array_size(lines), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "msg")),
	                    "open \"/etc/x\ty\": No such file or directory");
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "level")),
	                    "warn");
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 1), "msg")),
	                    "ctl \x01\x1f del \x7f bad \xef\xbf\xbd( over "
	                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end \\");
	json_decref(lines);
}

static void
test_json_event_hostile(void **state)
{
	size_t n = 20000;
	char *big = malloc(n + 1);
	json_t *lines, *ev;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = "\"\\\n\x01"[i % 4];
	big[n] = '\0';
	log_set_format(LOG_FORMAT_JSON);
	log_event(LOG_LEVEL_INFO, "reply", LOG_STR("network", "matrix"),
	          LOG_STR("title", "\"}{\"level\":\"x"), LOG_INT("ms", 42),
	          LOG_STR("key\"with", "v"));
	log_event(LOG_LEVEL_INFO, "huge", LOG_STR("a", "first"), LOG_STR("big", big),
	          LOG_STR("after", "never"));
	log_event(LOG_LEVEL_INFO, "huge2", LOG_STR("big", big), LOG_STR("big2", big));
	free(big);
	lines = json_lines();
	assert_int_equal(json_array_size(lines), 3);
	ev = json_array_get(lines, 0);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "reply");
	assert_string_equal(json_string_value(json_object_get(ev, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(ev, "network")), "matrix");
	assert_string_equal(json_string_value(json_object_get(ev, "title")), "\"}{\"level\":\"x");
	assert_int_equal(json_integer_value(json_object_get(ev, "ms")), 42);
	assert_string_equal(json_string_value(json_object_get(ev, "key_with")), "v");
	ev = json_array_get(lines, 1);
	assert_string_equal(json_string_value(json_object_get(ev, "a")), "first");
	/* cut with an ellipsis, and the line stayed bounded */
	assert_non_null(strstr(json_string_value(json_object_get(ev, "big")), "\xe2\x80\xa6"));
	assert_true(strlen(out()) < 3 * 8192);
	json_decref(lines);
}

static void
test_json_redaction(void **state)
{
	json_t *lines;
	const char *o;

	(void)state;
	log_add_secret("sekrit-value-2");
	log_set_format(LOG_FORMAT_JSON);
	/* The carrier's value ends at a quote: redacting after escaping would
	 * eat the escape's backslash and end the JSON string early. */
	log_info("url \"http://x/?token=abc\" and sekrit-value-2");
	log_info("{\"password\":\"pw\\\"x\"}");
	log_event(LOG_LEVEL_INFO, "upstream", LOG_STR("path", "/q?api_key=k3y&x=\"1\""),
	          LOG_STR("password", "hunter22"), LOG_STR("n", "sekrit-value-2\""));
	o = out();
	lines = json_lines();
	assert_int_equal(json_array_size(lines), 3);
	assert_null(strstr(o, "abc"));
	assert_null(strstr(o, "sekrit"));
	assert_null(strstr(o, "k3y"));
	assert_null(strstr(o, "hunter22"));
	assert_null(strstr(o, "pw"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 0), "msg")),
	                    "url \"http://x/?token=[redacted]\" and [redacted]");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(lines, 2), "password")), "[redacted]");
	assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 2), "n")),
	                    "[redacted]\"");
	json_decref(lines);
}

static void
test_format_parse(void **state)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("text", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("xml", &f), -1);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	log_set_format(LOG_FORMAT_JSON);
	assert_int_equal(log_get_format(), LOG_FORMAT_JSON);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warn_appends_strerror, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journald_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_never_appears, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlapping_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_secret_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_carriers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_redact_truncates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_line_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_huge_line_secret_at_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fatal_logs_and_aborts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_text_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_text_escaping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_level_and_journald, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_room_hash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_event_redaction_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_free_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_event_hostile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_redaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_parse, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

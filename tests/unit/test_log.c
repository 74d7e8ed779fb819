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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

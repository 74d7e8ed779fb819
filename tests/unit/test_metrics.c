/* Tests for ops/metrics: counting, labels, the text format, bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/metrics.h"

static int
reset(void **state)
{
	(void)state;
	metrics_reset();
	return 0;
}

/* The value of the sample line that starts with `series` ("name{...}"),
 * or -1 when there is none. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void
test_counts_by_label(void **state)
{
	char *text;

	(void)state;
	metrics_message_in("matrix");
	metrics_message_in("matrix");
	metrics_message_in("console");
	metrics_message_out("matrix");
	metrics_parse("grammar");
	metrics_parse("none");
	metrics_parse("grammar");
	metrics_upstream("Radarr", false);
	metrics_upstream("Radarr", true);
	metrics_upstream("Seerr", false);
	text = metrics_render();
	assert_true(sample(text, "usher_messages_in_total{network=\"matrix\"}") == 2);
	assert_true(sample(text, "usher_messages_in_total{network=\"console\"}") == 1);
	assert_true(sample(text, "usher_messages_out_total{network=\"matrix\"}") == 1);
	assert_true(sample(text, "usher_parses_total{source=\"grammar\"}") == 2);
	assert_true(sample(text, "usher_parses_total{source=\"none\"}") == 1);
	assert_true(sample(text, "usher_parses_total{source=\"llm\"}") == 0);
	assert_true(sample(text, "usher_upstream_calls_total{service=\"Radarr\"}") == 2);
	assert_true(sample(text, "usher_upstream_errors_total{service=\"Radarr\"}") == 1);
	assert_true(sample(text, "usher_upstream_errors_total{service=\"Seerr\"}") == 0);
	free(text);
}

static void
test_llm_and_gauges(void **state)
{
	char *text;

	(void)state;
	metrics_llm_call(false);
	metrics_llm_call(true);
	metrics_llm_call(true);
	metrics_set_tracked("following", 3);
	metrics_set_tracked("following", 2);
	metrics_loop_iteration(0.25);
	metrics_loop_iteration(0.5);
	metrics_loop_iteration(0.125);
	text = metrics_render();
	assert_true(sample(text, "usher_llm_calls_total") == 3);
	assert_true(sample(text, "usher_llm_failures_total") == 2);
	assert_true(sample(text, "usher_tracked_requests{state=\"following\"}") == 2);
	assert_true(sample(text, "usher_loop_iteration_seconds_count") == 3);
	assert_true(sample(text, "usher_loop_iteration_seconds_sum") == 0.875);
	assert_true(sample(text, "usher_loop_iteration_max_seconds") == 0.5);
	assert_true(sample(text, "usher_loop_iteration_last_seconds") == 0.125);
	free(text);
}

/* Every family has HELP and TYPE before its samples, even when empty. */
static void
test_help_and_type(void **state)
{
	static const char *const families[][2] = {
	    {"usher_messages_in_total", "counter"},      {"usher_messages_out_total", "counter"},
	    {"usher_parses_total", "counter"},           {"usher_llm_calls_total", "counter"},
	    {"usher_llm_failures_total", "counter"},     {"usher_upstream_calls_total", "counter"},
	    {"usher_upstream_errors_total", "counter"},  {"usher_tracked_requests", "gauge"},
	    {"usher_loop_iteration_seconds", "summary"},
	};
	char *text, line[128];
	size_t i;

	(void)state;
	metrics_message_in("xmpp");
	text = metrics_render();
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		const char *help, *type;
		snprintf(line, sizeof(line), "# HELP %s ", families[i][0]);
		help = strstr(text, line);
		snprintf(line, sizeof(line), "# TYPE %s %s\n", families[i][0], families[i][1]);
		type = strstr(text, line);
		assert_non_null(help);
		assert_non_null(type);
		assert_true(help < type);
	}
	assert_true(strstr(text, "# TYPE usher_messages_in_total counter\n"
	                         "usher_messages_in_total{network=\"xmpp\"} 1\n") != NULL);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void
test_label_escaping(void **state)
{
	char *text;

	(void)state;
	metrics_upstream("a\"b\\c\nd", false);
	metrics_message_in(NULL);
	text = metrics_render();
	assert_non_null(
	    strstr(text, "usher_upstream_calls_total{service=\"a\\\"b\\\\c\\nd\"} 1\n"));
	assert_non_null(strstr(text, "usher_messages_in_total{network=\"unknown\"} 1\n"));
	free(text);
}

/* More label values than a family holds fold into "other". */
static void
test_series_bounded(void **state)
{
	char name[32], *text;
	int i;
	size_t lines = 0;
	const char *p;

	(void)state;
	for (i = 0; i < 3 * METRICS_MAX_SERIES; i++) {
		snprintf(name, sizeof(name), "net%d", i);
		metrics_message_in(name);
	}
	text = metrics_render();
	for (p = text; (p = strstr(p, "\nusher_messages_in_total{")) != NULL; p++)
		lines++;
	assert_int_equal(lines, METRICS_MAX_SERIES);
	assert_true(sample(text, "usher_messages_in_total{network=\"net0\"}") == 1);
	assert_true(sample(text, "usher_messages_in_total{network=\"other\"}") ==
	            3 * METRICS_MAX_SERIES - (METRICS_MAX_SERIES - 1));
	free(text);
}

static void
test_reset_forgets(void **state)
{
	char *text;

	(void)state;
	metrics_message_in("matrix");
	metrics_reset();
	text = metrics_render();
	assert_true(sample(text, "usher_messages_in_total{network=\"matrix\"}") == -1);
	assert_true(sample(text, "usher_llm_calls_total") == 0);
	free(text);
}

/* Every progress state is shown from the first scrape, set ones with their
 * count, and setting again replaces rather than adds. */
static void
test_tracked_by_state(void **state)
{
	static const char *const states[] = {
	    "requested", "waiting_approval", "approved", "searching", "downloading",
	    "stalled",   "importing",        "ready",    "declined",  "failed",
	};
	char *text, series[96];
	size_t i;

	(void)state;
	text = metrics_render();
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(series, sizeof(series), "usher_tracked_requests{state=\"%s\"}", states[i]);
		assert_true(sample(text, series) == 0);
	}
	free(text);
	metrics_tracked("downloading", 4);
	metrics_tracked("downloading", 3);
	metrics_tracked("stalled", 1);
	text = metrics_render();
	assert_true(sample(text, "usher_tracked_requests{state=\"downloading\"}") == 3);
	assert_true(sample(text, "usher_tracked_requests{state=\"stalled\"}") == 1);
	assert_true(sample(text, "usher_tracked_requests{state=\"ready\"}") == 0);
	/* one TYPE line and one sample per state, however often it was set */
	assert_non_null(strstr(text, "# TYPE usher_tracked_requests gauge\n"
	                             "usher_tracked_requests{state=\"requested\"} 0\n"));
	assert_null(strstr(strstr(text, "{state=\"downloading\"}") + 1, "{state=\"downloading\"}"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_counts_by_label, reset),
	    cmocka_unit_test_setup(test_llm_and_gauges, reset),
	    cmocka_unit_test_setup(test_help_and_type, reset),
	    cmocka_unit_test_setup(test_label_escaping, reset),
	    cmocka_unit_test_setup(test_series_bounded, reset),
	    cmocka_unit_test_setup(test_reset_forgets, reset),
	    cmocka_unit_test_setup(test_tracked_by_state, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	metrics_reset();
	return rc;
}

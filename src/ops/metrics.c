/*
 * metrics: one static table of families, each a short array of labelled
 * series. Lookups are linear: a family holds a handful of series.
 */
#include "ops/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

struct series {
	char *label; /* NULL for an unlabelled family */
	double value;
};

struct family {
	const char *name;
	const char *type;       /* "counter" or "gauge" */
	const char *label_name; /* NULL: one unlabelled series */
	const char *help;
	/* Label values shown at 0 before anything happened, so a dashboard
	 * sees the series from the first scrape. */
	const char *const *preset;
	struct series series[METRICS_MAX_SERIES];
	size_t count;
};

enum {
	F_MSG_IN,
	F_MSG_OUT,
	F_PARSES,
	F_LLM_CALLS,
	F_LLM_FAILURES,
	F_UP_CALLS,
	F_UP_ERRORS,
	F_TRACKED,
	F_LOOP_MAX,
	F_COUNT,
};

static const char *const parse_sources[] = {"grammar", "llm", "none", NULL};
/* progress's states, in the order a request moves through them. */
static const char *const tracked_states[] = {
    "requested", "waiting_approval", "approved", "searching", "downloading", "stalled", "importing",
    "ready",     "declined",         "failed",   NULL};

static struct family families[F_COUNT] = {
    [F_MSG_IN] = {"usher_messages_in_total",
                  "counter",
                  "network",
                  "Chat messages addressed to usher, by network.",
                  NULL,
                  {{0}},
                  0},
    [F_MSG_OUT] = {"usher_messages_out_total",
                   "counter",
                   "network",
                   "Messages usher sent, by network.",
                   NULL,
                   {{0}},
                   0},
    [F_PARSES] = {"usher_parses_total",
                  "counter",
                  "source",
                  "Messages understood, by what understood them (grammar, llm, none).",
                  parse_sources,
                  {{0}},
                  0},
    [F_LLM_CALLS] =
        {"usher_llm_calls_total", "counter", NULL, "Questions asked of the LLM.", NULL, {{0}}, 0},
    [F_LLM_FAILURES] = {"usher_llm_failures_total",
                        "counter",
                        NULL,
                        "LLM questions that gave no usable answer.",
                        NULL,
                        {{0}},
                        0},
    [F_UP_CALLS] = {"usher_upstream_calls_total",
                    "counter",
                    "service",
                    "Calls to upstream services, by service.",
                    NULL,
                    {{0}},
                    0},
    [F_UP_ERRORS] = {"usher_upstream_errors_total",
                     "counter",
                     "service",
                     "Upstream calls that failed, by service.",
                     NULL,
                     {{0}},
                     0},
    [F_TRACKED] = {"usher_tracked_requests",
                   "gauge",
                   "state",
                   "Requests usher follows, by state.",
                   tracked_states,
                   {{0}},
                   0},
    [F_LOOP_MAX] = {"usher_loop_iteration_max_seconds",
                    "gauge",
                    NULL,
                    "The longest event loop iteration so far.",
                    NULL,
                    {{0}},
                    0},
};

/* The summary of iteration times is kept apart: it is two numbers. */
static double loop_sum, loop_last;
static unsigned long long loop_count;

static struct series *
family_series(struct family *f, const char *label)
{
	size_t i;

	if (f->label_name == NULL) {
		if (f->count == 0)
			f->count = 1;
		return &f->series[0];
	}
	if (label == NULL || *label == '\0')
		label = "unknown";
	for (i = 0; i < f->count; i++)
		if (strcmp(f->series[i].label, label) == 0)
			return &f->series[i];
	if (f->count >= METRICS_MAX_SERIES - 1 && strcmp(label, "other") != 0)
		return family_series(f, "other");
	f->series[f->count].label = xstrdup(label);
	f->series[f->count].value = 0;
	return &f->series[f->count++];
}

static void
family_add(int which, const char *label, double delta)
{
	family_series(&families[which], label)->value += delta;
}

void
metrics_message_in(const char *network)
{
	family_add(F_MSG_IN, network, 1);
}

void
metrics_message_out(const char *network)
{
	family_add(F_MSG_OUT, network, 1);
}

void
metrics_parse(const char *source)
{
	family_add(F_PARSES, source, 1);
}

void
metrics_llm_call(bool failed)
{
	family_add(F_LLM_CALLS, NULL, 1);
	family_add(F_LLM_FAILURES, NULL, failed ? 1 : 0);
}

void
metrics_upstream(const char *service, bool failed)
{
	family_add(F_UP_CALLS, service, 1);
	family_add(F_UP_ERRORS, service, failed ? 1 : 0);
}

void
metrics_set_tracked(const char *state, double count)
{
	family_series(&families[F_TRACKED], state)->value = count;
}

void
metrics_tracked(const char *state, size_t n)
{
	metrics_set_tracked(state, (double)n);
}

void
metrics_loop_iteration(double seconds)
{
	struct series *max = family_series(&families[F_LOOP_MAX], NULL);

	if (!(seconds >= 0))
		return;
	loop_last = seconds;
	loop_sum += seconds;
	loop_count++;
	if (seconds > max->value)
		max->value = seconds;
}

/* Label values are escaped as the format asks: backslash, quote, newline. */
static void
render_label(struct buf *b, const char *name, const char *value)
{
	const char *p;

	buf_printf(b, "{%s=\"", name);
	for (p = value; *p; p++) {
		if (*p == '\\')
			buf_append_str(b, "\\\\");
		else if (*p == '"')
			buf_append_str(b, "\\\"");
		else if (*p == '\n')
			buf_append_str(b, "\\n");
		else
			buf_append(b, p, 1);
	}
	buf_append_str(b, "\"}");
}

static void
render_value(struct buf *b, double v)
{
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		buf_printf(b, " %.0f\n", v);
	else
		buf_printf(b, " %.9g\n", v);
}

static void
render_family(struct buf *b, struct family *f)
{
	size_t i;

	for (i = 0; f->preset && f->preset[i]; i++)
		family_series(f, f->preset[i]);
	if (f->label_name == NULL)
		family_series(f, NULL);
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
	for (i = 0; i < f->count; i++) {
		buf_append_str(b, f->name);
		if (f->label_name)
			render_label(b, f->label_name, f->series[i].label);
		render_value(b, f->series[i].value);
	}
}

char *
metrics_render(void)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < F_COUNT; i++)
		render_family(&b, &families[i]);
	buf_append_str(&b, "# HELP usher_loop_iteration_seconds Time the event loop spent working "
	                   "per iteration (CPU time, sleep excluded).\n"
	                   "# TYPE usher_loop_iteration_seconds summary\n");
	buf_append_str(&b, "usher_loop_iteration_seconds_sum");
	render_value(&b, loop_sum);
	buf_append_str(&b, "usher_loop_iteration_seconds_count");
	render_value(&b, (double)loop_count);
	buf_append_str(&b, "# HELP usher_loop_iteration_last_seconds The last event loop "
	                   "iteration.\n# TYPE usher_loop_iteration_last_seconds gauge\n"
	                   "usher_loop_iteration_last_seconds");
	render_value(&b, loop_last);
	return buf_steal(&b);
}

void
metrics_reset(void)
{
	size_t i, j;

	for (i = 0; i < F_COUNT; i++) {
		for (j = 0; j < families[i].count; j++) {
			free(families[i].series[j].label);
			families[i].series[j].label = NULL;
			families[i].series[j].value = 0;
		}
		families[i].count = 0;
	}
	loop_sum = loop_last = 0;
	loop_count = 0;
}

/*
 * metrics: usher's process-wide counters and gauges, and their rendering
 * in the Prometheus text exposition format 0.0.4 for GET /metrics.
 *
 * usher is one thread on one loop, so the registry is a set of plain
 * process globals that any module bumps with one call and no handle to
 * carry around. Every family is declared here with its HELP text; label
 * values (network, service, state) are copied on first use, at most
 * METRICS_MAX_SERIES per family so a misbehaving caller cannot grow memory
 * without bound (further values are folded into the label value "other").
 *
 * The module owns every label value it copied; metrics_reset() frees them.
 */
#ifndef USHER_METRICS_H
#define USHER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_MAX_SERIES 32

/* A chat message that reached the bot / a message the bot sent, on a
 * network ("console", "matrix", ...). */
void metrics_message_in(const char *network);
void metrics_message_out(const char *network);

/* How a message was understood: "grammar", "llm" or "none". */
void metrics_parse(const char *source);

/* One question to the LLM and, when it gave no usable answer, a failure. */
void metrics_llm_call(bool failed);

/* One call to an upstream service ("Seerr", "Radarr", ...), and whether it
 * failed. */
void metrics_upstream(const char *service, bool failed);

/* Requests followed, by state ("active", "submitting", ...): a gauge the
 * caller sets before rendering. */
void metrics_set_tracked(const char *state, double count);

/* Tracked requests in one progress state ("requested", "waiting_approval",
 * "approved", "searching", "downloading", "stalled", "importing", "ready",
 * "declined", "failed"): sets the usher_tracked_requests gauge, which shows
 * every one of those states from the first scrape, at 0 until set. */
void metrics_tracked(const char *state, size_t n);

/* The time one loop iteration took, in seconds. */
void metrics_loop_iteration(double seconds);

/* Returns the whole registry as Prometheus text (a new string the caller
 * frees). */
char *metrics_render(void);

/* Forgets every value and label (tests). */
void metrics_reset(void);

#endif

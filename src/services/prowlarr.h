/*
 * prowlarr: the Prowlarr v1 API as far as usher needs it: the version and
 * the health of the indexers, so a progress line can say "2 of 5 indexers
 * are failing" when a search finds nothing.
 *
 * Same shape as radarr.h: a `struct prowlarr` owns its copy of the
 * [prowlarr] settings and the calls in flight; each call is a
 * `struct arr_call` that calls back exactly once unless cancelled with
 * arr_cancel(); everything handed to a callback is borrowed for the
 * callback only.
 */
#ifndef USHER_PROWLARR_H
#define USHER_PROWLARR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "services/arr.h"
#include "services/service.h"

struct config;
struct http;
struct prowlarr;

struct prowlarr *prowlarr_new(struct http *http, const struct config *cfg);
void prowlarr_free(struct prowlarr *prowlarr);

typedef void prowlarr_status_cb(const struct service_result *res, const char *version, void *arg);
struct arr_call *prowlarr_system_status(struct prowlarr *prowlarr, prowlarr_status_cb *cb,
                                        void *arg);

struct prowlarr_indexer {
	long id;
	const char *name;
	const char *protocol; /* "torrent", "usenet" ("" when absent) */
	bool enabled;
	/* Prowlarr has disabled it after failures (it is in indexerstatus
	 * and its disabledTill has not passed). */
	bool failing;
	time_t disabled_till;       /* 0 when not disabled */
	time_t most_recent_failure; /* 0 when it never failed */
};

struct prowlarr_health {
	const struct prowlarr_indexer *indexers; /* in Prowlarr's order */
	size_t count;
	size_t enabled;
	size_t failing; /* enabled and failing */
};

/* GET /api/v1/indexer, then GET /api/v1/indexerstatus. `now` decides
 * whether a disabledTill has passed (0: the current time). `health` is
 * NULL on error. */
typedef void prowlarr_health_cb(const struct service_result *res,
                                const struct prowlarr_health *health, void *arg);
struct arr_call *prowlarr_indexer_health(struct prowlarr *prowlarr, time_t now,
                                         prowlarr_health_cb *cb, void *arg);

#endif

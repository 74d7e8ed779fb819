#include "services/prowlarr.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct prowlarr {
	struct arr *arr;
};

struct prowlarr *
prowlarr_new(struct http *http, const struct config *cfg)
{
	struct arr *a = arr_new(http, cfg, "prowlarr", "Prowlarr", "/api/v1");
	struct prowlarr *p;

	if (a == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->arr = a;
	return p;
}

void
prowlarr_free(struct prowlarr *p)
{
	if (p == NULL)
		return;
	arr_free(p->arr);
	free(p);
}

struct status_state {
	prowlarr_status_cb *cb;
	void *arg;
};

static bool
status_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct status_state *s = arr_call_state(c);
	struct service_result r = *res;
	const char *version;

	if (r.error != SERVICE_OK) {
		s->cb(&r, NULL, s->arg);
		return false;
	}
	if ((version = json_string_value(json_object_get(body, "version"))) == NULL) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Prowlarr's status has no version: is this Prowlarr?");
		s->cb(&r, NULL, s->arg);
		return false;
	}
	s->cb(&r, version, s->arg);
	return false;
}

struct arr_call *
prowlarr_system_status(struct prowlarr *p, prowlarr_status_cb *cb, void *arg)
{
	struct status_state *s = xcalloc(1, sizeof(*s));
	struct arr_call *c;

	s->cb = cb;
	s->arg = arg;
	c = arr_call_new(p->arr, status_step, s, free);
	arr_next(c, "/system/status");
	return c;
}

struct health_state {
	prowlarr_health_cb *cb;
	void *arg;
	time_t now;
	json_t *indexers; /* the first answer, kept for the second step */
};

static void
health_state_free(void *p)
{
	struct health_state *s = p;

	json_decref(s->indexers);
	free(s);
}

static void
health_deliver(struct health_state *s, struct service_result *r, const json_t *statuses)
{
	size_t n = json_array_size(s->indexers), i, j;
	struct prowlarr_indexer *list = xcalloc(n, sizeof(*list));
	struct prowlarr_health h = {.indexers = list};
	json_t *o, *st;

	json_array_foreach(s->indexers, i, o)
	{
		struct prowlarr_indexer *x = &list[h.count];

		if (!json_is_object(o))
			continue;
		h.count++;
		x->id = (long)arr_json_int(o, "id", 0);
		x->name = arr_json_str(o, "name");
		x->protocol = arr_json_str(o, "protocol");
		x->enabled = arr_json_bool(o, "enable", false);
		json_array_foreach(statuses, j, st)
		{
			if (arr_json_int(st, "indexerId", -1) != x->id)
				continue;
			x->disabled_till =
			    arr_parse_date(json_string_value(json_object_get(st, "disabledTill")));
			x->most_recent_failure = arr_parse_date(
			    json_string_value(json_object_get(st, "mostRecentFailure")));
			/* Prowlarr lists blocked indexers only; a status whose
			 * disabledTill has passed is one that will be retried. */
			x->failing = x->disabled_till == 0 || x->disabled_till > s->now;
		}
		if (x->enabled)
			h.enabled++;
		if (x->enabled && x->failing)
			h.failing++;
	}
	s->cb(r, &h, s->arg);
	free(list);
}

static bool
health_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct health_state *s = arr_call_state(c);
	struct service_result r = *res;

	if (r.error != SERVICE_OK) {
		s->cb(&r, NULL, s->arg);
		return false;
	}
	if (!json_is_array(body)) {
		service_result_set(&r, SERVICE_BAD_RESPONSE, res->http_status,
		                   "Prowlarr sent an indexer list usher can't read (not a list)");
		s->cb(&r, NULL, s->arg);
		return false;
	}
	if (s->indexers == NULL) {
		s->indexers = json_incref(body);
		arr_next(c, "/indexerstatus");
		return true;
	}
	health_deliver(s, &r, body);
	return false;
}

struct arr_call *
prowlarr_indexer_health(struct prowlarr *p, time_t now, prowlarr_health_cb *cb, void *arg)
{
	struct health_state *s = xcalloc(1, sizeof(*s));
	struct arr_call *c;

	s->cb = cb;
	s->arg = arg;
	s->now = now ? now : time(NULL);
	c = arr_call_new(p->arr, health_step, s, health_state_free);
	arr_next(c, "/indexer");
	return c;
}

/* Prowlarr's indexer health for arr_fuzz: see arr_fuzz.h. */
#include "services/prowlarr.c"

#include "arr_fuzz.h"

static void
on_health(const struct service_result *res, const struct prowlarr_health *h, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (h == NULL)
		return;
	if (res->error != SERVICE_OK || h->enabled > h->count || h->failing > h->enabled)
		abort();
	for (size_t i = 0; i < h->count; i++) {
		arr_fuzz_check_str(h->indexers[i].name);
		arr_fuzz_check_str(h->indexers[i].protocol);
	}
}

void
arr_fuzz_prowlarr_health(struct arr *arr, json_t *indexers, json_t *statuses, time_t now)
{
	int calls = 0;
	struct health_state *s = xcalloc(1, sizeof(*s));

	s->cb = on_health;
	s->arg = &calls;
	s->now = now;
	/* A first answer that is a list asks for the second, which
	 * arr_next() would send: it is taken as already answered. */
	if (json_is_array(indexers))
		s->indexers = json_incref(indexers);
	arr_fuzz_step(arr, health_step, s, health_state_free,
	              json_is_array(indexers) ? statuses : indexers, &calls);
}

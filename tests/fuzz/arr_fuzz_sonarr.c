/* Sonarr's series lookup for arr_fuzz: see arr_fuzz.h. */
#include "services/sonarr.c"

#include "arr_fuzz.h"

static void
on_series(const struct service_result *res, const struct sonarr_series *sr, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (sr == NULL)
		return;
	if (res->error != SERVICE_OK || sr->season_count > SONARR_MAX_SEASONS ||
	    (sr->season_count > 0 && sr->seasons == NULL))
		abort();
	arr_fuzz_check_str(sr->title);
	arr_fuzz_check_str(sr->status);
	/* Read every season so ASan sees any that is not there. */
	for (size_t i = 0; i < sr->season_count; i++) {
		if (sr->seasons[i].episode_count == -12345678)
			(*calls)++;
	}
}

void
arr_fuzz_sonarr_series(struct arr *arr, json_t *body, long tvdb_id)
{
	int calls = 0;
	struct cb_state *st = cb_state_new((void (*)(void))on_series, &calls);

	st->tvdb_id = tvdb_id;
	arr_fuzz_step(arr, series_step, st, free, body, &calls);
}

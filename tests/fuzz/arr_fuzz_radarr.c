/* Radarr's film lookup for arr_fuzz: see arr_fuzz.h. */
#include "services/radarr.c"

#include "arr_fuzz.h"

static void
on_movie(const struct service_result *res, const struct radarr_movie *m, void *arg)
{
	int *calls = arg;

	(*calls)++;
	if (m == NULL)
		return;
	if (res->error != SERVICE_OK)
		abort();
	arr_fuzz_check_str(m->title);
	arr_fuzz_check_str(m->status);
}

void
arr_fuzz_radarr_movie(struct arr *arr, json_t *body, long tmdb_id)
{
	int calls = 0;
	struct cb_state *s = cb_state_new((void (*)(void))on_movie, &calls);

	s->tmdb_id = tmdb_id;
	arr_fuzz_step(arr, movie_step, s, free, body, &calls);
}

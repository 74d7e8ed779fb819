/*
 * arr_fuzz: hostile Radarr, Sonarr and Prowlarr answers. The first byte
 * picks the reader: a queue page (films or series, appended onto what an
 * earlier page of the same input left), the TimeSpan and date parsers,
 * Radarr's film lookup, Sonarr's series lookup, or Prowlarr's indexer
 * health (the body is then [indexers, statuses]). Checks what arr.h
 * promises: queue strings never NULL, percent within 0..100, counts that
 * add up; the lookups call back exactly once (arr_fuzz_*.c).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arr_fuzz.h"
#include "core/config.h"
#include "services/arr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void
arr_fuzz_check_str(const char *s)
{
	if (s == NULL || strlen(s) > (1u << 20))
		abort();
}

void
arr_fuzz_step(struct arr *arr, arr_step_fn *step, void *state, void (*state_free)(void *),
              json_t *body, const int *calls)
{
	struct arr_call *c = arr_call_new(arr, step, state, state_free);
	struct service_result res;

	service_result_ok(&res);
	res.http_status = 200;
	if (step(c, &res, body) || *calls != 1)
		abort();
	arr_cancel(c);
}

static struct arr *
server(void)
{
	static struct config *cfg;
	static struct arr *arr;
	static char *const env[] = {"USHER_RADARR_URL=http://127.0.0.1:9/",
	                            "USHER_RADARR_API_KEY=fuzzfuzzfuzzfuzz", NULL};

	if (arr == NULL) {
		cfg = config_load(NULL, env);
		/* No request is ever sent: the http client is not needed. */
		if (cfg == NULL ||
		    (arr = arr_new(NULL, cfg, "radarr", "Radarr", "/api/v3")) == NULL)
			abort();
	}
	return arr;
}

static void
check_queue(const struct arr_queue *q)
{
	for (size_t i = 0; i < q->count; i++) {
		const struct arr_queue_item *it = &q->items[i];

		arr_fuzz_check_str(it->title);
		arr_fuzz_check_str(it->release_title);
		arr_fuzz_check_str(it->episode_title);
		arr_fuzz_check_str(it->status);
		arr_fuzz_check_str(it->tracked_state_name);
		arr_fuzz_check_str(it->status_messages);
		arr_fuzz_check_str(it->error_message);
		arr_fuzz_check_str(it->download_id);
		arr_fuzz_check_str(it->download_client);
		arr_fuzz_check_str(it->indexer);
		if (!(it->percent >= 0 && it->percent <= 100) || it->timeleft_s < -1)
			abort();
		if (arr_queue_find(q, it->download_id) == NULL && it->download_id[0] != '\0')
			abort();
		arr_fuzz_check_str(arr_tracked_state_name(it->tracked_state));
	}
}

/* Queue pages: the body is one page, or an array of pages appended in
 * turn, as the paged fetch does. */
static void
queue(json_t *root, enum arr_media media)
{
	struct arr_queue q = {0};
	json_t *page;
	size_t i;

	if (json_is_array(root)) {
		json_array_foreach(root, i, page)
		{
			arr_queue_parse_page(&q, page, media);
			check_queue(&q);
		}
	} else {
		arr_queue_parse_page(&q, root, media);
		check_queue(&q);
	}
	arr_queue_free(&q);
}

static void
text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	if (arr_parse_timespan(s) < -1)
		abort();
	(void)arr_parse_date(s);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root;
	unsigned pick;
	long id;

	if (size < 2)
		return 0;
	pick = data[0] % 6;
	if (pick == 2) {
		text(data + 2, size - 2);
		return 0;
	}
	root = json_loadb((const char *)data + 2, size - 2, JSON_DECODE_ANY, NULL);
	if (root == NULL)
		return 0;
	/* The id the lookups look for: an odd second byte itself, else the
	 * first record's, so that matching records are easy to reach. */
	id = data[1] % 2
	         ? data[1]
	         : (long)arr_json_int(json_array_get(root, 0), pick == 4 ? "tvdbId" : "tmdbId", 0);
	switch (pick) {
	case 0:
	case 1:
		queue(root, pick == 0 ? ARR_MEDIA_MOVIE : ARR_MEDIA_SERIES);
		break;
	case 3:
		arr_fuzz_radarr_movie(server(), root, id);
		break;
	case 4:
		arr_fuzz_sonarr_series(server(), root, id);
		break;
	default:
		arr_fuzz_prowlarr_health(server(), json_array_get(root, 0), json_array_get(root, 1),
		                         (time_t)id * 86400 * 365);
		break;
	}
	json_decref(root);
	return 0;
}

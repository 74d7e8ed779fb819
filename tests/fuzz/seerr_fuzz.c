/*
 * seerr_fuzz: hostile Seerr answers through seerr_json. The first byte
 * picks the reader (search results with or without a kind hint, a request
 * list, film or show details); the rest is the HTTP body. Checks what the
 * readers promise for any body: every string ends inside its array and
 * holds no control character, counts stay within their caps, every kept
 * title or request has an id.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/seerr_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	if (len == size)
		abort();
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
	}
}

static void
check_title(const struct seerr_title *t)
{
	if ((unsigned)t->kind > SEERR_TV)
		abort();
	check_text(t->title, sizeof(t->title));
	/* A URL, not chat text: only its end is promised. */
	if (strnlen(t->poster_url, sizeof(t->poster_url)) == sizeof(t->poster_url))
		abort();
}

static void
check_request(const struct seerr_request *r)
{
	if (r->id == 0 || r->seasons_len < 0 || r->seasons_len > SEERR_SEASONS_MAX ||
	    (unsigned)r->kind > SEERR_TV)
		abort();
	check_text(r->requested_by, sizeof(r->requested_by));
	check_text(r->created_at, sizeof(r->created_at));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root, *results;
	size_t count;

	if (size == 0)
		return 0;
	root = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
	if (root == NULL)
		return 0;
	results = json_is_object(root) ? json_object_get(root, "results") : root;
	switch (data[0] % 5) {
	case 0:
	case 1: {
		struct seerr_title *t = seerr_json_titles(
		    results, data[0] % 5 == 1, (enum seerr_kind)(data[0] / 5 % 2), &count);

		if (t == NULL || count > 500)
			abort();
		for (size_t i = 0; i < count; i++)
			check_title(&t[i]);
		free(t);
		break;
	}
	case 2: {
		struct seerr_request *r = seerr_json_requests(results, &count);

		if (r == NULL || count > 500)
			abort();
		for (size_t i = 0; i < count; i++)
			check_request(&r[i]);
		free(r);
		break;
	}
	case 3: {
		struct seerr_request r;

		if (seerr_json_request(root, &r))
			check_request(&r);
		break;
	}
	default: {
		struct seerr_details *d = malloc(sizeof(*d));

		if (seerr_json_details(root, (enum seerr_kind)(data[0] / 5 % 2), d)) {
			check_title(&d->title);
			check_text(d->overview, sizeof(d->overview));
			if (d->seasons_len < 0 || d->seasons_len > SEERR_SEASONS_MAX)
				abort();
		}
		free(d);
		break;
	}
	}
	json_decref(root);
	return 0;
}

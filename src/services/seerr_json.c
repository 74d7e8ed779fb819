/* Reading Seerr's JSON: see seerr_json.h. */
#include "services/seerr_json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "services/service.h"

#define POSTER_BASE "https://image.tmdb.org/t/p/w600_and_h900_bestv2"
#define ITEMS_MAX   500

/* Any field may be missing, null or of another type. */

static long
jint(const json_t *o, const char *key, long def)
{
	long long n;

	if (!service_json_integer(json_object_get(o, key), &n) || n < LONG_MIN || n > LONG_MAX)
		return def;
	return (long)n;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The first of `keys` (NULL-terminated) that is a non-empty string. */
static const char *
jstr_any(const json_t *o, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		const char *s = jstr(o, *keys);
		if (s != NULL && s[0] != '\0')
			return s;
	}
	return NULL;
}

/* Copies text meant for a chat line: control characters become spaces. */
static void
copy_text(char *dst, size_t size, const char *src)
{
	strlcpy_u(dst, src ? src : "", size);
	for (char *p = dst; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* "2021-09-15" -> 2021; 0 when the date is missing or odd. */
static int
year_of(const char *date)
{
	int y = 0;

	if (date == NULL)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (date[i] < '0' || date[i] > '9')
			return 0;
		y = y * 10 + (date[i] - '0');
	}
	return date[4] == '\0' || date[4] == '-' ? y : 0;
}

static enum seerr_media_status
media_status(long v)
{
	return v >= SEERR_MEDIA_UNKNOWN && v <= SEERR_MEDIA_DELETED ? (enum seerr_media_status)v
	                                                            : SEERR_MEDIA_UNKNOWN;
}

static enum seerr_request_status
request_status(long v)
{
	return v >= SEERR_REQ_PENDING && v <= SEERR_REQ_COMPLETED ? (enum seerr_request_status)v
	                                                          : SEERR_REQ_PENDING;
}

static void
poster_url(char *dst, size_t size, const char *path)
{
	dst[0] = '\0';
	if (path == NULL || path[0] == '\0')
		return;
	snprintf(dst, size, "%s%s%s", POSTER_BASE, path[0] == '/' ? "" : "/", path);
}

/* mediaInfo: availability and whether anyone has asked for it already. */
static void
parse_media_info(const json_t *mi, struct seerr_title *t)
{
	json_t *reqs, *r;
	size_t i;

	t->status = media_status(jint(mi, "status", SEERR_MEDIA_UNKNOWN));
	t->status_4k = media_status(jint(mi, "status4k", SEERR_MEDIA_UNKNOWN));
	if (t->tvdb_id <= 0)
		t->tvdb_id = jint(mi, "tvdbId", 0);
	reqs = json_object_get(mi, "requests");
	json_array_foreach(reqs, i, r)
	{
		if (json_is_object(r) && jint(r, "status", 0) != SEERR_REQ_DECLINED)
			t->requested = true;
	}
}

/* One search/recommendation result or the top of a details answer.
 * Returns false when it is not a film or show usher can use. */
static bool
parse_title(const json_t *o, enum seerr_kind kind, struct seerr_title *t)
{
	static const char *const movie_names[] = {"title", "name", "originalTitle", NULL};
	static const char *const tv_names[] = {"name", "title", "originalName", NULL};
	const char *date;

	memset(t, 0, sizeof(*t));
	if (!json_is_object(o))
		return false;
	t->kind = kind;
	t->tmdb_id = jint(o, "id", 0);
	copy_text(t->title, sizeof(t->title),
	          jstr_any(o, kind == SEERR_MOVIE ? movie_names : tv_names));
	date = kind == SEERR_MOVIE ? jstr(o, "releaseDate") : jstr(o, "firstAirDate");
	t->year = year_of(date);
	poster_url(t->poster_url, sizeof(t->poster_url), jstr(o, "posterPath"));
	t->tvdb_id = jint(json_object_get(o, "externalIds"), "tvdbId", 0);
	parse_media_info(json_object_get(o, "mediaInfo"), t);
	return t->tmdb_id > 0;
}

static bool
parse_kind(const char *s, enum seerr_kind *out)
{
	if (s != NULL && strcmp(s, "movie") == 0)
		*out = SEERR_MOVIE;
	else if (s != NULL && strcmp(s, "tv") == 0)
		*out = SEERR_TV;
	else
		return false;
	return true;
}

bool
seerr_json_request(const json_t *o, struct seerr_request *r)
{
	static const char *const user_names[] = {"displayName",      "username", "plexUsername",
	                                         "jellyfinUsername", "email",    NULL};
	json_t *media, *by, *seasons, *sn;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o) || (r->id = jint(o, "id", 0)) <= 0)
		return false;
	media = json_object_get(o, "media");
	r->status = request_status(jint(o, "status", SEERR_REQ_PENDING));
	if (!parse_kind(jstr(o, "type"), &r->kind) &&
	    !parse_kind(jstr(media, "mediaType"), &r->kind))
		r->kind = json_is_array(json_object_get(o, "seasons")) &&
		                  json_array_size(json_object_get(o, "seasons")) > 0
		              ? SEERR_TV
		              : SEERR_MOVIE;
	r->is_4k = json_is_true(json_object_get(o, "is4k"));
	r->tmdb_id = jint(media, "tmdbId", 0);
	r->tvdb_id = jint(media, "tvdbId", 0);
	/* A 4K request follows the 4K copy's availability. */
	r->media_status =
	    media_status(jint(media, r->is_4k ? "status4k" : "status", SEERR_MEDIA_UNKNOWN));
	seasons = json_object_get(o, "seasons");
	json_array_foreach(seasons, i, sn)
	{
		long n = jint(sn, "seasonNumber", -1);
		if (n >= 0 && r->seasons_len < SEERR_SEASONS_MAX)
			r->seasons[r->seasons_len++] = (int)n;
	}
	by = json_object_get(o, "requestedBy");
	r->requested_by_id = jint(by, "id", 0);
	copy_text(r->requested_by, sizeof(r->requested_by), jstr_any(by, user_names));
	copy_text(r->created_at, sizeof(r->created_at), jstr(o, "createdAt"));
	return true;
}

bool
seerr_json_details(const json_t *v, enum seerr_kind kind, struct seerr_details *d)
{
	json_t *seasons, *sn, *mi_seasons, *ms;
	size_t i, j;
	long n;

	memset(d, 0, sizeof(*d));
	if (jint(v, "id", 0) <= 0)
		return false;
	parse_title(v, kind, &d->title);
	copy_text(d->overview, sizeof(d->overview), jstr(v, "overview"));
	if (kind != SEERR_TV)
		return true;
	mi_seasons = json_object_get(json_object_get(v, "mediaInfo"), "seasons");
	seasons = json_object_get(v, "seasons");
	json_array_foreach(seasons, i, sn)
	{
		struct seerr_season *s;
		if ((n = jint(sn, "seasonNumber", -1)) < 0 || d->seasons_len >= SEERR_SEASONS_MAX)
			continue;
		s = &d->seasons[d->seasons_len++];
		s->number = (int)n;
		s->episodes = (int)jint(sn, "episodeCount", 0);
		s->status = SEERR_MEDIA_UNKNOWN;
		json_array_foreach(mi_seasons, j, ms)
		{
			if (jint(ms, "seasonNumber", -1) == n)
				s->status = media_status(jint(ms, "status", SEERR_MEDIA_UNKNOWN));
		}
	}
	/* The spec calls it numberOfSeason; the server sends numberOfSeasons. */
	n = jint(v, "numberOfSeasons", jint(v, "numberOfSeason", -1));
	if (n < 0)
		for (n = 0, i = 0; i < (size_t)d->seasons_len; i++)
			n += d->seasons[i].number > 0;
	d->season_count = (int)n;
	return true;
}

struct seerr_title *
seerr_json_titles(const json_t *results, bool has_hint, enum seerr_kind hint, size_t *count)
{
	size_t n = json_array_size(results), got = 0, i;
	struct seerr_title *items = xcalloc(n < ITEMS_MAX ? n + 1 : ITEMS_MAX, sizeof(*items));
	json_t *it;

	json_array_foreach(results, i, it)
	{
		enum seerr_kind kind = hint;
		if (got >= ITEMS_MAX)
			break;
		if (!parse_kind(jstr(it, "mediaType"), &kind) &&
		    (!has_hint || json_object_get(it, "mediaType") != NULL))
			continue; /* people, collections */
		if (parse_title(it, kind, &items[got]))
			got++;
	}
	*count = got;
	return items;
}

struct seerr_request *
seerr_json_requests(const json_t *results, size_t *count)
{
	size_t n = json_array_size(results), got = 0, i;
	struct seerr_request *items = xcalloc(n < ITEMS_MAX ? n + 1 : ITEMS_MAX, sizeof(*items));
	json_t *it;

	json_array_foreach(results, i, it)
	{
		if (got >= ITEMS_MAX)
			break;
		if (seerr_json_request(it, &items[got]))
			got++;
	}
	*count = got;
	return items;
}

long
seerr_json_int(const json_t *o, const char *key, long def)
{
	return jint(o, key, def);
}

const char *
seerr_json_str(const json_t *o, const char *key)
{
	return jstr(o, key);
}

void
seerr_json_copy_text(char *dst, size_t size, const char *src)
{
	copy_text(dst, size, src);
}

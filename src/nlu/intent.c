#include "nlu/intent.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/normalize.h"

static const char *const kind_names[INTENT_KIND_COUNT] = {
    [INTENT_UNKNOWN] = "unknown",     [INTENT_HELP] = "help",
    [INTENT_SEARCH] = "search",       [INTENT_REQUEST] = "request",
    [INTENT_STATUS] = "status",       [INTENT_LIST_REQUESTS] = "list_requests",
    [INTENT_CANCEL] = "cancel",       [INTENT_APPROVE] = "approve",
    [INTENT_DECLINE] = "decline",     [INTENT_SELECT] = "select",
    [INTENT_CONFIRM] = "confirm",     [INTENT_DENY] = "deny",
    [INTENT_RECOMMEND] = "recommend", [INTENT_REPORT_ISSUE] = "report_issue",
};

static const char *const media_names[] = {
    [MEDIA_ANY] = "any",
    [MEDIA_MOVIE] = "movie",
    [MEDIA_TV] = "tv",
    [MEDIA_OTHER] = "other",
};

static const char *const source_names[] = {
    [SOURCE_NONE] = "none",
    [SOURCE_GRAMMAR] = "grammar",
    [SOURCE_LLM] = "llm",
};

const char *
intent_kind_name(enum intent_kind kind)
{
	if ((unsigned)kind >= INTENT_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

const char *
intent_media_name(enum intent_media media)
{
	if ((unsigned)media >= sizeof(media_names) / sizeof(media_names[0]))
		return "any";
	return media_names[media];
}

const char *
intent_source_name(enum intent_source source)
{
	if ((unsigned)source >= sizeof(source_names) / sizeof(source_names[0]))
		return "none";
	return source_names[source];
}

int
intent_kind_from_name(const char *name, enum intent_kind *out)
{
	int i;

	for (i = 0; i < INTENT_KIND_COUNT; i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*out = (enum intent_kind)i;
			return 0;
		}
	}
	return -1;
}

int
intent_media_from_name(const char *name, enum intent_media *out)
{
	size_t i;

	for (i = 0; i < sizeof(media_names) / sizeof(media_names[0]); i++) {
		if (strcmp(name, media_names[i]) == 0) {
			*out = (enum intent_media)i;
			return 0;
		}
	}
	return -1;
}

void
intent_clear(struct intent *in)
{
	memset(in, 0, sizeof(*in));
	in->kind = INTENT_UNKNOWN;
	in->media = MEDIA_ANY;
	in->seasons = SEASONS_NONE;
	in->source = SOURCE_NONE;
}

/* A JSON string of `s` made valid UTF-8 first: jansson refuses anything
 * else, and the input of `usher parse` is whatever a person pasted. */
static json_t *
safe_string(const char *s, size_t len)
{
	size_t cap = len * 3 + 1, n;
	char *tmp = malloc(cap);
	json_t *j;

	if (tmp == NULL)
		return NULL;
	n = normalize_utf8_copy(tmp, cap, s, len);
	j = json_stringn(tmp, n);
	free(tmp);
	return j;
}

json_t *
intent_to_json(const char *text, const struct intent *in)
{
	return intent_to_json_n(text, strlen(text), in);
}

json_t *
intent_to_json_n(const char *text, size_t text_len, const struct intent *in)
{
	json_t *o = json_object(), *seasons;
	int i;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "text", safe_string(text, text_len));
	json_object_set_new(o, "intent", json_string(intent_kind_name(in->kind)));
	json_object_set_new(o, "media", json_string(intent_media_name(in->media)));
	json_object_set_new(o, "title",
	                    in->title[0]
	                        ? safe_string(in->title, strnlen(in->title, sizeof(in->title)))
	                        : json_null());
	json_object_set_new(o, "year", in->year ? json_integer(in->year) : json_null());
	switch (in->seasons) {
	case SEASONS_LIST:
		seasons = json_array();
		for (i = 0; i < in->season_count && i < INTENT_SEASONS_MAX; i++)
			json_array_append_new(seasons, json_integer(in->season_list[i]));
		break;
	case SEASONS_ALL:
		seasons = json_string("all");
		break;
	case SEASONS_LATEST:
		seasons = json_string("latest");
		break;
	default:
		seasons = json_null();
		break;
	}
	json_object_set_new(o, "seasons", seasons);
	json_object_set_new(o, "episode", in->episode ? json_integer(in->episode) : json_null());
	json_object_set_new(o, "quality", in->want_4k ? json_string("4k") : json_null());
	json_object_set_new(o, "choice", in->choice ? json_integer(in->choice) : json_null());
	json_object_set_new(o, "source", json_string(intent_source_name(in->source)));
	json_object_set_new(o, "rule",
	                    in->rule[0] ? safe_string(in->rule, strnlen(in->rule, sizeof(in->rule)))
	                                : json_null());
	return o;
}

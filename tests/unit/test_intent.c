/* Tests for nlu/intent: stable names and the `usher parse --json` form. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nlu/intent.h"

static void
test_names_round_trip(void **state)
{
	static const char *const kinds[] = {
	    "unknown", "help",    "search", "request", "status", "list_requests", "cancel",
	    "approve", "decline", "select", "confirm", "deny",   "recommend",     "report_issue",
	};
	enum intent_kind k;
	enum intent_media m;
	int i;

	(void)state;
	assert_int_equal(sizeof(kinds) / sizeof(kinds[0]), INTENT_KIND_COUNT);
	for (i = 0; i < INTENT_KIND_COUNT; i++) {
		assert_string_equal(intent_kind_name((enum intent_kind)i), kinds[i]);
		assert_int_equal(intent_kind_from_name(kinds[i], &k), 0);
		assert_int_equal(k, i);
	}
	for (i = MEDIA_ANY; i <= MEDIA_OTHER; i++) {
		assert_int_equal(
		    intent_media_from_name(intent_media_name((enum intent_media)i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_string_equal(intent_media_name(MEDIA_TV), "tv");
	assert_string_equal(intent_media_name(MEDIA_OTHER), "other");
	assert_string_equal(intent_source_name(SOURCE_GRAMMAR), "grammar");
	assert_string_equal(intent_source_name(SOURCE_LLM), "llm");
	assert_string_equal(intent_source_name(SOURCE_NONE), "none");
	assert_int_equal(intent_kind_from_name("Request", &k), -1);
	assert_int_equal(intent_kind_from_name("", &k), -1);
	assert_int_equal(intent_media_from_name("song", &m), -1);
	assert_string_equal(intent_kind_name((enum intent_kind)99), "unknown");
}

static void
test_clear(void **state)
{
	struct intent in;

	(void)state;
	memset(&in, 0x5a, sizeof(in));
	intent_clear(&in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	assert_int_equal(in.media, MEDIA_ANY);
	assert_string_equal(in.title, "");
	assert_int_equal(in.year, 0);
	assert_int_equal(in.season_count, 0);
	assert_false(in.want_4k);
	assert_int_equal(in.source, SOURCE_NONE);
}

static char *
dump(const char *text, const struct intent *in)
{
	json_t *j = intent_to_json(text, in);
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void
test_json_empty(void **state)
{
	struct intent in;
	char *s;

	(void)state;
	intent_clear(&in);
	s = dump("thanks", &in);
	assert_string_equal(s,
	                    "{\"text\":\"thanks\",\"intent\":\"unknown\",\"media\":\"any\","
	                    "\"title\":null,\"year\":null,\"seasons\":null,\"episode\":null,"
	                    "\"quality\":null,\"choice\":null,\"source\":\"none\",\"rule\":null}");
	free(s);
}

static void
test_json_full(void **state)
{
	struct intent in;
	char *s;

	(void)state;
	intent_clear(&in);
	in.kind = INTENT_REQUEST;
	in.media = MEDIA_TV;
	strcpy(in.title, "Love, Death & Robots \"3\"");
	in.year = 2019;
	in.seasons = SEASONS_LIST;
	in.season_list[0] = 1;
	in.season_list[1] = 3;
	in.season_count = 2;
	in.episode = 4;
	in.want_4k = true;
	in.choice = 2;
	in.source = SOURCE_GRAMMAR;
	strcpy(in.rule, "request_season");
	s = dump("get it", &in);
	assert_string_equal(s, "{\"text\":\"get it\",\"intent\":\"request\",\"media\":\"tv\","
	                       "\"title\":\"Love, Death & Robots \\\"3\\\"\",\"year\":2019,"
	                       "\"seasons\":[1,3],\"episode\":4,\"quality\":\"4k\",\"choice\":2,"
	                       "\"source\":\"grammar\",\"rule\":\"request_season\"}");
	free(s);
	in.seasons = SEASONS_ALL;
	s = dump("x", &in);
	assert_non_null(strstr(s, "\"seasons\":\"all\""));
	free(s);
	in.seasons = SEASONS_LATEST;
	s = dump("x", &in);
	assert_non_null(strstr(s, "\"seasons\":\"latest\""));
	free(s);
}

static void
test_json_text_as_given(void **state)
{
	struct intent in;
	json_t *j;

	(void)state;
	intent_clear(&in);
	j = intent_to_json_n("a\xff"
	                     "b\0c",
	                     5, &in); /* invalid UTF-8 and a NUL */
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "text")), "a\xef\xbf\xbd"
	                                                                   "bc");
	json_decref(j);
	j = intent_to_json("Alien\xc2\xb3 \xf0\x9f\x91\x8d", &in);
	assert_string_equal(json_string_value(json_object_get(j, "text")),
	                    "Alien\xc2\xb3 \xf0\x9f\x91\x8d");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_round_trip),   cmocka_unit_test(test_clear),
	    cmocka_unit_test(test_json_empty),         cmocka_unit_test(test_json_full),
	    cmocka_unit_test(test_json_text_as_given),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * jscan: walking objects and arrays, strings with every escape and UTF-8
 * form, numbers exact and not, cut strings, and a verdict on valid and
 * broken texts that agrees with jansson's (the parser everything else in
 * usher uses) but for the differences jscan.h names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/jscan.h"

static void
start(struct jscan *s, const char *text)
{
	jscan_init(s, text, strlen(text));
}

/* Whether jscan reads `text` as one JSON value and nothing after it. */
static bool
jscan_valid(const char *text, size_t len)
{
	struct jscan s;

	jscan_init(&s, text, len);
	return jscan_skip(&s) && jscan_finish(&s);
}

static void
test_walk_object(void **state)
{
	struct jscan s;
	char key[10], str[32];
	size_t klen, len;
	long long ll = 0;
	bool is_int = false, b = false;
	double d = 0;
	int keys = 0;

	(void)state;
	start(&s, " { \"rid\" : 12 , \"name\":\"Dune\", \"a-very-long-key\": [1, {\"x\": null}],"
	          " \"progress\": 0.25, \"full\": true, \"skip\": {\"deep\": [[], {}]} } ");
	assert_int_equal(jscan_peek(&s), JSCAN_OBJECT);
	assert_true(jscan_object_begin(&s));
	while (jscan_object_next(&s, key, sizeof(key), &klen)) {
		keys++;
		if (strcmp(key, "rid") == 0) {
			assert_true(jscan_number(&s, &d, &ll, &is_int));
			assert_true(is_int);
			assert_int_equal(ll, 12);
		} else if (strcmp(key, "name") == 0) {
			/* A string asked for as a number is left to skip. */
			assert_false(jscan_number(&s, &d, &ll, &is_int));
			assert_true(jscan_string(&s, str, sizeof(str), &len));
			assert_string_equal(str, "Dune");
			assert_int_equal(len, 4);
		} else if (klen >= sizeof(key)) {
			assert_int_equal(klen, strlen("a-very-long-key"));
			assert_string_equal(key, "a-very-lo");
			assert_true(jscan_skip(&s));
		} else if (strcmp(key, "progress") == 0) {
			assert_true(jscan_number(&s, &d, &ll, &is_int));
			assert_false(is_int);
			assert_true(d == 0.25);
		} else if (strcmp(key, "full") == 0) {
			assert_true(jscan_bool(&s, &b));
			assert_true(b);
		} else {
			assert_string_equal(key, "skip");
			assert_true(jscan_skip(&s));
		}
	}
	assert_false(jscan_failed(&s));
	assert_int_equal(keys, 6);
	assert_true(jscan_finish(&s));
}

static void
test_walk_array(void **state)
{
	struct jscan s;
	long long ll, sum = 0;
	int n = 0;

	(void)state;
	start(&s, "[1,2 , 3,[4],-5]");
	assert_true(jscan_array_begin(&s));
	while (jscan_array_next(&s)) {
		n++;
		if (jscan_number(&s, NULL, &ll, NULL))
			sum += ll;
		else
			assert_true(jscan_skip(&s));
	}
	assert_int_equal(n, 5);
	assert_int_equal(sum, 1);
	assert_true(jscan_finish(&s));
	start(&s, "[]");
	assert_true(jscan_array_begin(&s));
	assert_false(jscan_array_next(&s));
	assert_true(jscan_finish(&s));
	start(&s, "{ }");
	assert_true(jscan_object_begin(&s));
	assert_false(jscan_object_next(&s, NULL, 0, NULL));
	assert_true(jscan_finish(&s));
}

static void
test_strings(void **state)
{
	struct jscan s;
	char out[64], *dup, *big;
	size_t len;

	(void)state;
	start(&s, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20AC\\ud83c\\udfac\"");
	assert_true(jscan_string(&s, out, sizeof(out), &len));
	assert_string_equal(out, "a\"b\\c/d\b\f\n\r\té€🎬");
	assert_int_equal(len, strlen(out));
	/* Raw UTF-8 of every length. */
	start(&s, "\"é€🎬 Amélie\"");
	assert_true(jscan_string(&s, out, sizeof(out), NULL));
	assert_string_equal(out, "é€🎬 Amélie");
	/* Cut to fit, never inside a character: "aé" needs 4 bytes with NUL. */
	start(&s, "\"aéz\"");
	assert_true(jscan_string(&s, out, 3, &len));
	assert_string_equal(out, "a");
	assert_int_equal(len, 4);
	start(&s, "\"Paddington 2\"");
	dup = jscan_string_dup(&s);
	assert_string_equal(dup, "Paddington 2");
	free(dup);
	/* Longer than the first try's buffer. */
	big = malloc(2003);
	big[0] = '"';
	memset(big + 1, 'x', 2000);
	big[2001] = '"';
	big[2002] = '\0';
	start(&s, big);
	dup = jscan_string_dup(&s);
	assert_int_equal(strlen(dup), 2000);
	assert_true(jscan_finish(&s));
	free(dup);
	free(big);
	start(&s, "12");
	assert_null(jscan_string_dup(&s));
	assert_false(jscan_failed(&s));
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *text;
		bool is_int;
		long long ll;
		double d;
	} cases[] = {
	    {"0", true, 0, 0},
	    {"-0", true, 0, 0},
	    {"9223372036854775807", true, LLONG_MAX, 9223372036854775807.0},
	    {"-9223372036854775808", true, LLONG_MIN, -9223372036854775808.0},
	    {"9223372036854775808", false, 0, 9223372036854775808.0},
	    {"123456789012345678901234567890", false, 0, 1.2345678901234568e29},
	    {"1.5", false, 0, 1.5},
	    {"-2.5e3", false, 0, -2500},
	    {"1E+2", false, 0, 100},
	    {"8640000", true, 8640000, 8640000},
	};
	struct jscan s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long ll = 42;
		bool is_int = !cases[i].is_int;
		double d = -1;

		start(&s, cases[i].text);
		assert_true(jscan_number(&s, &d, &ll, &is_int));
		assert_true(jscan_finish(&s));
		assert_int_equal(is_int, cases[i].is_int);
		if (cases[i].is_int)
			assert_int_equal(ll, cases[i].ll);
		else
			assert_int_equal(ll, 42);
		assert_true(d == cases[i].d);
	}
}

static void
test_errors_stick(void **state)
{
	struct jscan s;
	size_t at;
	const char *why;

	(void)state;
	start(&s, "{\"a\": tru}");
	assert_true(jscan_object_begin(&s));
	assert_true(jscan_object_next(&s, NULL, 0, NULL));
	assert_false(jscan_skip(&s));
	why = jscan_error(&s, &at);
	assert_string_equal(why, "not a JSON value");
	assert_int_equal(at, 6);
	/* Every later call fails too. */
	assert_int_equal(jscan_peek(&s), JSCAN_NONE);
	assert_false(jscan_object_next(&s, NULL, 0, NULL));
	assert_false(jscan_finish(&s));
	start(&s, "{\"a\": 1");
	assert_true(jscan_object_begin(&s));
	assert_true(jscan_object_next(&s, NULL, 0, NULL));
	assert_true(jscan_skip(&s));
	assert_false(jscan_object_next(&s, NULL, 0, NULL));
	assert_true(jscan_failed(&s));
}

static void
test_depth_limit(void **state)
{
	char text[2 * (JSCAN_MAX_DEPTH + 1) + 1];
	size_t i, n = JSCAN_MAX_DEPTH;

	(void)state;
	for (i = 0; i < n; i++) {
		text[i] = '[';
		text[2 * n - 1 - i] = ']';
	}
	assert_true(jscan_valid(text, 2 * n));
	for (i = 0; i < n + 1; i++) {
		text[i] = '[';
		text[2 * (n + 1) - 1 - i] = ']';
	}
	assert_false(jscan_valid(text, 2 * (n + 1)));
}

/* The same verdict as jansson's on texts either may meet. */
static void
test_agrees_with_jansson(void **state)
{
	static const char *texts[] = {
	    "{}",
	    "[]",
	    "{\"a\":[1,2,{\"b\":null}]}",
	    "[true,false,null]",
	    "\"\"",
	    "0",
	    "-0.0e-0",
	    "[1e308]",
	    "[\"\\u00e9\"]",
	    "[\"\\uD83C\\uDFAC\"]",
	    " [ 1 ] ",
	    "{\"\":\"\"}",
	    "[-1]",
	    /* Broken. */
	    "",
	    " ",
	    "{",
	    "}",
	    "[1,]",
	    "[,1]",
	    "{\"a\":1,}",
	    "{\"a\" 1}",
	    "{a:1}",
	    "{\"a\":1 \"b\":2}",
	    "[01]",
	    "[1.]",
	    "[.5]",
	    "[1e]",
	    "[-]",
	    "[+1]",
	    "[0x10]",
	    "[NaN]",
	    "[Infinity]",
	    "[1e999]",
	    "[tru]",
	    "[nul]",
	    "[truex]",
	    "[\"\\x\"]",
	    "[\"\\u12\"]",
	    "[\"\\uDC00\"]",
	    "[\"\\uD800\"]",
	    "[\"\\uD800\\u0041\"]",
	    "[\"\\u0000\"]",
	    "[\"a\nb\"]",
	    "[\"\t\"]",
	    "[\"\xc3\"]",
	    "[\"\xc0\xaf\"]",
	    "[\"\xed\xa0\x80\"]",
	    "[\"\xf4\x90\x80\x80\"]",
	    "[\"\xe2\x82\"]",
	    "[\xe2\x82\xac]",
	    "[1] [2]",
	    "[1]x",
	    "\"abc",
	    "{\"a\":1}}",
	    "[[]",
	    "[]]",
	    "['a']",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_error_t err;
		json_t *v = json_loadb(texts[i], strlen(texts[i]), JSON_DECODE_ANY, &err);

		if (jscan_valid(texts[i], strlen(texts[i])) != (v != NULL))
			fail_msg("jscan and jansson disagree on %s", texts[i]);
		json_decref(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk_object),
	    cmocka_unit_test(test_walk_array),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_errors_stick),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_agrees_with_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Tests for nlu/normalize: what the grammar sees, and the way back to what
 * the person typed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nlu/normalize.h"

static struct normalized nm;

static const char *
norm(const char *s)
{
	assert_int_equal(normalize_text(s, strlen(s), &nm), 0);
	return nm.text;
}

static void
test_case_and_spaces(void **state)
{
	(void)state;
	assert_string_equal(norm("  Get \t DUNE\n\n please  "), "get dune please");
	assert_string_equal(norm("ÉCOLE ÀÖ Ÿ Ł ДЮНА ΩΣ"), "école àö ÿ ł дюна ωσ");
	assert_string_equal(norm("a\xc2\xa0\xe2\x80\x83"
	                         "b"),
	                    "a b");
	assert_string_equal(norm(""), "");
	assert_string_equal(norm("   "), "");
}

static void
test_quotes_dashes_punctuation(void **state)
{
	(void)state;
	assert_string_equal(norm("Don\xe2\x80\x99t \xe2\x80\x9cLook\xe2\x80\x9d"),
	                    "don't \"look\"");
	assert_string_equal(norm("a \xe2\x80\x93 b \xe2\x80\x94 c"), "a - b - c");
	assert_string_equal(norm("ready?!?!"), "ready?");
	assert_string_equal(norm("wow!!!"), "wow!");
	assert_string_equal(norm("hmm\xe2\x80\xa6"), "hmm.");
	assert_string_equal(norm("a,,, b"), "a, b");
	assert_string_equal(norm("9-1-1"), "9-1-1");
}

static void
test_emoji(void **state)
{
	(void)state;
	assert_string_equal(norm("\xf0\x9f\x91\x8d"), ":yes:");
	assert_string_equal(norm("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"), ":yes:"); /* skin tone */
	assert_string_equal(norm("ok\xe2\x9c\x85"), "ok :yes:");
	assert_string_equal(norm("\xf0\x9f\x91\x8e nope"), ":no: nope");
	assert_string_equal(norm("get dune \xf0\x9f\x8d\xbf\xf0\x9f\x8d\xbf"), "get dune");
	assert_string_equal(norm("get\xf0\x9f\x8e\xac"
	                         "dune"),
	                    "get dune");
	assert_string_equal(norm("\xe2\x9d\xa4\xef\xb8\x8f"), "");   /* heart + VS16 */
	assert_string_equal(norm("Alien\xc2\xb3"), "alien\xc2\xb3"); /* not an emoji */
}

static void
test_shorthand(void **state)
{
	(void)state;
	assert_string_equal(norm("get dune pls"), "get dune please");
	assert_string_equal(norm("thx"), "thanks");
	assert_string_equal(norm("nvm"), "never mind");
	assert_string_equal(norm("whats downloading"), "what's downloading");
	assert_string_equal(norm("can u dl it"), "can you download it");
	/* whole words only */
	assert_string_equal(norm("plsx utopia"), "plsx utopia");
}

static void
test_mentions(void **state)
{
	(void)state;
	assert_string_equal(norm("@usher get dune"), "get dune");
	assert_string_equal(norm("@usher:example.org: get dune"), "get dune");
	assert_string_equal(norm("usher: get dune"), "get dune");
	assert_string_equal(norm("Usher, get dune"), "get dune");
	assert_string_equal(norm("hey usher, get dune"), "get dune");
	assert_string_equal(norm("Hey, Usher! get dune"), "get dune");
	assert_string_equal(norm("<@123456789> get dune"), "get dune");
	assert_string_equal(norm("<@!42> <@&7> get dune"), "get dune");
	/* not an address */
	assert_string_equal(norm("hey can you get dune"), "hey can you get dune");
	assert_string_equal(norm("ushers get dune"), "ushers get dune");
	assert_string_equal(norm("<@abc> hi"), "<@abc> hi");
}

static void
test_invalid_utf8_and_nul(void **state)
{
	static const char nul[] = "get\0 du\0ne";

	(void)state;
	assert_string_equal(norm("a\xff"
	                         "b"),
	                    "a\xef\xbf\xbd"
	                    "b");
	assert_string_equal(norm("\xc3"), "\xef\xbf\xbd"); /* truncated */
	assert_string_equal(norm("\xed\xa0\x80"),
	                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");       /* surrogate */
	assert_string_equal(norm("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd"); /* overlong */
	assert_int_equal(normalize_text(nul, sizeof(nul) - 1, &nm), 0);
	assert_string_equal(nm.text, "get dune");
}

static void
test_too_long(void **state)
{
	size_t n = 64 * 1024, i;
	char *big = malloc(n);
	clock_t t0 = clock();

	(void)state;
	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(normalize_text(big, n, &nm), -1);
	assert_true(nm.too_long);
	assert_true(nm.len <= NORMALIZE_MAX);
	/* 2 KiB of text is past the normalised maximum too */
	assert_int_equal(normalize_text(big, 2048, &nm), -1);
	/* but 10 KiB of spaces normalises to nothing */
	memset(big, ' ', 10000);
	assert_int_equal(normalize_text(big, 10000, &nm), 0);
	assert_int_equal(nm.len, 0);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
	free(big);
}

static void
test_span_maps_back(void **state)
{
	const char *src = "@usher  get   \xe2\x80\x9cSe7en\xe2\x80\x9d pls";
	const char *p;
	size_t a, b;

	(void)state;
	norm(src);
	assert_string_equal(nm.text, "get \"se7en\" please");
	p = strstr(nm.text, "se7en");
	normalize_span(&nm, (size_t)(p - nm.text), (size_t)(p - nm.text) + 5, &a, &b);
	assert_int_equal(b - a, 5);
	assert_memory_equal(src + a, "Se7en", 5);
	/* a replaced word maps to the whole original word */
	p = strstr(nm.text, "please");
	normalize_span(&nm, (size_t)(p - nm.text), (size_t)(p - nm.text) + 6, &a, &b);
	assert_int_equal(b - a, 3);
	assert_memory_equal(src + a, "pls", 3);
}

static void
test_utf8_copy(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(normalize_utf8_copy(out, sizeof(out), "a\xff\0b", 4), 5);
	assert_string_equal(out, "a\xef\xbf\xbd"
	                         "b");
	/* cut at a character boundary, never inside one */
	assert_int_equal(
	    normalize_utf8_copy(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8), 6);
	assert_string_equal(out, "\xc3\xa9\xc3\xa9\xc3\xa9");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_case_and_spaces),
	    cmocka_unit_test(test_quotes_dashes_punctuation),
	    cmocka_unit_test(test_emoji),
	    cmocka_unit_test(test_shorthand),
	    cmocka_unit_test(test_mentions),
	    cmocka_unit_test(test_invalid_utf8_and_nul),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_span_maps_back),
	    cmocka_unit_test(test_utf8_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

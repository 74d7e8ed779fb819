/* Tests for nlu/grammar: loading (errors, fragments, reloads), choosing
 * between rules, slots, bot names, and giving a plain answer to hostile
 * input (how fast is bench/parse_bench's business, not a test's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nlu/grammar.h"
#include "nlu/intent.h"

#define GRAMMARS USHER_TESTS_DIR "/../grammars"

static char err[512];

static struct grammar *
load_ok(const char *text)
{
	struct grammar *g = grammar_load_string("t.grammar", text, err, sizeof(err));

	if (g == NULL)
		fail_msg("load failed: %s", err);
	return g;
}

static void
expect_error(const char *text, const char *want)
{
	struct grammar *g = grammar_load_string("t.grammar", text, err, sizeof(err));

	assert_null(g);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void
test_load_errors(void **state)
{
	(void)state;
	expect_error("rule r\n  intent: help\n  match: (abc\n",
	             "t.grammar:3: missing closing parenthesis (at offset 4)");
	/* the offset is in the pattern as written, even after a fragment */
	expect_error("define v = (?:get|grab)\nrule r\n  intent: help\n  match: {v} [z-a]\n",
	             "t.grammar:4: range out of order in character class (at offset 7)");
	expect_error("define v = (?:get\n", "t.grammar:1: missing closing parenthesis");
	expect_error("rule r\n  intent: help\n  match: {nope} x\n",
	             "t.grammar:3: unknown fragment {nope} (at offset 0)");
	expect_error("rule r\n  intent: help\n  match: get (?<titel>.+)\n",
	             "t.grammar:3: unknown slot (?<titel>...)");
	expect_error("rule r\n  match: x\n", "t.grammar:1: rule r has no intent");
	expect_error("rule r\n  intent: help\n", "t.grammar:1: rule r has no match");
	expect_error("rule r\n  intent: fly\n  match: x\n", "t.grammar:2: unknown intent \"fly\"");
	expect_error("rule r\n  intent: help\n  media: song\n  match: x\n",
	             "t.grammar:3: unknown media \"song\"");
	expect_error("rule r\n  intent: help\n  priority: high\n  match: x\n",
	             "t.grammar:3: priority must be 0..1000");
	expect_error("  match: x\n", "t.grammar:1: \"match:\" outside a rule");
	expect_error("nonsense\n", "t.grammar:1: expected `define`, `rule` or `key: value`");
	expect_error("# nothing\n", "no rules");
	expect_error("define a = x\ndefine a = y\nrule r\n intent: help\n match: {a}\n",
	             "t.grammar:2: fragment {a} is already defined");
}

static void
test_bad_dir_keeps_nothing(void **state)
{
	struct grammar *g;

	(void)state;
	g = grammar_load_dir(USHER_TESTS_DIR "/unit/grammar_bad", err, sizeof(err));
	assert_null(g);
	assert_non_null(strstr(err, "grammar_bad/02-bad.grammar:6: missing closing parenthesis"));
	assert_null(grammar_load_dir(USHER_TESTS_DIR "/unit/no-such-dir", err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-dir"));
}

static void
test_reload_swaps_only_when_loaded(void **state)
{
	struct grammar *cur, *next;
	struct intent in;

	(void)state;
	cur = load_ok("rule r\n  intent: request\n  match: get (?<title>.+)\n");
	next = grammar_load_string("t.grammar", "rule r\n  intent: request\n  match: get (\n", err,
	                           sizeof(err));
	assert_null(next); /* the caller keeps `cur` */
	grammar_parse(cur, "get dune", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "dune");
	grammar_free(cur);
}

static void
test_fragments_expand(void **state)
{
	struct grammar *g;
	struct intent in;

	(void)state;
	g = load_ok("define polite = (?:please |pls )\n"
	            "define verb = (?:get|grab)\n"
	            "define ask = {polite}?{verb}\n"
	            "rule r\n  intent: request\n  match: {ask} (?<title>.+)\n");
	grammar_parse(g, "please grab Heat", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "Heat");
	assert_string_equal(in.rule, "r");
	assert_int_equal(in.source, SOURCE_GRAMMAR);
	grammar_parse(g, "fetch Heat", &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	assert_int_equal(in.source, SOURCE_NONE);
	assert_string_equal(in.rule, "");
	/* {2} is a repetition, not a fragment */
	grammar_free(g);
	g = load_ok("rule r\n  intent: select\n  match: x{2}(?<choice>\\d)\n");
	grammar_parse(g, "xx3", &in);
	assert_int_equal(in.choice, 3);
	grammar_free(g);
}

/* The text is lower case before any rule sees it; a pattern a grammar
 * author wrote with capitals or letters beyond ASCII still matches it. */
static void
test_patterns_match_any_case(void **state)
{
	struct grammar *g;
	struct intent in;

	(void)state;
	g = load_ok("rule r\n  intent: status\n  match: Is (?<title>AMÉLIE|\\D+) Ready\n"
	            "rule s\n  intent: request\n  match: get (?<title>\\S+)\n");
	grammar_parse(g, "is Amélie ready", &in);
	assert_int_equal(in.kind, INTENT_STATUS);
	assert_string_equal(in.title, "Amélie");
	grammar_parse(g, "IS DUNE READY", &in);
	assert_int_equal(in.kind, INTENT_STATUS);
	assert_string_equal(in.title, "DUNE");
	grammar_parse(g, "GET Heat", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "Heat");
	grammar_free(g);
}

static void
test_lead_and_tail(void **state)
{
	struct grammar *g;
	struct intent in;

	(void)state;
	g = load_ok("define lead = (?:(?:hey|please)[ ,]+)+\n"
	            "define tail = (?: please| thanks|[?!. ])*\n"
	            "rule get\n  intent: request\n  match: get (?<title>.+?)\n"
	            "rule yes\n  intent: confirm\n  match: please do\n");
	grammar_parse(g, "hey, please get Heat please!", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "Heat");
	/* the lead is only a lead when what follows it means something */
	grammar_parse(g, "please do", &in);
	assert_int_equal(in.kind, INTENT_CONFIRM);
	grammar_free(g);
}

static void
test_deterministic_choice(void **state)
{
	struct grammar *g;
	struct intent in;

	(void)state;
	/* priority first */
	g = load_ok("rule low\n  intent: search\n  priority: 10\n  match: get (?<title>.+)\n"
	            "rule high\n  intent: request\n  priority: 90\n  match: get (?<title>.+)\n");
	grammar_parse(g, "get dune", &in);
	assert_string_equal(in.rule, "high");
	grammar_free(g);
	/* then most slots */
	g = load_ok("rule plain\n  intent: request\n  match: get (?<title>.+)\n"
	            "rule year\n  intent: request\n  match: get (?<title>.+) (?<year>\\d{4})\n");
	grammar_parse(g, "get dune 1984", &in);
	assert_string_equal(in.rule, "year");
	assert_string_equal(in.title, "dune");
	assert_int_equal(in.year, 1984);
	grammar_free(g);
	/* then the shortest title */
	g = load_ok("rule loose\n  intent: request\n  match: get (?<title>.+)\n"
	            "rule tight\n  intent: request\n  match: get (?<title>.+) (?:tonight)\n");
	grammar_parse(g, "get dune tonight", &in);
	assert_string_equal(in.rule, "tight");
	assert_string_equal(in.title, "dune");
	grammar_free(g);
	/* then file order, every time */
	g = load_ok("rule first\n  intent: request\n  match: get (?<title>.+)\n"
	            "rule second\n  intent: search\n  match: get (?<title>.+)\n");
	for (int i = 0; i < 5; i++) {
		grammar_parse(g, "get dune", &in);
		assert_string_equal(in.rule, "first");
	}
	grammar_free(g);
}

static void
test_slots(void **state)
{
	struct grammar *g;
	struct intent in;

	(void)state;
	g = load_ok(
	    "rule r\n  intent: request\n  media: movie\n"
	    "  match: get (?<title>.+?)(?: s(?<season>[\\d ,&to-]+))?(?: e(?<episode>\\d+))?"
	    "(?: (?<uhd>4k))?(?: (?<tv>show))?\n"
	    "rule all\n  intent: request\n  match: get (?<title>.+?) (?<all_seasons>all)\n"
	    "rule pick\n  intent: select\n  match: (?<choice>\\w+)\n");
	grammar_parse(g, "get Heat", &in);
	assert_int_equal(in.media, MEDIA_MOVIE);
	grammar_parse(g, "get Fargo s3 2, 5 & 2 e4 4k", &in);
	assert_string_equal(in.title, "Fargo");
	assert_int_equal(in.seasons, SEASONS_LIST);
	assert_int_equal(in.season_count, 3);
	assert_int_equal(in.season_list[0], 2);
	assert_int_equal(in.season_list[1], 3);
	assert_int_equal(in.season_list[2], 5);
	assert_int_equal(in.episode, 4);
	assert_true(in.want_4k);
	assert_int_equal(in.media, MEDIA_MOVIE);
	grammar_parse(g, "get Fargo s1 to 3 show", &in);
	assert_int_equal(in.season_count, 3);
	assert_int_equal(in.media, MEDIA_TV);
	grammar_parse(g, "get Fargo all", &in);
	assert_int_equal(in.seasons, SEASONS_ALL);
	assert_int_equal(in.media, MEDIA_TV); /* seasons say tv */
	grammar_parse(g, "third", &in);
	assert_int_equal(in.choice, 3);
	grammar_parse(g, "banana", &in); /* not a number: the match does not count */
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	/* titles come out as typed, tidied */
	grammar_parse(
	    g, "get   \xe2\x80\x9cMission: Impossible \xe2\x80\x93 Dead Reckoning\xe2\x80\x9d!!",
	    &in);
	assert_string_equal(in.title, "Mission: Impossible \xe2\x80\x93 Dead Reckoning");
	grammar_parse(g, "get \"...\"", &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	grammar_free(g);
}

static void
test_hostile_input(void **state)
{
	struct grammar *g;
	struct intent in;
	size_t n = 64 * 1024, i;
	char *big = malloc(n + 1);

	(void)state;
	g = grammar_load_dir(GRAMMARS, err, sizeof(err));
	if (g == NULL)
		fail_msg("%s", err);
	assert_non_null(big);
	assert_true(grammar_rule_count(g) > 50);

	memcpy(big, "get ", 4);
	for (i = 4; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	grammar_parse(g, big, &in); /* too long: not even looked at */
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	assert_int_equal(in.source, SOURCE_NONE);

	for (i = 0; i + 4 <= n; i += 4)
		memcpy(big + i, "\xf0\x9f\x91\x8d", 4); /* 16,384 thumbs up */
	big[i] = '\0';
	grammar_parse(g, big, &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	assert_int_equal(in.source, SOURCE_NONE);

	for (i = 0; i < 10000; i++)
		memcpy(big + i * 4, "\xf0\x9f\x8d\xbf", 4); /* 10,000 popcorn, dropped */
	big[40000] = '\0';
	grammar_parse(g, big, &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);

	for (i = 0; i < 900; i++)
		big[i] = (char)(0x80 + i % 64); /* invalid UTF-8 */
	big[900] = '\0';
	grammar_parse(g, big, &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);

	grammar_parse_n(g, "get\0 dune\0", 10, &in); /* NULs are ignored */
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "dune");
	grammar_parse_n(g, "\0\0\0", 3, &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);

	/* Backtracking bait: long runs that almost match many rules. The
	 * match limits make a pattern give up rather than stall (ctest's
	 * timeout would catch a hang); what is asserted is the answer. */
	memcpy(big, "is ", 3);
	for (i = 3; i < 1000; i++)
		big[i] = i % 2 ? ' ' : 'a';
	memcpy(big + 1000, " ready", 7);
	grammar_parse(g, big, &in);
	assert_true(in.kind == INTENT_UNKNOWN || in.kind == INTENT_STATUS);
	assert_true(strlen(in.title) < INTENT_TITLE_MAX);
	/* a long text of words that each start some rule: over 1 KiB once
	 * normalised, so it is not understood */
	for (i = 0; i + 4 <= 2000; i += 4)
		memcpy(big + i, "get ", 4);
	big[i] = '\0';
	grammar_parse(g, big, &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	free(big);
	grammar_free(g);
}

static void
test_bot_names(void **state)
{
	static const char *const names[] = {"Jarvis", "h.a.l"};
	struct grammar *g = grammar_load_dir(GRAMMARS, err, sizeof(err));
	struct intent in;

	(void)state;
	if (g == NULL)
		fail_msg("%s", err);
	/* by default only "usher" is an address */
	grammar_parse(g, "jarvis, get dune", &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	assert_int_equal(grammar_set_bot_names(g, names, 2), 0);
	grammar_parse(g, "jarvis, get dune", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "dune");
	grammar_parse(g, "Hey Jarvis can you get Dune please", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "Dune");
	grammar_parse(g, "@jarvis:example.org: is dune ready?", &in);
	assert_int_equal(in.kind, INTENT_STATUS);
	assert_string_equal(in.title, "dune");
	grammar_parse(g, "get the bear thanks jarvis", &in);
	assert_string_equal(in.title, "the bear");
	grammar_parse(g, "h.a.l: get heat", &in); /* dots are not wildcards */
	assert_string_equal(in.title, "heat");
	grammar_parse(g, "hxaxl: get heat", &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	grammar_parse(g, "jarvisx get dune", &in); /* a name is a whole word */
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	grammar_parse(g, "get jarvis", &in); /* only in front or at the end */
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_string_equal(in.title, "jarvis");
	grammar_parse(g, "usher, get dune", &in); /* the default name stays */
	assert_string_equal(in.title, "dune");
	grammar_parse(g, "jarvis", &in); /* nothing but the address */
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	/* back to the default */
	assert_int_equal(grammar_set_bot_names(g, NULL, 0), 0);
	grammar_parse(g, "jarvis, get dune", &in);
	assert_int_equal(in.kind, INTENT_UNKNOWN);
	grammar_parse(g, "get the bear thanks usher", &in);
	assert_string_equal(in.title, "the bear");
	grammar_free(g);
}

static void
test_real_grammar_examples(void **state)
{
	struct grammar *g = grammar_load_dir(GRAMMARS, err, sizeof(err));
	struct intent in;

	(void)state;
	if (g == NULL)
		fail_msg("%s", err);
	grammar_parse(g, "can you get the new dune movie", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_int_equal(in.media, MEDIA_MOVIE);
	assert_string_equal(in.title, "dune");
	grammar_parse(g, "add season 2 of the bear pls", &in);
	assert_int_equal(in.kind, INTENT_REQUEST);
	assert_int_equal(in.media, MEDIA_TV);
	assert_int_equal(in.seasons, SEASONS_LIST);
	assert_int_equal(in.season_list[0], 2);
	grammar_parse(g, "👍", &in);
	assert_int_equal(in.kind, INTENT_CONFIRM);
	grammar_parse(g, "get the song hey jude", &in);
	assert_int_equal(in.media, MEDIA_OTHER);
	grammar_parse(g, "thanks", &in);
	assert_int_not_equal(in.kind, INTENT_REQUEST);
	grammar_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_bad_dir_keeps_nothing),
	    cmocka_unit_test(test_reload_swaps_only_when_loaded),
	    cmocka_unit_test(test_fragments_expand),
	    cmocka_unit_test(test_patterns_match_any_case),
	    cmocka_unit_test(test_lead_and_tail),
	    cmocka_unit_test(test_deterministic_choice),
	    cmocka_unit_test(test_slots),
	    cmocka_unit_test(test_hostile_input),
	    cmocka_unit_test(test_bot_names),
	    cmocka_unit_test(test_real_grammar_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Discord's pure parts: slash commands read as words the grammar knows,
 * button ids, buttons made from the bot's questions, and message bodies.
 * The gateway and REST flows are tested end to end against
 * tests/fakes/fake_discord.py (tests/integration/discord).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gateway/discord_impl.h"

static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	assert_non_null(j);
	return j;
}

static void
expect_text(const char *data, const char *want)
{
	json_t *j = parse(data);
	char out[300];

	assert_int_equal(discord_command_text(j, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	json_decref(j);
}

static void
test_command_text(void **state)
{
	json_t *j;
	char out[300];

	(void)state;
	expect_text("{\"name\":\"help\"}", "help");
	expect_text("{\"name\":\"requests\"}", "my requests");
	expect_text("{\"name\":\"status\"}", "status");
	expect_text("{\"name\":\"status\",\"options\":[{\"name\":\"title\",\"value\":\"Dune\"}]}",
	            "status of Dune");
	expect_text("{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\"Dune "
	            "(2021)\"}]}",
	            "get Dune (2021)");
	expect_text("{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\"Dune\"},"
	            "{\"name\":\"type\",\"value\":\"movie\"}]}",
	            "get the film Dune");
	expect_text("{\"name\":\"request\",\"options\":[{\"name\":\"type\",\"value\":\"tv\"},"
	            "{\"name\":\"title\",\"value\":\"The Office\"}]}",
	            "get the show The Office");
	expect_text(
	    "{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\"Severance\"},"
	    "{\"name\":\"season\",\"value\":2}]}",
	    "get season 2 of the show Severance");
	expect_text("{\"name\":\"cancel\",\"options\":[{\"name\":\"title\",\"value\":\"Barbie\"}]}",
	            "cancel Barbie");
	expect_text("{\"name\":\"approve\"}", "approve");
	expect_text("{\"name\":\"approve\",\"options\":[{\"name\":\"title\",\"value\":\"Dune\"}]}",
	            "approve Dune");
	/* A number is a request id, said the way the buttons say it. */
	expect_text("{\"name\":\"approve\",\"options\":[{\"name\":\"title\",\"value\":\"12\"}]}",
	            "approve request 12");
	expect_text("{\"name\":\"decline\",\"options\":[{\"name\":\"title\",\"value\":\"#7\"}]}",
	            "decline request 7");
	expect_text("{\"name\":\"decline\",\"options\":[{\"name\":\"title\",\"value\":\"Blade "
	            "Runner 2049\"}]}",
	            "decline Blade Runner 2049");
	/* A title cannot smuggle a second line in. */
	expect_text(
	    "{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\" Dune\\nyes "
	    "\"}]}",
	    "get Dune yes");
	/* No title, unknown command, no name: refused. */
	j = parse("{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\"  \"}]}");
	assert_int_equal(discord_command_text(j, out, sizeof(out)), -1);
	json_decref(j);
	j = parse("{\"name\":\"cancel\"}");
	assert_int_equal(discord_command_text(j, out, sizeof(out)), -1);
	json_decref(j);
	j = parse("{\"name\":\"ban\"}");
	assert_int_equal(discord_command_text(j, out, sizeof(out)), -1);
	json_decref(j);
	j = parse("{}");
	assert_int_equal(discord_command_text(j, out, sizeof(out)), -1);
	json_decref(j);
}

static void
test_long_title_cut_on_a_character(void **state)
{
	char title[600], data[800], out[300];
	json_t *j;
	size_t i, n;

	(void)state;
	/* 300 two-byte characters: cut within 200 bytes, never mid-character. */
	for (i = 0; i < 300; i++)
		memcpy(title + 2 * i, "\xc3\xa9", 2);
	title[598] = '\0';
	snprintf(data, sizeof(data),
	         "{\"name\":\"status\",\"options\":[{\"name\":\"title\","
	         "\"value\":\"%s\"}]}",
	         title);
	j = parse(data);
	assert_int_equal(discord_command_text(j, out, sizeof(out)), 0);
	n = strlen(out);
	assert_true(n <= strlen("status of ") + 200);
	assert_true(n > strlen("status of ") + 190);
	assert_int_equal((n - strlen("status of ")) % 2, 0);
	json_decref(j);
}

static void
test_custom_ids(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(discord_custom_id_text("usher:choice:3", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "3");
	assert_int_equal(discord_custom_id_text("usher:choice:25", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "25");
	assert_int_equal(discord_custom_id_text("usher:yes", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "yes");
	assert_int_equal(discord_custom_id_text("usher:no", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "no");
	/* A select menu: the value is the number. */
	assert_int_equal(discord_custom_id_text("usher:choice", "6", out, sizeof(out)), 0);
	assert_string_equal(out, "6");
	assert_int_equal(discord_custom_id_text("usher:choice", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice", "approve", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice", "26", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:26", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:0", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:3x", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("req:movie:438631", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:act:1", NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text(NULL, NULL, out, sizeof(out)), -1);
	assert_int_equal(discord_action_number("usher:act:1"), 1);
	assert_int_equal(discord_action_number("usher:act:25"), 25);
	assert_int_equal(discord_action_number("usher:act:26"), 0);
	assert_int_equal(discord_action_number("usher:act:0"), 0);
	assert_int_equal(discord_action_number("usher:act:"), 0);
	assert_int_equal(discord_action_number("usher:choice:1"), 0);
	assert_int_equal(discord_action_number(NULL), 0);
}

static json_t *
component(json_t *rows, size_t row, size_t i)
{
	return json_array_get(json_object_get(json_array_get(rows, row), "components"), i);
}

static const char *
button_id(json_t *rows, size_t row, size_t i)
{
	return json_string_value(json_object_get(component(rows, row, i), "custom_id"));
}

static const char *
button_label(json_t *rows, size_t row, size_t i)
{
	return json_string_value(json_object_get(component(rows, row, i), "label"));
}

static const struct chat_choice three[] = {
    {"Dune (2021)", "film \xc2\xb7 2021", "https://image.tmdb.org/t/p/w500/a.jpg"},
    {"Dune (1984)", "film \xc2\xb7 1984 \xc2\xb7 already there", NULL},
    {"Dune: Prophecy (2024)", NULL, NULL},
};

static void
test_components_choices(void **state)
{
	struct chat_out out = {
	    .text = "I found 3. Which one?\n1) ...", .choices = three, .choice_count = 3};
	json_t *rows;

	(void)state;
	rows = discord_components(&out);
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "type")), 1);
	assert_string_equal(button_id(rows, 0, 0), "usher:choice:1");
	assert_string_equal(button_label(rows, 0, 0), "1) Dune (2021)");
	assert_string_equal(button_id(rows, 0, 2), "usher:choice:3");
	assert_string_equal(button_label(rows, 0, 2), "3) Dune: Prophecy (2024)");
	assert_null(button_id(rows, 0, 3));
	json_decref(rows);
	/* A numbered list in the text alone is no question. */
	out.choice_count = 0;
	assert_null(discord_components(&out));
}

static void
test_components_select(void **state)
{
	struct chat_choice many[30];
	char labels[30][32];
	struct chat_out out = {.text = "Which one?", .choices = many, .choice_count = 30};
	json_t *rows, *select, *opts;
	int i;

	(void)state;
	for (i = 0; i < 30; i++) {
		snprintf(labels[i], sizeof(labels[i]), "Title %d", i + 1);
		many[i] = (struct chat_choice){labels[i], "film", NULL};
	}
	rows = discord_components(&out);
	assert_int_equal(json_array_size(rows), 1);
	select = component(rows, 0, 0);
	assert_int_equal(json_integer_value(json_object_get(select, "type")), 3);
	assert_string_equal(json_string_value(json_object_get(select, "custom_id")),
	                    "usher:choice");
	opts = json_object_get(select, "options");
	assert_int_equal(json_array_size(opts), 25); /* Discord's most */
	assert_string_equal(json_string_value(json_object_get(json_array_get(opts, 5), "value")),
	                    "6");
	assert_string_equal(json_string_value(json_object_get(json_array_get(opts, 5), "label")),
	                    "6) Title 6");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(opts, 5), "description")), "film");
	json_decref(rows);
}

static void
test_components_actions(void **state)
{
	struct chat_action acts[25];
	char says[25][32];
	struct chat_out out = {.text = "Waiting for approval:\n1) ...",
	                       .choices = three,
	                       .choice_count = 2,
	                       .actions = acts,
	                       .action_count = 2};
	json_t *rows, *list;
	int i;

	(void)state;
	for (i = 0; i < 25; i++) {
		snprintf(says[i], sizeof(says[i]), "approve request %d", i + 1);
		acts[i] = (struct chat_action){"Approve", says[i], i % 2 == 1};
	}
	rows = discord_components(&out);
	/* Choices on their row, actions on the next. */
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(button_id(rows, 1, 0), "usher:act:1");
	assert_int_equal(json_integer_value(json_object_get(component(rows, 1, 0), "style")), 1);
	assert_int_equal(json_integer_value(json_object_get(component(rows, 1, 1), "style")), 4);
	json_decref(rows);
	list = discord_action_says(&out);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 1)), "approve request 2");
	json_decref(list);

	/* Never more than five rows: what does not fit is left out. */
	out.action_count = 12;
	out.text = "Approve them? Say yes or no.";
	rows = discord_components(&out);
	assert_int_equal(json_array_size(rows), 5);
	assert_string_equal(button_id(rows, 3, 1), "usher:act:12");
	assert_string_equal(button_id(rows, 4, 0), "usher:yes");
	json_decref(rows);
	out.action_count = 25;
	out.text = "Approve them? Say yes or no.";
	rows = discord_components(&out);
	assert_int_equal(json_array_size(rows), 5);
	assert_string_equal(button_id(rows, 4, 4), "usher:act:20");
	json_decref(rows);
	out.action_count = 0;
	assert_null(discord_action_says(&out));
}

static void
test_components_yes_no_and_none(void **state)
{
	struct chat_out out = {.text = "Request Dune (2021) in 4K? 4K copies are several times "
	                               "bigger. Say yes or no."};
	json_t *rows;

	(void)state;
	rows = discord_components(&out);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(button_id(rows, 0, 0), "usher:yes");
	assert_string_equal(button_id(rows, 0, 1), "usher:no");
	json_decref(rows);
	out.text = "Requested Dune (2021).";
	assert_null(discord_components(&out));
	out.text = NULL;
	assert_null(discord_components(&out));
}

static void
test_message_body(void **state)
{
	struct chat_out out = {.text =
	                           "Mason: I found 2. Which one?\n1) A (2001) \xc2\xb7 film\n2) "
	                           "B (2002) \xc2\xb7 film",
	                       .reply_to = "1325000000000000001",
	                       .mention = "53908232506183680",
	                       .choices = three,
	                       .choice_count = 2};
	json_t *b, *e;

	(void)state;
	b = discord_message_body(&out, false, true);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(b, "message_reference"), "message_id")),
	                    "1325000000000000001");
	/* One embed per choice, its poster as the thumbnail. */
	assert_int_equal(json_array_size(json_object_get(b, "embeds")), 2);
	e = json_array_get(json_object_get(b, "embeds"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "title")), "1) Dune (2021)");
	assert_string_equal(json_string_value(json_object_get(e, "description")),
	                    "film \xc2\xb7 2021");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "thumbnail"), "url")),
	    three[0].image_url);
	assert_null(json_object_get(json_array_get(json_object_get(b, "embeds"), 1), "thumbnail"));
	assert_int_equal(json_array_size(json_object_get(b, "components")), 1);
	/* Replying already pings: no "<@id>" in the text. */
	assert_int_equal(strncmp(json_string_value(json_object_get(b, "content")), "Mason:", 6), 0);
	json_decref(b);

	/* Through an interaction: no reference, and no ping in the text either. */
	b = discord_message_body(&out, false, false);
	assert_null(json_object_get(b, "message_reference"));
	assert_int_equal(strncmp(json_string_value(json_object_get(b, "content")), "Mason:", 6), 0);
	json_decref(b);

	/* Progress (no reply): the person is pinged by name, the poster a thumbnail. */
	out.reply_to = NULL;
	out.choice_count = 0;
	out.image_url = "https://image.tmdb.org/t/p/w500/x.jpg";
	b = discord_message_body(&out, false, false);
	assert_int_equal(
	    strncmp(json_string_value(json_object_get(b, "content")), "<@53908232506183680> ", 21),
	    0);
	e = json_array_get(json_object_get(b, "embeds"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(e, "thumbnail"), "url")),
	    out.image_url);
	json_decref(b);

	/* An edit without a question clears the old buttons. */
	out.text = "Requested A (2001).";
	out.image_url = NULL;
	b = discord_message_body(&out, true, false);
	assert_true(json_is_array(json_object_get(b, "components")));
	assert_int_equal(json_array_size(json_object_get(b, "components")), 0);
	assert_null(json_object_get(b, "embeds"));
	json_decref(b);
}

static void
test_commands_json(void **state)
{
	json_t *c = discord_commands_json();
	json_t *title;

	(void)state;
	assert_non_null(c);
	assert_int_equal(json_array_size(c), 7);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "name")),
	                    "request");
	title = json_array_get(json_object_get(json_array_get(c, 0), "options"), 0);
	assert_string_equal(json_string_value(json_object_get(title, "name")), "title");
	assert_true(json_is_true(json_object_get(title, "autocomplete")));
	assert_true(json_is_true(json_object_get(title, "required")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 3), "name")),
	                    "cancel");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 6), "name")),
	                    "help");
	json_decref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_text),
	    cmocka_unit_test(test_long_title_cut_on_a_character),
	    cmocka_unit_test(test_custom_ids),
	    cmocka_unit_test(test_components_choices),
	    cmocka_unit_test(test_components_select),
	    cmocka_unit_test(test_components_actions),
	    cmocka_unit_test(test_components_yes_no_and_none),
	    cmocka_unit_test(test_message_body),
	    cmocka_unit_test(test_commands_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
	/* A title cannot smuggle a second line in. */
	expect_text(
	    "{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\" Dune\\nyes "
	    "\"}]}",
	    "get Dune yes");
	/* No title, unknown command, no name: refused. */
	j = parse("{\"name\":\"request\",\"options\":[{\"name\":\"title\",\"value\":\"  \"}]}");
	assert_int_equal(discord_command_text(j, out, sizeof(out)), -1);
	json_decref(j);
	j = parse("{\"name\":\"approve\"}");
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
	assert_int_equal(discord_custom_id_text("usher:choice:3", out, sizeof(out)), 0);
	assert_string_equal(out, "3");
	assert_int_equal(discord_custom_id_text("usher:choice:25", out, sizeof(out)), 0);
	assert_string_equal(out, "25");
	assert_int_equal(discord_custom_id_text("usher:yes", out, sizeof(out)), 0);
	assert_string_equal(out, "yes");
	assert_int_equal(discord_custom_id_text("usher:no", out, sizeof(out)), 0);
	assert_string_equal(out, "no");
	assert_int_equal(discord_custom_id_text("usher:choice:26", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:0", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:3x", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("usher:choice:", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text("req:movie:438631", out, sizeof(out)), -1);
	assert_int_equal(discord_custom_id_text(NULL, out, sizeof(out)), -1);
}

static const char *
button_id(json_t *rows, size_t row, size_t i)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(json_array_get(rows, row), "components"), i),
	    "custom_id"));
}

static const char *
button_label(json_t *rows, size_t row, size_t i)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(json_array_get(rows, row), "components"), i), "label"));
}

static void
test_components_choices(void **state)
{
	json_t *rows;

	(void)state;
	rows = discord_components("Mason: I found 3. Which one?\n1) Dune (2021) \xc2\xb7 film\n"
	                          "2) Dune (1984) \xc2\xb7 film \xc2\xb7 already there\n"
	                          "3) Dune: Prophecy (2024) \xc2\xb7 show");
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "type")), 1);
	assert_string_equal(button_id(rows, 0, 0), "usher:choice:1");
	assert_string_equal(button_label(rows, 0, 0), "1) Dune (2021)");
	assert_string_equal(button_id(rows, 0, 2), "usher:choice:3");
	assert_string_equal(button_label(rows, 0, 2), "3) Dune: Prophecy (2024)");
	assert_null(button_id(rows, 0, 3));
	json_decref(rows);
}

static void
test_components_many_rows(void **state)
{
	char text[2000];
	size_t n = 0;
	json_t *rows;
	int i;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "Which one?");
	for (i = 1; i <= 12; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\n%d) Title %d \xc2\xb7 film", i,
		                      i);
	rows = discord_components(text);
	assert_int_equal(json_array_size(rows), 3); /* 5 + 5 + 2 */
	assert_string_equal(button_id(rows, 2, 1), "usher:choice:12");
	json_decref(rows);
}

static void
test_components_yes_no_and_none(void **state)
{
	json_t *rows;

	(void)state;
	rows = discord_components("Request Dune (2021) in 4K? 4K copies are several times bigger. "
	                          "Say yes or no.");
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(button_id(rows, 0, 0), "usher:yes");
	assert_string_equal(button_id(rows, 0, 1), "usher:no");
	json_decref(rows);
	assert_null(discord_components("Requested Dune (2021)."));
	/* A list that does not start at 1 is not a choice. */
	assert_null(discord_components("Steps:\n2) two\n3) three"));
	assert_null(discord_components(NULL));
}

static void
test_message_body(void **state)
{
	struct chat_out out = {.text =
	                           "Mason: I found 2. Which one?\n1) A (2001) \xc2\xb7 film\n2) "
	                           "B (2002) \xc2\xb7 film",
	                       .reply_to = "1325000000000000001",
	                       .mention = "53908232506183680",
	                       .image_url = "https://image.tmdb.org/t/p/w500/x.jpg"};
	json_t *b;

	(void)state;
	b = discord_message_body(&out, false, true);
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(b, "message_reference"), "message_id")),
	                    "1325000000000000001");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_array_get(json_object_get(b, "embeds"), 0), "image"), "url")),
	    out.image_url);
	assert_int_equal(json_array_size(json_object_get(b, "components")), 1);
	/* Replying already pings: no "<@id>" in the text. */
	assert_int_equal(strncmp(json_string_value(json_object_get(b, "content")), "Mason:", 6), 0);
	json_decref(b);

	/* Through an interaction: no reference, and no ping in the text either. */
	b = discord_message_body(&out, false, false);
	assert_null(json_object_get(b, "message_reference"));
	assert_int_equal(strncmp(json_string_value(json_object_get(b, "content")), "Mason:", 6), 0);
	json_decref(b);

	/* Progress (no reply): the person is pinged by name. */
	out.reply_to = NULL;
	b = discord_message_body(&out, false, false);
	assert_int_equal(
	    strncmp(json_string_value(json_object_get(b, "content")), "<@53908232506183680> ", 21),
	    0);
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
	assert_int_equal(json_array_size(c), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "name")),
	                    "request");
	title = json_array_get(json_object_get(json_array_get(c, 0), "options"), 0);
	assert_string_equal(json_string_value(json_object_get(title, "name")), "title");
	assert_true(json_is_true(json_object_get(title, "autocomplete")));
	assert_true(json_is_true(json_object_get(title, "required")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 3), "name")),
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
	    cmocka_unit_test(test_components_many_rows),
	    cmocka_unit_test(test_components_yes_no_and_none),
	    cmocka_unit_test(test_message_body),
	    cmocka_unit_test(test_commands_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

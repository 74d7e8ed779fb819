/*
 * The bot as a person on a chat network sees it: a scripted network hands
 * it messages and records every reply it sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/bot.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "gateway/gateway.h"

#define MAX_SENT 16

struct sent {
	char room[64];
	char text[2048];
	char reply_to[64];
};

static struct sent sent[MAX_SENT];
static int sent_count;
static struct gateway *script_gw;

static int
script_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	(void)err;
	(void)errlen;
	script_gw = gw;
	return 0;
}

struct pending {
	gateway_done_cb *done;
	void *arg;
};

static struct pending pending[MAX_SENT];
static int pending_count;

static void
script_complete(struct loop *loop, loop_timer_id id, void *arg)
{
	int i;

	(void)loop;
	(void)id;
	(void)arg;
	for (i = 0; i < pending_count; i++)
		pending[i].done(pending[i].arg, 0, "m1", NULL);
	pending_count = 0;
}

static int
script_send(struct gateway *gw, const char *room, const struct chat_out *out, gateway_done_cb *done,
            void *arg)
{
	assert_true(sent_count < MAX_SENT);
	snprintf(sent[sent_count].room, sizeof(sent[0].room), "%s", room);
	snprintf(sent[sent_count].text, sizeof(sent[0].text), "%s", out->text);
	snprintf(sent[sent_count].reply_to, sizeof(sent[0].reply_to), "%s",
	         out->reply_to ? out->reply_to : "");
	sent_count++;
	pending[pending_count].done = done;
	pending[pending_count].arg = arg;
	pending_count++;
	loop_add_timer(gateway_loop(gw), 0, script_complete, NULL);
	return 0;
}

static const struct gateway_ops script_ops = {
    .name = "console",
    .init = script_init,
    .send = script_send,
};
static const struct gateway_ops *const script_networks[] = {&script_ops};

struct fixture {
	char path[64];
	struct config *cfg;
	struct loop *loop;
	struct bot *bot;
};

static struct fixture *
fixture_new(const char *conf)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int fd;

	strcpy(f->path, "/tmp/usher-test-bot-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
	close(fd);
	f->cfg = config_load(f->path, (char *[]){NULL});
	assert_non_null(f->cfg);
	assert_true(config_ok(f->cfg));
	f->loop = loop_new();
	f->bot = bot_new_with_networks(f->loop, f->cfg, NULL, script_networks, 1, err, sizeof(err));
	assert_non_null(f->bot);
	assert_int_equal(bot_start(f->bot, err, sizeof(err)), 0);
	sent_count = 0;
	pending_count = 0;
	return f;
}

static void
fixture_free(struct fixture *f)
{
	bot_free(f->bot);
	loop_free(f->loop);
	config_free(f->cfg);
	unlink(f->path);
	free(f);
}

static void
say(struct fixture *f, const char *network, const char *sender, const char *text, bool direct,
    bool addressed)
{
	struct chat_msg msg = {
	    .network = network,
	    .room = direct ? "dm-room" : "group-room",
	    .sender = sender,
	    .sender_name = sender,
	    .text = text,
	    .msg_id = "msg-7",
	    .direct = direct,
	    .addressed = addressed,
	};
	int i;

	gateway_deliver(script_gw, &msg);
	for (i = 0; i < 5; i++)
		loop_run_once(f->loop, 0);
}

static const char family_conf[] = "[console]\nperson = mum\n"
                                  "[person mum]\nrole = admin\nmatrix = @mum:example.org\n"
                                  "[person kid]\nrole = member\nxmpp = kid@example.org\n";

static void
test_stranger_is_refused_politely(void **state)
{
	struct fixture *f = fixture_new(family_conf);

	(void)state;
	say(f, "matrix", "@stranger:example.org", "help", true, true);
	assert_int_equal(sent_count, 1);
	assert_string_equal(sent[0].room, "dm-room");
	assert_non_null(strstr(sent[0].text, "Sorry, I only take requests from the family"));
	fixture_free(f);
}

static void
test_known_person_by_network_identity(void **state)
{
	struct fixture *f = fixture_new(family_conf);

	(void)state;
	say(f, "xmpp", "Kid@Example.org/phone", "hello", true, true);
	assert_int_equal(sent_count, 1);
	assert_string_equal(sent[0].text, "Hi Kid@Example.org/phone! I'm usher. Ask me for a film "
	                                  "or a show, or say \"help\" to see what I can do.");
	/* The same JID on another network is somebody else. */
	say(f, "matrix", "kid@example.org", "hello", true, true);
	assert_int_equal(sent_count, 2);
	assert_non_null(strstr(sent[1].text, "Sorry, I only take requests"));
	fixture_free(f);
}

static void
test_rooms_answer_only_when_addressed(void **state)
{
	struct fixture *f = fixture_new(family_conf);

	(void)state;
	say(f, "matrix", "@mum:example.org", "help", false, false);
	assert_int_equal(sent_count, 0);
	/* Strangers chatting in the room are not lectured either. */
	say(f, "matrix", "@stranger:example.org", "help", false, false);
	assert_int_equal(sent_count, 0);
	say(f, "matrix", "@mum:example.org", "help", false, true);
	assert_int_equal(sent_count, 1);
	assert_string_equal(sent[0].room, "group-room");
	assert_string_equal(sent[0].reply_to, "msg-7");
	assert_true(strncmp(sent[0].text, "@mum:example.org: I fetch films and shows", 41) == 0);
	fixture_free(f);
}

static void
test_read_only_strangers_may_ask_for_help(void **state)
{
	struct fixture *f = fixture_new("[usher]\nunknown_users = read-only\ndefault_person = "
	                                "guest\n"
	                                "[console]\nperson = guest\n[person guest]\n");

	(void)state;
	say(f, "matrix", "@stranger:example.org", "help", true, true);
	assert_int_equal(sent_count, 1);
	assert_non_null(strstr(sent[0].text, "I fetch films and shows"));
	fixture_free(f);
}

static void
test_default_policy_needs_a_person(void **state)
{
	char path[] = "/tmp/usher-test-bot-XXXXXX";
	const char conf[] = "[usher]\nunknown_users = default\n[console]\nperson = mum\n"
	                    "[person mum]\n";
	struct config *cfg;
	struct loop *loop = loop_new();
	char err[256] = "";
	int fd = mkstemp(path);

	(void)state;
	assert_int_equal(write(fd, conf, sizeof(conf) - 1), (ssize_t)sizeof(conf) - 1);
	close(fd);
	cfg = config_load(path, (char *[]){NULL});
	assert_null(bot_new_with_networks(loop, cfg, NULL, script_networks, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "default_person"));
	config_free(cfg);
	loop_free(loop);
	unlink(path);
}

static void
test_end_of_input_stops_once_replies_are_out(void **state)
{
	struct fixture *f = fixture_new(family_conf);
	int i;

	(void)state;
	say(f, "console", "mum", "help", true, true);
	gateway_deliver_end(script_gw);
	for (i = 0; i < 10 && !loop_stopping(f->loop); i++)
		loop_run_once(f->loop, 0);
	assert_true(loop_stopping(f->loop));
	assert_int_equal(pending_count, 0);
	fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stranger_is_refused_politely),
	    cmocka_unit_test(test_known_person_by_network_identity),
	    cmocka_unit_test(test_rooms_answer_only_when_addressed),
	    cmocka_unit_test(test_read_only_strangers_may_ask_for_help),
	    cmocka_unit_test(test_default_policy_needs_a_person),
	    cmocka_unit_test(test_end_of_input_stops_once_replies_are_out),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_xmpp: the XMPP gateway's parts that need no server: the stanzas it
 * builds (posters, corrections, chat states), who a room occupant is (real
 * JID, else a configured nick), and direct messages queued while offline.
 * The talking parts are tested against a real prosody in
 * tests/integration/xmpp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/loop.h"
#include "gateway/gateway.h"
#include "gateway/xmpp_impl.h"

struct fixture {
	struct xmppgw x;
	struct xmppgw_room room;
	struct xmppgw_nick nick;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	xmpp_initialize();
	fx->x.ctx = xmpp_ctx_new(NULL, NULL);
	fx->x.jid = "usher@localhost";
	fx->room.jid = "hidden@rooms.localhost";
	fx->room.nick = "usher";
	fx->room.joined = true;
	fx->x.rooms = &fx->room;
	fx->x.room_count = 1;
	fx->nick.nick = "Ally";
	fx->nick.jid = "alice@localhost";
	fx->x.nicks = &fx->nick;
	fx->x.nick_count = 1;
	*state = fx;
	return fx->x.ctx ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	xmppgw_occupants_clear(&fx->room);
	xmppgw_recent_free(&fx->x);
	xmpp_ctx_free(fx->x.ctx);
	xmpp_shutdown();
	free(fx);
	return 0;
}

static char *
child_text(xmpp_stanza_t *st, const char *name, const char *ns)
{
	xmpp_stanza_t *c = ns ? xmpp_stanza_get_child_by_name_and_ns(st, name, ns)
	                      : xmpp_stanza_get_child_by_name(st, name);

	return c ? xmpp_stanza_get_text(c) : NULL;
}

static void
test_poster_is_oob_and_a_line(void **state)
{
	struct fixture *fx = *state;
	struct chat_out out = {.text = "Dune (2021)", .image_url = "https://img.example/dune.jpg"};
	xmpp_stanza_t *m = xmppgw_build(&fx->x, NULL, "alice@localhost", "id1", &out, NULL);
	xmpp_stanza_t *oob = xmpp_stanza_get_child_by_name_and_ns(m, "x", NS_OOB);
	char *body = child_text(m, "body", NULL), *url;

	assert_string_equal(xmpp_stanza_get_type(m), "chat");
	assert_string_equal(xmpp_stanza_get_to(m), "alice@localhost");
	assert_string_equal(body, "Dune (2021)\nhttps://img.example/dune.jpg");
	assert_non_null(oob);
	url = child_text(oob, "url", NULL);
	assert_string_equal(url, "https://img.example/dune.jpg");
	assert_non_null(xmpp_stanza_get_child_by_name_and_ns(m, "active", NS_CHATSTATES));
	xmpp_free(fx->x.ctx, body);
	xmpp_free(fx->x.ctx, url);
	xmpp_stanza_release(m);

	/* A text that already shows the link does not repeat it. */
	out.text = "Dune: https://img.example/dune.jpg";
	m = xmppgw_build(&fx->x, NULL, "alice@localhost", "id2", &out, NULL);
	body = child_text(m, "body", NULL);
	assert_string_equal(body, "Dune: https://img.example/dune.jpg");
	xmpp_free(fx->x.ctx, body);
	xmpp_stanza_release(m);
}

static void
test_room_correction_is_active_groupchat(void **state)
{
	struct fixture *fx = *state;
	struct chat_out out = {.text = "Dune: 45%\x01"};
	xmpp_stanza_t *m = xmppgw_build(&fx->x, &fx->room, fx->room.jid, "id3", &out, "first");
	xmpp_stanza_t *rep = xmpp_stanza_get_child_by_name_and_ns(m, "replace", NS_CORRECT);
	char *body = child_text(m, "body", NULL);

	assert_string_equal(xmpp_stanza_get_type(m), "groupchat");
	assert_non_null(rep);
	assert_string_equal(xmpp_stanza_get_attribute(rep, "id"), "first");
	assert_string_equal(body, "Dune: 45%?"); /* no control characters on the wire */
	assert_null(xmpp_stanza_get_child_by_name_and_ns(m, "x", NS_OOB));
	assert_non_null(xmpp_stanza_get_child_by_name_and_ns(m, "active", NS_CHATSTATES));
	xmpp_free(fx->x.ctx, body);
	xmpp_stanza_release(m);
}

static void
test_chat_states_have_no_body(void **state)
{
	struct fixture *fx = *state;
	xmpp_stanza_t *m = xmppgw_chat_state(&fx->x, false, "alice@localhost", "composing");

	assert_string_equal(xmpp_stanza_get_type(m), "chat");
	assert_non_null(xmpp_stanza_get_child_by_name_and_ns(m, "composing", NS_CHATSTATES));
	assert_null(xmpp_stanza_get_child_by_name(m, "body"));
	assert_null(xmpp_stanza_get_child_by_name_and_ns(m, "active", NS_CHATSTATES));
	xmpp_stanza_release(m);
	m = xmppgw_chat_state(&fx->x, true, fx->room.jid, "active");
	assert_string_equal(xmpp_stanza_get_type(m), "groupchat");
	assert_non_null(xmpp_stanza_get_child_by_name_and_ns(m, "active", NS_CHATSTATES));
	xmpp_stanza_release(m);
}

static void
test_error_condition(void **state)
{
	struct fixture *fx = *state;
	xmpp_stanza_t *e = xmpp_stanza_new_from_string(
	    fx->x.ctx, "<presence type='error'><error type='cancel'> <item-not-found "
	               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>");
	xmpp_stanza_t *bare = xmpp_stanza_new_from_string(fx->x.ctx, "<message type='error'/>");

	assert_string_equal(xmppgw_error_condition(e), "item-not-found");
	assert_string_equal(xmppgw_error_condition(bare), "no reason given");
	xmpp_stanza_release(e);
	xmpp_stanza_release(bare);
}

static void
occupant_joins(struct fixture *fx, const char *nick, const char *real)
{
	char xml[512], from[128];
	xmpp_stanza_t *p;

	snprintf(xml, sizeof(xml),
	         "<presence from='%s/%s'><x xmlns='" NS_MUC_USER "'>"
	         "<item affiliation='none' role='participant'%s%s%s/></x></presence>",
	         fx->room.jid, nick, real ? " jid='" : "", real ? real : "", real ? "'" : "");
	snprintf(from, sizeof(from), "%s/%s", fx->room.jid, nick);
	p = xmpp_stanza_new_from_string(fx->x.ctx, xml);
	assert_non_null(p);
	xmppgw_room_presence(&fx->x, &fx->room, p, NULL, from);
	xmpp_stanza_release(p);
}

static void
test_occupant_by_jid_then_nick(void **state)
{
	struct fixture *fx = *state;
	char *who;

	occupant_joins(fx, "bob", "bob@localhost/phone");
	occupant_joins(fx, "ally", NULL);
	occupant_joins(fx, "eve", NULL);
	/* The room shows a real JID: it decides, whatever the nick. */
	occupant_joins(fx, "Ally", "stranger@localhost/x");
	assert_int_equal(fx->room.occupant_count, 4);

	who = xmppgw_occupant_jid(&fx->x, &fx->room, "bob");
	assert_string_equal(who, "bob@localhost");
	free(who);
	who = xmppgw_occupant_jid(&fx->x, &fx->room, "ally"); /* nicks match without case */
	assert_string_equal(who, "alice@localhost");
	free(who);
	who = xmppgw_occupant_jid(&fx->x, &fx->room, "Ally");
	assert_string_equal(who, "stranger@localhost");
	free(who);
	assert_null(xmppgw_occupant_jid(&fx->x, &fx->room, "eve"));
	assert_null(xmppgw_occupant_jid(&fx->x, &fx->room, "nobody"));
}

static int direct_done_calls;

static void
direct_done(void *arg, int status, const char *msg_id, const char *error)
{
	(void)arg;
	(void)status;
	(void)msg_id;
	(void)error;
	direct_done_calls++;
}

static void
on_message(struct gateway *gw, const struct chat_msg *msg, void *arg)
{
	(void)gw;
	(void)msg;
	(void)arg;
}

/* Offline, a direct message waits in the outbox: accepted, not reported,
 * and dropped without a report when the gateway goes. Config is read:
 * nicks stand for the person's first JID, ping_s becomes milliseconds. */
static void
test_direct_message_offline(void **state)
{
	char conf[] = "/tmp/usher-test-xmpp-XXXXXX", err[256];
	char *const envp[] = {NULL};
	struct gateway_host host = {.on_message = on_message};
	struct chat_out out = {.text = "Dune is ready", .image_url = "https://img.example/d.jpg"};
	struct config *cfg;
	struct loop *loop;
	struct gateway *gw;
	struct xmppgw *x;
	int fd, i;
	FILE *f;

	(void)state;
	assert_true((fd = mkstemp(conf)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("[xmpp]\njid = usher@localhost\npassword = pw\nhost = 127.0.0.1\nport = 1\n"
	      "tls = off-for-loopback-tests\nping_s = 7\n"
	      "[person alice]\nxmpp = alice@localhost, alice@work.example\nxmpp_nick = Ally, mum\n"
	      "[person bob]\nxmpp_nick = bobby\n",
	      f);
	fclose(f);
	cfg = config_load(conf, envp);
	unlink(conf);
	assert_non_null(cfg);
	assert_true(config_ok(cfg));
	loop = loop_new();
	gw = gateway_new(&xmpp_gateway_ops, loop, cfg, &host, err, sizeof(err));
	assert_non_null(gw);
	x = gateway_impl(gw);
	assert_int_equal(x->ping_ms, 7000);
	assert_int_equal(x->nick_count, 2); /* bob has no JID: his nick cannot stand for one */
	assert_string_equal(x->nicks[1].nick, "mum");
	assert_string_equal(x->nicks[1].jid, "alice@localhost");
	assert_true(gateway_can_send_direct(gw));

	direct_done_calls = 0;
	assert_int_equal(gateway_send_direct(gw, "alice@localhost/phone", &out, direct_done, NULL),
	                 0);
	assert_int_equal(gateway_send_direct(gw, "not a jid", &out, direct_done, NULL), -1);
	assert_int_equal(gateway_send_direct(gw, "@localhost", &out, direct_done, NULL), -1);
	assert_int_equal(x->out_len, 1);
	gateway_typing(gw, "alice@localhost", true); /* offline: nothing to show, no crash */
	assert_null(x->composing[0]);
	for (i = 0; i < 5; i++)
		loop_run_once(loop, 10);
	assert_int_equal(direct_done_calls, 0);
	gateway_free(gw);
	for (i = 0; i < 5; i++)
		loop_run_once(loop, 10);
	assert_int_equal(direct_done_calls, 0);
	loop_free(loop);
	config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_poster_is_oob_and_a_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_room_correction_is_active_groupchat, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_chat_states_have_no_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_occupant_by_jid_then_nick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_condition, setup, teardown),
	    cmocka_unit_test(test_direct_message_offline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

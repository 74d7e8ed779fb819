/*
 * The Matrix gateway's sends and edits against tests/fakes/fake_matrix.py:
 * the exact event content the homeserver receives, typing and read
 * receipts, direct chats opened once, and txnIds that a restart on the same
 * store repeats for the same message and never for another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/loop.h"
#include "core/store.h"
#include "gateway/gateway.h"
#include "gateway/matrix.h"

#include "fake_server.h"

#define ROOM "!r:localhost"

struct fixture {
	struct fake fake;
	char conf[64];
	char db[64];
	struct config *cfg;
	struct loop *loop;
	struct store *store;
	struct gateway *gw;
};

struct result {
	bool done;
	int status;
	char msg_id[128];
	char error[256];
};

static void
on_done(void *arg, int status, const char *msg_id, const char *error)
{
	struct result *r = arg;

	r->done = true;
	r->status = status;
	snprintf(r->msg_id, sizeof(r->msg_id), "%s", msg_id ? msg_id : "");
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

static void
wait_done(struct fixture *fx, struct result *r)
{
	unsigned long long end = fake_now_ms() + 10000;

	while (!r->done && fake_now_ms() < end)
		loop_run_once(fx->loop, 50);
	assert_true(r->done);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct gateway_host host = {0};
	char *const envp[] = {NULL};
	char err[256];
	char *ans;
	FILE *f;
	int fd;

	if (fx == NULL || fake_start_script(&fx->fake, "fakes/fake_matrix.py", NULL) == -1)
		return -1;
	ans = fake_control(&fx->fake, "POST", "/__fake/matrix/room",
	                   "{\"room_id\": \"" ROOM "\", \"members\": [\"@alice:localhost\"], "
	                   "\"names\": {\"@alice:localhost\": \"Alice\"}}");
	free(ans);
	snprintf(fx->conf, sizeof(fx->conf), "/tmp/usher-test-matrix-XXXXXX");
	if ((fd = mkstemp(fx->conf)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return -1;
	fprintf(f,
	        "[matrix]\nhomeserver = http://127.0.0.1:%d\nuser_id = @usher:localhost\n"
	        "access_token = usher-token\n[person alice]\nmatrix = @alice:localhost\n"
	        "[person bob]\nmatrix = @bob:localhost\n",
	        fx->fake.port);
	fclose(f);
	snprintf(fx->db, sizeof(fx->db), "/tmp/usher-test-matrix-db-XXXXXX");
	if ((fd = mkstemp(fx->db)) == -1)
		return -1;
	close(fd);
	unlink(fx->db); /* store_open creates it */
	fx->store = store_open(fx->db, err, sizeof(err));
	fx->cfg = config_load(fx->conf, envp);
	fx->loop = loop_new();
	if (fx->store == NULL || fx->cfg == NULL || !config_ok(fx->cfg) || fx->loop == NULL)
		return -1;
	host.store = fx->store;
	fx->gw = gateway_new(&matrix_gateway_ops, fx->loop, fx->cfg, &host, err, sizeof(err));
	if (fx->gw == NULL || gateway_start(fx->gw) == -1)
		return -1;
	/* Let the first sync teach the gateway the room's members and names. */
	for (unsigned long long end = fake_now_ms() + 500; fake_now_ms() < end;)
		loop_run_once(fx->loop, 50);
	*state = fx;
	return 0;
}

/* A new gateway on the same store and config, as after a restart. */
static void
restart(struct fixture *fx)
{
	struct gateway_host host = {.store = fx->store};
	char err[256];

	gateway_free(fx->gw);
	fx->gw = gateway_new(&matrix_gateway_ops, fx->loop, fx->cfg, &host, err, sizeof(err));
	assert_non_null(fx->gw);
	assert_int_equal(gateway_start(fx->gw), 0);
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	char wal[80];

	gateway_free(fx->gw);
	store_close(fx->store);
	loop_free(fx->loop);
	config_free(fx->cfg);
	fake_stop(&fx->fake);
	unlink(fx->conf);
	unlink(fx->db);
	snprintf(wal, sizeof(wal), "%s-wal", fx->db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", fx->db);
	unlink(wal);
	free(fx);
	return 0;
}

/* The fake's /__fake/matrix/state (a new reference). */
static json_t *
fake_state(struct fixture *fx)
{
	char *ans = fake_control(&fx->fake, "GET", "/__fake/matrix/state", NULL);
	json_t *st = ans ? json_loads(ans, 0, NULL) : NULL;

	free(ans);
	assert_non_null(st);
	return st;
}

/* Runs the loop until the fake's state lists `n` entries under `field`
 * (at most 10 s); returns the state (a new reference). */
static json_t *
wait_state(struct fixture *fx, const char *field, size_t n)
{
	unsigned long long end = fake_now_ms() + 10000;
	json_t *st = fake_state(fx);

	while (json_array_size(json_object_get(st, field)) < n && fake_now_ms() < end) {
		json_decref(st);
		loop_run_once(fx->loop, 50);
		st = fake_state(fx);
	}
	return st;
}

/* How many events usher has sent so far. */
static size_t
sent_count(struct fixture *fx)
{
	char *ans = fake_control(&fx->fake, "GET", "/__fake/matrix/sent", NULL);
	json_t *all = ans ? json_loads(ans, 0, NULL) : NULL;
	size_t n = json_array_size(all);

	free(ans);
	json_decref(all);
	return n;
}

/* The txnId of usher's last send attempt; copied into `out`. */
static void
last_txn(struct fixture *fx, char *out, size_t size)
{
	json_t *st = fake_state(fx), *att = json_object_get(st, "send_attempts");

	snprintf(out, size, "%s",
	         json_string_value(
	             json_object_get(json_array_get(att, json_array_size(att) - 1), "txn")));
	json_decref(st);
}

/* The content of the last event usher sent (a new reference). */
static json_t *
last_sent(struct fixture *fx)
{
	char *ans = fake_control(&fx->fake, "GET", "/__fake/matrix/sent", NULL);
	json_t *all = ans ? json_loads(ans, 0, NULL) : NULL;
	json_t *c;

	free(ans);
	assert_non_null(all);
	assert_true(json_array_size(all) > 0);
	c = json_incref(json_object_get(json_array_get(all, json_array_size(all) - 1), "content"));
	json_decref(all);
	return c;
}

static void
test_send_reply_mention_escaped(void **state)
{
	struct fixture *fx = *state;
	struct result r = {0};
	struct chat_out out = {.text = "Alice: <b>Dune</b> & co",
	                       .reply_to = "$q:localhost",
	                       .mention = "@alice:localhost"};
	json_t *c;

	assert_int_equal(gateway_send(fx->gw, ROOM, &out, on_done, &r), 0);
	assert_false(r.done); /* never from inside the call */
	wait_done(fx, &r);
	assert_int_equal(r.status, 0);
	assert_true(r.msg_id[0] == '$');
	c = last_sent(fx);
	assert_string_equal(json_string_value(json_object_get(c, "msgtype")), "m.text");
	assert_string_equal(json_string_value(json_object_get(c, "body")),
	                    "Alice: <b>Dune</b> & co");
	assert_string_equal(json_string_value(json_object_get(c, "formatted_body")),
	                    "<a href=\"https://matrix.to/#/@alice:localhost\">Alice</a>: "
	                    "&lt;b&gt;Dune&lt;/b&gt; &amp; co");
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(json_object_get(c, "m.mentions"), "user_ids"), 0)),
	                    "@alice:localhost");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(c, "m.relates_to"), "m.in_reply_to"), "event_id")),
	    "$q:localhost");
	json_decref(c);
}

static void
test_ping_word_becomes_the_pill(void **state)
{
	struct fixture *fx = *state;
	struct result r = {0};
	struct chat_out out = {.text = "@alice Dune (2021) is ready to watch.",
	                       .mention = "@alice:localhost",
	                       .key = "track-1-ready-alice"};
	json_t *c;

	assert_int_equal(gateway_send(fx->gw, ROOM, &out, on_done, &r), 0);
	wait_done(fx, &r);
	assert_int_equal(r.status, 0);
	c = last_sent(fx);
	assert_string_equal(json_string_value(json_object_get(c, "body")),
	                    "Alice: Dune (2021) is ready to watch.");
	assert_string_equal(
	    json_string_value(json_object_get(c, "formatted_body")),
	    "<a href=\"https://matrix.to/#/@alice:localhost\">Alice</a>: Dune (2021) "
	    "is ready to watch.");
	json_decref(c);
}

static void
test_edit_replaces_original(void **state)
{
	struct fixture *fx = *state;
	struct result first = {0}, edit = {0};
	struct chat_out a = {.text = "Dune: 10%"}, b = {.text = "Dune: 45%"};
	json_t *c, *nc, *rel;

	assert_int_equal(gateway_send(fx->gw, ROOM, &a, on_done, &first), 0);
	wait_done(fx, &first);
	assert_int_equal(first.status, 0);
	assert_int_equal(gateway_edit(fx->gw, ROOM, first.msg_id, &b, on_done, &edit), 0);
	wait_done(fx, &edit);
	assert_int_equal(edit.status, 0);
	assert_string_not_equal(edit.msg_id, first.msg_id);
	c = last_sent(fx);
	nc = json_object_get(c, "m.new_content");
	rel = json_object_get(c, "m.relates_to");
	assert_string_equal(json_string_value(json_object_get(c, "body")), "* Dune: 45%");
	assert_string_equal(json_string_value(json_object_get(nc, "body")), "Dune: 45%");
	assert_string_equal(json_string_value(json_object_get(nc, "msgtype")), "m.notice");
	assert_string_equal(json_string_value(json_object_get(rel, "rel_type")), "m.replace");
	assert_string_equal(json_string_value(json_object_get(rel, "event_id")), first.msg_id);
	assert_null(json_object_get(rel, "m.in_reply_to"));
	json_decref(c);
}

static void
test_send_to_room_usher_is_not_in_fails(void **state)
{
	struct fixture *fx = *state;
	struct result r = {0};
	struct chat_out out = {.text = "hello"};

	assert_int_equal(gateway_send(fx->gw, "!nowhere:localhost", &out, on_done, &r), 0);
	wait_done(fx, &r);
	assert_int_equal(r.status, -1);
	assert_non_null(strstr(r.error, "M_FORBIDDEN"));
	assert_int_equal(gateway_send(fx->gw, "not-a-room", &out, on_done, &r), -1);
}

static void
test_typing_then_receipt(void **state)
{
	struct fixture *fx = *state;
	char *ans = fake_control(&fx->fake, "POST", "/__fake/matrix/message",
	                         "{\"room_id\": \"" ROOM "\", \"sender\": \"@alice:localhost\", "
	                         "\"body\": \"get dune\"}");
	json_t *msg = ans ? json_loads(ans, 0, NULL) : NULL, *st, *t0, *t1, *rc;
	const char *ev = json_string_value(json_object_get(msg, "event_id"));

	free(ans);
	assert_non_null(ev);
	gateway_seen(fx->gw, ROOM, ev);
	gateway_typing(fx->gw, ROOM, true);
	gateway_typing(fx->gw, ROOM, false); /* must not overtake the "on" */
	st = wait_state(fx, "typing", 2);
	t0 = json_array_get(json_object_get(st, "typing"), 0);
	t1 = json_array_get(json_object_get(st, "typing"), 1);
	assert_int_equal(json_array_size(json_object_get(st, "typing")), 2);
	assert_string_equal(json_string_value(json_object_get(t0, "room_id")), ROOM);
	assert_string_equal(json_string_value(json_object_get(t0, "user")), "@usher:localhost");
	assert_true(json_is_true(json_object_get(t0, "typing")));
	assert_int_equal(json_integer_value(json_object_get(t0, "timeout")), 30000);
	assert_true(json_is_false(json_object_get(t1, "typing")));
	json_decref(st);
	st = wait_state(fx, "receipts", 1);
	rc = json_array_get(json_object_get(st, "receipts"), 0);
	assert_non_null(rc);
	assert_string_equal(json_string_value(json_object_get(rc, "type")), "m.read");
	assert_string_equal(json_string_value(json_object_get(rc, "event_id")), ev);
	/* Nothing for rooms or events that are not Matrix ones. */
	gateway_typing(fx->gw, "not-a-room", true);
	gateway_seen(fx->gw, ROOM, NULL);
	json_decref(st);
	json_decref(msg);
}

static void
test_send_direct_opens_one_chat(void **state)
{
	struct fixture *fx = *state;
	struct result a = {0}, b = {0}, c = {0}, d = {0};
	struct chat_out one = {.text = "Dune is ready"}, two = {.text = "Alien is ready"};
	json_t *st, *created, *sent;
	char room[128];
	char *ans;

	/* Alice shares a two-member room with usher: that is her direct chat. */
	assert_int_equal(gateway_send_direct(fx->gw, "@alice:localhost", &one, on_done, &a), 0);
	wait_done(fx, &a);
	assert_int_equal(a.status, 0);
	/* Bob has none: one chat is opened for both messages. */
	assert_int_equal(gateway_send_direct(fx->gw, "@bob:localhost", &one, on_done, &b), 0);
	assert_int_equal(gateway_send_direct(fx->gw, "@bob:localhost", &two, on_done, &c), 0);
	assert_false(b.done);
	wait_done(fx, &b);
	wait_done(fx, &c);
	assert_int_equal(b.status, 0);
	assert_int_equal(c.status, 0);
	st = fake_state(fx);
	created = json_object_get(st, "created");
	assert_int_equal(json_array_size(created), 1);
	assert_non_null(json_string_value(json_object_get(json_array_get(created, 0), "room_id")));
	snprintf(room, sizeof(room), "%s",
	         json_string_value(json_object_get(json_array_get(created, 0), "room_id")));
	assert_true(json_is_true(
	    json_object_get(json_object_get(json_array_get(created, 0), "request"), "is_direct")));
	assert_string_equal(json_string_value(json_object_get(
	                        json_object_get(json_array_get(created, 0), "request"), "preset")),
	                    "trusted_private_chat");
	ans = fake_control(&fx->fake, "GET", "/__fake/matrix/sent", NULL);
	sent = json_loads(ans, 0, NULL);
	free(ans);
	assert_int_equal(json_array_size(sent), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 0), "room_id")),
	                    ROOM);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 1), "room_id")),
	                    room);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 2), "room_id")),
	                    room);
	json_decref(sent);
	/* After a restart the same chat is used again. */
	restart(fx);
	assert_int_equal(gateway_send_direct(fx->gw, "@bob:localhost", &two, on_done, &d), 0);
	wait_done(fx, &d);
	assert_int_equal(d.status, 0);
	json_decref(st);
	st = fake_state(fx);
	assert_int_equal(json_array_size(json_object_get(st, "created")), 1);
	assert_int_equal(sent_count(fx), 4);
	assert_int_equal(gateway_send_direct(fx->gw, "alice", &one, on_done, &d), -1);
	json_decref(st);
}

static void
test_txn_from_key_survives_restart(void **state)
{
	struct fixture *fx = *state;
	struct result a = {0}, b = {0}, c = {0}, d = {0};
	struct chat_out owed = {.text = "Requested Dune (2021) for you.", .key = "req-7-reply"};
	struct chat_out plain = {.text = "hello"};
	char t1[128], t2[128], k1[128], k2[128];

	assert_int_equal(gateway_send(fx->gw, ROOM, &plain, on_done, &a), 0);
	wait_done(fx, &a);
	last_txn(fx, t1, sizeof(t1));
	assert_int_equal(gateway_send(fx->gw, ROOM, &owed, on_done, &b), 0);
	wait_done(fx, &b);
	assert_int_equal(b.status, 0);
	last_txn(fx, k1, sizeof(k1));
	assert_int_equal(sent_count(fx), 2);

	restart(fx);
	/* The owed reply said again after a restart: the same transaction, so
	 * the homeserver answers with the first event and posts nothing. */
	assert_int_equal(gateway_send(fx->gw, ROOM, &owed, on_done, &c), 0);
	wait_done(fx, &c);
	assert_int_equal(c.status, 0);
	last_txn(fx, k2, sizeof(k2));
	assert_string_equal(k1, k2);
	assert_string_equal(c.msg_id, b.msg_id);
	assert_int_equal(sent_count(fx), 2);
	/* Without a key, a restart never reuses a txnId. */
	assert_int_equal(gateway_send(fx->gw, ROOM, &plain, on_done, &d), 0);
	wait_done(fx, &d);
	last_txn(fx, t2, sizeof(t2));
	assert_string_not_equal(t1, t2);
	assert_string_not_equal(d.msg_id, a.msg_id);
	assert_int_equal(sent_count(fx), 3);
}

static void
test_unsettled_send_is_made_again_after_restart(void **state)
{
	struct fixture *fx = *state;
	struct result r = {0};
	struct chat_out out = {.text = "Requested Dune (2021) for you."};
	char *ans = fake_control(&fx->fake, "POST", "/__fake/matrix/faults",
	                         "{\"send_slow\": 1, \"slow_ms\": 3000}");
	json_t *st, *att;

	free(ans);
	assert_int_equal(gateway_send(fx->gw, ROOM, &out, on_done, &r), 0);
	/* The homeserver has the event but usher stops before the answer. */
	for (unsigned long long end = fake_now_ms() + 5000;
	     sent_count(fx) < 1 && fake_now_ms() < end;)
		loop_run_once(fx->loop, 50);
	assert_int_equal(sent_count(fx), 1);
	restart(fx);
	assert_false(r.done); /* its caller is gone: nobody is called back */
	st = wait_state(fx, "send_attempts", 2);
	att = json_object_get(st, "send_attempts");
	assert_int_equal(json_array_size(att), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(att, 0), "txn")),
	                    json_string_value(json_object_get(json_array_get(att, 1), "txn")));
	json_decref(st);
	/* Answered with the first event: posted once; and settled, so a third
	 * run sends nothing. */
	for (unsigned long long end = fake_now_ms() + 500; fake_now_ms() < end;)
		loop_run_once(fx->loop, 50);
	assert_int_equal(sent_count(fx), 1);
	restart(fx);
	for (unsigned long long end = fake_now_ms() + 500; fake_now_ms() < end;)
		loop_run_once(fx->loop, 50);
	st = fake_state(fx);
	assert_int_equal(json_array_size(json_object_get(st, "send_attempts")), 2);
	json_decref(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_send_reply_mention_escaped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_word_becomes_the_pill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_replaces_original, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_to_room_usher_is_not_in_fails, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_typing_then_receipt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_direct_opens_one_chat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_txn_from_key_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsettled_send_is_made_again_after_restart, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

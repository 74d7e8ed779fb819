/*
 * The Matrix gateway's sends and edits against tests/fakes/fake_matrix.py:
 * the exact event content the homeserver receives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/loop.h"
#include "gateway/gateway.h"
#include "gateway/matrix.h"

#include "fake_server.h"

#define ROOM "!r:localhost"

struct fixture {
	struct fake fake;
	char conf[64];
	struct config *cfg;
	struct loop *loop;
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
	        "access_token = usher-token\n[person alice]\nmatrix = @alice:localhost\n",
	        fx->fake.port);
	fclose(f);
	fx->cfg = config_load(fx->conf, envp);
	fx->loop = loop_new();
	if (fx->cfg == NULL || !config_ok(fx->cfg) || fx->loop == NULL)
		return -1;
	fx->gw = gateway_new(&matrix_gateway_ops, fx->loop, fx->cfg, &host, err, sizeof(err));
	if (fx->gw == NULL || gateway_start(fx->gw) == -1)
		return -1;
	/* Let the first sync teach the gateway the room's members and names. */
	for (unsigned long long end = fake_now_ms() + 500; fake_now_ms() < end;)
		loop_run_once(fx->loop, 50);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	gateway_free(fx->gw);
	loop_free(fx->loop);
	config_free(fx->cfg);
	fake_stop(&fx->fake);
	unlink(fx->conf);
	free(fx);
	return 0;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_send_reply_mention_escaped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_replaces_original, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_to_room_usher_is_not_in_fails, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

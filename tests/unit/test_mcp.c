/*
 * mcp: line framing, JSON-RPC errors and the order of answers, driven
 * through mcp_feed() with a capturing writer (no process, no Seerr).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bot/people.h"
#include "core/loop.h"
#include "mcp/mcp.h"

#define MAX_OUT 16

struct capture {
	json_t *msgs[MAX_OUT];
	size_t n;
};

static int
capture_write(void *arg, const char *line, size_t len)
{
	struct capture *c = arg;

	assert_null(memchr(line, '\n', len)); /* one message, one line */
	assert_true(c->n < MAX_OUT);
	c->msgs[c->n] = json_loadb(line, len, 0, NULL);
	assert_non_null(c->msgs[c->n]);
	c->n++;
	return 0;
}

static void
capture_free(struct capture *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		json_decref(c->msgs[i]);
	c->n = 0;
}

static long
error_code(const json_t *msg)
{
	return (long)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
}

struct fixture {
	struct loop *loop;
	struct mcp *mcp;
	struct capture out;
	struct person person;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->loop = loop_new();
	f->person.name = "kid";
	f->person.role = ROLE_MEMBER;
	f->person.seerr_user = 3;
	/* No Seerr: every tool that gets past its checks says so. */
	f->mcp = mcp_new(f->loop, NULL, &f->person, capture_write, &f->out);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	mcp_free(f->mcp);
	loop_free(f->loop);
	capture_free(&f->out);
	free(f);
	return 0;
}

static void
feed(struct fixture *f, const char *s)
{
	mcp_feed(f->mcp, s, strlen(s));
}

static void
test_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	const char *msg = "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\"}\r\n";
	size_t i;

	for (i = 0; msg[i]; i++) {
		assert_int_equal(f->out.n, 0);
		mcp_feed(f->mcp, &msg[i], 1);
	}
	assert_int_equal(f->out.n, 1);
	assert_string_equal(json_string_value(json_object_get(f->out.msgs[0], "id")), "a");
	assert_true(json_is_object(json_object_get(f->out.msgs[0], "result")));
}

static void
test_two_in_one_chunk(void **state)
{
	struct fixture *f = *state;

	feed(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n\n"
	        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nope\"}\n{\"jsonrpc\"");
	assert_int_equal(f->out.n, 2);
	assert_int_equal(json_integer_value(json_object_get(f->out.msgs[0], "id")), 1);
	assert_int_equal(error_code(f->out.msgs[1]), -32601);
	feed(f, ":\"2.0\",\"id\":3,\"method\":\"ping\"}\n");
	assert_int_equal(f->out.n, 3);
	assert_int_equal(json_integer_value(json_object_get(f->out.msgs[2], "id")), 3);
}

/* Exactly MCP_LINE_MAX bytes is accepted; one more is refused once and the
 * rest of that line skipped, however it arrives. */
static void
test_line_cap(void **state)
{
	struct fixture *f = *state;
	const char *head = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}";
	char *line = malloc(MCP_LINE_MAX + 2);
	size_t i;

	memset(line, ' ', MCP_LINE_MAX + 1);
	memcpy(line, head, strlen(head));
	line[MCP_LINE_MAX - 1] = 'x'; /* trailing garbage: a parse error, not "too large" */
	line[MCP_LINE_MAX] = '\n';
	mcp_feed(f->mcp, line, MCP_LINE_MAX + 1);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(error_code(f->out.msgs[0]), -32700);

	line[MCP_LINE_MAX - 1] = ' ';
	line[MCP_LINE_MAX] = ' ';
	for (i = 0; i < MCP_LINE_MAX + 1; i += 4096)
		mcp_feed(f->mcp, line + i,
		         MCP_LINE_MAX + 1 - i < 4096 ? MCP_LINE_MAX + 1 - i : 4096);
	assert_int_equal(f->out.n, 2);
	assert_int_equal(error_code(f->out.msgs[1]), -32600);
	assert_true(json_is_null(json_object_get(f->out.msgs[1], "id")));
	mcp_feed(f->mcp, line, 1000); /* still the same line: skipped */
	feed(f, "}\n{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n");
	assert_int_equal(f->out.n, 3);
	assert_int_equal(json_integer_value(json_object_get(f->out.msgs[2], "id")), 6);
	free(line);
}

/* A refusal is a result with isError, and it arrives from the loop, never
 * from inside mcp_feed(). */
static void
test_tool_answers_from_the_loop(void **state)
{
	struct fixture *f = *state;
	json_t *r;
	int i;

	feed(f, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":"
	        "\"approve_request\",\"arguments\":{\"requestId\":4}}}\n");
	assert_int_equal(f->out.n, 0);
	assert_int_equal(mcp_pending(f->mcp), 1);
	for (i = 0; i < 10 && f->out.n == 0; i++)
		loop_run_once(f->loop, 0);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(mcp_pending(f->mcp), 0);
	r = json_object_get(f->out.msgs[0], "result");
	assert_true(json_is_true(json_object_get(r, "isError")));
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(r, "content"), 0), "text")),
	                    "only an admin can approve requests");
}

static void
test_cancelled_call_never_answers(void **state)
{
	struct fixture *f = *state;
	int i;

	feed(f, "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\",\"params\":{\"name\":"
	        "\"decline_request\",\"arguments\":{\"requestId\":4}}}\n"
	        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":"
	        "{\"requestId\":\"c\"}}\n");
	assert_int_equal(mcp_pending(f->mcp), 0);
	for (i = 0; i < 5; i++)
		loop_run_once(f->loop, 0);
	assert_int_equal(f->out.n, 0);
}

/* Freed with a call still waiting: nothing answers, nothing leaks (ASan). */
static void
test_free_with_pending(void **state)
{
	struct fixture *f = *state;

	feed(f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
	        "\"search_media\",\"arguments\":{\"query\":\"dune\"}}}\n");
	assert_int_equal(mcp_pending(f->mcp), 1);
	mcp_free(f->mcp);
	f->mcp = NULL;
	loop_run_once(f->loop, 0); /* the deferred record frees itself */
	assert_int_equal(f->out.n, 0);
}

static void
test_bad_arguments_are_rpc_errors(void **state)
{
	struct fixture *f = *state;

	feed(f,
	     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"request_media\",\"arguments\":{\"tmdbId\":841,\"type\":\"movie\",\"seasons\":[1]}"
	     "}}\n"
	     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"request_media\",\"arguments\":{\"tmdbId\":136315,\"type\":\"tv\",\"seasons\":[0]}"
	     "}}\n"
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"list_requests\",\"arguments\":{\"filter\":\"everything\"}}}\n"
	     "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"search_media\",\"arguments\":7}}\n");
	assert_int_equal(f->out.n, 4);
	assert_int_equal(error_code(f->out.msgs[0]), -32602);
	assert_int_equal(error_code(f->out.msgs[1]), -32602);
	assert_int_equal(error_code(f->out.msgs[2]), -32602);
	assert_int_equal(error_code(f->out.msgs[3]), -32602);
	assert_int_equal(mcp_pending(f->mcp), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_in_one_chunk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tool_answers_from_the_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancelled_call_never_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments_are_rpc_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

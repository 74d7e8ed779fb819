/* suggest: autocomplete titles from Seerr, the same prefix answered from
 * memory, a failure not remembered, a cancelled call never answered. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fake_server.h"

#include "bot/suggest.h"
#include "core/config.h"
#include "core/http.h"
#include "core/loop.h"
#include "services/seerr.h"

struct fx {
	struct fake fake;
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct seerr *seerr;
	struct suggest *suggest;
};

struct answer {
	int calls;
	size_t n;
	char first[128];
};

static void
got(void *arg, const char *const *titles, size_t n)
{
	struct answer *a = arg;

	a->calls++;
	a->n = n;
	snprintf(a->first, sizeof(a->first), "%s", n > 0 ? titles[0] : "");
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	char u[128];
	char *env[] = {u, "USHER_SEERR_API_KEY=test-seerr-key", NULL};

	if (x == NULL || fake_start_script(&x->fake, "fakes/fake_seerr.py", NULL) != 0)
		return -1;
	snprintf(u, sizeof(u), "USHER_SEERR_URL=http://127.0.0.1:%d", x->fake.port);
	x->loop = loop_new();
	x->http = http_new(x->loop);
	x->cfg = config_load(NULL, env);
	x->seerr = seerr_new(x->http, x->cfg);
	x->suggest = suggest_new(x->loop, x->seerr);
	*state = x;
	return x->seerr ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	suggest_free(x->suggest);
	seerr_free(x->seerr);
	http_free(x->http);
	loop_free(x->loop);
	config_free(x->cfg);
	fake_stop(&x->fake);
	free(x);
	return 0;
}

static void
wait_answer(struct fx *x, const struct answer *a, int want)
{
	unsigned long long deadline = fake_now_ms() + 5000;

	while (a->calls < want && fake_now_ms() < deadline)
		assert_true(loop_run_once(x->loop, 20) >= 0);
	assert_int_equal(a->calls, want);
}

/* How many searches reached the fake. */
static size_t
searches(struct fx *x)
{
	json_t *v = fake_requests(&x->fake), *r;
	size_t i, n = 0;

	assert_non_null(v);
	json_array_foreach(v, i, r)
	{
		const char *path = json_string_value(json_object_get(r, "path"));

		if (path && strncmp(path, "/api/v1/search", 14) == 0)
			n++;
	}
	json_decref(v);
	return n;
}

static void
test_same_prefix_answered_from_memory(void **state)
{
	struct fx *x = *state;
	struct answer a = {0}, b = {0};

	assert_non_null(suggest_start(x->suggest, "dune", got, &a));
	assert_int_equal(a.calls, 0); /* never from inside the call */
	wait_answer(x, &a, 1);
	assert_true(a.n > 0);
	assert_non_null(strstr(a.first, "Dune"));
	assert_int_equal(searches(x), 1);

	/* Typing the same again (other case, a trailing space) asks nobody. */
	assert_non_null(suggest_start(x->suggest, "Dune ", got, &b));
	assert_int_equal(b.calls, 0);
	wait_answer(x, &b, 1);
	assert_int_equal(b.n, a.n);
	assert_string_equal(b.first, a.first);
	assert_int_equal(searches(x), 1);
	assert_int_equal(suggest_cache_hits(x->suggest), 1);
}

static void
test_cancelled_never_answers(void **state)
{
	struct fx *x = *state;
	struct answer a = {0}, b = {0};
	struct suggest_call *c;
	unsigned long long until;

	c = suggest_start(x->suggest, "paddington", got, &a);
	assert_non_null(c);
	suggest_cancel(c);
	assert_non_null(suggest_start(x->suggest, "oppenheimer", got, &b));
	wait_answer(x, &b, 1);
	until = fake_now_ms() + 300;
	while (fake_now_ms() < until)
		assert_true(loop_run_once(x->loop, 20) >= 0);
	assert_int_equal(a.calls, 0);
	/* Too short to ask about. */
	assert_null(suggest_start(x->suggest, "d", got, &a));
}

static void
test_failure_not_remembered(void **state)
{
	struct fx *x = *state;
	struct answer a = {0}, b = {0};

	/* Seerr is gone: the answer is empty, and the next try asks again. */
	fake_stop(&x->fake);
	assert_non_null(suggest_start(x->suggest, "barbie", got, &a));
	wait_answer(x, &a, 1);
	assert_int_equal(a.n, 0);
	assert_non_null(suggest_start(x->suggest, "barbie", got, &b));
	wait_answer(x, &b, 1);
	assert_int_equal(suggest_cache_hits(x->suggest), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_same_prefix_answered_from_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancelled_never_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_not_remembered, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

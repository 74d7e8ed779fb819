#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/loop.h"

/* A clock the test moves by hand. */
struct fake_clock {
	uint64_t now;
};

static uint64_t
fake_clock_read(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

struct recorder {
	int order[32];
	int n;
};

static void
record(struct recorder *r, int v)
{
	assert_true(r->n < 32);
	r->order[r->n++] = v;
}

struct tag {
	struct recorder *rec;
	int value;
};

static void
on_timer_record(struct loop *loop, loop_timer_id id, void *arg)
{
	struct tag *t = arg;

	(void)loop;
	(void)id;
	record(t->rec, t->value);
}

static int
setup_fake(void **state)
{
	static struct fake_clock clk;
	struct loop *loop = loop_new();

	assert_non_null(loop);
	clk.now = 1000;
	loop_set_clock(loop, fake_clock_read, &clk);
	*state = loop;
	return 0;
}

static int
teardown(void **state)
{
	loop_free(*state);
	return 0;
}

static void
test_timer_order(void **state)
{
	struct loop *loop = *state;
	struct fake_clock clk = {.now = 5000};
	struct recorder rec = {0};
	struct tag t[5];
	/* Delays chosen so two pairs share a due time. */
	uint64_t delays[5] = {30, 10, 20, 10, 30};
	int expect[5] = {1, 3, 2, 0, 4};

	loop_set_clock(loop, fake_clock_read, &clk);
	for (int i = 0; i < 5; i++) {
		t[i] = (struct tag){&rec, i};
		assert_int_not_equal(loop_add_timer(loop, delays[i], on_timer_record, &t[i]), 0);
	}
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(rec.n, 0);
	clk.now += 10;
	assert_int_equal(loop_run_once(loop, 0), 2);
	clk.now += 100;
	assert_int_equal(loop_run_once(loop, 0), 3);
	assert_int_equal(rec.n, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rec.order[i], expect[i]);
}

static void
test_timer_ids_and_cancel(void **state)
{
	struct loop *loop = *state;
	struct fake_clock clk = {.now = 0};
	struct recorder rec = {0};
	struct tag a = {&rec, 1}, b = {&rec, 2};
	loop_timer_id ia, ib;

	loop_set_clock(loop, fake_clock_read, &clk);
	ia = loop_add_timer(loop, 5, on_timer_record, &a);
	ib = loop_add_timer(loop, 5, on_timer_record, &b);
	assert_true(ib > ia);
	assert_true(loop_cancel_timer(loop, ia));
	assert_false(loop_cancel_timer(loop, ia));
	assert_false(loop_cancel_timer(loop, 0));
	assert_false(loop_cancel_timer(loop, 987654));
	clk.now = 5;
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.order[0], 2);
	/* Fired: cancelling now reports "not pending". */
	assert_false(loop_cancel_timer(loop, ib));
	/* Ids keep increasing after cancel and fire. */
	assert_true(loop_add_timer(loop, 1, on_timer_record, &a) > ib);
}

static void
test_timer_many_cancel(void **state)
{
	struct loop *loop = *state;
	struct fake_clock clk = {.now = 0};
	struct recorder rec = {0};
	struct tag keep = {&rec, 7};
	loop_timer_id ids[500];
	int ran = 0;

	/* Enough timers to make the heap and the id table grow and shuffle;
	 * cancel all but every 50th, in an order unrelated to the heap's. */
	loop_set_clock(loop, fake_clock_read, &clk);
	for (int i = 0; i < 500; i++)
		ids[i] = loop_add_timer(loop, (uint64_t)((i * 37) % 101), on_timer_record, &keep);
	for (int j = 0; j < 500; j++) {
		int k = (j * 7) % 500; /* a permutation: 7 and 500 are coprime */
		if (k % 50 != 0)
			assert_true(loop_cancel_timer(loop, ids[k]));
	}
	clk.now = 1000;
	for (int i = 0; i < 5; i++) {
		int r = loop_run_once(loop, 0);
		assert_true(r >= 0);
		ran += r;
	}
	assert_int_equal(ran, 10);
	assert_int_equal(rec.n, 10);
	for (int i = 0; i < 500; i++)
		assert_false(loop_cancel_timer(loop, ids[i]));
}

struct cancel_ctx {
	loop_timer_id victim;
	bool cancelled;
	int victim_fired;
	int self_fired;
	loop_timer_id self;
	bool self_cancel_result;
};

static void
on_victim(struct loop *loop, loop_timer_id id, void *arg)
{
	(void)loop;
	(void)id;
	((struct cancel_ctx *)arg)->victim_fired++;
}

static void
on_canceller(struct loop *loop, loop_timer_id id, void *arg)
{
	struct cancel_ctx *c = arg;

	c->cancelled = loop_cancel_timer(loop, c->victim);
	c->self_fired++;
	/* The running timer is no longer pending. */
	c->self_cancel_result = loop_cancel_timer(loop, id);
}

static void
test_cancel_inside_timer_same_iteration(void **state)
{
	struct loop *loop = *state;
	struct fake_clock clk = {.now = 100};
	struct cancel_ctx c = {0};

	loop_set_clock(loop, fake_clock_read, &clk);
	c.self = loop_add_timer(loop, 10, on_canceller, &c);
	c.victim = loop_add_timer(loop, 10, on_victim, &c);
	clk.now = 200;
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_true(c.cancelled);
	assert_false(c.self_cancel_result);
	assert_int_equal(c.self_fired, 1);
	assert_int_equal(c.victim_fired, 0);
	clk.now = 300;
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(c.victim_fired, 0);
}

static void
on_rearm_zero(struct loop *loop, loop_timer_id id, void *arg)
{
	int *n = arg;

	(void)id;
	(*n)++;
	loop_add_timer(loop, 0, on_rearm_zero, arg);
}

static void
test_zero_timer_added_in_timer_waits(void **state)
{
	struct loop *loop = *state;
	int n = 0;

	loop_add_timer(loop, 0, on_rearm_zero, &n);
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(n, 1);
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(n, 2);
}

static void
test_injected_clock(void **state)
{
	struct loop *loop = *state;
	struct fake_clock clk = {.now = 42};
	struct recorder rec = {0};
	struct tag t = {&rec, 9};

	loop_set_clock(loop, fake_clock_read, &clk);
	assert_int_equal(loop_now_ms(loop), 42);
	loop_add_timer(loop, 1000, on_timer_record, &t);
	for (int i = 0; i < 10; i++) {
		clk.now += 99;
		assert_int_equal(loop_run_once(loop, 0), 0);
		assert_int_equal(loop_now_ms(loop), clk.now);
	}
	assert_int_equal(rec.n, 0);
	clk.now = 42 + 999;
	assert_int_equal(loop_run_once(loop, 0), 0);
	clk.now = 42 + 1000;
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(rec.n, 1);
}

static void
test_real_clock_timer_sleeps(void **state)
{
	struct loop *loop = loop_new();
	struct recorder rec = {0};
	struct tag t = {&rec, 1};
	uint64_t start;

	(void)state;
	assert_non_null(loop);
	start = loop_now_ms(loop);
	loop_add_timer(loop, 30, on_timer_record, &t);
	/* One blocking iteration must sleep until the timer is due. */
	for (int i = 0; i < 5 && rec.n == 0; i++)
		assert_true(loop_run_once(loop, 1000) >= 0);
	assert_int_equal(rec.n, 1);
	assert_true(loop_now_ms(loop) - start >= 30);
	assert_true(loop_now_ms(loop) - start < 1000);
	loop_free(loop);
}

/* Deferred calls */

struct defer_ctx {
	struct recorder rec;
	int chained;
};

static void on_defer_chain(struct loop *loop, void *arg);

static void
on_defer_record(struct loop *loop, void *arg)
{
	struct tag *t = arg;

	(void)loop;
	record(t->rec, t->value);
}

static void
on_defer_chain(struct loop *loop, void *arg)
{
	struct defer_ctx *d = arg;

	record(&d->rec, 100 + d->chained);
	if (++d->chained < 3)
		assert_int_equal(loop_defer(loop, on_defer_chain, d), 0);
}

static void
test_defer_order_and_chain(void **state)
{
	struct loop *loop = *state;
	struct defer_ctx d = {0};
	struct tag a = {&d.rec, 1}, b = {&d.rec, 2};

	assert_int_equal(loop_defer(loop, on_defer_record, &a), 0);
	assert_int_equal(loop_defer(loop, on_defer_chain, &d), 0);
	assert_int_equal(loop_defer(loop, on_defer_record, &b), 0);
	assert_int_equal(loop_run_once(loop, 0), 3);
	assert_int_equal(d.rec.n, 3);
	assert_int_equal(d.rec.order[0], 1);
	assert_int_equal(d.rec.order[1], 100);
	assert_int_equal(d.rec.order[2], 2);
	/* Deferred from a deferred call: one per iteration, not all at once. */
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(d.rec.order[3], 101);
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(d.rec.order[4], 102);
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(d.rec.n, 5);
}

static void
on_hook_defer(struct loop *loop, void *arg)
{
	struct tag *t = arg;

	if (t->rec->n == 0 && t->value == 1) {
		t->value = 2;
		loop_defer(loop, on_defer_record, t);
	}
}

static void
test_defer_does_not_block(void **state)
{
	struct loop *loop = loop_new();
	struct recorder rec = {0};
	struct tag a = {&rec, 1};
	uint64_t start;

	(void)state;
	/* A call deferred just before the sleep (here by a hook) makes
	 * poll() return at once despite a long max wait. */
	start = loop_now_ms(loop);
	loop_add_hook(loop, on_hook_defer, &a);
	assert_int_equal(loop_run_once(loop, 5000), 0);
	assert_true(loop_now_ms(loop) - start < 1000);
	assert_int_equal(rec.n, 0);
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(rec.n, 1);
	loop_free(loop);
}

/* Hooks */

struct hook_ctx {
	struct recorder *rec;
	int value;
	loop_hook_id id;
	int runs;
	int remove_after;
};

static void
on_hook(struct loop *loop, void *arg)
{
	struct hook_ctx *h = arg;

	record(h->rec, h->value);
	if (++h->runs == h->remove_after)
		loop_remove_hook(loop, h->id);
}

static void
test_hooks(void **state)
{
	struct loop *loop = *state;
	struct recorder rec = {0};
	struct hook_ctx h1 = {&rec, 1, 0, 0, 1}, h2 = {&rec, 2, 0, 0, 0};
	struct tag d = {&rec, 50};

	h1.id = loop_add_hook(loop, on_hook, &h1);
	h2.id = loop_add_hook(loop, on_hook, &h2);
	assert_int_not_equal(h1.id, 0);
	assert_int_not_equal(h2.id, h1.id);
	loop_defer(loop, on_defer_record, &d);
	loop_run_once(loop, 0);
	/* Deferred calls first, then hooks just before the sleep. */
	assert_int_equal(rec.n, 3);
	assert_int_equal(rec.order[0], 50);
	assert_int_equal(rec.order[1], 1);
	assert_int_equal(rec.order[2], 2);
	loop_run_once(loop, 0);
	/* h1 removed itself. */
	assert_int_equal(rec.n, 4);
	assert_int_equal(rec.order[3], 2);
	loop_remove_hook(loop, h2.id);
	loop_remove_hook(loop, h2.id);
	loop_run_once(loop, 0);
	assert_int_equal(rec.n, 4);
}

/* File descriptors */

struct pipe_ctx {
	int fds[2][2];
	int calls[2];
	int events;
	bool unwatch_self;
	bool unwatch_other;
};

static void
on_pipe(struct loop *loop, int fd, int events, void *arg)
{
	struct pipe_ctx *p = arg;
	int which = fd == p->fds[0][0] ? 0 : 1;
	char c;

	p->calls[which]++;
	p->events = events;
	assert_int_equal(read(fd, &c, 1), 1);
	if (p->unwatch_self)
		loop_unwatch_fd(loop, fd);
	if (p->unwatch_other)
		loop_unwatch_fd(loop, p->fds[1 - which][0]);
}

static void
open_pipes(struct pipe_ctx *p)
{
	for (int i = 0; i < 2; i++)
		assert_int_equal(pipe(p->fds[i]), 0);
}

static void
close_pipes(struct pipe_ctx *p)
{
	for (int i = 0; i < 2; i++) {
		close(p->fds[i][0]);
		close(p->fds[i][1]);
	}
}

static void
test_pipe_readable(void **state)
{
	struct loop *loop = *state;
	struct pipe_ctx p = {0};

	open_pipes(&p);
	assert_int_equal(loop_watch_fd(loop, p.fds[0][0], LOOP_READ, on_pipe, &p), 0);
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(write(p.fds[0][1], "x", 1), 1);
	assert_int_equal(loop_run_once(loop, 1000), 1);
	assert_int_equal(p.calls[0], 1);
	assert_int_equal(p.events, LOOP_READ);
	assert_int_equal(loop_run_once(loop, 0), 0);
	/* Watching only for writes: a readable pipe is not reported. */
	assert_int_equal(loop_watch_fd(loop, p.fds[0][0], LOOP_WRITE, on_pipe, &p), 0);
	assert_int_equal(write(p.fds[0][1], "x", 1), 1);
	assert_int_equal(loop_run_once(loop, 0), 0);
	loop_unwatch_fd(loop, p.fds[0][0]);
	loop_unwatch_fd(loop, p.fds[0][0]);
	loop_unwatch_fd(loop, 12345);
	close_pipes(&p);
}

static void
test_unwatch_self_in_callback(void **state)
{
	struct loop *loop = *state;
	struct pipe_ctx p = {.unwatch_self = true};

	open_pipes(&p);
	loop_watch_fd(loop, p.fds[0][0], LOOP_READ, on_pipe, &p);
	assert_int_equal(write(p.fds[0][1], "xx", 2), 2);
	assert_int_equal(loop_run_once(loop, 1000), 1);
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(p.calls[0], 1);
	close_pipes(&p);
}

static void
test_unwatch_other_in_same_round(void **state)
{
	struct loop *loop = *state;
	struct pipe_ctx p = {.unwatch_other = true};

	open_pipes(&p);
	loop_watch_fd(loop, p.fds[0][0], LOOP_READ, on_pipe, &p);
	loop_watch_fd(loop, p.fds[1][0], LOOP_READ, on_pipe, &p);
	/* Both readable in the same poll round; whichever runs first
	 * unwatches the other, which then must not be called. */
	assert_int_equal(write(p.fds[0][1], "xx", 2), 2);
	assert_int_equal(write(p.fds[1][1], "xx", 2), 2);
	assert_int_equal(loop_run_once(loop, 1000), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 1);
	/* The survivor still works. */
	p.unwatch_other = false;
	assert_int_equal(loop_run_once(loop, 0), 1);
	assert_int_equal(p.calls[0] + p.calls[1], 2);
	assert_true(p.calls[0] == 0 || p.calls[1] == 0);
	close_pipes(&p);
}

static void
on_hangup(struct loop *loop, int fd, int events, void *arg)
{
	(void)loop;
	(void)fd;
	*(int *)arg = events;
}

static void
test_hangup_reported(void **state)
{
	struct loop *loop = *state;
	int fds[2], events = 0;

	assert_int_equal(pipe(fds), 0);
	loop_watch_fd(loop, fds[0], LOOP_READ, on_hangup, &events);
	close(fds[1]);
	assert_int_equal(loop_run_once(loop, 1000), 1);
	assert_true(events & LOOP_ERROR);
	assert_true(events & LOOP_READ);
	loop_unwatch_fd(loop, fds[0]);
	close(fds[0]);
}

/* Signals and stop */

struct sig_ctx {
	int signo;
	int calls;
};

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct sig_ctx *s = arg;

	s->signo = signo;
	s->calls++;
	loop_stop(loop);
}

static void
test_signal_hup(void **state)
{
	struct loop *loop = loop_new();
	struct sig_ctx s = {0};
	sigset_t now;

	(void)state;
	assert_int_equal(loop_handle_signals(loop, on_signal, &s), 0);
	assert_int_equal(raise(SIGHUP), 0);
	for (int i = 0; i < 10 && s.calls == 0; i++)
		assert_true(loop_run_once(loop, 100) >= 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.signo, SIGHUP);
	assert_true(loop_stopping(loop));
	loop_free(loop);
	/* The mask is restored. */
	sigprocmask(SIG_SETMASK, NULL, &now);
	assert_false(sigismember(&now, SIGHUP));
	assert_false(sigismember(&now, SIGTERM));
}

static void
on_stop_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
	loop_stop(loop);
}

static void
on_count_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	(void)loop;
	(void)id;
	(*(int *)arg)++;
}

static void
test_loop_stop(void **state)
{
	struct loop *loop = loop_new();
	int stops = 0, later = 0;

	(void)state;
	loop_add_timer(loop, 5, on_stop_timer, &stops);
	loop_add_timer(loop, 10000, on_count_timer, &later);
	assert_false(loop_stopping(loop));
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(stops, 1);
	assert_int_equal(later, 0);
	assert_true(loop_stopping(loop));
	loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_timer_order, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_ids_and_cancel, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_many_cancel, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_inside_timer_same_iteration, setup_fake,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_zero_timer_added_in_timer_waits, setup_fake,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_injected_clock, setup_fake, teardown),
	    cmocka_unit_test(test_real_clock_timer_sleeps),
	    cmocka_unit_test_setup_teardown(test_defer_order_and_chain, setup_fake, teardown),
	    cmocka_unit_test(test_defer_does_not_block),
	    cmocka_unit_test_setup_teardown(test_hooks, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_pipe_readable, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_unwatch_self_in_callback, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_unwatch_other_in_same_round, setup_fake, teardown),
	    cmocka_unit_test_setup_teardown(test_hangup_reported, setup_fake, teardown),
	    cmocka_unit_test(test_signal_hup),
	    cmocka_unit_test(test_loop_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

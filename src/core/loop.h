/*
 * loop: usher's one event loop.
 *
 * A poll() loop in the manner of Redis's ae.c: file descriptor watchers, a
 * timer heap whose ids are never reused (so cancelling a timer that already
 * fired is harmless), a queue of deferred calls, before-sleep hooks and the
 * process signals (SIGINT/SIGTERM/SIGHUP) through signalfd. Everything in
 * usher runs on the thread that calls loop_run(); nothing here starts a
 * thread. The loop owns its watcher, timer, deferred-call and hook records;
 * it never owns the `arg` pointers handed to it.
 *
 * Removing a watcher, cancelling a timer or removing a hook from inside any
 * callback is safe, including removing the one currently running.
 */
#ifndef USHER_LOOP_H
#define USHER_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

enum loop_events {
	LOOP_READ = 1 << 0,
	LOOP_WRITE = 1 << 1,
	/* Reported only: hang-up or error on the descriptor. */
	LOOP_ERROR = 1 << 2,
};

typedef uint64_t loop_timer_id; /* 0 is never a valid id */
typedef uint64_t loop_hook_id;  /* 0 is never a valid id */

typedef void loop_fd_cb(struct loop *loop, int fd, int events, void *arg);
typedef void loop_timer_cb(struct loop *loop, loop_timer_id id, void *arg);
typedef void loop_defer_cb(struct loop *loop, void *arg);
typedef void loop_hook_cb(struct loop *loop, void *arg);
typedef void loop_signal_cb(struct loop *loop, int signo, void *arg);
/* Monotonic milliseconds; injectable so tests can move time by hand. */
typedef uint64_t loop_clock_fn(void *arg);

/* Returns a new loop the caller frees with loop_free(), or NULL on
 * out-of-memory. */
struct loop *loop_new(void);
/* Frees the loop and every record it holds; runs no callback. Restores the
 * signal mask if loop_handle_signals() changed it. */
void loop_free(struct loop *loop);

/* Replaces the clock (default: CLOCK_MONOTONIC). `arg` is borrowed. */
void loop_set_clock(struct loop *loop, loop_clock_fn *clock, void *arg);
/* The loop's current time in ms, read once per iteration and after sleep. */
uint64_t loop_now_ms(struct loop *loop);

/* Watches `fd` for `events` (LOOP_READ | LOOP_WRITE); calling it again for
 * the same fd replaces events, callback and arg. Returns 0 or -1 (errno). */
int loop_watch_fd(struct loop *loop, int fd, int events, loop_fd_cb *cb, void *arg);
/* Stops watching `fd`; unknown fds are ignored. */
void loop_unwatch_fd(struct loop *loop, int fd);

/* Calls `cb` once after `delay_ms`. Timers due at the same time fire in the
 * order they were added. Returns the id, or 0 on out-of-memory. */
loop_timer_id loop_add_timer(struct loop *loop, uint64_t delay_ms, loop_timer_cb *cb, void *arg);
/* Cancels a pending timer. Returns true if it was pending; false if it had
 * fired, was cancelled already, or never existed. */
bool loop_cancel_timer(struct loop *loop, loop_timer_id id);

/* Calls `cb` on the next iteration, before fd and timer dispatch, in the
 * order deferred. Used so async calls never call back from inside the call
 * that started them. Returns 0 or -1 on out-of-memory. */
int loop_defer(struct loop *loop, loop_defer_cb *cb, void *arg);

/* Calls `cb` every iteration just before the loop sleeps in poll(). */
loop_hook_id loop_add_hook(struct loop *loop, loop_hook_cb *cb, void *arg);
void loop_remove_hook(struct loop *loop, loop_hook_id id);

/* Blocks SIGINT, SIGTERM and SIGHUP and delivers them through a signalfd to
 * `cb` on the loop. Returns 0 or -1 (errno). */
int loop_handle_signals(struct loop *loop, loop_signal_cb *cb, void *arg);

/* One iteration: deferred calls, then poll() for at most `max_wait_ms`
 * (-1: until the next timer or event; 0: do not block), then fd events,
 * then due timers. Returns the number of callbacks run, or -1 if poll()
 * failed for a reason other than EINTR. */
int loop_run_once(struct loop *loop, int max_wait_ms);
/* Iterates until loop_stop(). Returns 0, or -1 on a poll() failure. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);
bool loop_stopping(const struct loop *loop);

#endif

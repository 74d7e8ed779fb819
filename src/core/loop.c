#include "core/loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/*
 * Watchers live in a dense array (what poll() wants) with an fd-indexed map
 * into it. Each watch gets a generation number that survives a change of
 * events but not an unwatch, and each pollfd remembers the generation it
 * was built for: an event for a descriptor that was unwatched (and perhaps
 * watched again, as a new socket with the same number) by an earlier
 * callback in the same round is simply dropped.
 */
struct watcher {
	int fd;
	int events;
	loop_fd_cb *cb;
	void *arg;
	uint64_t gen;
};

/*
 * Timers are records in a binary min-heap ordered by (due, id); ids come
 * from one counter, so equal due times keep insertion order. An open
 * addressing table (linear probing, backward-shift deletion) maps an id to
 * its record so cancelling is O(log n) and knows whether the id is pending.
 */
struct timer {
	uint64_t due;
	loop_timer_id id;
	loop_timer_cb *cb;
	void *arg;
	size_t heap_idx;
};

struct deferred {
	loop_defer_cb *cb;
	void *arg;
};

struct hook {
	loop_hook_id id;
	loop_hook_cb *cb;
	void *arg;
	bool removed;
};

struct loop {
	loop_clock_fn *clock;
	void *clock_arg;
	uint64_t now;
	bool stop;

	struct watcher *watchers;
	size_t nwatchers, capwatchers;
	size_t *fdmap; /* fd -> index + 1 in watchers; 0: not watched */
	size_t capfdmap;
	uint64_t next_gen;
	struct pollfd *pfds;
	uint64_t *pfd_gens;
	size_t cappfds, capgens;

	struct timer **heap;
	size_t ntimers, capheap;
	struct timer **table; /* capacity is a power of two, at most half full */
	size_t captable;
	loop_timer_id next_timer_id;

	/* Two queues swapped each iteration, so calls deferred while the
	 * queue runs wait for the next iteration. */
	struct deferred *defers, *running;
	size_t ndefers, capdefers, caprunning;

	struct hook *hooks;
	size_t nhooks, caphooks;
	loop_hook_id next_hook_id;
	bool in_hooks;

	int sigfd;
	sigset_t old_mask;
	loop_signal_cb *sig_cb;
	void *sig_arg;
};

static uint64_t
loop_monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns `p` grown to hold `need` elements of `size` bytes (updating *cap),
 * `p` itself when it is big enough, or NULL on out-of-memory with `p` and
 * *cap untouched. */
static void *
loop_grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 8;
	void *n;

	if (need <= *cap && p != NULL)
		return p;
	while (ncap < need)
		ncap *= 2;
	if ((n = realloc(p, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return n;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->clock = loop_monotonic_ms;
	l->now = l->clock(NULL);
	l->next_gen = 1;
	l->next_timer_id = 1;
	l->next_hook_id = 1;
	l->sigfd = -1;
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sigfd != -1) {
		close(l->sigfd);
		sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
	}
	for (size_t i = 0; i < l->ntimers; i++)
		free(l->heap[i]);
	free(l->heap);
	free(l->table);
	free(l->watchers);
	free(l->fdmap);
	free(l->pfds);
	free(l->pfd_gens);
	free(l->defers);
	free(l->running);
	free(l->hooks);
	free(l);
}

void
loop_set_clock(struct loop *l, loop_clock_fn *clock, void *arg)
{
	l->clock = clock ? clock : loop_monotonic_ms;
	l->clock_arg = clock ? arg : NULL;
	l->now = l->clock(l->clock_arg);
}

uint64_t
loop_now_ms(struct loop *l)
{
	return l->now;
}

/* File descriptor watchers */

static struct watcher *
loop_find_watcher(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->capfdmap || l->fdmap[fd] == 0)
		return NULL;
	return &l->watchers[l->fdmap[fd] - 1];
}

int
loop_watch_fd(struct loop *l, int fd, int events, loop_fd_cb *cb, void *arg)
{
	struct watcher *w;
	void *p;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((w = loop_find_watcher(l, fd)) == NULL) {
		if ((size_t)fd >= l->capfdmap) {
			size_t old = l->capfdmap;
			if ((p = loop_grow(l->fdmap, &l->capfdmap, (size_t)fd + 1,
			                   sizeof(*l->fdmap))) == NULL)
				goto nomem;
			l->fdmap = p;
			memset(l->fdmap + old, 0, (l->capfdmap - old) * sizeof(*l->fdmap));
		}
		if ((p = loop_grow(l->watchers, &l->capwatchers, l->nwatchers + 1,
		                   sizeof(*l->watchers))) == NULL)
			goto nomem;
		l->watchers = p;
		w = &l->watchers[l->nwatchers++];
		l->fdmap[fd] = l->nwatchers;
		w->fd = fd;
		w->gen = l->next_gen++;
	}
	w->events = events & (LOOP_READ | LOOP_WRITE);
	w->cb = cb;
	w->arg = arg;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

void
loop_unwatch_fd(struct loop *l, int fd)
{
	struct watcher *w = loop_find_watcher(l, fd);
	size_t idx;

	if (w == NULL)
		return;
	idx = l->fdmap[fd] - 1;
	l->fdmap[fd] = 0;
	if (idx != l->nwatchers - 1) {
		l->watchers[idx] = l->watchers[l->nwatchers - 1];
		l->fdmap[l->watchers[idx].fd] = idx + 1;
	}
	l->nwatchers--;
}

/* Timers */

static bool
timer_before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void
heap_set(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->heap_idx = i;
}

static void
heap_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!timer_before(t, l->heap[parent]))
			break;
		heap_set(l, i, l->heap[parent]);
		i = parent;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= l->ntimers)
			break;
		if (child + 1 < l->ntimers && timer_before(l->heap[child + 1], l->heap[child]))
			child++;
		if (!timer_before(l->heap[child], t))
			break;
		heap_set(l, i, l->heap[child]);
		i = child;
	}
	heap_set(l, i, t);
}

static void
heap_remove(struct loop *l, struct timer *t)
{
	size_t i = t->heap_idx;
	struct timer *last = l->heap[--l->ntimers];

	if (i == l->ntimers)
		return;
	heap_set(l, i, last);
	if (i > 0 && timer_before(last, l->heap[(i - 1) / 2]))
		heap_up(l, i);
	else
		heap_down(l, i);
}

static size_t
table_slot(loop_timer_id id, size_t cap)
{
	/* Fibonacci hashing: consecutive ids spread over the table. */
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
}

static struct timer **
table_lookup(struct loop *l, loop_timer_id id)
{
	if (l->captable == 0)
		return NULL;
	for (size_t i = table_slot(id, l->captable);; i = (i + 1) & (l->captable - 1)) {
		if (l->table[i] == NULL)
			return NULL;
		if (l->table[i]->id == id)
			return &l->table[i];
	}
}

static void
table_put(struct timer **table, size_t cap, struct timer *t)
{
	size_t i = table_slot(t->id, cap);

	while (table[i] != NULL)
		i = (i + 1) & (cap - 1);
	table[i] = t;
}

static int
table_reserve(struct loop *l, size_t count)
{
	struct timer **n;
	size_t cap = l->captable ? l->captable : 16;

	if (count * 2 <= l->captable)
		return 0;
	while (count * 2 > cap)
		cap *= 2;
	if ((n = calloc(cap, sizeof(*n))) == NULL)
		return -1;
	for (size_t i = 0; i < l->captable; i++)
		if (l->table[i] != NULL)
			table_put(n, cap, l->table[i]);
	free(l->table);
	l->table = n;
	l->captable = cap;
	return 0;
}

/* Backward-shift deletion keeps probe chains unbroken without tombstones. */
static void
table_delete(struct loop *l, struct timer **slot)
{
	size_t mask = l->captable - 1;
	size_t hole = (size_t)(slot - l->table);
	size_t i = hole;

	for (;;) {
		size_t home;
		i = (i + 1) & mask;
		if (l->table[i] == NULL)
			break;
		home = table_slot(l->table[i]->id, l->captable);
		/* Move the entry into the hole unless its home lies
		 * cyclically in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			l->table[hole] = l->table[i];
			hole = i;
		}
	}
	l->table[hole] = NULL;
}

loop_timer_id
loop_add_timer(struct loop *l, uint64_t delay_ms, loop_timer_cb *cb, void *arg)
{
	struct timer *t;
	void *p;

	if ((p = loop_grow(l->heap, &l->capheap, l->ntimers + 1, sizeof(*l->heap))) == NULL)
		return 0;
	l->heap = p;
	if (table_reserve(l, l->ntimers + 1) == -1 || (t = malloc(sizeof(*t))) == NULL)
		return 0;
	t->id = l->next_timer_id++;
	t->due = delay_ms > UINT64_MAX - l->now ? UINT64_MAX : l->now + delay_ms;
	t->cb = cb;
	t->arg = arg;
	heap_set(l, l->ntimers++, t);
	heap_up(l, t->heap_idx);
	table_put(l->table, l->captable, t);
	return t->id;
}

bool
loop_cancel_timer(struct loop *l, loop_timer_id id)
{
	struct timer **slot;
	struct timer *t;

	if (id == 0 || (slot = table_lookup(l, id)) == NULL)
		return false;
	t = *slot;
	table_delete(l, slot);
	heap_remove(l, t);
	free(t);
	return true;
}

/* Runs timers due by now. Timers added by these callbacks (ids from
 * `first_new` on) wait for the next iteration even when already due, so a
 * zero-delay timer that re-arms itself cannot hold the loop. */
static int
loop_run_timers(struct loop *l)
{
	loop_timer_id first_new = l->next_timer_id;
	int ran = 0;

	while (l->ntimers > 0 && l->heap[0]->due <= l->now && l->heap[0]->id < first_new) {
		struct timer *t = l->heap[0];
		loop_timer_cb *cb = t->cb;
		void *arg = t->arg;
		loop_timer_id id = t->id;

		/* Removed before the call, so cancelling it from its own
		 * callback is a harmless "not pending". */
		table_delete(l, table_lookup(l, id));
		heap_remove(l, t);
		free(t);
		cb(l, id, arg);
		ran++;
	}
	return ran;
}

/* Deferred calls and hooks */

int
loop_defer(struct loop *l, loop_defer_cb *cb, void *arg)
{
	void *p;

	if ((p = loop_grow(l->defers, &l->capdefers, l->ndefers + 1, sizeof(*l->defers))) == NULL)
		return -1;
	l->defers = p;
	l->defers[l->ndefers].cb = cb;
	l->defers[l->ndefers].arg = arg;
	l->ndefers++;
	return 0;
}

static int
loop_run_deferred(struct loop *l)
{
	struct deferred *run = l->defers;
	size_t n = l->ndefers, cap = l->capdefers;

	l->defers = l->running;
	l->capdefers = l->caprunning;
	l->ndefers = 0;
	l->running = run;
	l->caprunning = cap;
	for (size_t i = 0; i < n; i++)
		run[i].cb(l, run[i].arg);
	return (int)n;
}

loop_hook_id
loop_add_hook(struct loop *l, loop_hook_cb *cb, void *arg)
{
	struct hook *h;
	void *p;

	if ((p = loop_grow(l->hooks, &l->caphooks, l->nhooks + 1, sizeof(*l->hooks))) == NULL)
		return 0;
	l->hooks = p;
	h = &l->hooks[l->nhooks++];
	h->id = l->next_hook_id++;
	h->cb = cb;
	h->arg = arg;
	h->removed = false;
	return h->id;
}

static void
loop_sweep_hooks(struct loop *l)
{
	size_t j = 0;

	for (size_t i = 0; i < l->nhooks; i++)
		if (!l->hooks[i].removed)
			l->hooks[j++] = l->hooks[i];
	l->nhooks = j;
}

void
loop_remove_hook(struct loop *l, loop_hook_id id)
{
	for (size_t i = 0; i < l->nhooks; i++) {
		if (l->hooks[i].id == id && !l->hooks[i].removed) {
			l->hooks[i].removed = true;
			break;
		}
	}
	if (!l->in_hooks)
		loop_sweep_hooks(l);
}

/* Hooks added by a hook first run on the next iteration; the array may be
 * moved by such an add, hence the index and copies. */
static void
loop_run_hooks(struct loop *l)
{
	size_t n = l->nhooks;

	l->in_hooks = true;
	for (size_t i = 0; i < n; i++) {
		if (l->hooks[i].removed)
			continue;
		loop_hook_cb *cb = l->hooks[i].cb;
		void *arg = l->hooks[i].arg;
		cb(l, arg);
	}
	l->in_hooks = false;
	loop_sweep_hooks(l);
}

/* Signals */

static void
loop_on_signalfd(struct loop *l, int fd, int events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	/* One signal per wake-up keeps the callback count honest; the fd
	 * stays readable while more are queued. */
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si) && l->sig_cb != NULL)
		l->sig_cb(l, (int)si.ssi_signo, l->sig_arg);
}

int
loop_handle_signals(struct loop *l, loop_signal_cb *cb, void *arg)
{
	sigset_t set, old;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (l->sigfd != -1) {
		l->sig_cb = cb;
		l->sig_arg = arg;
		return 0;
	}
	if (sigprocmask(SIG_BLOCK, &set, &old) == -1)
		return -1;
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    loop_watch_fd(l, fd, LOOP_READ, loop_on_signalfd, NULL) == -1) {
		int saved = errno;
		if (fd != -1)
			close(fd);
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = saved;
		return -1;
	}
	l->sigfd = fd;
	l->old_mask = old;
	l->sig_cb = cb;
	l->sig_arg = arg;
	return 0;
}

/* The iteration */

static int
loop_poll_timeout(struct loop *l, int max_wait_ms)
{
	uint64_t wait;

	if (l->ndefers > 0 || max_wait_ms == 0)
		return 0;
	if (l->ntimers == 0)
		return max_wait_ms;
	wait = l->heap[0]->due > l->now ? l->heap[0]->due - l->now : 0;
	if (max_wait_ms > 0 && wait > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return wait > INT32_MAX ? INT32_MAX : (int)wait;
}

static int
loop_run_fds(struct loop *l, size_t n)
{
	int ran = 0;

	for (size_t i = 0; i < n; i++) {
		short re = l->pfds[i].revents;
		struct watcher *w;
		int events = 0;

		if (re == 0)
			continue;
		w = loop_find_watcher(l, l->pfds[i].fd);
		if (w == NULL || w->gen != l->pfd_gens[i])
			continue;
		if (re & POLLIN)
			events |= LOOP_READ;
		if (re & POLLOUT)
			events |= LOOP_WRITE;
		/* A hang-up is also "readable": read() then sees the end. */
		if (re & POLLHUP)
			events |= LOOP_ERROR | (w->events & LOOP_READ);
		if (re & (POLLERR | POLLNVAL))
			events |= LOOP_ERROR;
		events &= w->events | LOOP_ERROR;
		if (events == 0)
			continue;
		w->cb(l, w->fd, events, w->arg);
		ran++;
	}
	return ran;
}

/* Hooks are not counted in the result: they run every iteration, and the
 * count is how callers tell a busy iteration from an idle one. */
int
loop_run_once(struct loop *l, int max_wait_ms)
{
	int ran, rc, timeout;
	size_t n;
	void *p;

	l->now = l->clock(l->clock_arg);
	ran = loop_run_deferred(l);
	loop_run_hooks(l);

	n = l->nwatchers;
	if ((p = loop_grow(l->pfds, &l->cappfds, n, sizeof(*l->pfds))) == NULL)
		return -1;
	l->pfds = p;
	if ((p = loop_grow(l->pfd_gens, &l->capgens, n, sizeof(*l->pfd_gens))) == NULL)
		return -1;
	l->pfd_gens = p;
	for (size_t i = 0; i < n; i++) {
		struct watcher *w = &l->watchers[i];
		l->pfds[i].fd = w->fd;
		l->pfds[i].events = (short)(((w->events & LOOP_READ) ? POLLIN : 0) |
		                            ((w->events & LOOP_WRITE) ? POLLOUT : 0));
		l->pfds[i].revents = 0;
		l->pfd_gens[i] = w->gen;
	}

	timeout = loop_poll_timeout(l, max_wait_ms);
	rc = poll(l->pfds, (nfds_t)n, timeout);
	if (rc == -1 && errno != EINTR)
		return -1;
	l->now = l->clock(l->clock_arg);
	if (rc > 0)
		ran += loop_run_fds(l, n);
	ran += loop_run_timers(l);
	return ran;
}

int
loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (loop_run_once(l, -1) == -1)
			return -1;
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}

bool
loop_stopping(const struct loop *l)
{
	return l->stop;
}

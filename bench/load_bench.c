/*
 * load_bench: the bot under a family-sized crowd. A bench network (a
 * gateway_ops table defined here, named "matrix" so people are known by
 * their Matrix ids) hands the bot messages from N distinct people at a
 * steady rate from the loop's timers, and records the moment each reply
 * reaches its send(). Each person follows a script of what families say:
 * small talk and help (answered by the grammar alone), requests, a choice
 * among several matches, a season question, status, "my requests".
 *
 * Seerr is tests/fakes/fake_seerr.py on 127.0.0.1 (one Seerr user per
 * person), behind a timing relay (bench_relay), so the Python fake's own
 * time is measured per exchange and taken off the turn that caused it.
 *
 * Prints, for grammar-only turns and for Seerr turns: p50/p99/max of the
 * latency (message delivered -> reply handed to send) and, for Seerr turns,
 * the fake's share and what is left (usher's own); then messages sent,
 * replies received, messages lost (must be 0) and peak RSS. Exits 1 when a
 * message was lost. Every wait is bounded.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_relay.h"
#include "bot/bot.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "gateway/gateway.h"

#ifndef USHER_PYTHON
#define USHER_PYTHON "/usr/bin/python3"
#endif
#include "../tests/unit/fake_server.h"

/* After the last message, how long replies may still take. */
#define DRAIN_LIMIT_MS 15000

enum turn_kind { TURN_GRAMMAR, TURN_SEERR };

struct line {
	const char *text; /* may hold one %s: the person's film */
	enum turn_kind kind;
};

/* One person's conversation, in order; it starts again at the end. */
static const struct line script[] = {
    {"hi", TURN_GRAMMAR},
    {"get dune", TURN_SEERR},
    {"2", TURN_SEERR},
    {"help", TURN_GRAMMAR},
    {"can you get %s", TURN_SEERR},
    {"is %s ready yet?", TURN_SEERR},
    {"thanks!", TURN_GRAMMAR},
    {"my requests", TURN_SEERR},
    {"add the bear", TURN_SEERR},
    {"the latest", TURN_SEERR},
    {"have you got severance", TURN_SEERR},
    {"what can you do", TURN_GRAMMAR},
};
#define SCRIPT_LINES (sizeof(script) / sizeof(script[0]))

static const char *const films[] = {
    "interstellar",    "oppenheimer",   "barbie",        "inception",    "parasite",
    "fight club",      "finding nemo",  "jurassic park", "paddington 2", "se7en",
    "the dark knight", "spirited away", "frozen ii",     "toy story 3",  "blade runner 2049",
};
#define FILMS (sizeof(films) / sizeof(films[0]))

struct conv {
	char room[32];
	char sender[32];
	unsigned step;
	unsigned line; /* of the message awaiting its answer */
	bool waiting;
	enum turn_kind kind;
	uint64_t sent_ns;
};

/* A finished turn, for charging the fake's exchanges to it afterwards. */
struct turn_record {
	long user;
	unsigned line; /* in script[] */
	enum turn_kind kind;
	uint64_t sent_ns;
	uint64_t reply_ns;
};

struct load {
	struct loop *loop;
	struct gateway *gw;
	struct conv *convs;
	size_t conv_count;
	size_t cursor;
	double rate;
	uint64_t start_ns;
	uint64_t stop_ns;
	unsigned tick_ms;
	bool sending;
	long sent;
	long answered;
	long unsolicited; /* sends while nothing was asked (progress) */
	long edits;
	long behind; /* ticks where every conversation still waited */
	struct turn_record *turns;
	size_t turn_count;
	size_t turn_cap;
};

static struct load *the_load;

/* CPU time of the calling thread (the loop's: the relay has its own), in
 * ns. Unlike latency, it hardly depends on what else the machine runs. */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
bench_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	(void)cfg;
	(void)err;
	(void)errlen;
	the_load->gw = gw;
	return 0;
}

struct bench_done {
	gateway_done_cb *done;
	void *arg;
	char id[24];
};

static void
bench_complete(struct loop *loop, loop_timer_id id, void *arg)
{
	struct bench_done *d = arg;

	(void)loop;
	(void)id;
	d->done(d->arg, 0, d->id, NULL);
	free(d);
}

/* Delivered at once, reported on the next iteration, as a network would. */
static int
bench_later(struct gateway *gw, gateway_done_cb *done, void *arg)
{
	static unsigned long next_id;
	struct bench_done *d = xcalloc(1, sizeof(*d));

	d->done = done;
	d->arg = arg;
	snprintf(d->id, sizeof(d->id), "$out%lu", ++next_id);
	if (loop_add_timer(gateway_loop(gw), 0, bench_complete, d) == 0) {
		free(d);
		return -1;
	}
	return 0;
}

static void
bench_answered(struct load *l, const char *room)
{
	uint64_t now = bench_now_ns();
	unsigned idx;
	struct conv *c;

	if (sscanf(room, "!room%u:bench", &idx) != 1 || idx >= l->conv_count ||
	    !l->convs[idx].waiting) {
		l->unsolicited++;
		return;
	}
	c = &l->convs[idx];
	c->waiting = false;
	l->answered++;
	if (l->turn_count == l->turn_cap) {
		l->turn_cap = l->turn_cap ? l->turn_cap * 2 : 4096;
		l->turns = xrealloc(l->turns, l->turn_cap * sizeof(*l->turns));
	}
	l->turns[l->turn_count++] = (struct turn_record){.user = (long)idx + 2,
	                                                 .line = c->line,
	                                                 .kind = c->kind,
	                                                 .sent_ns = c->sent_ns,
	                                                 .reply_ns = now};
}

static int
bench_send(struct gateway *gw, const char *room, const struct chat_out *out, gateway_done_cb *done,
           void *arg)
{
	(void)out;
	bench_answered(the_load, room);
	return bench_later(gw, done, arg);
}

static int
bench_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
           gateway_done_cb *done, void *arg)
{
	(void)room;
	(void)msg_id;
	(void)out;
	the_load->edits++;
	return bench_later(gw, done, arg);
}

static const struct gateway_ops bench_ops = {
    .name = "matrix",
    .caps = GATEWAY_CAN_EDIT,
    .init = bench_init,
    .send = bench_send,
    .edit = bench_edit,
};
static const struct gateway_ops *const bench_networks[] = {&bench_ops};

static void
bench_say(struct load *l, size_t idx)
{
	struct conv *c = &l->convs[idx];
	const struct line *ln = &script[c->step % SCRIPT_LINES];
	char text[128], msg_id[40];
	struct chat_msg msg;
	const char *hole = strstr(ln->text, "%s");

	if (hole != NULL)
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(hole - ln->text), ln->text,
		         films[idx % FILMS], hole + 2);
	else
		snprintf(text, sizeof(text), "%s", ln->text);
	snprintf(msg_id, sizeof(msg_id), "$in%ld", l->sent + 1);
	memset(&msg, 0, sizeof(msg));
	msg.network = "matrix";
	msg.room = c->room;
	msg.sender = c->sender;
	msg.sender_name = c->sender;
	msg.text = text;
	msg.msg_id = msg_id;
	msg.direct = true;
	msg.addressed = true;
	c->line = c->step % SCRIPT_LINES;
	c->step++;
	c->kind = ln->kind;
	c->waiting = true;
	c->sent_ns = bench_now_ns();
	l->sent++;
	gateway_deliver(l->gw, &msg);
}

/* Sends what the rate says is due by now, each to the next person who is
 * not waiting for an answer (people wait for the reply before going on). */
static void
bench_tick(struct loop *loop, loop_timer_id id, void *arg)
{
	struct load *l = arg;
	uint64_t now = bench_now_ns();
	long due;

	(void)id;
	if (now >= l->stop_ns) {
		l->sending = false;
		return;
	}
	due = (long)((double)(now - l->start_ns) / 1e9 * l->rate) + 1 - l->sent;
	while (due-- > 0) {
		size_t tried;

		for (tried = 0; tried < l->conv_count && l->convs[l->cursor].waiting; tried++)
			l->cursor = (l->cursor + 1) % l->conv_count;
		if (tried == l->conv_count) {
			l->behind++;
			break;
		}
		bench_say(l, l->cursor);
		l->cursor = (l->cursor + 1) % l->conv_count;
	}
	loop_add_timer(loop, l->tick_ms, bench_tick, l);
}

static bool
bench_waiting(const struct load *l)
{
	size_t i;

	for (i = 0; i < l->conv_count; i++)
		if (l->convs[i].waiting)
			return true;
	return false;
}

/* One Seerr user per person (ids from 2), allowed to request and
 * auto-approved; user 1 is the admin who owns the API key. */
static int
write_users(const char *path, size_t n)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 0);
	buf_printf(&b, "[{\"id\": 1, \"displayName\": \"Admin\", \"permissions\": 2}");
	for (i = 0; i < n; i++)
		buf_printf(&b, ", {\"id\": %zu, \"displayName\": \"P%zu\", \"permissions\": 160}",
		           i + 2, i);
	buf_printf(&b, "]\n");
	rc = bench_write_file(path, b.data);
	buf_free(&b);
	return rc;
}

static int
write_config(const char *path, const char *db, const char *seerr_url, size_t n)
{
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 0);
	buf_printf(&b,
	           "[usher]\nlog_level = error\n[store]\npath = %s\n"
	           "[seerr]\nurl = %s\napi_key = test-seerr-key\n"
	           /* Progress cycles would post in the rooms: not what is measured. */
	           "[progress]\ninterval_s = 3600\n"
	           "[matrix]\nhomeserver = http://127.0.0.1:9\nuser_id = @usher:bench\n"
	           "access_token = bench\n",
	           db, seerr_url);
	for (i = 0; i < n; i++)
		buf_printf(&b, "[person p%zu]\nmatrix = @p%zu:bench\nseerr_user = %zu\n", i, i,
		           i + 2);
	rc = bench_write_file(path, b.data);
	buf_free(&b);
	return rc;
}

static void
print_latency(const char *what, struct bench_samples *s)
{
	printf("  %-28s %6zu turns  p50 %7.3f ms  p99 %7.3f ms  max %8.3f ms\n", what, s->n,
	       bench_samples_pct(s, 50), bench_samples_pct(s, 99), bench_samples_max(s));
}

/* Which kind of message is slow: the same figures per script line, whole
 * and (with the relay) usher's own; own_ms[i] is turns[i]'s. */
static void
report_by_line(const struct load *l, const double *own_ms, bool have_relay)
{
	struct bench_samples s[SCRIPT_LINES], own[SCRIPT_LINES];
	size_t i;

	memset(s, 0, sizeof(s));
	memset(own, 0, sizeof(own));
	for (i = 0; i < l->turn_count; i++) {
		bench_samples_add(&s[l->turns[i].line],
		                  (double)(l->turns[i].reply_ns - l->turns[i].sent_ns) / 1e6);
		bench_samples_add(&own[l->turns[i].line], own_ms[i]);
	}
	printf("by message (whole latency%s):\n", have_relay ? "; then usher's own" : "");
	for (i = 0; i < SCRIPT_LINES; i++) {
		print_latency(script[i].text, &s[i]);
		if (have_relay && script[i].kind == TURN_SEERR)
			print_latency("  usher's own", &own[i]);
		bench_samples_free(&s[i]);
		bench_samples_free(&own[i]);
	}
}

/* Exchanges made as the admin (no X-Api-User: "who asked for it
 * already?" looks at everybody's requests) name no person. One that lies
 * within exactly one Seerr turn is charged to it; one that several turns
 * overlap is left uncharged (it counts as usher's, on each). Adds to
 * admin_fake_ms[turn] and returns how many could not be placed. */
static size_t
charge_admin(const struct load *l, const struct bench_exchange *ex, size_t ex_count,
             double *admin_fake_ms, size_t *placed)
{
	size_t i, k, unplaced = 0;

	for (i = 0; i < ex_count; i++) {
		size_t hits = 0, at = 0;

		if (ex[i].user != 0)
			continue;
		for (k = 0; k < l->turn_count && hits < 2; k++) {
			const struct turn_record *t = &l->turns[k];

			if (t->kind == TURN_SEERR && ex[i].start_ns >= t->sent_ns &&
			    ex[i].end_ns <= t->reply_ns) {
				hits++;
				at = k;
			}
		}
		if (hits == 1) {
			admin_fake_ms[at] += (double)(ex[i].end_ns - ex[i].start_ns) / 1e6;
			(*placed)++;
		} else if (hits > 1) {
			unplaced++;
		}
	}
	return unplaced;
}

/* The fake's time inside each Seerr turn: the exchanges made as that
 * person that began and ended within the turn (conversations wait for
 * their answer, so a person's exchanges never overlap two turns), and the
 * admin's placed by charge_admin(). */
static void
report(struct load *l, const struct bench_exchange *ex, size_t ex_count, bool have_relay)
{
	struct bench_samples grammar = {0}, seerr = {0}, fake = {0}, own = {0};
	size_t i, j, charged = 0, admin_placed = 0, admin_unplaced, *first;
	long users = (long)l->conv_count + 2;
	double *own_ms = xcalloc(l->turn_count + 1, sizeof(*own_ms));
	double *admin_fake_ms = xcalloc(l->turn_count + 1, sizeof(*admin_fake_ms));

	admin_unplaced = charge_admin(l, ex, ex_count, admin_fake_ms, &admin_placed);
	/* Exchanges grouped by user, in start order, for a linear walk. */
	first = xcalloc((size_t)users + 1, sizeof(*first));
	for (i = 0; i < ex_count; i++)
		if (ex[i].user > 0 && ex[i].user < users)
			first[ex[i].user + 1]++;
	for (i = 1; i <= (size_t)users; i++)
		first[i] += first[i - 1];
	{
		size_t *fill = xcalloc((size_t)users, sizeof(*fill));
		const struct bench_exchange **by = xcalloc(ex_count + 1, sizeof(*by));

		for (i = 0; i < ex_count; i++)
			if (ex[i].user > 0 && ex[i].user < users)
				by[first[ex[i].user] + fill[ex[i].user]++] = &ex[i];
		for (i = 0; i < l->turn_count; i++) {
			const struct turn_record *t = &l->turns[i];
			double ms = (double)(t->reply_ns - t->sent_ns) / 1e6;
			double fake_ms = admin_fake_ms[i];

			own_ms[i] = ms;
			if (t->kind == TURN_GRAMMAR) {
				bench_samples_add(&grammar, ms);
				continue;
			}
			bench_samples_add(&seerr, ms);
			for (j = first[t->user]; j < first[t->user + 1]; j++) {
				if (by[j]->start_ns >= t->sent_ns && by[j]->end_ns <= t->reply_ns) {
					fake_ms += (double)(by[j]->end_ns - by[j]->start_ns) / 1e6;
					charged++;
				}
			}
			bench_samples_add(&fake, fake_ms);
			bench_samples_add(&own, ms - fake_ms);
			own_ms[i] = ms - fake_ms;
		}
		free(fill);
		free(by);
	}
	printf("latency (message delivered -> reply handed to send):\n");
	print_latency("grammar only (no upstream)", &grammar);
	print_latency("Seerr turns, whole", &seerr);
	if (have_relay) {
		print_latency("  of which the Python fake", &fake);
		print_latency("  usher's own (whole - fake)", &own);
		printf("  Seerr HTTP exchanges: %zu, %zu charged to turns (%zu made as the admin, "
		       "%zu overlapping several turns, not charged); fake share of Seerr turn "
		       "time %.0f%%\n",
		       ex_count, charged + admin_placed, admin_placed, admin_unplaced,
		       bench_samples_sum(&seerr) > 0
		           ? 100.0 * bench_samples_sum(&fake) / bench_samples_sum(&seerr)
		           : 0.0);
	}
	report_by_line(l, own_ms, have_relay);
	free(own_ms);
	free(admin_fake_ms);
	free(first);
	bench_samples_free(&grammar);
	bench_samples_free(&seerr);
	bench_samples_free(&fake);
	bench_samples_free(&own);
}

static void
usage(void)
{
	fprintf(stderr, "usage: load_bench [--conversations N] [--rate MSG_PER_S] [--seconds S] "
	                "[--fake-url URL] [--store-dir DIR]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"conversations", required_argument, NULL, 'c'},
	    {"rate", required_argument, NULL, 'r'},
	    {"seconds", required_argument, NULL, 's'},
	    {"fake-url", required_argument, NULL, 'u'},
	    {"store-dir", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct load l = {0};
	struct fake fseerr = {.pid = -1};
	struct bench_relay *relay = NULL;
	struct config *cfg = NULL;
	struct store *store = NULL;
	struct bot *bot = NULL;
	const struct bench_exchange *ex = NULL;
	size_t ex_count = 0, i;
	char dir[64], path[600], db[512], url[256] = "", err[512];
	const char *store_dir = NULL;
	long conversations = 1000, seconds = 60;
	double rate = 200;
	uint64_t deadline, cpu_ns = 0, wall_ns = 0;
	int ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conversations = strtol(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 's':
			seconds = strtol(optarg, NULL, 10);
			break;
		case 'u':
			snprintf(url, sizeof(url), "%s", optarg);
			break;
		case 'd':
			store_dir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || conversations < 1 || conversations > 100000 || rate <= 0 ||
	    rate > 100000 || seconds < 1 || seconds > 3600)
		usage();
	/* libstrophe writes with send(..., 0): a peer that hangs up
	 * must not kill the bench (usher's main does not ignore it either:
	 * see bench/README.md). */
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_LEVEL_ERROR);
	if (bench_tmpdir(dir, sizeof(dir), "load-bench") == -1) {
		perror("mkdtemp");
		return 1;
	}
	if (url[0] == '\0') {
		const char *args[] = {"--no-library", "--users", path, NULL};

		snprintf(path, sizeof(path), "%s/users.json", dir);
		if (write_users(path, (size_t)conversations) == -1 ||
		    fake_start_script(&fseerr, "fakes/fake_seerr.py", args) == -1) {
			fprintf(stderr, "load_bench: cannot start the fake Seerr\n");
			goto out;
		}
		if ((relay = bench_relay_start(fseerr.port)) == NULL) {
			perror("load_bench: relay");
			goto out;
		}
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", bench_relay_port(relay));
	}
	snprintf(path, sizeof(path), "%s/usher.conf", dir);
	if (store_dir != NULL) {
		/* A file of our own in someone else's folder, removed at the end. */
		snprintf(db, sizeof(db), "%s/usher-load-bench-%ld.db", store_dir, (long)getpid());
	} else {
		snprintf(db, sizeof(db), "%s/usher.db", dir);
	}
	if (write_config(path, db, url, (size_t)conversations) == -1) {
		perror(path);
		goto out;
	}
	cfg = config_load(path, (char *const[]){NULL});
	if (cfg == NULL || !config_ok(cfg)) {
		fprintf(stderr, "load_bench: the generated config is not valid\n");
		goto out;
	}
	if ((store = store_open(db, err, sizeof(err))) == NULL) {
		fprintf(stderr, "load_bench: %s\n", err);
		goto out;
	}
	the_load = &l;
	l.loop = loop_new();
	l.conv_count = (size_t)conversations;
	l.convs = xcalloc(l.conv_count, sizeof(*l.convs));
	for (i = 0; i < l.conv_count; i++) {
		snprintf(l.convs[i].room, sizeof(l.convs[i].room), "!room%zu:bench", i);
		snprintf(l.convs[i].sender, sizeof(l.convs[i].sender), "@p%zu:bench", i);
	}
	bot = bot_new_with_networks(l.loop, cfg, store, bench_networks, 1, err, sizeof(err));
	if (bot == NULL || bot_start(bot, err, sizeof(err)) == -1) {
		fprintf(stderr, "load_bench: %s\n", err);
		goto out;
	}
	printf("load_bench: %zu conversations, %.0f messages/s for %ld s, Seerr %s, store %s\n",
	       l.conv_count, rate, seconds, relay ? "= fake_seerr.py behind a timing relay" : url,
	       db);
	fflush(stdout);
	l.rate = rate;
	l.tick_ms = rate >= 200 ? 1 : (unsigned)(1000 / rate / 4) + 1;
	l.start_ns = bench_now_ns();
	l.stop_ns = l.start_ns + (uint64_t)seconds * 1000000000u;
	l.sending = true;
	cpu_ns = thread_cpu_ns();
	loop_add_timer(l.loop, 0, bench_tick, &l);
	while (l.sending)
		loop_run_once(l.loop, 100);
	deadline = bench_now_ns() + (uint64_t)DRAIN_LIMIT_MS * 1000000u;
	while (bench_waiting(&l) && bench_now_ns() < deadline)
		loop_run_once(l.loop, 50);
	cpu_ns = thread_cpu_ns() - cpu_ns;
	wall_ns = bench_now_ns() - l.start_ns;
	if (relay) {
		bench_relay_stop(relay);
		ex = bench_relay_exchanges(relay, &ex_count);
	}
	report(&l, ex, ex_count, relay != NULL);
	printf("messages sent %ld, replies received %ld, messages lost %ld\n", l.sent, l.answered,
	       l.sent - l.answered);
	printf("other sends %ld, edits %ld, ticks with every person still waiting %ld\n",
	       l.unsolicited, l.edits, l.behind);
	printf("loop thread CPU %.2f s (%.0f%% of one core), %.0f us per message\n",
	       (double)cpu_ns / 1e9, wall_ns ? 100.0 * (double)cpu_ns / (double)wall_ns : 0.0,
	       l.sent ? (double)cpu_ns / 1e3 / (double)l.sent : 0.0);
	printf("peak RSS %ld KiB (getrusage ru_maxrss)\n", bench_peak_rss_kb());
	rc = l.sent > 0 && l.sent == l.answered ? 0 : 1;
out:
	bot_free(bot);
	if (l.loop)
		loop_free(l.loop);
	store_close(store);
	config_free(cfg);
	bench_relay_free(relay);
	fake_stop(&fseerr);
	free(l.convs);
	free(l.turns);
	if (store_dir != NULL) {
		static const char *const ends[] = {"", "-wal", "-shm", "-journal"};

		for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", db, ends[i]);
			unlink(path);
		}
	}
	if (bench_rmdir(dir) == -1)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

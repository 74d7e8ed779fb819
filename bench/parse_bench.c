/*
 * parse_bench: how fast the grammar understands chat messages.
 *
 * Builds a mixed corpus of at least 100,000 messages from templates ×
 * titles (requests, seasons, status, select, confirm, chit-chat, songs,
 * hostile noise) and loads every grammar. Parses the corpus once untimed
 * and prints messages/s by the thread's CPU time (what the project's
 * target is about: the machine may be busy with other work); then parses
 * it PASSES times timing each message by the wall clock, and prints the
 * p50/p99/max microseconds per message of the first pass and of the best
 * of the passes (a message preempted once is rarely preempted every time).
 * For figures that do not depend on the machine's load, count
 * instructions: `valgrind --tool=callgrind --toggle-collect=grammar_parse_n
 * parse_bench --messages 20000` and divide by its 2000 + 20000 x (1 + PASSES)
 * parses.
 *
 * `--slowest N` also prints the N slowest distinct messages by their best
 * time: the ones to look at when the p99 goes up.
 *
 * usage: parse_bench [--grammars DIR] [--messages N] [--slowest N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "nlu/grammar.h"
#include "nlu/intent.h"

#define PASSES 3

static const char *const titles[] = {
    "dune",
    "Dune: Part Two",
    "the bear",
    "Oppenheimer",
    "Se7en",
    "Alien³",
    "9-1-1",
    "Mission: Impossible – Dead Reckoning",
    "Don't Look Up",
    "Love, Death & Robots",
    "The 100",
    "Get Out",
    "New Girl",
    "2001: A Space Odyssey",
    "the office",
    "severance",
    "barbie",
    "spirited away",
    "the lord of the rings the return of the king",
    "paddington 2",
    "Amélie",
    "everything everywhere all at once",
    "succession",
    "bluey",
    "the last of us",
    "crouching tiger, hidden dragon",
    "1917",
    "blade runner 2049",
    "what we do in the shadows",
    "how to train your dragon",
};

static const char *const templates[] = {
    "get %s",
    "can you get %s please",
    "hey usher, could you download %s for me",
    "add season 2 of %s pls",
    "get %s season 1-3",
    "is %s downloaded yet?",
    "how long for %s",
    "do we have %s",
    "find the movie %s",
    "i want to watch %s tonight",
    "cancel %s",
    "nvm cancel %s",
    "approve %s",
    "the audio on %s is out of sync",
    "something like %s",
    "get %s in 4k",
    "get %s (2021)",
    "@usher get %s 👍",
    "<@123456> is %s ready",
    "%s please",
    "get the song %s",
    "what time is %s playing",
    "%s",
    "%s won't play",
    "get %s s02e05",
    "could you please grab the new %s movie",
    "is %s on plex",
    "where can i watch %s",
    "download the complete series of %s",
    "decline %s",
};

static const char *const fixed[] = {
    "yes",
    "no",
    "👍",
    "the second one",
    "2",
    "the 2021 one",
    "whats downloading",
    "my requests",
    "thanks!!",
    "what's the weather like",
    "help",
    "go ahead",
    "never mind",
    "what should we watch",
    "lol that was great",
    "queue",
    "ok so um can you maybe help me find something to watch this weekend with the kids",
    "\xff\xfe broken bytes \xc3",
    "🍿🍿🍿🍿🍿🍿🍿🍿🍿🍿",
};

/* The template with its "%s" replaced by `title`. */
static char *
fill(const char *tmpl, const char *title)
{
	const char *at = strstr(tmpl, "%s");

	return xasprintf("%.*s%s%s", (int)(at - tmpl), tmpl, title, at + 2);
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* Prints the `top` distinct messages of msgs[0..n) slowest by best[]. */
static void
print_slowest(char **msgs, const long *best, size_t n, size_t top)
{
	size_t *order = xmalloc(n * sizeof(*order)), shown = 0, i, j, k;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = 0; i < n && shown < top; i++) {
		/* A partial selection sort: `top` is small. */
		for (j = i + 1, k = i; j < n; j++) {
			if (best[order[j]] > best[order[k]])
				k = j;
		}
		size_t t = order[i];
		order[i] = order[k];
		order[k] = t;
		for (j = 0; j < i; j++) {
			if (strcmp(msgs[order[j]], msgs[order[i]]) == 0)
				break;
		}
		if (j < i)
			continue;
		printf("slow: %8.2f us  %s\n", (double)best[order[i]] / 1e3, msgs[order[i]]);
		shown++;
	}
	free(order);
}

static long
ns_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000000000L + (b->tv_nsec - a->tv_nsec);
}

int
main(int argc, char **argv)
{
	const char *dir = USHER_TESTS_DIR "/../grammars";
	size_t want = 200000, n = 0, i, nt = sizeof(titles) / sizeof(titles[0]), slowest = 0;
	size_t ntp = sizeof(templates) / sizeof(templates[0]),
	       nf = sizeof(fixed) / sizeof(fixed[0]);
	char err[512], **msgs;
	long *lat, *best, total = 0, cpu, ns;
	size_t kinds[INTENT_KIND_COUNT] = {0};
	struct grammar *g;
	struct intent in;
	struct timespec t0, t1, c0, c1;

	for (i = 1; i + 1 < (size_t)argc; i += 2) {
		if (strcmp(argv[i], "--grammars") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--messages") == 0)
			want = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--slowest") == 0)
			slowest = strtoul(argv[i + 1], NULL, 10);
	}
	if (want < 1000)
		want = 1000;
	g = grammar_load_dir(dir, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "parse_bench: %s\n", err);
		return 2;
	}
	msgs = xmalloc(want * sizeof(*msgs));
	lat = xmalloc(want * sizeof(*lat));
	best = xmalloc(want * sizeof(*best));
	/* Deterministic mix: mostly templated messages, one in eight fixed. */
	for (n = 0; n < want; n++) {
		if (n % 8 == 7)
			msgs[n] = xstrdup(fixed[(n / 8) % nf]);
		else
			msgs[n] = fill(templates[(n * 7) % ntp], titles[(n * 13 + n / ntp) % nt]);
	}
	for (i = 0; i < 2000; i++) /* warm caches and the JIT stack */
		grammar_parse(g, msgs[i % n], &in);
	/* Throughput: the whole corpus, untimed per message, by this thread's
	 * CPU time (the time it was not running, other programs on the
	 * machine, does not count). */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (i = 0; i < n; i++) {
		grammar_parse(g, msgs[i], &in);
		kinds[in.kind]++;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	cpu = ns_between(&c0, &c1);
	/* Latency: each message timed by the wall clock, PASSES times; a
	 * message that was preempted in one pass is rarely preempted in all,
	 * so the best of the passes is its cost on a core of its own. */
	for (int pass = 0; pass < PASSES; pass++) {
		for (i = 0; i < n; i++) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			grammar_parse(g, msgs[i], &in);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			ns = ns_between(&t0, &t1);
			if (pass == 0) {
				lat[i] = ns;
				best[i] = ns;
				total += ns;
			} else if (ns < best[i]) {
				best[i] = ns;
			}
		}
	}
	if (slowest > 0)
		print_slowest(msgs, best, n, slowest);
	qsort(lat, n, sizeof(*lat), cmp_long);
	qsort(best, n, sizeof(*best), cmp_long);
	printf("grammar: %zu patterns from %s\n", grammar_rule_count(g), dir);
	printf("messages: %zu (understood: %zu, unknown: %zu)\n", n, n - kinds[INTENT_UNKNOWN],
	       kinds[INTENT_UNKNOWN]);
	printf("throughput: %.0f messages/s by CPU time (%.2f us per message), %.0f by wall time, "
	       "on one core\n",
	       (double)n / ((double)cpu / 1e9), (double)cpu / 1e3 / (double)n,
	       (double)n / ((double)total / 1e9));
	printf("latency, one pass: p50 %.2f us, p99 %.2f us, max %.2f us\n",
	       (double)lat[n / 2] / 1e3, (double)lat[(n * 99) / 100] / 1e3,
	       (double)lat[n - 1] / 1e3);
	printf("latency, best of %d passes: p50 %.2f us, p99 %.2f us, max %.2f us\n", PASSES,
	       (double)best[n / 2] / 1e3, (double)best[(n * 99) / 100] / 1e3,
	       (double)best[n - 1] / 1e3);
	for (i = 0; i < n; i++)
		free(msgs[i]);
	free(msgs);
	free(lat);
	free(best);
	grammar_free(g);
	return 0;
}

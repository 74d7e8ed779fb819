/*
 * http_bench: requests per second through usher's loop and http client
 * against the loopback fake (tests/fakes/fakehttp.py), with 1, 10 and 100
 * requests in flight, then the process's peak resident memory.
 *
 * The fake is a threaded Python server, so the figures say more about it
 * than about curl; they are for spotting regressions in our loop (a
 * request rate that falls with concurrency, memory that grows with it).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/http.h"
#include "core/loop.h"

#ifndef USHER_PYTHON
#define USHER_PYTHON "/usr/bin/python3"
#endif
/* Starts and stops the fake the same way the C tests do. */
#include "../tests/unit/fake_server.h"

#define LEVEL_LIMIT_MS 60000

struct run {
	struct http *http;
	char url[128];
	int total; /* requests to make */
	int started;
	int finished;
	int failed;
	int in_flight_max;
};

static void start_one(struct run *r);

static void
on_done(const struct http_response *resp, void *arg)
{
	struct run *r = arg;

	r->finished++;
	if (resp->result != HTTP_OK || resp->status != 200)
		r->failed++;
	if (r->started < r->total)
		start_one(r);
}

static void
start_one(struct run *r)
{
	struct http_opts o = {.url = r->url};
	size_t n;

	r->started++;
	http_start(r->http, &o, on_done, r);
	if ((n = http_in_flight(r->http)) > (size_t)r->in_flight_max)
		r->in_flight_max = (int)n;
}

static void
level(struct loop *loop, int port, int concurrency, int total)
{
	struct run r = {.total = total};
	unsigned long long start, deadline, ms;

	r.http = http_new(loop);
	snprintf(r.url, sizeof(r.url), "http://127.0.0.1:%d/small", port);
	start = fake_now_ms();
	deadline = start + LEVEL_LIMIT_MS;
	for (int i = 0; i < concurrency && r.started < r.total; i++)
		start_one(&r);
	while (r.finished < r.started && fake_now_ms() < deadline)
		if (loop_run_once(loop, 100) == -1)
			break;
	ms = fake_now_ms() - start;
	printf("http_bench: %3d in flight: %6d requests in %7.3f s = %8.0f req/s, %d failed%s\n",
	       r.in_flight_max, r.finished, (double)ms / 1000, ms ? r.finished * 1000.0 / ms : 0.0,
	       r.failed, r.finished < r.total ? " (time limit)" : "");
	fflush(stdout);
	http_free(r.http);
}

int
main(void)
{
	static const char *const args[] = {"--scenario", USHER_TESTS_DIR "/unit/http_fake.json",
	                                   NULL};
	struct fake fake;
	struct loop *loop;
	struct rusage ru;

	signal(SIGPIPE, SIG_IGN);
	if (fake_start_script(&fake, "fakes/fakehttp.py", args) == -1) {
		fprintf(stderr, "http_bench: cannot start the fake server\n");
		return 1;
	}
	if ((loop = loop_new()) == NULL) {
		fake_stop(&fake);
		return 1;
	}
	level(loop, fake.port, 1, 2000);
	level(loop, fake.port, 10, 5000);
	level(loop, fake.port, 100, 10000);
	loop_free(loop);
	fake_stop(&fake);
	getrusage(RUSAGE_SELF, &ru);
	printf("http_bench: peak RSS %ld KiB\n", ru.ru_maxrss);
	return 0;
}

/*
 * http_bench: requests per second through usher's loop and http client
 * against the loopback fake (tests/fakes/fakehttp.py), with 1, 10 and 100
 * requests in flight, then the process's peak resident memory.
 *
 * The fake is a threaded Python server, so the figures say more about it
 * than about curl; they are for spotting regressions in our loop (a
 * request rate that falls with concurrency, memory that grows with it).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/http.h"
#include "core/loop.h"

#ifndef USHER_PYTHON
#define USHER_PYTHON "/usr/bin/python3"
#endif

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

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static pid_t
fake_start(int *port)
{
	int out[2];
	char line[64];
	size_t len = 0;
	uint64_t deadline = now_ms() + 15000;
	pid_t pid;

	if (pipe(out) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execl(USHER_PYTHON, USHER_PYTHON, USHER_TESTS_DIR "/fakes/fakehttp.py",
		      "--scenario", USHER_TESTS_DIR "/unit/http_fake.json", "--port", "0",
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	while (len < sizeof(line) - 1 && now_ms() < deadline) {
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		if (read(out[0], line + len, 1) != 1 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(out[0]);
	if (sscanf(line, "LISTENING %d", port) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static void
fake_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

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
	uint64_t start, deadline, ms;

	r.http = http_new(loop);
	snprintf(r.url, sizeof(r.url), "http://127.0.0.1:%d/small", port);
	start = now_ms();
	deadline = start + LEVEL_LIMIT_MS;
	for (int i = 0; i < concurrency && r.started < r.total; i++)
		start_one(&r);
	while (r.finished < r.started && now_ms() < deadline)
		if (loop_run_once(loop, 100) == -1)
			break;
	ms = now_ms() - start;
	printf("http_bench: %3d in flight: %6d requests in %7.3f s = %8.0f req/s, %d failed%s\n",
	       r.in_flight_max, r.finished, (double)ms / 1000, ms ? r.finished * 1000.0 / ms : 0.0,
	       r.failed, r.finished < r.total ? " (time limit)" : "");
	fflush(stdout);
	http_free(r.http);
}

int
main(void)
{
	struct loop *loop;
	struct rusage ru;
	pid_t pid;
	int port;

	signal(SIGPIPE, SIG_IGN);
	if ((pid = fake_start(&port)) == -1) {
		fprintf(stderr, "http_bench: cannot start the fake server\n");
		return 1;
	}
	if ((loop = loop_new()) == NULL) {
		fake_stop(pid);
		return 1;
	}
	level(loop, port, 1, 2000);
	level(loop, port, 10, 5000);
	level(loop, port, 100, 10000);
	loop_free(loop);
	fake_stop(pid);
	getrusage(RUSAGE_SELF, &ru);
	printf("http_bench: peak RSS %ld KiB\n", ru.ru_maxrss);
	return 0;
}

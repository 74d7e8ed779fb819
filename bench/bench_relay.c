#include "bench_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "core/util.h"

/* More than usher's curl opens to one host under any bench load. */
#define RELAY_MAX_PAIRS 256

enum relay_phase {
	RELAY_IDLE,     /* connected, nothing asked yet */
	RELAY_REQUEST,  /* request bytes seen, no answer yet */
	RELAY_RESPONSE, /* answer bytes seen: the next request starts a new exchange */
};

struct relay_pair {
	int client;
	int upstream;
	enum relay_phase phase;
	struct bench_exchange cur;
};

struct bench_relay {
	int listen_fd;
	int port;
	int upstream_port;
	int wake[2];
	pthread_t thread;
	bool running;
	struct relay_pair pairs[RELAY_MAX_PAIRS];
	size_t pair_count;
	struct bench_exchange *ex;
	size_t ex_count;
	size_t ex_cap;
};

static void
relay_record(struct bench_relay *r, struct relay_pair *p)
{
	if (p->phase != RELAY_RESPONSE)
		return;
	if (r->ex_count == r->ex_cap) {
		r->ex_cap = r->ex_cap ? r->ex_cap * 2 : 4096;
		r->ex = xrealloc(r->ex, r->ex_cap * sizeof(*r->ex));
	}
	r->ex[r->ex_count++] = p->cur;
	p->phase = RELAY_IDLE;
}

static void
relay_close_pair(struct bench_relay *r, size_t i)
{
	struct relay_pair *p = &r->pairs[i];

	relay_record(r, p);
	close(p->client);
	close(p->upstream);
	r->pairs[i] = r->pairs[--r->pair_count];
}

/* The user a request acts as, from the request's first bytes. */
static long
relay_user(const char *data)
{
	const char *h = strcasestr(data, "\r\nX-Api-User:");

	return h ? strtol(h + 13, NULL, 10) : 0;
}

static int
relay_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves what `from` has to the other side. Returns -1 when the pair is done. */
static int
relay_move(struct relay_pair *p, bool from_client, struct bench_relay *r)
{
	char buf[65536];
	ssize_t n = read(from_client ? p->client : p->upstream, buf, sizeof(buf) - 1);
	uint64_t now = bench_now_ns();

	if (n == -1 && errno == EINTR)
		return 0;
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (from_client) {
		if (p->phase != RELAY_REQUEST) {
			relay_record(r, p);
			p->phase = RELAY_REQUEST;
			p->cur.start_ns = now;
			p->cur.user = relay_user(buf);
		}
	} else {
		p->phase = RELAY_RESPONSE;
	}
	if (relay_write_all(from_client ? p->upstream : p->client, buf, (size_t)n) == -1)
		return -1;
	if (!from_client)
		p->cur.end_ns = bench_now_ns();
	return 0;
}

static void
relay_accept(struct bench_relay *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)r->upstream_port)};
	int c = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC), u, one = 1;

	if (c == -1)
		return;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r->pair_count == RELAY_MAX_PAIRS || (u = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		close(c);
		return;
	}
	if (connect(u, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(u);
		close(c);
		return;
	}
	/* Relayed small writes must not wait for delayed ACKs (Nagle): that
	 * would add 40 ms the fake did not spend. */
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->pairs[r->pair_count++] = (struct relay_pair){.client = c, .upstream = u};
}

static void *
relay_main(void *arg)
{
	struct bench_relay *r = arg;
	struct pollfd pfd[2 + 2 * RELAY_MAX_PAIRS];

	for (;;) {
		size_t i, n = r->pair_count;

		pfd[0] = (struct pollfd){.fd = r->wake[0], .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
		for (i = 0; i < n; i++) {
			pfd[2 + 2 * i] =
			    (struct pollfd){.fd = r->pairs[i].client, .events = POLLIN};
			pfd[3 + 2 * i] =
			    (struct pollfd){.fd = r->pairs[i].upstream, .events = POLLIN};
		}
		if (poll(pfd, 2 + 2 * n, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;
		/* Backwards, so closing pair i (the last moves into its
		 * place) leaves the ones still to look at where they were. */
		for (i = n; i-- > 0;) {
			struct relay_pair *p = &r->pairs[i];
			bool done = false;

			if (pfd[3 + 2 * i].revents)
				done = relay_move(p, false, r) == -1;
			if (!done && pfd[2 + 2 * i].revents)
				done = relay_move(p, true, r) == -1;
			if (done)
				relay_close_pair(r, i);
		}
		if (pfd[1].revents)
			relay_accept(r);
	}
	while (r->pair_count > 0)
		relay_close_pair(r, r->pair_count - 1);
	return NULL;
}

struct bench_relay *
bench_relay_start(int upstream_port)
{
	struct bench_relay *r = xcalloc(1, sizeof(*r));
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);

	r->upstream_port = upstream_port;
	r->wake[0] = r->wake[1] = -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((r->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(r->listen_fd, 128) == -1 ||
	    getsockname(r->listen_fd, (struct sockaddr *)&sa, &len) == -1 ||
	    pipe2(r->wake, O_CLOEXEC) == -1) {
		bench_relay_free(r);
		return NULL;
	}
	r->port = ntohs(sa.sin_port);
	if ((errno = pthread_create(&r->thread, NULL, relay_main, r)) != 0) {
		bench_relay_free(r);
		return NULL;
	}
	r->running = true;
	return r;
}

int
bench_relay_port(const struct bench_relay *r)
{
	return r->port;
}

void
bench_relay_stop(struct bench_relay *r)
{
	if (!r->running)
		return;
	if (write(r->wake[1], "x", 1) != 1)
		abort(); /* a pipe we made and never filled */
	pthread_join(r->thread, NULL);
	r->running = false;
}

const struct bench_exchange *
bench_relay_exchanges(const struct bench_relay *r, size_t *n)
{
	*n = r->ex_count;
	return r->ex;
}

void
bench_relay_free(struct bench_relay *r)
{
	if (r == NULL)
		return;
	bench_relay_stop(r);
	if (r->listen_fd != -1)
		close(r->listen_fd);
	if (r->wake[0] != -1) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	free(r->ex);
	free(r);
}

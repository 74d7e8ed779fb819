/*
 * bench_relay: a loopback TCP relay, on its own thread, that times every
 * HTTP exchange passing through it. Put between usher and a fake service
 * (usher is told the relay's port), it separates the fake's own time from
 * usher's: an exchange runs from the first byte of a request reaching the
 * relay to the last byte of its response leaving the fake, and carries the
 * request's X-Api-User (the Seerr user usher acted as), so a bench can
 * charge each exchange to the conversation that caused it.
 *
 * The relay owns its thread, its sockets and the records. It runs on its
 * own core where there is one, so timing it does not slow usher's loop.
 * Bench code only.
 */
#ifndef USHER_BENCH_RELAY_H
#define USHER_BENCH_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct bench_relay;

struct bench_exchange {
	long user;         /* X-Api-User of the request, 0 when it had none */
	uint64_t start_ns; /* bench_now_ns() when the request's first byte came */
	uint64_t end_ns;   /* when the response's last byte was passed on */
};

/* Listens on 127.0.0.1 (any port) and relays to 127.0.0.1:`upstream_port`.
 * Returns a new relay freed with bench_relay_free(), or NULL (errno). */
struct bench_relay *bench_relay_start(int upstream_port);
int bench_relay_port(const struct bench_relay *r);
/* Stops the thread and closes every connection; an exchange in progress
 * ends there. After this the records may be read. */
void bench_relay_stop(struct bench_relay *r);
/* The exchanges seen, in the order they ended. Borrowed, valid until
 * bench_relay_free(); only after bench_relay_stop(). */
const struct bench_exchange *bench_relay_exchanges(const struct bench_relay *r, size_t *n);
/* Stops if needed and frees; NULL is ignored. */
void bench_relay_free(struct bench_relay *r);

#endif

/*
 * requests: the requests usher has taken from people, on their way to
 * Seerr, exactly once.
 *
 * A request is written to the store before anything is sent, so nothing
 * acknowledged is lost; before creating it in Seerr, usher looks for one
 * the person already has for the same title (a retry after a timeout or a
 * crash finds the one that did get through), so nothing is sent twice.
 * While Seerr cannot be reached the request waits, the person is told once,
 * and it is retried with growing pauses, also after a restart. The outcome
 * is announced in the conversation the request came from.
 */
#ifndef USHER_REQUESTS_H
#define USHER_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>

#include "services/seerr.h"

struct loop;
struct store;
struct requests;

/* Says `text` in a conversation; `reply_to` may be NULL. Returns 0 when
 * handed to the network. */
typedef int requests_say_fn(void *arg, const char *network, const char *room, const char *reply_to,
                            const char *text);

/* A request now exists in Seerr (made, found made, or already there from
 * someone else): the caller starts following it. */
struct request_made {
	const char *network;
	const char *room;
	const char *person;
	const char *label;     /* "season 2 of The Bear (2022)" */
	long seerr_request_id; /* 0 when it is somebody else's */
	struct seerr_new_request what;
};
typedef void requests_made_fn(void *arg, const struct request_made *made);

struct request_order {
	const char *network;
	const char *room;
	const char *person;
	const char *reply_to;
	long seerr_user;
	char title[SEERR_TITLE_MAX]; /* for the replies: "Dune: Part Two" */
	int year;
	struct seerr_new_request what;
	/* Called once, when the order has first been settled or the person
	 * told it waits; lets the conversation keep its replies in order. */
	void (*said)(void *arg);
	void *said_arg;
};

/* Returns the outbox; `loop`, `store` and `seerr` are borrowed. */
struct requests *requests_new(struct loop *loop, struct store *store, struct seerr *seerr,
                              requests_say_fn *say, void *say_arg);
/* Who hears of requests that now exist in Seerr (may be left unset). */
void requests_on_made(struct requests *r, requests_made_fn *made, void *arg);
void requests_free(struct requests *r);

/* Records the order and starts sending it. Returns 0, or -1 when it could
 * not be saved (nothing was sent; the caller tells the person). */
int requests_submit(struct requests *r, const struct request_order *order);
/* Sends every order a previous run left waiting. */
void requests_resume(struct requests *r);
/* Orders saved but not yet settled with Seerr. */
size_t requests_unsettled(const struct requests *r);

/* "Dune: Part Two (2024)" into `out`. */
void requests_format_title(char *out, size_t outlen, const char *title, int year);

#endif

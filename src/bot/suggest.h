/*
 * suggest: titles for a network's autocomplete (Discord's /request title).
 *
 * A person typing "/request dun" asks again at every key press, and Discord
 * wants each answer within 3 s, so answers are kept for a short while by
 * the prefix typed: the same or a repeated prefix is answered from memory
 * without asking Seerr. Searches run as the API key's owner: nothing is
 * requested, only looked up. Owns its cache; borrows the loop and Seerr.
 */
#ifndef USHER_SUGGEST_H
#define USHER_SUGGEST_H

#include "gateway/gateway.h"

struct loop;
struct seerr;
struct suggest;
struct suggest_call;

/* Returns a new suggester the caller frees with suggest_free(); `loop` and
 * `seerr` are borrowed and must outlive it. */
struct suggest *suggest_new(struct loop *loop, struct seerr *seerr);
/* Cancels nothing: free every call first (gateways cancel theirs). */
void suggest_free(struct suggest *s);

/* Looks up titles starting with `prefix` ("Dune (2021)"). Returns a handle
 * for suggest_cancel(), or NULL when it cannot (prefix shorter than two
 * characters, Seerr refused to start): then `done` never runs. `done` runs
 * once, later, never from inside this call, with titles borrowed for the
 * call. */
struct suggest_call *suggest_start(struct suggest *s, const char *prefix, gateway_suggest_cb *done,
                                   void *done_arg);
/* Stops a call that has not answered; its `done` will not run. */
void suggest_cancel(struct suggest_call *c);

/* How many answers came from the cache (for tests). */
unsigned long suggest_cache_hits(const struct suggest *s);

#endif

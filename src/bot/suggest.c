#include "bot/suggest.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/util.h"
#include "services/seerr.h"

/* Discord shows at most 25 choices. */
#define SUGGEST_MAX 25
/* Long enough for one person's typing, short enough that a title added to
 * the library a minute ago shows up. */
#define SUGGEST_TTL_MS 60000
#define SUGGEST_SLOTS  32
#define SUGGEST_PREFIX 100

struct suggest_entry {
	char prefix[SUGGEST_PREFIX]; /* folded; "" when the slot is free */
	uint64_t expires_ms;
	size_t n;
	char titles[SUGGEST_MAX][SEERR_TITLE_MAX + 16];
};

struct suggest {
	struct loop *loop;
	struct seerr *seerr;
	struct suggest_entry slots[SUGGEST_SLOTS];
	size_t next_slot; /* round robin: the oldest entry goes first */
	unsigned long hits;
};

struct suggest_call {
	struct suggest *s;
	struct seerr_call *call;  /* asking Seerr, or NULL */
	loop_timer_id timer;      /* answering from the cache, or 0 */
	struct suggest_entry hit; /* a copy: the slot may be reused meanwhile */
	char prefix[SUGGEST_PREFIX];
	gateway_suggest_cb *done;
	void *done_arg;
};

struct suggest *
suggest_new(struct loop *loop, struct seerr *seerr)
{
	struct suggest *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->seerr = seerr;
	return s;
}

void
suggest_free(struct suggest *s)
{
	free(s);
}

unsigned long
suggest_cache_hits(const struct suggest *s)
{
	return s->hits;
}

/* "Dune  " and "dune" are the same question. */
static void
fold_prefix(char *out, size_t outlen, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; prefix[i] != '\0' && n + 1 < outlen; i++)
		out[n++] = (char)tolower((unsigned char)prefix[i]);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

static const struct suggest_entry *
cache_find(struct suggest *s, const char *folded)
{
	uint64_t now = loop_now_ms(s->loop);
	size_t i;

	for (i = 0; i < SUGGEST_SLOTS; i++)
		if (s->slots[i].prefix[0] != '\0' && s->slots[i].expires_ms > now &&
		    strcmp(s->slots[i].prefix, folded) == 0)
			return &s->slots[i];
	return NULL;
}

static void
answer(struct suggest_call *c, const struct suggest_entry *e)
{
	const char *titles[SUGGEST_MAX];
	size_t i;

	for (i = 0; i < e->n; i++)
		titles[i] = e->titles[i];
	c->done(c->done_arg, titles, e->n);
	free(c);
}

static void
found(void *arg, const struct service_result *res, const struct seerr_title *items, size_t count,
      int total_pages)
{
	struct suggest_call *c = arg;
	struct suggest *s = c->s;
	struct suggest_entry fresh, *e = &fresh;
	size_t i;

	(void)total_pages;
	c->call = NULL;
	/* Only what Seerr answered is kept: a failure is not remembered. */
	if (res->error == SERVICE_OK) {
		e = &s->slots[s->next_slot];
		s->next_slot = (s->next_slot + 1) % SUGGEST_SLOTS;
		strlcpy_u(e->prefix, c->prefix, sizeof(e->prefix));
		e->expires_ms = loop_now_ms(s->loop) + SUGGEST_TTL_MS;
	}
	e->n = 0;
	for (i = 0; res->error == SERVICE_OK && i < count && e->n < SUGGEST_MAX; i++) {
		if (items[i].year > 0)
			snprintf(e->titles[e->n], sizeof(e->titles[e->n]), "%s (%d)",
			         items[i].title, items[i].year);
		else
			snprintf(e->titles[e->n], sizeof(e->titles[e->n]), "%s", items[i].title);
		e->n++;
	}
	answer(c, e);
}

static void
from_cache(struct loop *loop, loop_timer_id id, void *arg)
{
	struct suggest_call *c = arg;

	(void)loop;
	(void)id;
	c->timer = 0;
	answer(c, &c->hit);
}

struct suggest_call *
suggest_start(struct suggest *s, const char *prefix, gateway_suggest_cb *done, void *done_arg)
{
	const struct suggest_entry *e;
	struct suggest_call *c;

	if (s->seerr == NULL || prefix == NULL || strlen(prefix) < 2)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->done = done;
	c->done_arg = done_arg;
	fold_prefix(c->prefix, sizeof(c->prefix), prefix);
	if ((e = cache_find(s, c->prefix)) != NULL) {
		c->hit = *e;
		s->hits++;
		c->timer = loop_add_timer(s->loop, 0, from_cache, c);
		return c;
	}
	c->call = seerr_search(s->seerr, 0, prefix, 1, found, c);
	if (c->call == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
suggest_cancel(struct suggest_call *c)
{
	if (c == NULL)
		return;
	if (c->call)
		seerr_cancel(c->call);
	if (c->timer)
		loop_cancel_timer(c->s->loop, c->timer);
	free(c);
}

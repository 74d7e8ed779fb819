/* grammar: the matcher. A message is normalised, its lead, tail and any
 * address to the bot are cut off, and the rules it can meet are tried
 * best first (the tables that say which are built by grammar_load.c);
 * grammar_slots.c reads the winning match. */
#include "nlu/grammar.h"

#include <string.h>

#include "core/util.h"
#include "nlu/grammar_impl.h"

int
grammar_run(const struct grammar *g, const pcre2_code *re, bool jit, const char *s, size_t len,
            size_t at)
{
	if (jit)
		return pcre2_jit_match(re, (PCRE2_SPTR)s, len, at, 0, g->md, g->mctx);
	return pcre2_match(re, (PCRE2_SPTR)s, len, at, PCRE2_NO_UTF_CHECK, g->md, g->mctx);
}

static bool
is_tail_punct(char c)
{
	switch (c) {
	case ',':
	case '?':
	case '!':
	case '.':
	case ';':
	case ':':
	case '~':
		return true;
	}
	return false;
}

static bool
tail_unit_start(const char *s, size_t p)
{
	/* Every tail unit starts at a space or at attached punctuation. */
	return s[p] == ' ' || (is_tail_punct(s[p]) && !is_tail_punct(s[p - 1]) && s[p - 1] != ' ');
}

/* Where the tail ("please", "thanks", "?!", 👍) of s[0..len) starts, or len.
 * Tried only where a tail unit can begin, from the end back, giving up
 * after five misses in a row: a tail is a few words long. */
static size_t
tail_start(const struct grammar *g, const char *s, size_t len)
{
	size_t best = len, p;
	int misses = 0;

	if (g->tail == NULL)
		return len;
	for (p = len; p-- > 1 && misses < 5;) {
		unsigned char a = (unsigned char)s[p], b, c;

		if (!tail_unit_start(s, p))
			continue;
		b = p + 1 < len ? (unsigned char)s[p + 1] : 0;
		c = p + 2 < len ? (unsigned char)s[p + 2] : 0;
		if ((b == 0 || (g->tail_pair[a][b / 8] & (1u << (b % 8)))) &&
		    (a != ' ' || b >= 0x80 || c == 0 || c >= 0x80 ||
		     (g->tail_space3[b][c / 8] & (1u << (c % 8)))) &&
		    grammar_run(g, g->tail, g->tail_jit, s, len, p) > 0) {
			best = p;
			misses = 0;
		} else {
			misses++;
		}
	}
	while (best > 0 && s[best - 1] == ' ')
		best--;
	return best;
}

static bool
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '\'' || c >= 0x80;
}

/* The need groups whose words appear in the `len` bytes at `s`. */
static uint64_t
needs_met(const struct grammar *g, const char *s, size_t len)
{
	uint64_t met = 0;
	size_t p = 0, w;

	while (p < len) {
		bool digit = false;

		if (!is_word_byte((unsigned char)s[p])) {
			p++;
			continue;
		}
		for (w = p; w < len && is_word_byte((unsigned char)s[w]); w++)
			digit |= s[w] >= '0' && s[w] <= '9';
		if (digit)
			met |= g->need_number;
		for (uint32_t j = 0; j < g->nneed_first[(unsigned char)s[p]]; j++) {
			const struct need_word *n =
			    &g->needs[g->need_first[(unsigned char)s[p]][j]];
			/* The first byte is known equal; most others differ at
			 * the second, or only let through groups already met. */
			if ((n->groups & ~met) != 0 &&
			    (n->prefix ? w - p >= n->len : w - p == n->len) &&
			    (n->len < 2 || s[p + 1] == n->word[1]) &&
			    memcmp(s + p, n->word, n->len) == 0)
				met |= n->groups;
		}
		p = w;
	}
	return met;
}

/* The rules a message starting at `s` (`len` bytes) may meet, best first:
 * those for its first word when the patterns spell it, else those for its
 * first two bytes, else for its first byte. */
static const struct cand_list *
candidates(const struct grammar *g, const char *s, size_t len)
{
	int8_t p1 = g->pair_first_index[(unsigned char)s[0]];
	int8_t p2 = len > 1 ? g->pair_second_index[(unsigned char)s[1]] : -1;
	size_t w = 0, lo = 0, hi = g->nwords;

	if (p1 < 0 || p2 < 0)
		return &g->cand[(unsigned char)s[0]];
	while (w < len &&
	       ((s[w] >= 'a' && s[w] <= 'z') || (s[w] >= '0' && s[w] <= '9') || s[w] == '\''))
		w++;
	if (w == 0 || w >= len || s[w] != ' ')
		return &g->cand2[p1][p2];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct first_word *fw = &g->words[mid];
		size_t m = w < fw->len ? w : fw->len;
		/* Most steps differ at the first byte: no call for those. */
		int c = (unsigned char)s[0] - (unsigned char)fw->word[0];

		if (c == 0)
			c = memcmp(s, fw->word, m);
		if (c == 0)
			c = w < fw->len ? -1 : w > fw->len;
		if (c == 0)
			return &fw->cand;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &g->cand2[p1][p2];
}

/* Tries every candidate rule on the normalised text from `start`; the best
 * match wins: priority, then most slots, then the shortest title, then
 * file order. Returns true when one matched. */
static bool
parse_from(const struct grammar *g, size_t start, size_t end, const char *text, size_t len,
           struct intent *out)
{
	const struct normalized *nm = g->norm;
	const char *s = nm->text + start;
	size_t slen = end - start, i, best_tlen = SIZE_MAX;
	const struct cand_list *cand = candidates(g, s, slen);
	int best_prio = -1, best_slots = -1;
	uint64_t allowed = 0;
	bool words_seen = false;
	struct intent tmp;
	struct slot_spans sp;

	for (i = 0; i < cand->n; i++) {
		const struct rule *r = &g->rules[cand->idx[i]];
		size_t tlen;

		if (r->priority < best_prio)
			break;
		/* It cannot fill more slots than it has: no use trying it
		 * against a match of the same priority that filled more. */
		if (r->minlen > slen || r->nslots < best_slots)
			continue;
		if (r->need != 0) {
			if (!words_seen) {
				allowed = needs_met(g, s, slen);
				words_seen = true;
			}
			if ((allowed & r->need) == 0)
				continue;
		}
		if (grammar_run(g, r->code, r->jit, s, slen, 0) <= 0)
			continue;
		grammar_slots_read(g, r, &sp);
		tlen = sp.set & (1u << SLOT_TITLE) ? sp.b[SLOT_TITLE] - sp.a[SLOT_TITLE] : 0;
		if (sp.count < best_slots || (sp.count == best_slots && tlen >= best_tlen))
			continue;
		intent_clear(&tmp);
		tmp.kind = r->kind;
		tmp.media = r->media;
		if (grammar_slots_extract(g, &sp, start, text, len, &tmp) < 0)
			continue;
		tmp.confidence = r->confidence;
		tmp.source = SOURCE_GRAMMAR;
		strlcpy_u(tmp.rule, r->name, sizeof(tmp.rule));
		*out = tmp;
		best_prio = r->priority;
		best_slots = sp.count;
		best_tlen = tlen;
	}
	return best_prio >= 0;
}

/* Whether a lead can begin the `len` > 0 bytes at `s`, by its first two. */
static bool
lead_may_start(const struct grammar *g, const char *s, size_t len)
{
	unsigned char a = (unsigned char)s[0], b = len > 1 ? (unsigned char)s[1] : 0;

	return a >= 0x80 || b >= 0x80 || b == 0 || (g->lead_pair[a][b / 8] & (1u << (b % 8)));
}

void
grammar_parse_n(const struct grammar *g, const char *text, size_t len, struct intent *out)
{
	struct normalized *nm = g->norm;
	size_t base = 0, start, end;

	intent_clear(out);
	if (normalize_text(text, len, nm) < 0 || nm->len == 0)
		return;
	/* normalize took off an address to "usher"; other names are ours. */
	if (g->address != NULL &&
	    grammar_run(g, g->address, g->address_jit, nm->text, nm->len, 0) > 0)
		base = pcre2_get_ovector_pointer(g->md)[1];
	if (base >= nm->len)
		return;
	start = base;
	if (g->lead != NULL && lead_may_start(g, nm->text + base, nm->len - base) &&
	    grammar_run(g, g->lead, g->lead_jit, nm->text, nm->len, base) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
		if (ov[1] < nm->len)
			start = ov[1];
	}
	end = start + tail_start(g, nm->text + start, nm->len - start);
	if (end == start)
		end = nm->len;
	/* "please do" is a whole answer, not "please" + "do"; "thanks usher"
	 * is not "thanks" + an address. */
	if (!parse_from(g, start, end, text, len, out) && (start > base || end < nm->len))
		parse_from(g, base, nm->len, text, len, out);
}

void
grammar_parse(const struct grammar *g, const char *text, struct intent *out)
{
	grammar_parse_n(g, text, strlen(text), out);
}

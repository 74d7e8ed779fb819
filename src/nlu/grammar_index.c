/* grammar_index: the tables that let a parse try only the patterns a
 * message can meet (by its first byte, first two bytes, first word), and
 * where a tail can start. Built once per load by asking each compiled
 * pattern, with partial matches, whether a message could start so. */
#include "nlu/grammar_impl.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

static int
cmp_rule_rank(const void *a, const void *b, void *arg)
{
	const struct rule *rules = arg;
	const struct rule *x = &rules[*(const uint32_t *)a], *y = &rules[*(const uint32_t *)b];

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Whether `re` could match a message starting with the `len` bytes of
 * `probe`: a hard partial match says so whenever the probe runs out before
 * the pattern has failed, so it errs only towards trying the pattern. */
static bool
may_start(const pcre2_code *re, const char *probe, size_t len, pcre2_match_data *md)
{
	int rc =
	    pcre2_match(re, (PCRE2_SPTR)probe, len, 0, PCRE2_PARTIAL_HARD | PCRE2_NO_JIT, md, NULL);

	return rc >= 0 || rc == PCRE2_ERROR_PARTIAL;
}

/* Refines the first-byte lists to two bytes: each rule that starts with
 * known bytes is asked (a partial match on just those two bytes) whether a
 * message could start that way. Rules that can start anywhere are in every
 * list. Costs some milliseconds at load; saves most failed tries at parse. */
static void
build_pairs(struct grammar *g, const bool *anys, pcre2_match_data *md)
{
	size_t i, j, k;

	memset(g->pair_first_index, -1, sizeof(g->pair_first_index));
	memset(g->pair_second_index, -1, sizeof(g->pair_second_index));
	for (i = 0; i < NPAIR_FIRST; i++)
		g->pair_first_index[(unsigned char)GRAMMAR_PAIR_FIRST[i]] = (int8_t)i;
	for (j = 0; j < NPAIR_SECOND; j++)
		g->pair_second_index[(unsigned char)GRAMMAR_PAIR_SECOND[j]] = (int8_t)j;
	for (i = 0; i < NPAIR_FIRST; i++) {
		unsigned char b = (unsigned char)GRAMMAR_PAIR_FIRST[i];
		const struct cand_list *c1 = &g->cand[b];

		for (j = 0; j < NPAIR_SECOND; j++) {
			char probe[2] = {(char)b, GRAMMAR_PAIR_SECOND[j]};
			struct cand_list *c2 = &g->cand2[i][j];

			c2->idx = xmalloc((c1->n ? c1->n : 1) * sizeof(uint32_t));
			c2->n = 0;
			for (k = 0; k < c1->n; k++) {
				uint32_t r = c1->idx[k];
				if (anys[r] || may_start(g->rules[r].code, probe, 2, md))
					c2->idx[c2->n++] = r;
			}
		}
	}
}

static int
cmp_first_word(const void *a, const void *b)
{
	const struct first_word *x = a, *y = b;

	return strcmp(x->word, y->word);
}

/* Finest of the candidate lists: for every word the patterns spell (the
 * words a message may start with, collected while loading), the rules
 * that can start with that word and a space. A message whose first word
 * is not among them uses the two-byte list. */
static void
build_first_words(struct grammar *g, char **vocab, size_t nvocab, pcre2_match_data *md)
{
	size_t i, k;
	char probe[64];

	g->words = xcalloc(nvocab ? nvocab : 1, sizeof(*g->words));
	for (i = 0; i < nvocab; i++) {
		const char *w = vocab[i];
		size_t len = strlen(w);
		int8_t p1 = g->pair_first_index[(unsigned char)w[0]];
		int8_t p2 = g->pair_second_index[(unsigned char)(len > 1 ? w[1] : ' ')];
		const struct cand_list *from;
		struct first_word *fw;

		if (len + 1 >= sizeof(probe) || p1 < 0 || p2 < 0)
			continue;
		if (i > 0 && strcmp(w, vocab[i - 1]) == 0)
			continue;
		from = &g->cand2[p1][p2];
		memcpy(probe, w, len);
		probe[len] = ' ';
		fw = &g->words[g->nwords++];
		fw->word = xstrdup(w);
		fw->len = len;
		fw->cand.idx = xmalloc((from->n ? from->n : 1) * sizeof(uint32_t));
		for (k = 0; k < from->n; k++) {
			uint32_t r = from->idx[k];
			if (may_start(g->rules[r].code, probe, len + 1, md))
				fw->cand.idx[fw->cand.n++] = r;
		}
	}
	qsort(g->words, g->nwords, sizeof(*g->words), cmp_first_word);
}

/* `name` as a pattern matching it literally. */
static void
append_literal(struct buf *b, const char *name)
{
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;
		if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                  (c >= '0' && c <= '9') || c == ' '))
			buf_append(b, "\\", 1);
		buf_append(b, name, 1);
	}
}

int
grammar_index_build_tail(struct grammar *g, const char *const *names, size_t nnames)
{
	pcre2_code *tail = NULL, *address = NULL;
	struct buf alt, names_alt;
	pcre2_match_data *md;
	int code;
	PCRE2_SIZE at;
	size_t i;

	buf_init(&alt, 0);
	buf_init(&names_alt, 0);
	for (i = 0; i < nnames; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			continue;
		buf_append_str(&names_alt, names_alt.len ? "|" : "(?:");
		append_literal(&names_alt, names[i]);
	}
	if (names_alt.len > 0) {
		buf_append_str(&names_alt, ")");
		/* "jarvis, get dune", "hey jarvis get dune", "@jarvis:example.org". */
		buf_printf(
		    &alt,
		    "(?:(?:hey|hi|hello|yo|ok|okay|oi|dear),? )?@?%s(?::[^ ]+)?(?=[ ,:!]|\\z)"
		    "[ ,:!]*",
		    names_alt.data);
		address = pcre2_compile((PCRE2_SPTR)alt.data, alt.len,
		                        COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at, NULL);
		buf_reset(&alt);
	}
	if (g->tail_src != NULL)
		buf_printf(&alt, "%s", g->tail_src);
	if (names_alt.len > 0)
		buf_printf(&alt, "%s(?:[ ,]*@?%s(?::[^ ]+)?)", alt.len ? "|" : "", names_alt.data);
	if (alt.len > 0) {
		char *t = xasprintf("(?:%s)+\\z", alt.data);
		tail = pcre2_compile((PCRE2_SPTR)t, PCRE2_ZERO_TERMINATED,
		                     COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at, NULL);
		free(t);
	}
	buf_free(&alt);
	if ((alt.len > 0 && tail == NULL) || (names_alt.len > 0 && address == NULL)) {
		buf_free(&names_alt);
		pcre2_code_free(tail);
		pcre2_code_free(address);
		return -1;
	}
	buf_free(&names_alt);
	pcre2_code_free(g->tail);
	pcre2_code_free(g->address);
	g->tail = tail;
	g->address = address;
	g->tail_jit = tail && pcre2_jit_compile(tail, PCRE2_JIT_COMPLETE) == 0;
	g->address_jit = address && pcre2_jit_compile(address, PCRE2_JIT_COMPLETE) == 0;
	if (tail == NULL)
		return 0;
	if (g->tail_pair == NULL)
		g->tail_pair = xmalloc(256 * sizeof(*g->tail_pair));
	memset(g->tail_pair, 0xff, 256 * sizeof(*g->tail_pair));
	md = pcre2_match_data_create(1, NULL);
	for (const char *u = GRAMMAR_TAIL_STARTS; *u; u++) {
		unsigned char a = (unsigned char)*u;
		/* Bytes from 0x80 up start characters a two-byte probe cannot
		 * hold: they stay allowed. */
		for (unsigned b = 1; b < 0x80; b++) {
			char probe[2] = {(char)a, (char)b};
			if (!may_start(tail, probe, 2, md))
				g->tail_pair[a][b / 8] &= (uint8_t) ~(1u << (b % 8));
		}
	}
	pcre2_match_data_free(md);
	return 0;
}

int
grammar_index_build(struct grammar *g, uint8_t (*bitmaps)[32], const bool *anys, char **vocab,
                    size_t nvocab)
{
	pcre2_match_data *md;
	size_t i;
	int b;

	for (b = 0; b < 256; b++) {
		struct cand_list *c = &g->cand[b];
		c->idx = xmalloc((g->nrules ? g->nrules : 1) * sizeof(uint32_t));
		c->n = 0;
		for (i = 0; i < g->nrules; i++) {
			if (anys[i] || (bitmaps[i][b / 8] & (1u << (b % 8))))
				c->idx[c->n++] = (uint32_t)i;
		}
		qsort_r(c->idx, c->n, sizeof(uint32_t), cmp_rule_rank, g->rules);
	}
	md = pcre2_match_data_create(1, NULL);
	if (md == NULL)
		return -1;
	build_pairs(g, anys, md);
	build_first_words(g, vocab, nvocab, md);
	pcre2_match_data_free(md);
	return 0;
}

/* grammar_index: what keeps a parse cheap. The tables that let a parse
 * try only the patterns a message can meet (by its first byte, first two
 * bytes, first word), and where a lead or a tail can start, built once per
 * load by asking each compiled pattern, with partial matches, whether a
 * message could start so; and the patterns themselves, rewritten before
 * they are compiled so that each try costs less (grammar_compile()). */
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
		address = grammar_compile(alt.data, COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at);
		buf_reset(&alt);
	}
	if (g->tail_src != NULL)
		buf_printf(&alt, "%s", g->tail_src);
	if (names_alt.len > 0)
		buf_printf(&alt, "%s(?:[ ,]*@?%s(?::[^ ]+)?)", alt.len ? "|" : "", names_alt.data);
	if (alt.len > 0) {
		char *t = xasprintf("(?:%s)+\\z", alt.data);
		tail = grammar_compile(t, COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at);
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
	if (g->tail_space3 == NULL)
		g->tail_space3 = xmalloc(128 * sizeof(*g->tail_space3));
	memset(g->tail_space3, 0xff, 128 * sizeof(*g->tail_space3));
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
	/* After a space, a third byte: only where the pair may start one. */
	for (unsigned b = 0x21; b < 0x7f; b++) {
		if (!(g->tail_pair[' '][b / 8] & (1u << (b % 8))))
			continue;
		for (unsigned c = 1; c < 0x80; c++) {
			char probe[3] = {' ', (char)b, (char)c};
			if (!may_start(tail, probe, 3, md))
				g->tail_space3[b][c / 8] &= (uint8_t) ~(1u << (c % 8));
		}
	}
	pcre2_match_data_free(md);
	return 0;
}

void
grammar_index_build_lead(struct grammar *g)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);

	g->lead_pair = xmalloc(128 * sizeof(*g->lead_pair));
	memset(g->lead_pair, 0xff, 128 * sizeof(*g->lead_pair));
	for (unsigned a = 1; a < 0x80; a++) {
		char probe[2] = {(char)a, 0};

		if (!may_start(g->lead, probe, 1, md)) {
			memset(g->lead_pair[a], 0, sizeof(g->lead_pair[a]));
			continue;
		}
		for (unsigned b = 1; b < 0x80; b++) {
			probe[1] = (char)b;
			if (!may_start(g->lead, probe, 2, md))
				g->lead_pair[a][b / 8] &= (uint8_t) ~(1u << (b % 8));
		}
	}
	pcre2_match_data_free(md);
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

/* Rewriting patterns so that PCRE2 tries fewer alternatives. PCRE2 tries
 * the branches of a group one after another, so a fragment like
 * {other_word} (fifty words) costs fifty tries at every place it may
 * start. Sharing the first characters of the branches that spell words
 * ("movie|mini-?series|film" becomes "m(?:ovie|ini-?series)|film") makes
 * a failing place cost a few tries, and the grammar file stays a plain
 * list of words. Only branches that start with a plain character and hold
 * no capture group move, and two branches that start with different
 * characters never match at the same place, so what a pattern matches,
 * and what each of its groups captures, is unchanged. Patterns using
 * syntax this does not follow are left as written. */

#define FACTOR_DEPTH_MAX 100

/* One branch of a group, already rewritten. */
struct branch {
	char *text;
	size_t len;
	bool movable; /* starts with a plain character, holds no capture */
};

static bool
is_meta(char c)
{
	return c == '\0' || strchr("\\^$.[|()?*+{", c) != NULL;
}

static bool
is_quantifier(char c)
{
	return c == '?' || c == '*' || c == '+' || c == '{';
}

/* Whether s[i] is a plain character that nothing quantifies. */
static bool
plain_at(const char *s, size_t len, size_t i)
{
	return i < len && !is_meta(s[i]) && (unsigned char)s[i] < 0x80 &&
	       (i + 1 >= len || !is_quantifier(s[i + 1]));
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int rewrite_branches(const char *p, size_t n, size_t *i, struct buf *out, bool *capture,
                            int depth, bool behind);

static bool
is_name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Reads the head of the group whose '(' is at p[i] ("(", "(?:", "(?<=",
 * "(?<name>"...): sets *len to its bytes and *capture. Returns false for
 * constructs this rewriter does not follow (verbs, conditions, recursion,
 * inline options, comments, branch reset). */
static bool
group_head(const char *p, size_t n, size_t i, size_t *len, bool *capture)
{
	size_t j, name;
	char close;

	*capture = false;
	if (i + 1 >= n || p[i + 1] == '*')
		return false;
	if (p[i + 1] != '?') {
		*capture = true;
		*len = 1;
		return true;
	}
	if (i + 2 >= n)
		return false;
	switch (p[i + 2]) {
	case ':':
	case '=':
	case '!':
	case '>':
		*len = 3;
		return true;
	case '<':
		if (i + 3 < n && (p[i + 3] == '=' || p[i + 3] == '!')) {
			*len = 4;
			return true;
		}
		name = i + 3;
		close = '>';
		break;
	case '\'':
		name = i + 3;
		close = '\'';
		break;
	case 'P':
		if (i + 3 >= n || p[i + 3] != '<')
			return false;
		name = i + 4;
		close = '>';
		break;
	default:
		return false;
	}
	for (j = name; j < n && is_name_byte(p[j]); j++)
		;
	if (j == name || j >= n || p[j] != close)
		return false;
	*capture = true;
	*len = j + 1 - i;
	return true;
}

/* Copies one branch (up to '|', ')' or the end) into `out`, rewriting the
 * groups in it. Returns 0, or -1 on syntax this does not follow. */
static int
rewrite_branch(const char *p, size_t n, size_t *i, struct buf *out, bool *capture, int depth,
               bool behind)
{
	while (*i < n && p[*i] != '|' && p[*i] != ')') {
		size_t s = *i, j, head;
		bool cap;

		if (p[s] == '\\') {
			if (s + 1 >= n || p[s + 1] == 'Q')
				return -1;
			buf_append(out, p + s, 2);
			*i = s + 2;
			continue;
		}
		if (p[s] == '[') {
			j = s + 1;
			if (j < n && p[j] == '^')
				j++;
			if (j < n && p[j] == ']')
				j++;
			while (j < n && p[j] != ']') {
				if (p[j] == '[' && j + 1 < n && p[j + 1] == ':')
					return -1;
				j += p[j] == '\\' ? 2 : 1;
			}
			if (j >= n)
				return -1;
			buf_append(out, p + s, j + 1 - s);
			*i = j + 1;
			continue;
		}
		if (p[s] != '(') {
			buf_append(out, p + s, 1);
			*i = s + 1;
			continue;
		}
		if (depth >= FACTOR_DEPTH_MAX)
			return -1;
		if (!group_head(p, n, s, &head, &cap))
			return -1;
		*capture |= cap;
		buf_append(out, p + s, head);
		*i = s + head;
		/* A lookbehind's branches must each keep a fixed length:
		 * nothing in one is moved. */
		if (rewrite_branches(p, n, i, out, capture, depth + 1,
		                     behind || (head == 4 && p[s + 2] == '<')) < 0)
			return -1;
		if (*i >= n || p[*i] != ')')
			return -1;
		buf_append(out, ")", 1);
		(*i)++;
	}
	return 0;
}

static void factor(struct branch *b, size_t nb, struct buf *out);

/* Writes the movable branches b[0..nb) with shared first characters
 * taken out: one alternative per first character, in the order each first
 * appears (branches with different firsts never both match at a place). */
static void
factor_run(struct branch *b, size_t nb, struct buf *out)
{
	bool *done = xcalloc(nb, sizeof(*done));
	struct branch *rest = xcalloc(nb, sizeof(*rest));
	size_t i, k, m, pre;
	bool first = true;

	for (i = 0; i < nb; i++) {
		char c;

		if (done[i])
			continue;
		c = lower(b[i].text[0]);
		m = 0;
		for (k = i; k < nb; k++) {
			if (!done[k] && lower(b[k].text[0]) == c) {
				done[k] = true;
				rest[m++] = b[k];
			}
		}
		if (!first)
			buf_append(out, "|", 1);
		first = false;
		if (m == 1) {
			buf_append(out, b[i].text, b[i].len);
			continue;
		}
		/* The longest plain prefix the m branches share. */
		for (pre = 1;; pre++) {
			for (k = 0; k < m; k++) {
				if (!plain_at(rest[k].text, rest[k].len, pre) ||
				    lower(rest[k].text[pre]) != lower(rest[0].text[pre]))
					break;
			}
			if (k < m)
				break;
		}
		buf_append(out, rest[0].text, pre);
		for (k = 0; k < m; k++) {
			rest[k].text += pre;
			rest[k].len -= pre;
			rest[k].movable = plain_at(rest[k].text, rest[k].len, 0);
		}
		buf_append(out, "(?:", 3);
		factor(rest, m, out);
		buf_append(out, ")", 1);
	}
	free(rest);
	free(done);
}

/* Writes the branches b[0..nb) as alternatives; a branch that may not
 * move stays where it is, and runs of movable ones between are factored. */
static void
factor(struct branch *b, size_t nb, struct buf *out)
{
	size_t i = 0, j;

	while (i < nb) {
		if (i > 0)
			buf_append(out, "|", 1);
		if (!b[i].movable) {
			buf_append(out, b[i].text, b[i].len);
			i++;
			continue;
		}
		for (j = i; j < nb && b[j].movable; j++)
			;
		factor_run(b + i, j - i, out);
		i = j;
	}
}

/* Rewrites the branches of a group body (up to its ')' or the end). */
static int
rewrite_branches(const char *p, size_t n, size_t *i, struct buf *out, bool *capture, int depth,
                 bool behind)
{
	struct branch *b = NULL;
	size_t nb = 0, k;
	int ret = 0;

	for (;;) {
		struct buf one;
		bool cap = false;

		buf_init(&one, 0);
		ret = rewrite_branch(p, n, i, &one, &cap, depth, behind);
		b = xrealloc(b, (nb + 1) * sizeof(*b));
		b[nb].len = one.len;
		b[nb].text = buf_steal(&one);
		b[nb].movable = !behind && !cap && plain_at(b[nb].text, b[nb].len, 0);
		nb++;
		*capture |= cap;
		if (ret < 0 || *i >= n || p[*i] != '|')
			break;
		(*i)++;
	}
	if (ret == 0)
		factor(b, nb, out);
	for (k = 0; k < nb; k++)
		free(b[k].text);
	free(b);
	return ret;
}

char *
grammar_factor(const char *pattern)
{
	size_t n = strlen(pattern), i = 0;
	struct buf out;
	bool capture = false;

	buf_init(&out, 0);
	if (rewrite_branches(pattern, n, &i, &out, &capture, 0, false) < 0 || i != n) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

pcre2_code *
grammar_compile(const char *pattern, uint32_t options, int *code, PCRE2_SIZE *at)
{
	char *f = grammar_factor(pattern);
	pcre2_code *re = NULL;

	if (f != NULL)
		re = pcre2_compile((PCRE2_SPTR)f, PCRE2_ZERO_TERMINATED, options, code, at, NULL);
	free(f);
	if (re == NULL)
		re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, code, at,
		                   NULL);
	return re;
}

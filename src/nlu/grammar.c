#define PCRE2_CODE_UNIT_WIDTH 8
#include "nlu/grammar.h"

#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/util.h"
#include "nlu/intent.h"
#include "nlu/normalize.h"

#define GRAMMAR_FILE_MAX   (1024 * 1024)
#define FRAGMENT_DEPTH     8
#define SLOT_GROUPS_MAX    8
#define MATCH_LIMIT        50000
#define DEPTH_LIMIT        2000
#define HEAP_LIMIT_KIB     4096
#define JIT_STACK_START    (32 * 1024)
#define JIT_STACK_MAX      (512 * 1024)
#define COMPILE_OPTIONS    (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES)
#define DEFAULT_PRIORITY   50
#define DEFAULT_CONFIDENCE 0.9f

enum slot {
	SLOT_TITLE,
	SLOT_YEAR,
	SLOT_SEASON,
	SLOT_EPISODE,
	SLOT_CHOICE,
	SLOT_ALL_SEASONS,
	SLOT_LATEST,
	SLOT_UHD,
	SLOT_MOVIE,
	SLOT_TV,
	SLOT_OTHER,
	SLOT_COUNT
};

static const char *const slot_names[SLOT_COUNT] = {
    "title",  "year", "season", "episode", "choice", "all_seasons",
    "latest", "uhd",  "movie",  "tv",      "other",
};

struct rule {
	char *name;
	enum intent_kind kind;
	enum intent_media media;
	int priority;
	float confidence;
	size_t order; /* file order: the last tie-breaker */
	pcre2_code *code;
	bool jit;
	uint32_t minlen; /* characters; a shorter text cannot match */
	uint64_t need;   /* its `need:` group bit; 0: tried whatever the words */
	uint8_t ngroups[SLOT_COUNT];
	uint16_t groups[SLOT_COUNT][SLOT_GROUPS_MAX];
};

#define NEED_GROUPS_MAX 64

/* The two-byte candidate table covers messages starting with these. */
static const char PAIR_FIRST[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char PAIR_SECOND[] = "abcdefghijklmnopqrstuvwxyz0123456789' :,.-?!#";
#define NPAIR_FIRST  (sizeof(PAIR_FIRST) - 1)
#define NPAIR_SECOND (sizeof(PAIR_SECOND) - 1)
static int8_t pair_first_index[256], pair_second_index[256];

/* A `need:` word and the rules (group bits) that it lets through. */
struct need_word {
	char *word;
	size_t len;
	bool prefix; /* "subtitle*" */
	uint64_t groups;
};

struct grammar {
	struct rule *rules;
	size_t nrules;
	struct need_word *needs; /* sorted by word */
	size_t nneeds;
	uint64_t need_number;      /* groups let through by any word with a digit */
	uint32_t *need_first[256]; /* need words by first byte */
	uint32_t nneed_first[256];
	int ngroups;
	pcre2_code *lead; /* stripped before the rules are tried; may be NULL */
	bool lead_jit;
	pcre2_code *tail; /* stripped off the end likewise; may be NULL */
	bool tail_jit;
	/* Rules that can start with byte b, best first (priority, file order);
	 * and, finer, with the two bytes PAIR_FIRST[i] PAIR_SECOND[j]. */
	uint32_t *cand[256];
	uint32_t ncand[256];
	uint32_t *cand2[NPAIR_FIRST][NPAIR_SECOND];
	uint32_t ncand2[NPAIR_FIRST][NPAIR_SECOND];
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *md;
	struct normalized *norm; /* scratch, reused by every parse */
};

struct fragment {
	char *name;
	char *text;
};

/* What a file being loaded has said so far. */
struct loader {
	struct grammar *g;
	const char *file;
	struct fragment *frags;
	size_t nfrags;
	struct buf lead_alt; /* every file's `lead`, as alternatives */
	struct buf tail_alt; /* every file's `tail`, as alternatives */
	char *err;
	size_t errlen;
	/* The rule being read. */
	char *rule_name;
	int rule_line;
	bool has_intent;
	enum intent_kind kind;
	enum intent_media media;
	int priority;
	float confidence;
	char *need; /* the rule's `need:` words, or NULL */
	size_t npending;
	struct pending {
		char *pattern;
		int line;
	} * pending;
};

static int fail(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct loader *ld, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->file, line);

	if (n >= 0 && (size_t)n < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const struct fragment *
find_fragment(const struct loader *ld, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ld->nfrags; i++) {
		if (strlen(ld->frags[i].name) == len && memcmp(ld->frags[i].name, name, len) == 0)
			return &ld->frags[i];
	}
	return NULL;
}

static bool
is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Expands {name} references in `src` into `out`; offs[i] is the offset in
 * `src` each output byte came from (a fragment's bytes all point at its
 * opening brace), so PCRE2's error offsets can be shown against the line
 * as written. `{2}` and `{1,3}` are quantifiers and stay. */
static int
expand(struct loader *ld, int line, const char *src, struct buf *out, size_t **offs)
{
	size_t i = 0, n = strlen(src), cap = n + 64;

	*offs = xmalloc(cap * sizeof(size_t));
	buf_reset(out);
	while (i < n) {
		const char *piece = src + i;
		size_t plen = 1, j;

		if (src[i] == '\\' && i + 1 < n) {
			plen = 2;
		} else if (src[i] == '{' && i + 1 < n && is_name_start(src[i + 1])) {
			const struct fragment *f;
			j = i + 1;
			while (j < n && is_name_char(src[j]))
				j++;
			if (j >= n || src[j] != '}') {
				free(*offs);
				*offs = NULL;
				return fail(ld, line,
				            "unterminated fragment reference (at offset %zu)", i);
			}
			f = find_fragment(ld, src + i + 1, j - i - 1);
			if (f == NULL) {
				free(*offs);
				*offs = NULL;
				return fail(ld, line, "unknown fragment {%.*s} (at offset %zu)",
				            (int)(j - i - 1), src + i + 1, i);
			}
			buf_append_str(out, "(?:");
			buf_append_str(out, f->text);
			buf_append_str(out, ")");
			if (out->len + 1 > cap) {
				cap = out->len + n + 64;
				*offs = xrealloc(*offs, cap * sizeof(size_t));
			}
			for (size_t k = out->len - strlen(f->text) - 4; k < out->len; k++)
				(*offs)[k] = i;
			i = j + 1;
			continue;
		}
		buf_append(out, piece, plen);
		if (out->len + 1 > cap) {
			cap = out->len + n + 64;
			*offs = xrealloc(*offs, cap * sizeof(size_t));
		}
		for (j = 0; j < plen; j++)
			(*offs)[out->len - plen + j] = i + j;
		i += plen;
	}
	return 0;
}

/* Compiles `prefix EXPANDED suffix`, reporting errors against `written`. */
static pcre2_code *
compile(struct loader *ld, int line, const char *prefix, const char *expanded, const size_t *offs,
        const char *suffix, uint32_t options)
{
	char *full = xasprintf("%s%s%s", prefix, expanded, suffix);
	int code;
	PCRE2_SIZE at;
	pcre2_code *re;

	re = pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED, options, &code, &at, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		size_t plen = strlen(prefix), elen = strlen(expanded), shown;

		pcre2_get_error_message(code, msg, sizeof(msg));
		if (at < plen)
			shown = 0;
		else if (at - plen < elen)
			shown = offs[at - plen];
		else
			shown = elen ? offs[elen - 1] + 1 : 0;
		fail(ld, line, "%s (at offset %zu)", (const char *)msg, shown);
	}
	free(full);
	return re;
}

static int
define_fragment(struct loader *ld, int line, const char *name, const char *pattern)
{
	struct buf out;
	size_t *offs = NULL;
	pcre2_code *re;

	if (find_fragment(ld, name, strlen(name)) != NULL)
		return fail(ld, line, "fragment {%s} is already defined", name);
	buf_init(&out, 0);
	if (expand(ld, line, pattern, &out, &offs) < 0) {
		buf_free(&out);
		return -1;
	}
	/* A fragment must stand on its own, so its errors point here and not
	 * at every rule that uses it. */
	re = compile(ld, line, "(?:", out.data ? out.data : "", offs, ")", COMPILE_OPTIONS);
	free(offs);
	if (re == NULL) {
		buf_free(&out);
		return -1;
	}
	pcre2_code_free(re);
	ld->frags = xrealloc(ld->frags, (ld->nfrags + 1) * sizeof(*ld->frags));
	ld->frags[ld->nfrags].name = xstrdup(name);
	ld->frags[ld->nfrags].text = buf_steal(&out);
	if (strcmp(name, "tail") == 0) {
		buf_append_str(&ld->tail_alt, ld->tail_alt.len ? "|(?:" : "(?:");
		buf_append_str(&ld->tail_alt, ld->frags[ld->nfrags].text);
		buf_append_str(&ld->tail_alt, ")");
	} else if (strcmp(name, "lead") == 0) {
		buf_append_str(&ld->lead_alt, ld->lead_alt.len ? "|(?:" : "(?:");
		buf_append_str(&ld->lead_alt, ld->frags[ld->nfrags].text);
		buf_append_str(&ld->lead_alt, ")");
	}
	ld->nfrags++;
	buf_free(&out);
	return 0;
}

/* Records which capture groups fill which slot; an unknown group name is
 * an error, since it is almost always a typo that would silently lose a
 * slot. */
static int
map_groups(struct loader *ld, int line, struct rule *r)
{
	uint32_t count, size, i;
	PCRE2_SPTR table;

	memset(r->ngroups, 0, sizeof(r->ngroups));
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		uint16_t group = (uint16_t)((e[0] << 8) | e[1]);
		const char *name = (const char *)e + 2;
		int s;

		for (s = 0; s < SLOT_COUNT; s++) {
			if (strcmp(name, slot_names[s]) == 0)
				break;
		}
		if (s == SLOT_COUNT)
			return fail(ld, line, "unknown slot (?<%s>...)", name);
		if (r->ngroups[s] < SLOT_GROUPS_MAX)
			r->groups[s][r->ngroups[s]++] = group;
	}
	return 0;
}

static void
set_first_bytes(struct loader *ld, struct rule *r, const char *expanded, uint8_t *bits, bool *any)
{
	/* PCRE2 computes no start-of-match data for anchored patterns, so a
	 * second, unanchored compile is made only to ask it which bytes a
	 * match can start with. */
	char *full = xasprintf("(?:%s)", expanded);
	int code;
	PCRE2_SIZE at;
	pcre2_code *re;
	uint32_t type = 0;

	(void)ld;
	*any = true;
	re = pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED, COMPILE_OPTIONS, &code, &at,
	                   NULL);
	free(full);
	if (re == NULL)
		return;
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &type);
	if (type == 1) {
		uint32_t cu = 0;
		pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT, &cu);
		memset(bits, 0, 32);
		if (cu < 256) {
			bits[cu / 8] |= (uint8_t)(1u << (cu % 8));
			if (cu >= 'a' && cu <= 'z')
				cu -= 32;
			else if (cu >= 'A' && cu <= 'Z')
				cu += 32;
			bits[cu / 8] |= (uint8_t)(1u << (cu % 8));
			*any = false;
		}
	} else if (type == 0) {
		const uint8_t *map = NULL;
		pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &map);
		if (map != NULL) {
			memcpy(bits, map, 32);
			*any = false;
		}
	}
	(void)r;
	pcre2_code_free(re);
}

/* Records the words of a `need:` line for the group `bit`. */
static void
add_needs(struct grammar *g, const char *list, uint64_t bit)
{
	char *copy = xstrdup(list), *w, *save = NULL;

	for (w = strtok_r(copy, " |,", &save); w != NULL; w = strtok_r(NULL, " |,", &save)) {
		size_t len = strlen(w), i;
		bool prefix = len > 1 && w[len - 1] == '*';

		if (strcmp(w, "<number>") == 0) {
			g->need_number |= bit;
			continue;
		}
		if (prefix)
			w[--len] = '\0';
		for (i = 0; i < len; i++) {
			if (w[i] >= 'A' && w[i] <= 'Z')
				w[i] = (char)(w[i] + 32);
		}
		for (i = 0; i < g->nneeds; i++) {
			if (g->needs[i].prefix == prefix && strcmp(g->needs[i].word, w) == 0)
				break;
		}
		if (i == g->nneeds) {
			g->needs = xrealloc(g->needs, (g->nneeds + 1) * sizeof(*g->needs));
			g->needs[i].word = xstrdup(w);
			g->needs[i].len = len;
			g->needs[i].prefix = prefix;
			g->needs[i].groups = 0;
			g->nneeds++;
		}
		g->needs[i].groups |= bit;
	}
	free(copy);
}

/* Compiles the patterns of the rule just read. */
static int
finish_rule(struct loader *ld, uint8_t (**bitmaps)[32], bool **anys)
{
	struct grammar *g = ld->g;
	size_t p;
	int ret = 0;

	if (ld->rule_name == NULL)
		return 0;
	if (!ld->has_intent)
		ret = fail(ld, ld->rule_line, "rule %s has no intent", ld->rule_name);
	else if (ld->npending == 0)
		ret = fail(ld, ld->rule_line, "rule %s has no match", ld->rule_name);
	if (ret == 0 && ld->need != NULL) {
		if (g->ngroups >= NEED_GROUPS_MAX)
			ret = fail(ld, ld->rule_line,
			           "more than %d rules with need:", NEED_GROUPS_MAX);
		else
			add_needs(g, ld->need, (uint64_t)1 << g->ngroups++);
	}
	for (p = 0; ret == 0 && p < ld->npending; p++) {
		struct buf out;
		size_t *offs = NULL;
		char *suffix;
		struct rule *r;

		buf_init(&out, 0);
		if (expand(ld, ld->pending[p].line, ld->pending[p].pattern, &out, &offs) < 0) {
			buf_free(&out);
			ret = -1;
			break;
		}
		g->rules = xrealloc(g->rules, (g->nrules + 1) * sizeof(*g->rules));
		*bitmaps = xrealloc(*bitmaps, (g->nrules + 1) * sizeof(**bitmaps));
		*anys = xrealloc(*anys, (g->nrules + 1) * sizeof(**anys));
		r = &g->rules[g->nrules];
		memset(r, 0, sizeof(*r));
		suffix = xstrdup(")\\z");
		r->code = compile(ld, ld->pending[p].line, "(?:", out.data ? out.data : "", offs,
		                  suffix, COMPILE_OPTIONS | PCRE2_ANCHORED);
		free(suffix);
		free(offs);
		if (r->code == NULL) {
			buf_free(&out);
			ret = -1;
			break;
		}
		g->nrules++;
		r->name = xstrdup(ld->rule_name);
		r->kind = ld->kind;
		r->media = ld->media;
		r->priority = ld->priority;
		r->confidence = ld->confidence;
		r->order = g->nrules - 1;
		r->need = ld->need ? (uint64_t)1 << (g->ngroups - 1) : 0;
		r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
		pcre2_pattern_info(r->code, PCRE2_INFO_MINLENGTH, &r->minlen);
		if (map_groups(ld, ld->pending[p].line, r) < 0) {
			buf_free(&out);
			ret = -1;
			break;
		}
		set_first_bytes(ld, r, out.data ? out.data : "", (*bitmaps)[g->nrules - 1],
		                &(*anys)[g->nrules - 1]);
		buf_free(&out);
	}
	for (p = 0; p < ld->npending; p++)
		free(ld->pending[p].pattern);
	ld->npending = 0;
	free(ld->rule_name);
	ld->rule_name = NULL;
	free(ld->need);
	ld->need = NULL;
	return ret;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static bool
valid_name(const char *s)
{
	if (!is_name_start(*s))
		return false;
	for (; *s; s++) {
		if (!is_name_char(*s) && *s != '-')
			return false;
	}
	return true;
}

static int
load_text(struct loader *ld, const char *text, uint8_t (**bitmaps)[32], bool **anys)
{
	char *copy = xstrdup(text), *line, *next;
	int lineno = 0, ret = 0;

	for (line = copy; ret == 0 && line != NULL; line = next) {
		char *s, *colon;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "define ", 7) == 0) {
			char *eq = strchr(s, '=');
			char *name;
			if (eq == NULL) {
				ret = fail(ld, lineno, "define needs NAME = PATTERN");
				break;
			}
			*eq = '\0';
			name = trim(s + 7);
			if (!valid_name(name) || strchr(name, '-')) {
				ret = fail(ld, lineno, "bad fragment name \"%s\"", name);
				break;
			}
			if ((ret = finish_rule(ld, bitmaps, anys)) < 0)
				break;
			ret = define_fragment(ld, lineno, name, trim(eq + 1));
			continue;
		}
		if (strncmp(s, "rule ", 5) == 0) {
			char *name = trim(s + 5);
			if ((ret = finish_rule(ld, bitmaps, anys)) < 0)
				break;
			if (!valid_name(name) || strlen(name) >= INTENT_RULE_MAX) {
				ret = fail(ld, lineno, "bad rule name \"%s\"", name);
				break;
			}
			ld->rule_name = xstrdup(name);
			ld->rule_line = lineno;
			ld->has_intent = false;
			ld->media = MEDIA_ANY;
			ld->priority = DEFAULT_PRIORITY;
			ld->confidence = DEFAULT_CONFIDENCE;
			continue;
		}
		colon = strchr(s, ':');
		if (colon == NULL) {
			ret = fail(ld, lineno, "expected `define`, `rule` or `key: value`");
			break;
		}
		*colon = '\0';
		if (ld->rule_name == NULL) {
			ret = fail(ld, lineno, "\"%s:\" outside a rule", trim(s));
			break;
		}
		{
			char *key = trim(s), *val = trim(colon + 1), *end;

			if (strcmp(key, "match") == 0) {
				if (*val == '\0') {
					ret = fail(ld, lineno, "empty match");
					break;
				}
				ld->pending = xrealloc(ld->pending,
				                       (ld->npending + 1) * sizeof(*ld->pending));
				ld->pending[ld->npending].pattern = xstrdup(val);
				ld->pending[ld->npending].line = lineno;
				ld->npending++;
			} else if (strcmp(key, "need") == 0) {
				if (*val == '\0') {
					ret = fail(ld, lineno, "empty need");
					break;
				}
				free(ld->need);
				ld->need = xstrdup(val);
			} else if (strcmp(key, "intent") == 0) {
				if (intent_kind_from_name(val, &ld->kind) < 0) {
					ret = fail(ld, lineno, "unknown intent \"%s\"", val);
					break;
				}
				ld->has_intent = true;
			} else if (strcmp(key, "media") == 0) {
				if (intent_media_from_name(val, &ld->media) < 0) {
					ret = fail(ld, lineno, "unknown media \"%s\"", val);
					break;
				}
			} else if (strcmp(key, "priority") == 0) {
				long v = strtol(val, &end, 10);
				if (*val == '\0' || *end != '\0' || v < 0 || v > 1000) {
					ret = fail(ld, lineno, "priority must be 0..1000");
					break;
				}
				ld->priority = (int)v;
			} else if (strcmp(key, "confidence") == 0) {
				float v = strtof(val, &end);
				if (*val == '\0' || *end != '\0' || !(v >= 0.0f && v <= 1.0f)) {
					ret = fail(ld, lineno, "confidence must be 0..1");
					break;
				}
				ld->confidence = v;
			} else {
				ret = fail(ld, lineno, "unknown key \"%s\"", key);
				break;
			}
		}
	}
	if (ret == 0)
		ret = finish_rule(ld, bitmaps, anys);
	free(copy);
	return ret;
}

static void
loader_end_file(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nfrags; i++) {
		free(ld->frags[i].name);
		free(ld->frags[i].text);
	}
	free(ld->frags);
	ld->frags = NULL;
	ld->nfrags = 0;
	for (i = 0; i < ld->npending; i++)
		free(ld->pending[i].pattern);
	free(ld->pending);
	ld->pending = NULL;
	ld->npending = 0;
	free(ld->rule_name);
	ld->rule_name = NULL;
	free(ld->need);
	ld->need = NULL;
}

static int
cmp_rule_rank(const void *a, const void *b, void *arg)
{
	const struct rule *rules = arg;
	const struct rule *x = &rules[*(const uint32_t *)a], *y = &rules[*(const uint32_t *)b];

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Refines the first-byte lists to two bytes: each rule that starts with
 * known bytes is asked (a partial match on just those two bytes) whether a
 * message could start that way. Rules that can start anywhere are in every
 * list. Costs some milliseconds at load; saves most failed tries at parse. */
static void
build_pairs(struct grammar *g, const bool *anys)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	size_t i, j, k;

	memset(pair_first_index, -1, sizeof(pair_first_index));
	memset(pair_second_index, -1, sizeof(pair_second_index));
	for (i = 0; i < NPAIR_FIRST; i++)
		pair_first_index[(unsigned char)PAIR_FIRST[i]] = (int8_t)i;
	for (j = 0; j < NPAIR_SECOND; j++)
		pair_second_index[(unsigned char)PAIR_SECOND[j]] = (int8_t)j;
	for (i = 0; i < NPAIR_FIRST; i++) {
		unsigned char b = (unsigned char)PAIR_FIRST[i];
		for (j = 0; j < NPAIR_SECOND; j++) {
			char probe[2] = {(char)b, PAIR_SECOND[j]};
			uint32_t *list =
			    xmalloc((g->ncand[b] ? g->ncand[b] : 1) * sizeof(uint32_t));
			uint32_t n = 0;

			for (k = 0; k < g->ncand[b]; k++) {
				uint32_t r = g->cand[b][k];
				int rc;
				if (anys[r]) {
					list[n++] = r;
					continue;
				}
				rc = pcre2_match(g->rules[r].code, (PCRE2_SPTR)probe, 2, 0,
				                 PCRE2_PARTIAL_SOFT | PCRE2_NO_JIT, md, NULL);
				if (rc >= 0 || rc == PCRE2_ERROR_PARTIAL)
					list[n++] = r;
			}
			g->cand2[i][j] = list;
			g->ncand2[i][j] = n;
		}
	}
	pcre2_match_data_free(md);
}

/* Makes the loaded rules usable: candidate lists, lead, match resources. */
static int
grammar_finish(struct loader *ld, uint8_t (*bitmaps)[32], const bool *anys)
{
	struct grammar *g = ld->g;
	uint32_t maxcap = 1;
	size_t i;
	int b;

	for (b = 0; b < 256; b++) {
		g->cand[b] = xmalloc((g->nrules ? g->nrules : 1) * sizeof(uint32_t));
		g->ncand[b] = 0;
		for (i = 0; i < g->nrules; i++) {
			if (anys[i] || (bitmaps[i][b / 8] & (1u << (b % 8))))
				g->cand[b][g->ncand[b]++] = (uint32_t)i;
		}
		qsort_r(g->cand[b], g->ncand[b], sizeof(uint32_t), cmp_rule_rank, g->rules);
	}
	build_pairs(g, anys);
	for (i = 0; i < g->nneeds; i++) {
		unsigned char c = (unsigned char)g->needs[i].word[0];
		g->need_first[c] =
		    xrealloc(g->need_first[c], (g->nneed_first[c] + 1) * sizeof(uint32_t));
		g->need_first[c][g->nneed_first[c]++] = (uint32_t)i;
	}
	for (i = 0; i < g->nrules; i++) {
		uint32_t c;
		pcre2_pattern_info(g->rules[i].code, PCRE2_INFO_CAPTURECOUNT, &c);
		if (c + 1 > maxcap)
			maxcap = c + 1;
	}
	if (ld->tail_alt.len > 0) {
		int code;
		PCRE2_SIZE at;
		char *t = xasprintf("(?:%s)+\\z", ld->tail_alt.data);
		g->tail = pcre2_compile((PCRE2_SPTR)t, PCRE2_ZERO_TERMINATED,
		                        COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at, NULL);
		free(t);
		if (g->tail == NULL)
			return fail(ld, 0, "the combined tail does not compile");
		g->tail_jit = pcre2_jit_compile(g->tail, PCRE2_JIT_COMPLETE) == 0;
	}
	if (ld->lead_alt.len > 0) {
		int code;
		PCRE2_SIZE at;
		g->lead = pcre2_compile((PCRE2_SPTR)ld->lead_alt.data, ld->lead_alt.len,
		                        COMPILE_OPTIONS | PCRE2_ANCHORED, &code, &at, NULL);
		if (g->lead == NULL)
			return fail(ld, 0, "the combined lead does not compile");
		g->lead_jit = pcre2_jit_compile(g->lead, PCRE2_JIT_COMPLETE) == 0;
	}
	g->mctx = pcre2_match_context_create(NULL);
	g->jit_stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
	g->md = pcre2_match_data_create(maxcap, NULL);
	g->norm = xmalloc(sizeof(*g->norm));
	if (g->mctx == NULL || g->jit_stack == NULL || g->md == NULL)
		return fail(ld, 0, "out of memory for the match context");
	pcre2_set_match_limit(g->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(g->mctx, DEPTH_LIMIT);
	pcre2_set_heap_limit(g->mctx, HEAP_LIMIT_KIB);
	pcre2_jit_stack_assign(g->mctx, NULL, g->jit_stack);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads `n` files (paths, or one string when `text` is set). */
static struct grammar *
load(const char *const *paths, size_t n, const char *text, char *err, size_t errlen)
{
	struct loader ld;
	uint8_t(*bitmaps)[32] = NULL;
	bool *anys = NULL;
	size_t i;
	int ret = 0;

	memset(&ld, 0, sizeof(ld));
	ld.g = xcalloc(1, sizeof(*ld.g));
	ld.err = err;
	ld.errlen = errlen;
	buf_init(&ld.lead_alt, 0);
	buf_init(&ld.tail_alt, 0);
	if (errlen)
		err[0] = '\0';
	for (i = 0; ret == 0 && i < n; i++) {
		char *data = NULL;

		ld.file = paths[i];
		if (text == NULL) {
			data = file_read_all(paths[i], GRAMMAR_FILE_MAX, NULL);
			if (data == NULL) {
				snprintf(err, errlen, "%s: %s", paths[i], strerror(errno));
				ret = -1;
				break;
			}
		}
		ret = load_text(&ld, text ? text : data, &bitmaps, &anys);
		free(data);
		loader_end_file(&ld);
	}
	if (ret == 0 && ld.g->nrules == 0) {
		snprintf(err, errlen, "%s: no rules", n == 1 ? paths[0] : "grammars");
		ret = -1;
	}
	if (ret == 0)
		ret = grammar_finish(&ld, bitmaps, anys);
	free(bitmaps);
	free(anys);
	buf_free(&ld.lead_alt);
	buf_free(&ld.tail_alt);
	if (ret < 0) {
		grammar_free(ld.g);
		return NULL;
	}
	return ld.g;
}

struct grammar *
grammar_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	return load(&name, 1, text, err, errlen);
}

struct grammar *
grammar_load_file(const char *path, char *err, size_t errlen)
{
	return load(&path, 1, NULL, err, errlen);
}

struct grammar *
grammar_load_dir(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **paths = NULL;
	size_t n = 0, i;
	struct grammar *g;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 9 ||
		    strcmp(de->d_name + len - 8, ".grammar") != 0)
			continue;
		paths = xrealloc(paths, (n + 1) * sizeof(*paths));
		paths[n++] = xasprintf("%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n == 0) {
		snprintf(err, errlen, "%s: no *.grammar files", dir);
		free(paths);
		return NULL;
	}
	qsort(paths, n, sizeof(*paths), cmp_str);
	g = load((const char *const *)paths, n, NULL, err, errlen);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return g;
}

void
grammar_free(struct grammar *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nrules; i++) {
		free(g->rules[i].name);
		pcre2_code_free(g->rules[i].code);
	}
	for (i = 0; i < g->nneeds; i++)
		free(g->needs[i].word);
	free(g->needs);
	free(g->rules);
	for (i = 0; i < 256; i++) {
		free(g->cand[i]);
		free(g->need_first[i]);
	}
	for (i = 0; i < NPAIR_FIRST; i++) {
		for (size_t j = 0; j < NPAIR_SECOND; j++)
			free(g->cand2[i][j]);
	}
	pcre2_code_free(g->lead);
	pcre2_code_free(g->tail);
	pcre2_match_data_free(g->md);
	pcre2_jit_stack_free(g->jit_stack);
	pcre2_match_context_free(g->mctx);
	free(g->norm);
	free(g);
}

size_t
grammar_rule_count(const struct grammar *g)
{
	return g ? g->nrules : 0;
}

/* Slots: what the matched groups say, turned into intent fields. */

static const char *const number_words[] = {
    "zero",     "one",     "two",     "three",     "four",     "five",     "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
};
static const char *const ordinal_words[] = {
    "zeroth",     "first",     "second",    "third",       "fourth",     "fifth",      "sixth",
    "seventh",    "eighth",    "ninth",     "tenth",       "eleventh",   "twelfth",    "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth",
};

static bool
is_alnum_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Reads one number at *pp ("2", "02", "s02", "#2", "2nd", "two",
 * "second"); returns it and advances, or returns -1 and advances past the
 * word that is not a number. */
static int
read_number(const char **pp, const char *end)
{
	const char *p = *pp, *w = p;
	size_t len, i;
	int v = 0, digits = 0;

	if (p < end && (*p == 's' || *p == 'e' || *p == '#') && p + 1 < end && p[1] >= '0' &&
	    p[1] <= '9')
		p++;
	while (p < end && *p >= '0' && *p <= '9' && digits < 5) {
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (digits > 0) {
		if (end - p >= 2 && (!strncmp(p, "st", 2) || !strncmp(p, "nd", 2) ||
		                     !strncmp(p, "rd", 2) || !strncmp(p, "th", 2)))
			p += 2;
		if (p < end && is_alnum_byte(*p) && digits < 5) {
			while (p < end && is_alnum_byte(*p))
				p++;
			*pp = p;
			return -1;
		}
		*pp = p;
		return digits < 5 ? v : -1;
	}
	while (p < end && is_alnum_byte(*p))
		p++;
	*pp = p == w ? p + 1 : p;
	len = (size_t)(p - w);
	for (i = 0; i < sizeof(number_words) / sizeof(number_words[0]); i++) {
		if (strlen(number_words[i]) == len && strncmp(number_words[i], w, len) == 0)
			return (int)i;
		if (strlen(ordinal_words[i]) == len && strncmp(ordinal_words[i], w, len) == 0)
			return (int)i;
	}
	if (len == 6 && strncmp(w, "thirty", 6) == 0)
		return 30;
	return -1;
}

static void
season_add(struct intent *in, int n)
{
	int i;

	if (n < 0 || n > 100 || in->season_count >= INTENT_SEASONS_MAX)
		return;
	for (i = 0; i < in->season_count && in->season_list[i] < n; i++)
		;
	if (i < in->season_count && in->season_list[i] == n)
		return;
	memmove(&in->season_list[i + 1], &in->season_list[i],
	        (size_t)(in->season_count - i) * sizeof(int));
	in->season_list[i] = n;
	in->season_count++;
}

static bool
word_is(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && strncmp(p, w, n) == 0 &&
	       ((size_t)(end - p) == n || !is_alnum_byte(p[n]));
}

/* "2", "1-3", "one and two", "1, 2 & 4", "2 through 5", "s01-s03". */
static void
parse_seasons(const char *p, const char *end, struct intent *in)
{
	int prev = -1;
	bool range = false;

	while (p < end) {
		int n;

		if (*p == ' ' || *p == ',' || *p == '&' || *p == '+' || *p == '/') {
			p++;
			continue;
		}
		if (*p == '-') {
			range = true;
			p++;
			continue;
		}
		if (word_is(p, end, "and")) {
			p += 3;
			continue;
		}
		if (word_is(p, end, "to") || word_is(p, end, "thru") ||
		    word_is(p, end, "through") || word_is(p, end, "till") ||
		    word_is(p, end, "until")) {
			range = true;
			while (p < end && is_alnum_byte(*p))
				p++;
			continue;
		}
		n = read_number(&p, end);
		if (n < 0)
			continue;
		if (range && prev >= 0 && n > prev && n - prev <= INTENT_SEASONS_MAX) {
			for (int k = prev + 1; k <= n; k++)
				season_add(in, k);
		} else {
			season_add(in, n);
		}
		prev = n;
		range = false;
	}
}

static bool
is_space_at(const char *s, size_t *n)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
		*n = 1;
		return true;
	}
	if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) {
		*n = 2;
		return true;
	}
	return false;
}

static const char *const quote_marks[] = {"\"",       "\xe2\x80\x9c", "\xe2\x80\x9d",
                                          "\xc2\xab", "\xc2\xbb",     "\xe2\x80\x9e"};
static const char *const title_suffixes[] = {
    " the movie", " the film", " the show", " the series", " please", " pls",  " plz",
    " for me",    " for us",   " thanks",   " thank you",  " thx",    " asap",
};

static size_t
quote_at(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(quote_marks) / sizeof(quote_marks[0]); i++) {
		if (strncmp(s, quote_marks[i], strlen(quote_marks[i])) == 0)
			return strlen(quote_marks[i]);
	}
	return 0;
}

static size_t
quote_before(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(quote_marks) / sizeof(quote_marks[0]); i++) {
		size_t q = strlen(quote_marks[i]);
		if (len >= q && strncmp(s + len - q, quote_marks[i], q) == 0)
			return q;
	}
	return 0;
}

/* Tidies a title copied from what the person typed: one space between
 * words, no wrapping quotes, no trailing punctuation or politeness. */
static void
clean_title(char *t)
{
	size_t r = 0, w = 0, n, len, i, q;
	bool changed = true;

	while (t[r]) {
		if (is_space_at(t + r, &n)) {
			while (t[r] && is_space_at(t + r, &n))
				r += n;
			if (w > 0)
				t[w++] = ' ';
			continue;
		}
		t[w++] = t[r++];
	}
	t[w] = '\0';
	len = w;
	while (changed) {
		changed = false;
		while (len > 0 && (t[len - 1] == ' ' || strchr(".?!,;:", t[len - 1]) != NULL)) {
			len--;
			changed = true;
		}
		if (len >= 3 && strncmp(t + len - 3, "\xe2\x80\xa6", 3) == 0) {
			len -= 3;
			changed = true;
		}
		t[len] = '\0';
		if (len >= 2 && t[0] == '\'' && t[len - 1] == '\'') {
			memmove(t, t + 1, len - 2);
			len -= 2;
			t[len] = '\0';
			changed = true;
		}
		if ((q = quote_at(t)) > 0) {
			memmove(t, t + q, len - q + 1);
			len -= q;
			changed = true;
		}
		if ((q = quote_before(t, len)) > 0) {
			len -= q;
			t[len] = '\0';
			changed = true;
		}
		while (len > 0 && t[0] == ' ') {
			memmove(t, t + 1, len--);
			changed = true;
		}
		for (i = 0; i < sizeof(title_suffixes) / sizeof(title_suffixes[0]); i++) {
			size_t sl = strlen(title_suffixes[i]);
			if (len > sl && strncasecmp(t + len - sl, title_suffixes[i], sl) == 0) {
				len -= sl;
				t[len] = '\0';
				changed = true;
			}
		}
	}
}

static bool
has_word_char(const char *t)
{
	for (; *t; t++) {
		if (is_alnum_byte(*t) || (unsigned char)*t >= 0x80)
			return true;
	}
	return false;
}

/* Span of the first group of slot `s` that took part, relative to the
 * matched text; false when none did. */
static bool
slot_span(const struct grammar *g, const struct rule *r, int s, size_t *a, size_t *b)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
	uint32_t pairs = pcre2_get_ovector_count(g->md);
	int k;

	for (k = 0; k < r->ngroups[s]; k++) {
		uint16_t grp = r->groups[s][k];
		if (grp < pairs && ov[2 * grp] != PCRE2_UNSET) {
			*a = ov[2 * grp];
			*b = ov[2 * grp + 1];
			return true;
		}
	}
	return false;
}

static bool
is_upper_at(const char *orig, size_t olen, size_t at)
{
	return at < olen && orig[at] >= 'A' && orig[at] <= 'Z';
}

/* "get The Book Thief": a media word in front of the title, typed in
 * Title Case along with it, is part of the title, not a media hint. Moves
 * *a back over it (and its article) and returns true in that case. */
static bool
title_takes_media(const struct grammar *g, const struct rule *r, size_t start, const char *orig,
                  size_t olen, size_t *a)
{
	const struct normalized *nm = g->norm;
	const char *s = nm->text + start;
	size_t ma, mb, os, oe, ts, te;
	int m;

	for (m = SLOT_MOVIE; m <= SLOT_OTHER; m++) {
		if (slot_span(g, r, m, &ma, &mb) && mb <= *a && ma < mb)
			break;
	}
	if (m > SLOT_OTHER)
		return false;
	normalize_span(nm, start + ma, start + ma + 1, &os, &oe);
	normalize_span(nm, start + *a, start + *a + 1, &ts, &te);
	if (!is_upper_at(orig, olen, os) || !is_upper_at(orig, olen, ts) || os + 1 >= olen ||
	    !(orig[os + 1] >= 'a' && orig[os + 1] <= 'z'))
		return false;
	if (ma >= 4 && strncmp(s + ma - 4, "the ", 4) == 0 && (ma == 4 || s[ma - 5] == ' '))
		ma -= 4;
	else if (ma >= 2 && strncmp(s + ma - 2, "a ", 2) == 0 && (ma == 2 || s[ma - 3] == ' '))
		ma -= 2;
	*a = ma;
	return true;
}

/* Fills `in` from the last match of rule `r` on g->norm->text + start.
 * Returns -1 when the match does not make a usable intent (an empty
 * title, a season group with no number). */
static int
slots_extract(const struct grammar *g, const struct rule *r, size_t start, const char *orig,
              size_t olen, struct intent *in)
{
	const struct normalized *nm = g->norm;
	const char *s = nm->text + start;
	size_t a, b;
	bool media_in_title = false;

	if (slot_span(g, r, SLOT_TITLE, &a, &b)) {
		media_in_title = title_takes_media(g, r, start, orig, olen, &a);
		char buf[NORMALIZE_MAX * 2 + 8];
		size_t os, oe;

		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (a == b)
			return -1;
		normalize_span(nm, start + a, start + b, &os, &oe);
		if (oe > olen)
			oe = olen;
		normalize_utf8_copy(buf, sizeof(buf), orig + os, oe - os);
		clean_title(buf);
		if (!has_word_char(buf))
			return -1;
		normalize_utf8_copy(in->title, sizeof(in->title), buf, strlen(buf));
	}
	if (slot_span(g, r, SLOT_YEAR, &a, &b)) {
		const char *p = s + a;
		int y = read_number(&p, s + b);
		if (y >= 1880 && y <= 2100)
			in->year = y;
	}
	if (slot_span(g, r, SLOT_SEASON, &a, &b)) {
		parse_seasons(s + a, s + b, in);
		if (in->season_count == 0)
			return -1;
		in->seasons = SEASONS_LIST;
	} else if (slot_span(g, r, SLOT_ALL_SEASONS, &a, &b)) {
		in->seasons = SEASONS_ALL;
	} else if (slot_span(g, r, SLOT_LATEST, &a, &b)) {
		in->seasons = SEASONS_LATEST;
	}
	if (slot_span(g, r, SLOT_EPISODE, &a, &b)) {
		const char *p = s + a;
		int e = read_number(&p, s + b);
		if (e <= 0 || e > 9999)
			return -1;
		in->episode = e;
	}
	if (slot_span(g, r, SLOT_CHOICE, &a, &b)) {
		const char *p = s + a;
		int c = read_number(&p, s + b);
		if (c <= 0 || c > 50)
			return -1;
		in->choice = c;
	}
	if (slot_span(g, r, SLOT_UHD, &a, &b))
		in->want_4k = true;
	if (media_in_title)
		;
	else if (slot_span(g, r, SLOT_OTHER, &a, &b))
		in->media = MEDIA_OTHER;
	else if (slot_span(g, r, SLOT_TV, &a, &b))
		in->media = MEDIA_TV;
	else if (slot_span(g, r, SLOT_MOVIE, &a, &b))
		in->media = MEDIA_MOVIE;
	if (in->media == MEDIA_ANY && (in->seasons != SEASONS_NONE || in->episode > 0))
		in->media = MEDIA_TV;
	return 0;
}

static int
run_at(const struct grammar *g, const pcre2_code *re, bool jit, const char *s, size_t len,
       size_t at)
{
	if (jit)
		return pcre2_jit_match(re, (PCRE2_SPTR)s, len, at, 0, g->md, g->mctx);
	return pcre2_match(re, (PCRE2_SPTR)s, len, at, PCRE2_NO_UTF_CHECK, g->md, g->mctx);
}

static int
run(const struct grammar *g, const pcre2_code *re, bool jit, const char *s, size_t len)
{
	return run_at(g, re, jit, s, len, 0);
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
		/* Every tail unit starts at a space or at attached punctuation. */
		if (s[p] != ' ' && !(strchr(",?!.;:~", s[p]) && !strchr(" ,?!.;:~", s[p - 1])))
			continue;
		if (run_at(g, g->tail, g->tail_jit, s, len, p) > 0) {
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

/* Bytes the title group took: of two equal matches, the one that explains
 * more of the message with its own words is the more specific. */
static size_t
title_length(const struct grammar *g, const struct rule *r)
{
	size_t a, b;

	return slot_span(g, r, SLOT_TITLE, &a, &b) ? b - a : 0;
}

static int
count_slots(const struct grammar *g, const struct rule *r)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
	uint32_t pairs = pcre2_get_ovector_count(g->md);
	int s, k, n = 0;

	for (s = 0; s < SLOT_COUNT; s++) {
		for (k = 0; k < r->ngroups[s]; k++) {
			uint16_t grp = r->groups[s][k];
			if (grp < pairs && ov[2 * grp] != PCRE2_UNSET) {
				n++;
				break;
			}
		}
	}
	return n;
}

static bool
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '\'' || c >= 0x80;
}

static int
cmp_need_key(const char *w, size_t len, const struct need_word *n)
{
	size_t m = len < n->len ? len : n->len;
	int c = strncmp(w, n->word, m);

	if (c != 0)
		return c;
	return len < n->len ? -1 : len > n->len;
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
			if (n->prefix ? (w - p >= n->len && strncmp(s + p, n->word, n->len) == 0)
			              : cmp_need_key(s + p, w - p, n) == 0)
				met |= n->groups;
		}
		p = w;
	}
	return met;
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
	const uint32_t *cand = g->cand[(unsigned char)s[0]];
	uint32_t ncand = g->ncand[(unsigned char)s[0]];
	int8_t p1 = pair_first_index[(unsigned char)s[0]];
	int8_t p2 = slen > 1 ? pair_second_index[(unsigned char)s[1]] : -1;
	int best_prio = -1, best_slots = -1;
	uint64_t allowed = 0;

	if (p1 >= 0 && p2 >= 0 && g->cand2[p1][p2] != NULL) {
		cand = g->cand2[p1][p2];
		ncand = g->ncand2[p1][p2];
	}
	bool words_seen = false;
	struct intent tmp;

	for (i = 0; i < ncand; i++) {
		const struct rule *r = &g->rules[cand[i]];
		size_t tlen;
		int n;

		if (r->priority < best_prio)
			break;
		if (r->minlen > slen)
			continue;
		if (r->need != 0) {
			if (!words_seen) {
				allowed = needs_met(g, s, slen);
				words_seen = true;
			}
			if ((allowed & r->need) == 0)
				continue;
		}
		if (run(g, r->code, r->jit, s, slen) <= 0)
			continue;
		n = count_slots(g, r);
		tlen = title_length(g, r);
		if (n < best_slots || (n == best_slots && tlen >= best_tlen))
			continue;
		intent_clear(&tmp);
		tmp.kind = r->kind;
		tmp.media = r->media;
		if (slots_extract(g, r, start, text, len, &tmp) < 0)
			continue;
		tmp.confidence = r->confidence;
		tmp.source = SOURCE_GRAMMAR;
		strlcpy_u(tmp.rule, r->name, sizeof(tmp.rule));
		*out = tmp;
		best_prio = r->priority;
		best_slots = n;
		best_tlen = tlen;
	}
	return best_prio >= 0;
}

void
grammar_parse_n(const struct grammar *g, const char *text, size_t len, struct intent *out)
{
	struct normalized *nm = g->norm;
	size_t start = 0, end;

	intent_clear(out);
	if (normalize_text(text, len, nm) < 0 || nm->len == 0)
		return;
	if (g->lead != NULL && run(g, g->lead, g->lead_jit, nm->text, nm->len) > 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
		if (ov[1] < nm->len)
			start = ov[1];
	}
	end = start + tail_start(g, nm->text + start, nm->len - start);
	if (end == start)
		end = nm->len;
	/* "please do" is a whole answer, not "please" + "do"; "thanks usher"
	 * is not "thanks" + an address. */
	if (!parse_from(g, start, end, text, len, out) && (start > 0 || end < nm->len))
		parse_from(g, 0, nm->len, text, len, out);
}

void
grammar_parse(const struct grammar *g, const char *text, struct intent *out)
{
	grammar_parse_n(g, text, strlen(text), out);
}

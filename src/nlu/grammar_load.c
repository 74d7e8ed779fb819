/* grammar_load: reads *.grammar files into a struct grammar: fragments
 * expanded, patterns compiled (UTF, caseless, JIT), and the tables that
 * let a parse try only the patterns a message can meet. */
#include "nlu/grammar_impl.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "nlu/grammar.h"

#define GRAMMAR_FILE_MAX   (1024 * 1024)
#define MATCH_LIMIT        50000
#define DEPTH_LIMIT        2000
#define HEAP_LIMIT_KIB     4096
#define JIT_STACK_START    (32 * 1024)
#define JIT_STACK_MAX      (512 * 1024)
#define DEFAULT_PRIORITY   50
#define DEFAULT_CONFIDENCE 0.9f

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
	/* Every word the patterns spell: the first words worth an index. */
	char **vocab;
	size_t nvocab;
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
/* The options for a pattern the grammar file wrote. The text is already
 * lower case (normalize.c), so caseless matching only matters to a
 * pattern with an upper-case ASCII letter or a non-ASCII character, and
 * it costs: a third of the JIT code. Letters right after a backslash
 * (\D, \S) are escapes, not text; anything else that looks like one
 * (\p{Lu}, a group name) only keeps caseless matching where it was. */
static uint32_t
pattern_options(const char *pattern)
{
	for (const unsigned char *p = (const unsigned char *)pattern; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if ((*p >= 'A' && *p <= 'Z') || *p >= 0x80)
			return COMPILE_OPTIONS;
	}
	return COMPILE_OPTIONS & ~(uint32_t)PCRE2_CASELESS;
}

static pcre2_code *
compile(struct loader *ld, int line, const char *prefix, const char *expanded, const size_t *offs,
        const char *suffix, uint32_t options)
{
	char *full = xasprintf("%s%s%s", prefix, expanded, suffix);
	int code;
	PCRE2_SIZE at;
	pcre2_code *re;

	re = grammar_compile(full, options, &code, &at);
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

/* Adds the words spelled in `pattern` to the vocabulary of first words. */
static void
collect_words(struct loader *ld, const char *pattern)
{
	const char *p = pattern;

	while (*p) {
		const char *w = p;
		if (*p == '\\' && p[1]) {
			p += 2;
			continue;
		}
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '\'')
			p++;
		if (p == w) {
			p++;
			continue;
		}
		if (p - w < 32) {
			ld->vocab = xrealloc(ld->vocab, (ld->nvocab + 1) * sizeof(*ld->vocab));
			ld->vocab[ld->nvocab++] = xstrndup(w, (size_t)(p - w));
		}
	}
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
	collect_words(ld, pattern);
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
	r->nslots = 0;
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
	for (i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		uint16_t group = (uint16_t)((e[0] << 8) | e[1]);
		const char *name = (const char *)e + 2;
		int s;

		for (s = 0; s < SLOT_COUNT; s++) {
			if (strcmp(name, grammar_slot_names[s]) == 0)
				break;
		}
		if (s == SLOT_COUNT)
			return fail(ld, line, "unknown slot (?<%s>...)", name);
		if (r->ngroups[s] == 0)
			r->nslots++;
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
		r->code =
		    compile(ld, ld->pending[p].line, "(?:", out.data ? out.data : "", offs, suffix,
		            pattern_options(out.data ? out.data : "") | PCRE2_ANCHORED);
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
		collect_words(ld, ld->pending[p].pattern);
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
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Makes the loaded rules usable: candidate lists, lead, match resources. */
static int
grammar_finish(struct loader *ld, uint8_t (*bitmaps)[32], const bool *anys)
{
	struct grammar *g = ld->g;
	uint32_t maxcap = 1;
	size_t i;

	qsort(ld->vocab, ld->nvocab, sizeof(*ld->vocab), cmp_str);
	if (grammar_index_build(g, bitmaps, anys, ld->vocab, ld->nvocab) < 0)
		return fail(ld, 0, "out of memory for the match data");
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
	if (ld->tail_alt.len > 0)
		g->tail_src = xstrdup(ld->tail_alt.data);
	if (grammar_index_build_tail(g, NULL, 0) < 0)
		return fail(ld, 0, "the combined tail does not compile");
	if (ld->lead_alt.len > 0) {
		int code;
		PCRE2_SIZE at;
		g->lead = grammar_compile(ld->lead_alt.data,
		                          pattern_options(ld->lead_alt.data) | PCRE2_ANCHORED,
		                          &code, &at);
		if (g->lead == NULL)
			return fail(ld, 0, "the combined lead does not compile");
		g->lead_jit = pcre2_jit_compile(g->lead, PCRE2_JIT_COMPLETE) == 0;
		grammar_index_build_lead(g);
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
	for (i = 0; i < ld.nvocab; i++)
		free(ld.vocab[i]);
	free(ld.vocab);
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
		free(g->cand[i].idx);
		free(g->need_first[i]);
	}
	for (i = 0; i < NPAIR_FIRST; i++) {
		for (size_t j = 0; j < NPAIR_SECOND; j++)
			free(g->cand2[i][j].idx);
	}
	for (i = 0; i < g->nwords; i++) {
		free(g->words[i].word);
		free(g->words[i].cand.idx);
	}
	free(g->words);
	pcre2_code_free(g->lead);
	pcre2_code_free(g->tail);
	pcre2_code_free(g->address);
	free(g->tail_src);
	free(g->tail_pair);
	free(g->tail_space3);
	free(g->lead_pair);
	pcre2_match_data_free(g->md);
	pcre2_jit_stack_free(g->jit_stack);
	pcre2_match_context_free(g->mctx);
	free(g->norm);
	free(g);
}

int
grammar_set_bot_names(struct grammar *g, const char *const *names, size_t n)
{
	return grammar_index_build_tail(g, names, n);
}

size_t
grammar_rule_count(const struct grammar *g)
{
	return g ? g->nrules : 0;
}

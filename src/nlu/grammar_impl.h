/*
 * grammar_impl: what the three halves of the grammar module share, and
 * nobody else sees. grammar_load.c reads *.grammar files and builds a
 * struct grammar (compiled patterns, the tables that say which patterns a
 * message can meet); grammar.c runs them on a message; grammar_slots.c
 * turns the groups of a match into intent fields.
 *
 * Every table here is built at load (or by grammar_set_bot_names()) and
 * only read while parsing, except the scratch space at the end of struct
 * grammar (match data, normalised text), which each parse overwrites.
 */
#ifndef USHER_GRAMMAR_IMPL_H
#define USHER_GRAMMAR_IMPL_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nlu/intent.h"
#include "nlu/normalize.h"

#define SLOT_GROUPS_MAX 8
#define NEED_GROUPS_MAX 64
#define COMPILE_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES)

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

/* The group names of the slots, indexed by enum slot. */
extern const char *const grammar_slot_names[SLOT_COUNT];

/* One compiled `match:` line and what its rule says. */
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
	uint8_t nslots;  /* slots it has groups for: most a match can fill */
	uint8_t ngroups[SLOT_COUNT];
	uint16_t groups[SLOT_COUNT][SLOT_GROUPS_MAX];
};

/* A `need:` word and the rules (group bits) that it lets through. */
struct need_word {
	char *word;
	size_t len;
	bool prefix; /* "subtitle*" */
	uint64_t groups;
};

/* Rules a message may meet, best first (priority, then file order). */
struct cand_list {
	uint32_t *idx;
	uint32_t n;
};

/* A word a message can start with, and the rules that can start with it
 * followed by a space (found at load by asking each rule). */
struct first_word {
	char *word;
	size_t len;
	struct cand_list cand;
};

/* The two-byte candidate table covers messages starting with these. */
#define GRAMMAR_PAIR_FIRST  "abcdefghijklmnopqrstuvwxyz0123456789"
#define GRAMMAR_PAIR_SECOND "abcdefghijklmnopqrstuvwxyz0123456789' :,.-?!#"
#define NPAIR_FIRST         (sizeof(GRAMMAR_PAIR_FIRST) - 1)
#define NPAIR_SECOND        (sizeof(GRAMMAR_PAIR_SECOND) - 1)

/* Bytes at which a tail unit may start (see grammar.c, tail_start). */
#define GRAMMAR_TAIL_STARTS " ,?!.;:~"

struct grammar {
	struct rule *rules;
	size_t nrules;
	struct need_word *needs;
	size_t nneeds;
	uint64_t need_number;      /* groups let through by any word with a digit */
	uint32_t *need_first[256]; /* need words by first byte */
	uint32_t nneed_first[256];
	int ngroups;
	pcre2_code *lead; /* stripped before the rules are tried; may be NULL */
	bool lead_jit;
	/* lead_pair[a][b / 8] bit b % 8: can a lead begin with the bytes a b
	 * (a ASCII; b 0 at the end of the text)? */
	uint8_t (*lead_pair)[32];
	pcre2_code *tail; /* stripped off the end likewise; may be NULL */
	bool tail_jit;
	char *tail_src; /* the files' tail alternatives, kept to add bot names */
	/* tail_pair[a][b / 8] bit b % 8: can a tail begin with the bytes a b?
	 * Asked of the tail pattern at load, so most places where a tail
	 * cannot start are passed over without running it. */
	uint8_t (*tail_pair)[32];
	/* tail_space3[b][c / 8] bit c % 8: can a tail begin with ' ' b c (both
	 * ASCII)? Most words are a space and two letters no tail starts with. */
	uint8_t (*tail_space3)[16];
	/* Leading address to the bot by a name set with grammar_set_bot_names()
	 * ("jarvis,", "@jarvis:example.org", "hey jarvis"); NULL: only the
	 * default name, which normalize removes. */
	pcre2_code *address;
	bool address_jit;
	/* Rules that can start with byte b; finer, with the two bytes
	 * PAIR_FIRST[i] PAIR_SECOND[j]; finer still, with a whole first word
	 * (sorted by word, for a binary search). */
	struct cand_list cand[256];
	struct cand_list cand2[NPAIR_FIRST][NPAIR_SECOND];
	int8_t pair_first_index[256], pair_second_index[256];
	struct first_word *words;
	size_t nwords;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit_stack;
	pcre2_match_data *md;
	struct normalized *norm; /* scratch, reused by every parse */
};

/* Runs `re` anchored at `at` of s[0..len) into g->md, bounded by g->mctx.
 * Returns PCRE2's result (> 0 on a match). */
int grammar_run(const struct grammar *g, const pcre2_code *re, bool jit, const char *s, size_t len,
                size_t at);

/* Builds the candidate lists of the g->nrules rules: bitmaps[i] holds the
 * bytes rule i can start with, unless anys[i] (it can start anywhere);
 * `vocab` (sorted, may repeat) the words worth a list of their own.
 * Returns 0, or -1 out of memory. */
int grammar_index_build(struct grammar *g, uint8_t (*bitmaps)[32], const bool *anys, char **vocab,
                        size_t nvocab);
/* Builds g->lead_pair from g->lead. */
void grammar_index_build_lead(struct grammar *g);
/* Builds g->tail (g->tail_src plus any bot names) and its pair table, and
 * g->address. Returns 0, or -1 with `g` unchanged when a pattern does not
 * compile. */
int grammar_index_build_tail(struct grammar *g, const char *const *names, size_t nnames);

/* Where the slots of a match lie: for each slot, the first of its groups
 * that took part, relative to the matched text. */
struct slot_spans {
	uint32_t set; /* bit s: slot s took part */
	int count;    /* how many did */
	size_t a[SLOT_COUNT], b[SLOT_COUNT];
};

/* Reads the slots of the last match (g->md) of rule `r` into `sp`. */
void grammar_slots_read(const struct grammar *g, const struct rule *r, struct slot_spans *sp);
/* Fills `in` from the slots `sp` of a match on g->norm->text + start;
 * `orig` (`olen` bytes) is what was typed. Returns -1 when the match does
 * not make a usable intent (an empty title, a season with no number). */
int grammar_slots_extract(const struct grammar *g, const struct slot_spans *sp, size_t start,
                          const char *orig, size_t olen, struct intent *in);

/* `pattern` rewritten so that PCRE2 tries fewer alternatives: branches
 * spelling words share their first characters ("movie|mini-?series|film"
 * becomes "m(?:ovie|ini-?series)|film"); what it matches and captures is
 * unchanged. Returns a new string the caller frees, or NULL when the
 * pattern uses syntax the rewriter does not follow (use it as written). */
char *grammar_factor(const char *pattern);
/* Compiles `pattern` (`options`) factored when that compiles, else as
 * written; NULL with *code and *at set as pcre2_compile() does. The caller
 * frees the result with pcre2_code_free(). */
pcre2_code *grammar_compile(const char *pattern, uint32_t options, int *code, PCRE2_SIZE *at);

#endif

/*
 * intent: what a person meant, as one plain value.
 *
 * Both parsers produce it: the grammar (grammar.c) first, the LLM (llm.c)
 * only when the grammar has no confident answer. The bot acts on nothing
 * else. It is a plain value struct: fixed-size fields, no pointers, so it is
 * copied by assignment and needs no freeing.
 */
#ifndef USHER_INTENT_H
#define USHER_INTENT_H

#include <stdbool.h>
#include <stddef.h>

enum intent_kind {
	INTENT_UNKNOWN = 0,
	INTENT_HELP,
	INTENT_SEARCH,        /* "do we have X", "find X" */
	INTENT_REQUEST,       /* "get X", "I want to watch X" */
	INTENT_STATUS,        /* "is X ready", "what's downloading" */
	INTENT_LIST_REQUESTS, /* "my requests" */
	INTENT_CANCEL,
	INTENT_APPROVE,
	INTENT_DECLINE,
	INTENT_SELECT,  /* "2", "the second one", "the 2021 one" */
	INTENT_CONFIRM, /* "yes", "go ahead" */
	INTENT_DENY,    /* "no", "never mind" */
	INTENT_RECOMMEND,
	INTENT_REPORT_ISSUE,
	INTENT_KIND_COUNT
};

enum intent_media {
	MEDIA_ANY = 0, /* not said */
	MEDIA_MOVIE,
	MEDIA_TV,
	MEDIA_OTHER, /* a song, book, game...: usher says it only fetches films and shows */
};

enum intent_seasons {
	SEASONS_NONE = 0, /* not said */
	SEASONS_LIST,     /* the numbers in season_list */
	SEASONS_ALL,
	SEASONS_LATEST,
};

enum intent_source {
	SOURCE_NONE = 0,
	SOURCE_GRAMMAR,
	SOURCE_LLM,
};

#define INTENT_TITLE_MAX   256 /* bytes, UTF-8, NUL included */
#define INTENT_RULE_MAX    64
#define INTENT_SEASONS_MAX 32

struct intent {
	enum intent_kind kind;
	enum intent_media media;
	char title[INTENT_TITLE_MAX]; /* "" when none */
	int year;                     /* 0 when none */
	enum intent_seasons seasons;
	int season_list[INTENT_SEASONS_MAX]; /* ascending, no duplicates */
	int season_count;
	int episode;      /* 0 when none */
	bool want_4k;     /* "in 4k", "uhd", "2160p" */
	int choice;       /* 1-based, 0 when none */
	float confidence; /* 0..1 */
	enum intent_source source;
	/* The title came from the LLM, not from the person's words: ask them
	 * before acting on it (a guess, or an injection in the message). */
	bool title_unconfirmed;
	char rule[INTENT_RULE_MAX]; /* the grammar rule that matched, "" when none */
};

/* Stable lower-case names used in `usher parse --json`, the LLM schema and
 * logs: "request", "tv", "grammar"... Return static strings. */
const char *intent_kind_name(enum intent_kind kind);
const char *intent_media_name(enum intent_media media);
const char *intent_source_name(enum intent_source source);
/* Inverse of the above; return 0 and set *out, or -1 for an unknown name. */
int intent_kind_from_name(const char *name, enum intent_kind *out);
int intent_media_from_name(const char *name, enum intent_media *out);

/* Resets to "unknown, nothing said". */
void intent_clear(struct intent *in);

struct json_t;
/* The `usher parse --json` object for `text` and what it was understood as,
 * with exactly the keys text, intent, media, title, year, seasons, episode,
 * quality, choice, source, rule, in that order (invalid UTF-8 in the text
 * becomes U+FFFD, NUL bytes are left out). Returns a new reference the
 * caller json_decref()s. The _n form takes `len` bytes that may hold NULs. */
struct json_t *intent_to_json(const char *text, const struct intent *in);
struct json_t *intent_to_json_n(const char *text, size_t len, const struct intent *in);

#endif

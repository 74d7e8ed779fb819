/*
 * dialogue: what usher is waiting to hear in one conversation.
 *
 * One state per (network, room, person), kept in the store so that a
 * restart in the middle of "which one?" still understands "2". A state
 * expires (30 minutes after the question) so an old question does not
 * swallow a new message. The state is a plain value; its stored form is
 * private to this file.
 */
#ifndef USHER_DIALOGUE_H
#define USHER_DIALOGUE_H

#include <stdbool.h>
#include <time.h>

#include "services/seerr.h"

struct store;

enum dialogue_wait {
	DIALOGUE_NONE = 0,
	DIALOGUE_CHOOSE_TITLE,        /* "which one?" over `choices` */
	DIALOGUE_CHOOSE_SEASONS,      /* "all N seasons, or just the latest?" for `order` */
	DIALOGUE_CONFIRM,             /* "yes?" before sending `order` */
	DIALOGUE_CONFIRM_APPROVE_ALL, /* "approve these N?" over `ids` */
};

/* What a chosen title is for. */
enum dialogue_purpose {
	PURPOSE_REQUEST = 0,
	PURPOSE_STATUS,
	PURPOSE_RECOMMEND,
	PURPOSE_REPORT, /* `note` holds the person's words */
	PURPOSE_FOLLOW,
};

#define DIALOGUE_CHOICES_MAX 6
#define DIALOGUE_IDS_MAX     20
#define DIALOGUE_TTL_S       (30 * 60)

struct dialogue_choice {
	enum seerr_kind kind;
	long tmdb_id;
	char title[SEERR_TITLE_MAX];
	int year;
	enum seerr_media_status status;
};

struct dialogue_state {
	enum dialogue_wait wait;
	enum dialogue_purpose purpose;
	struct dialogue_choice choices[DIALOGUE_CHOICES_MAX];
	int choice_count;
	/* What the person asked for along with the title. */
	bool want_4k;
	bool confirm_title; /* the title is the LLM's: ask "did you mean" first */
	bool seasons_all;
	bool seasons_latest;
	int seasons[SEERR_SEASONS_MAX];
	int seasons_len;
	/* The request being settled (seasons question, confirmation). */
	struct dialogue_choice chosen;
	struct seerr_new_request order;
	int season_count;
	long ids[DIALOGUE_IDS_MAX];
	int id_count;
	char note[512];
};

/* Loads the live state (expired ones read as DIALOGUE_NONE). Returns 0, or
 * -1 on a store error (logged; `out` is then DIALOGUE_NONE). */
int dialogue_load(struct store *st, const char *network, const char *room, const char *person,
                  time_t now, struct dialogue_state *out);
/* Saves `state` (DIALOGUE_NONE deletes it), committed before returning.
 * Returns 0 or -1 on a store error (logged). */
int dialogue_save(struct store *st, const char *network, const char *room, const char *person,
                  time_t now, const struct dialogue_state *state);

#endif

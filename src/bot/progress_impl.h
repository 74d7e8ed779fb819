/*
 * progress_impl: what progress.c (the cycle and speaking),
 * progress_store.c (the tracked rows) and progress_text.c (the line a
 * person sees) share. Not for other modules: they use progress.h.
 *
 * A `struct tracked` is one followed title, owned by its `struct progress`
 * (items, sorted by row id) until it is done; a tracked whose first message
 * is still on its way when it is dropped is owned by that send's callback.
 */
#ifndef USHER_PROGRESS_IMPL_H
#define USHER_PROGRESS_IMPL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "bot/progress.h"
#include "core/buf.h"
#include "core/loop.h"
#include "services/arr.h"

#define PROGRESS_TEXT_MAX 512
/* Where messages cannot be edited, a new one is sent at each quarter. */
#define PROGRESS_STEP_PERCENT 25
#define PROGRESS_HASH_MIN     64

struct follower {
	char *network; /* "" when the person asked without a room (MCP) */
	char *room;
	char *person;
	char *mention;
	enum person_notify notify;
};

/* One queue record kept for the title: enough to find its torrent and to
 * count its episode. */
struct queue_record {
	long episode_id; /* 0 for films */
	long long size;
	long long sizeleft;
	char download_id[48];
};

/* What one cycle learned about one tracked request. The arr part (from
 * arr_records on) is kept from the last cycle whose queue call succeeded, so
 * a Radarr or Sonarr that does not answer leaves the last known download in
 * place instead of looking like "no release found". */
struct sighting {
	bool seerr_seen;
	enum seerr_request_status request_status;
	enum seerr_media_status media_status;
	int arr_records;
	long long timeleft_s;
	enum arr_tracked_state arr_state;
	char status_messages[256];
};

struct tracked {
	struct progress *p;
	sqlite3_int64 id;
	long request_id;
	enum seerr_kind kind;
	long tmdb_id;
	long tvdb_id;
	bool is_4k;
	char *label;
	struct follower who; /* the requester */
	struct follower *followers;
	size_t follower_count;
	char *progress_msg;
	bool sending; /* the first progress message is on its way */
	enum progress_state state;
	char *text; /* the last text shown, never NULL (tracked_set_text) */
	int step;
	int floor_pct; /* the highest percent shown: bars never go back */
	bool done;
	bool dirty;           /* state worth saving changed this cycle */
	bool fresh;           /* came while a cycle was out: not in its answers */
	const char *announce; /* a static line to tell everyone after the commit */
	uint64_t last_edit_ms;
	struct sighting seen;
	/* This cycle's queue records for the title (arr part, see sighting). */
	struct queue_record *records;
	size_t record_count, record_cap;
	/* Shows: every episode seen in the queue this run; one that has left
	 * it counts as on disk. */
	long *episodes;
	size_t episode_count, episode_cap;
	struct arr_call *where_call; /* ready: asking Radarr/Sonarr where it landed */
	struct tracked *next_tmdb;   /* hash chains, rebuilt each cycle */
	struct tracked *next_tvdb;
	struct tracked *next_req;
};

struct progress {
	struct loop *loop;
	struct store *store;
	struct progress_services svc;
	struct progress_host host;
	long interval_ms;
	long edit_every_ms;
	struct tracked **items; /* sorted by id */
	size_t count, cap;
	/* Ready, done and saved, waiting to learn where it landed before
	 * "ready" is said (progress_where). */
	struct tracked **telling;
	size_t telling_count;
	sqlite3_int64 max_row; /* the highest row id looked at: rows past it are adopted */
	sqlite3_stmt *save_stmt;
	sqlite3_stmt *adopt_stmt;
	/* Hash chains by TMDB, TVDB and Seerr request id, one size for all. */
	struct tracked **by_tmdb, **by_tvdb, **by_req;
	size_t hash_size;
	loop_timer_id timer;
	int waiting; /* answers still due in the running cycle */
	/* Poked while a cycle ran: its answers may predate the news, so
	 * another cycle follows at once. */
	bool poked;
	int last_calls;
	bool seerr_failed;
	bool downloader_failed;
	char downloader_error[256];
	struct seerr_call *seerr_call;
	struct arr_call *radarr_call;
	struct arr_call *sonarr_call;
	struct qbittorrent_call *qb_call;
};

/* progress_store.c */
void tracked_free(struct tracked *t);
void progress_store_close(struct progress *p);
/* Keeps `text` as the last text shown, cut to PROGRESS_TEXT_MAX - 1 bytes
 * (NULL: ""). A struct tracked holds only what it shows: a thousand
 * followed requests would otherwise keep a full-size buffer each. */
void tracked_set_text(struct tracked *t, const char *text);
/* Saves the row (state, text, step, message id, done, floor). */
void tracked_save(struct tracked *t);
/* Loads rows past p->max_row that are not done; each becomes an item. */
size_t progress_load_new(struct progress *p);
/* Inserts the row for `it`; returns its id, or 0 on failure. */
sqlite3_int64 progress_store_insert(struct store *store, const struct progress_item *it);
/* The newest row for `network`/`room` created at or after `since`: its
 * id (0 when none), and whether it is done and in which state. */
sqlite3_int64 progress_store_latest(struct store *store, const char *network, const char *room,
                                    long long since, bool *done, enum progress_state *state,
                                    char *label, size_t label_len);
int progress_store_follower(struct store *store, sqlite3_int64 id, const struct progress_item *it);
void follower_set(struct follower *f, const char *network, const char *room, const char *person,
                  const char *mention, enum person_notify notify);
/* Keeps items sorted by id. */
void progress_insert_item(struct progress *p, struct tracked *t);
struct tracked *progress_by_id(struct progress *p, sqlite3_int64 id);

/* progress.c */
/* Takes `t` out of the items (it stays allocated). */
void progress_remove(struct progress *p, struct tracked *t);
/* The done callback of sends nobody waits for: logs a failure. */
void progress_edit_done(void *arg, int status, const char *msg_id, const char *error);

/* progress_where.c */
/* Says "ready" to everyone, after asking Radarr or Sonarr where the title
 * landed when one of them can say; takes `t` out of the items. */
void progress_tell_ready(struct progress *p, struct tracked *t);
/* Cancels the questions in flight; their titles are freed unsaid. */
void progress_where_free(struct progress *p);
/* Tells the requester and followers `what` ("is ready to watch."), with
 * `what_html` where the network shows HTML (NULL: text only). */
void progress_announce_what(struct progress *p, struct tracked *t, const char *word,
                            const char *what, const char *what_html);

/* progress_text.c */
/* Returns `s` with & < > " escaped, as a new string the caller frees. */
char *progress_html_escape(const char *s);
/* Works out the state, the visible line and the percent (-1 when none). */
void progress_render(struct progress *p, struct tracked *t, enum progress_state *state,
                     struct buf *b, int *percent);

#endif

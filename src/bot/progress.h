/*
 * progress: follows every request usher made until it is ready to watch.
 *
 * One cycle on one timer covers everything: one Seerr call for request
 * statuses, one Radarr queue call, one Sonarr queue call and one
 * qBittorrent sync, whatever the number of tracked requests; then every
 * tracked request is brought up to date from those answers. Each tracked
 * request has one progress message, edited in place where the network can
 * edit (throttled, and only when the visible text changes), or re-sent at
 * meaningful steps where it cannot. When a title is ready the requester and
 * followers are mentioned in a new message. Everything is kept in the
 * store, so a restart picks up where it was without repeating itself.
 */
#ifndef USHER_PROGRESS_H
#define USHER_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/people.h"
#include "gateway/gateway.h"
#include "services/seerr.h"

struct loop;
struct store;
struct radarr;
struct sonarr;
struct qbittorrent;
struct progress;

/* How progress speaks; the bot provides it. `out` is borrowed for the
 * call; `done` runs once, later, as for gateway_send(). */
struct progress_host {
	int (*send)(void *arg, const char *network, const char *room, const struct chat_out *out,
	            gateway_done_cb *done, void *done_arg);
	int (*edit)(void *arg, const char *network, const char *room, const char *msg_id,
	            const struct chat_out *out, gateway_done_cb *done, void *done_arg);
	bool (*can_edit)(void *arg, const char *network);
	/* Sends to `person` (a [person] name) directly: on `network` when they
	 * have an identity there, else on the first network where they do.
	 * Returns -1 when the person cannot be reached directly anywhere. */
	int (*send_direct)(void *arg, const char *person, const char *network,
	                   const struct chat_out *out, gateway_done_cb *done, void *done_arg);
	void *arg;
};

/* The services a cycle asks; any but seerr may be NULL. Borrowed. */
struct progress_services {
	struct seerr *seerr;
	struct radarr *radarr;
	struct sonarr *sonarr;
	struct qbittorrent *qbittorrent;
	/* [filebrowser]: where the household browses the library. With a url
	 * and a mapping from the arrs' library root (path_from) to
	 * FileBrowser's root (path_to), "ready" links to the title's folder.
	 * NULL when not configured. Borrowed. */
	const char *filebrowser_url;
	const char *path_from;
	const char *path_to;
};

/* What to follow and whom to tell. Strings are copied. */
struct progress_item {
	long seerr_request_id; /* 0 when not known (follow by title) */
	enum seerr_kind kind;
	long tmdb_id;
	bool is_4k;
	const char *label; /* "season 2 of The Bear (2022)" */
	const char *network;
	const char *room;
	const char *person;
	const char *mention; /* the person's id on the network, or NULL */
	long tvdb_id;        /* shows: Sonarr v3 knows series only by TVDB id; 0 */
	/* Where "ready" reaches the person. Without a network and room (a
	 * request made over MCP) it always goes directly. */
	enum person_notify notify;
};

enum progress_state {
	PROGRESS_REQUESTED = 0,
	PROGRESS_WAITING_APPROVAL,
	PROGRESS_APPROVED,
	PROGRESS_SEARCHING,
	PROGRESS_DOWNLOADING,
	PROGRESS_STALLED,
	PROGRESS_IMPORTING,
	PROGRESS_READY,
	PROGRESS_DECLINED,
	PROGRESS_FAILED,
};

/* Returns the tracker; everything passed is borrowed and must outlive it.
 * interval_ms: time between cycles (a third of it while something
 * downloads); edit_every_ms: the least time between two edits of one
 * message. */
struct progress *progress_new(struct loop *loop, struct store *store,
                              const struct progress_services *services,
                              const struct progress_host *host, long interval_ms,
                              long edit_every_ms);
void progress_free(struct progress *p);

/* Loads what a previous run was following and starts the cycle. */
void progress_resume(struct progress *p);
/* Follows a request (or adds the person as a follower when the same title
 * is already followed). Returns 0, or -1 when it could not be saved. */
int progress_track(struct progress *p, const struct progress_item *item);
/* "Me too": what progress_follow_latest() did. */
enum progress_me_too {
	PROGRESS_ME_TOO_NONE = 0, /* nothing asked for in that room lately */
	PROGRESS_ME_TOO_ADDED,    /* the person now follows it */
	PROGRESS_ME_TOO_ALREADY,  /* they asked for it or follow it already */
	PROGRESS_ME_TOO_READY,    /* it is ready to watch already */
	PROGRESS_ME_TOO_ERROR,    /* the store could not be written */
};
/* Makes `who` (network, room, person, mention, notify are read) a follower
 * of the newest request followed in who->network/room and made in the last
 * `max_age_s` seconds. Its label is copied into `label`. */
enum progress_me_too progress_follow_latest(struct progress *p, const struct progress_item *who,
                                            long max_age_s, char *label, size_t label_len);
/* Writes the tracked row only, for another process on the same store
 * (`usher mcp`): the running daemon adopts it at its next cycle. network
 * and room may be NULL. Returns 0, or -1 when it could not be saved. */
int progress_enqueue(struct store *store, const struct progress_item *item);
/* Runs a cycle soon (a webhook said something changed). */
void progress_poke(struct progress *p);

/* Requests being followed, and upstream calls made by the last cycle
 * (for the bench and /metrics). */
size_t progress_active(const struct progress *p);
int progress_last_cycle_calls(const struct progress *p);
/* Runs one cycle now, whatever the timer says (bench). */
void progress_cycle_now(struct progress *p);
bool progress_cycle_running(const struct progress *p);

/* How many followed requests are in each state (for /metrics). */
void progress_count_by_state(const struct progress *p, size_t counts[PROGRESS_FAILED + 1]);

/* The line a person sees for a state. Static. */
const char *progress_state_words(enum progress_state state);
/* The state's short name for logs and /metrics ("waiting_approval"). */
const char *progress_state_name(enum progress_state state);

/* The FileBrowser address of a library folder: `url` + "/files" + the
 * part of `path` under `path_from`, put under `path_to`, each segment
 * percent-encoded. Returns a new string the caller frees, or NULL when
 * `path` is not under `path_from`. Exposed for tests. */
char *progress_library_link(const char *url, const char *path_from, const char *path_to,
                            const char *path);

#endif

/*
 * qbittorrent: qBittorrent's Web UI API v2 as far as usher needs it: log in
 * with a session cookie, keep a table of every torrent up to date with the
 * incremental /api/v2/sync/maindata (one call per progress cycle covers all
 * torrents), and look torrents up by info-hash.
 *
 * A `struct qbittorrent` owns its copy of the [qbittorrent] settings, the
 * session cookie, the torrent table and the calls in flight. It logs in on
 * its first call; when any call is answered 403 (session expired, server
 * restarted) it logs in again once and repeats that call once. Speaks both
 * 4.x and 5.x: the cookie's name is read from Set-Cookie (SID up to 5.1,
 * QBT_SID_<port> from 5.2), a refused login is "200 Fails." (up to 5.1) or
 * 401 (5.2+), and 5.0's stoppedDL/stoppedUP mean what 4.x's
 * pausedDL/pausedUP meant. No Origin or Referer header is sent, which
 * passes qBittorrent's CSRF check even behind a proxy that rewrites Host.
 *
 * Each call is a `struct qbittorrent_call` handle that calls back exactly
 * once, never from inside the function that started it, unless cancelled
 * with qbittorrent_cancel().
 */
#ifndef USHER_QBITTORRENT_H
#define USHER_QBITTORRENT_H

#include <stdbool.h>
#include <stddef.h>

#include "services/service.h"

struct config;
struct http;
struct qbittorrent;
struct qbittorrent_call;

enum qbittorrent_state {
	QBITTORRENT_UNKNOWN = 0,
	QBITTORRENT_ERROR,
	QBITTORRENT_MISSING_FILES,
	QBITTORRENT_UPLOADING,
	QBITTORRENT_STOPPED_UP, /* 4.x pausedUP */
	QBITTORRENT_QUEUED_UP,
	QBITTORRENT_STALLED_UP,
	QBITTORRENT_CHECKING_UP,
	QBITTORRENT_FORCED_UP,
	QBITTORRENT_DOWNLOADING,
	QBITTORRENT_META_DL,
	QBITTORRENT_FORCED_META_DL,
	QBITTORRENT_STOPPED_DL, /* 4.x pausedDL */
	QBITTORRENT_QUEUED_DL,
	QBITTORRENT_STALLED_DL,
	QBITTORRENT_CHECKING_DL,
	QBITTORRENT_FORCED_DL,
	QBITTORRENT_ALLOCATING,
	QBITTORRENT_CHECKING_RESUME_DATA,
	QBITTORRENT_MOVING,
};

/* qBittorrent's state string ("stalledDL", "pausedDL", ...) to the enum;
 * unknown strings are QBITTORRENT_UNKNOWN. */
enum qbittorrent_state qbittorrent_state_parse(const char *s);
/* The 5.x name of a state ("stoppedDL"). */
const char *qbittorrent_state_name(enum qbittorrent_state state);
/* True for the states in which the torrent still wants data. */
bool qbittorrent_state_is_download(enum qbittorrent_state state);

/* One torrent as of the last sync. Strings are owned by the client, never
 * NULL, and valid until the next sync or qbittorrent_free(). */
struct qbittorrent_torrent {
	char *hash; /* lower-case, as qBittorrent sends it */
	char *name;
	double progress;   /* 0..1 */
	long long dlspeed; /* bytes/s */
	long long upspeed; /* bytes/s */
	long long eta;     /* seconds; -1 when unknown (qBittorrent's 8640000) */
	enum qbittorrent_state state;
	char *state_name; /* as sent */
	long num_seeds;   /* connected seeds */
	long num_leechs;  /* connected leechers */
	long long size;   /* bytes wanted */
	long long amount_left;
	char *save_path;
	char *category;
};

/* Returns a new client for [qbittorrent], or NULL when the section is
 * absent. `http` is borrowed and must outlive it. */
struct qbittorrent *qbittorrent_new(struct http *http, const struct config *cfg);
/* Cancels every call in flight (no callbacks) and frees the client and its
 * table. Not from inside one of its callbacks. NULL is ignored. */
void qbittorrent_free(struct qbittorrent *qb);
/* NULL is ignored; so is a call whose callback is running. */
void qbittorrent_cancel(struct qbittorrent_call *call);

typedef void qbittorrent_done_cb(const struct service_result *res, void *arg);

/* One GET /api/v2/sync/maindata?rid=N, merged into the torrent table
 * (full updates replace it; partial ones change only the fields sent;
 * removed torrents go). The table is unchanged on error. */
struct qbittorrent_call *qbittorrent_sync(struct qbittorrent *qb, qbittorrent_done_cb *cb,
                                          void *arg);

/* GET /api/v2/app/version: `version` is "v4.5.2" (NULL on error). */
typedef void qbittorrent_version_cb(const struct service_result *res, const char *version,
                                    void *arg);
struct qbittorrent_call *qbittorrent_version(struct qbittorrent *qb, qbittorrent_version_cb *cb,
                                             void *arg);

/* The torrent with info-hash `hash` in any case (Radarr and Sonarr send it
 * upper-case), or NULL. Borrowed until the next sync. */
const struct qbittorrent_torrent *qbittorrent_find(const struct qbittorrent *qb, const char *hash);
size_t qbittorrent_count(const struct qbittorrent *qb);
/* The i-th torrent, ordered by hash. Borrowed until the next sync. */
const struct qbittorrent_torrent *qbittorrent_at(const struct qbittorrent *qb, size_t i);
/* The rid of the last sync (0 before the first). */
long qbittorrent_rid(const struct qbittorrent *qb);

/* The "name=value" session cookie, NULL before login. Borrowed. For tests
 * and diagnostics: never log it. */
const char *qbittorrent_session_cookie(const struct qbittorrent *qb);

#endif

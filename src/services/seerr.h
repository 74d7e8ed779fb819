/*
 * seerr: the Overseerr / Jellyseerr / Seerr client (they share the API).
 *
 * Turns the JSON of /api/v1 into the small value structs below; nothing
 * outside the client's two files (seerr.c, seerr_json.c) sees json_t. Every call is asynchronous on
 * the core's http client, returns a handle that seerr_cancel() cancels, and calls back exactly once
 * (never from inside the call that started it, never after cancel or seerr_free). Calls made "as" a
 * person send X-Api-User with the person's Seerr user id, so that person's quotas, permissions and
 * auto-approval apply; as_user 0 acts as the API key's owner (the admin).
 *
 * Everything handed to a callback is borrowed and valid only while the
 * callback runs: copy what must outlive it.
 */
#ifndef USHER_SEERR_H
#define USHER_SEERR_H

#include <stdbool.h>
#include <stddef.h>

#include "services/service.h"

struct http;
struct config;
struct seerr;
struct seerr_call;

enum seerr_kind {
	SEERR_MOVIE = 0,
	SEERR_TV,
};

/* Media availability (mediaInfo.status / status4k / season status). */
enum seerr_media_status {
	SEERR_MEDIA_UNKNOWN = 1, /* also: no mediaInfo at all */
	SEERR_MEDIA_PENDING = 2,
	SEERR_MEDIA_PROCESSING = 3,
	SEERR_MEDIA_PARTIAL = 4,
	SEERR_MEDIA_AVAILABLE = 5,
	SEERR_MEDIA_BLOCKLISTED = 6,
	SEERR_MEDIA_DELETED = 7,
};

/* Request approval state (request.status). */
enum seerr_request_status {
	SEERR_REQ_PENDING = 1,
	SEERR_REQ_APPROVED = 2,
	SEERR_REQ_DECLINED = 3,
	SEERR_REQ_FAILED = 4,
	SEERR_REQ_COMPLETED = 5,
};

#define SEERR_TITLE_MAX   256
#define SEERR_SEASONS_MAX 64

/* One film or show as search and details know it. */
struct seerr_title {
	enum seerr_kind kind;
	long tmdb_id;
	long tvdb_id; /* 0 when unknown */
	char title[SEERR_TITLE_MAX];
	int year;             /* 0 when unknown */
	char poster_url[256]; /* full https URL, "" when none */
	enum seerr_media_status status;
	enum seerr_media_status status_4k;
	/* A non-declined request exists (from mediaInfo.requests). */
	bool requested;
};

struct seerr_season {
	int number; /* 0 = specials */
	int episodes;
	enum seerr_media_status status; /* from mediaInfo.seasons, UNKNOWN when absent */
};

struct seerr_details {
	struct seerr_title title;
	char overview[1024];
	int season_count; /* numberOfSeasons, specials excluded */
	struct seerr_season seasons[SEERR_SEASONS_MAX];
	int seasons_len;
};

struct seerr_request {
	long id;
	enum seerr_request_status status;
	enum seerr_kind kind;
	long tmdb_id;
	long tvdb_id; /* shows: media.tvdbId, 0 when Seerr does not say */
	bool is_4k;
	enum seerr_media_status media_status;
	int seasons[SEERR_SEASONS_MAX]; /* the requested season numbers (tv) */
	int seasons_len;
	long requested_by_id;
	char requested_by[128]; /* display name */
	char created_at[40];    /* ISO 8601 as sent */
};

/* Returns a client for [seerr] (NULL when the section is absent). `http` and
 * `cfg` are borrowed and must outlive it. Free with seerr_free(), which
 * cancels every call in flight without calling back. */
struct seerr *seerr_new(struct http *http, const struct config *cfg);
void seerr_free(struct seerr *s);
void seerr_cancel(struct seerr_call *call);

typedef void seerr_status_cb(void *arg, const struct service_result *res, const char *version);
struct seerr_call *seerr_status(struct seerr *s, seerr_status_cb *cb, void *arg);

/* The Discord user id a Seerr user set in their own notification settings
 * ("" when none), as the API key's owner (needs MANAGE_USERS). The string
 * is passed where seerr_status passes the version. */
struct seerr_call *seerr_user_discord_id(struct seerr *s, long user_id, seerr_status_cb *cb,
                                         void *arg);

/* Search: films and shows only (people and collections dropped), in the
 * server's order. `page` from 1. */
typedef void seerr_search_cb(void *arg, const struct service_result *res,
                             const struct seerr_title *items, size_t count, int total_pages);
struct seerr_call *seerr_search(struct seerr *s, long as_user, const char *query, int page,
                                seerr_search_cb *cb, void *arg);

typedef void seerr_details_cb(void *arg, const struct service_result *res,
                              const struct seerr_details *details);
struct seerr_call *seerr_details(struct seerr *s, long as_user, enum seerr_kind kind, long tmdb_id,
                                 seerr_details_cb *cb, void *arg);

/* Outcome of creating a request beyond plain success. */
enum seerr_create_outcome {
	SEERR_CREATED = 0,        /* 201: `req` filled */
	SEERR_ALREADY_REQUESTED,  /* 409 */
	SEERR_NOTHING_TO_REQUEST, /* 202: every season already requested or available */
	SEERR_NOT_ALLOWED,        /* 403: permission or quota; res->message says which */
	SEERR_CREATE_FAILED,      /* anything else; see res->error */
};

struct seerr_new_request {
	enum seerr_kind kind;
	long tmdb_id;
	long tvdb_id;     /* optional, 0 */
	bool all_seasons; /* tv: "all" */
	int seasons[SEERR_SEASONS_MAX];
	int seasons_len;
	bool is_4k;
};

typedef void seerr_create_cb(void *arg, const struct service_result *res,
                             enum seerr_create_outcome outcome, const struct seerr_request *req);
struct seerr_call *seerr_create_request(struct seerr *s, long as_user,
                                        const struct seerr_new_request *nr, seerr_create_cb *cb,
                                        void *arg);

enum seerr_request_filter {
	SEERR_FILTER_ALL = 0,
	SEERR_FILTER_PENDING,
	SEERR_FILTER_APPROVED,
	SEERR_FILTER_PROCESSING,
	SEERR_FILTER_AVAILABLE,
	SEERR_FILTER_UNAVAILABLE,
	SEERR_FILTER_FAILED,
};

/* Lists requests, newest first. requested_by 0: everyone the caller may
 * see (non-admins only ever see their own). */
typedef void seerr_requests_cb(void *arg, const struct service_result *res,
                               const struct seerr_request *items, size_t count, long total);
struct seerr_call *seerr_list_requests(struct seerr *s, long as_user,
                                       enum seerr_request_filter filter, long requested_by,
                                       int take, int skip, seerr_requests_cb *cb, void *arg);

/* Everyone's requests, most recently changed first (as the API key's
 * owner): what progress needs to see every status change, however old
 * the request. */
struct seerr_call *seerr_list_recently_changed(struct seerr *s, int take, seerr_requests_cb *cb,
                                               void *arg);

/* One request (GET /request/{id}); and the admin actions on it. */
typedef void seerr_request_cb(void *arg, const struct service_result *res,
                              const struct seerr_request *req);
struct seerr_call *seerr_get_request(struct seerr *s, long as_user, long request_id,
                                     seerr_request_cb *cb, void *arg);
struct seerr_call *seerr_approve(struct seerr *s, long as_user, long request_id,
                                 seerr_request_cb *cb, void *arg);
struct seerr_call *seerr_decline(struct seerr *s, long as_user, long request_id,
                                 seerr_request_cb *cb, void *arg);

/* DELETE /request/{id}; `req` is NULL in the callback. */
struct seerr_call *seerr_delete_request(struct seerr *s, long as_user, long request_id,
                                        seerr_request_cb *cb, void *arg);

/* Recommendations for a title (GET /movie/{id}/recommendations or
 * /tv/{id}/recommendations), first page. */
struct seerr_call *seerr_recommendations(struct seerr *s, long as_user, enum seerr_kind kind,
                                         long tmdb_id, seerr_search_cb *cb, void *arg);

enum seerr_issue_type {
	SEERR_ISSUE_VIDEO = 1,
	SEERR_ISSUE_AUDIO = 2,
	SEERR_ISSUE_SUBTITLES = 3,
	SEERR_ISSUE_OTHER = 4,
};

/* POST /issue for the media of a title (needs its mediaInfo id, looked up
 * through details). `issue_id` is the created issue's id. */
typedef void seerr_issue_cb(void *arg, const struct service_result *res, long issue_id);
struct seerr_call *seerr_report_issue(struct seerr *s, long as_user, enum seerr_kind kind,
                                      long tmdb_id, enum seerr_issue_type type, const char *message,
                                      seerr_issue_cb *cb, void *arg);

/* Plain words for a status: "waiting for approval", "ready to watch"... */
const char *seerr_media_status_words(enum seerr_media_status status);
const char *seerr_request_status_words(enum seerr_request_status status);

#endif

/*
 * webhook: Overseerr/Jellyseerr/Seerr webhook notifications, turned into a
 * small C value for the progress tracker.
 *
 * Seerr's webhook agent POSTs a JSON document rendered from a template the
 * admin can edit, with the configured "Authorization header" value sent
 * verbatim in Authorization. This module owns one httpd route (POST on a
 * path, default /webhook/seerr): it checks that header against
 * [seerr] webhook_secret in constant time (401 when missing or wrong, 403
 * for everything when no secret is configured), parses the body
 * defensively (every value may be missing, a string, a number or null: the
 * template renders every {{var}} as a string and may leave placeholders
 * unreplaced), answers 204 at once, and hands the parsed notice to the
 * callback from a zero-delay loop timer, after the response is queued.
 *
 * The module owns its copy of the secret and the notices waiting for the
 * callback; JSON stays in webhook.c.
 */
#ifndef USHER_WEBHOOK_H
#define USHER_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

struct httpd;
struct webhook;

#define WEBHOOK_DEFAULT_PATH "/webhook/seerr"
#define WEBHOOK_MAX_SEASONS  64

/* From the payload's notification_type (Seerr's enum names). */
enum webhook_event {
	WEBHOOK_TEST,                /* TEST_NOTIFICATION */
	WEBHOOK_MEDIA_PENDING,       /* a request waits for approval */
	WEBHOOK_MEDIA_APPROVED,      /* approved by an admin */
	WEBHOOK_MEDIA_AUTO_APPROVED, /* approved by the requester's own rights */
	WEBHOOK_MEDIA_AVAILABLE,     /* in the library */
	WEBHOOK_MEDIA_DECLINED,
	WEBHOOK_MEDIA_FAILED, /* Seerr could not hand it to Radarr/Sonarr */
	WEBHOOK_OTHER,        /* issues, unknown or missing types */
};

/* Seerr's MediaStatus numbers (NOTES 1.2), from the enum name the template
 * renders ("PROCESSING") or a number. */
enum webhook_media_status {
	WEBHOOK_STATUS_NONE = 0, /* absent or not understood */
	WEBHOOK_STATUS_UNKNOWN = 1,
	WEBHOOK_STATUS_PENDING = 2,
	WEBHOOK_STATUS_PROCESSING = 3,
	WEBHOOK_STATUS_PARTIALLY_AVAILABLE = 4,
	WEBHOOK_STATUS_AVAILABLE = 5,
	WEBHOOK_STATUS_BLOCKLISTED = 6, /* Jellyseerr's BLACKLISTED too */
	WEBHOOK_STATUS_DELETED = 7,
};

/* One notification. A plain value: strings are inline, truncated to fit
 * and always NUL-terminated ("" when absent). Ids are 0 when absent, empty
 * or not a number (an unreplaced "{{media_tmdbid}}"). */
struct webhook_notice {
	enum webhook_event event;
	char notification_type[48]; /* as sent, for logs and WEBHOOK_OTHER */
	char event_text[128];       /* "Movie Request Approved" */
	char subject[256];          /* "Dune (2021)" */
	char message[1024];
	char image[512];
	/* media */
	bool has_media;
	bool is_tv; /* media_type "tv", else (no media) a "Series" event */
	bool is_4k; /* the event names a 4K request */
	long tmdb_id;
	long tvdb_id;
	enum webhook_media_status status;
	enum webhook_media_status status_4k;
	/* request */
	bool has_request;
	long request_id;
	char requested_by[128]; /* requestedBy_username */
	char requested_by_email[256];
	char requested_by_discord_id[32];
	char requested_by_telegram_chat_id[32];
	/* The default template has no user id; a template that adds
	 * "requestedBy_id" fills this. 0 otherwise: match the requester by
	 * username, email or Discord id. */
	long requested_by_id;
	/* extra: "Requested Seasons" ("1, 2") for TV requests */
	int seasons[WEBHOOK_MAX_SEASONS];
	size_t nseasons;
};

/* `notice` is borrowed for the call only. */
typedef void webhook_cb(const struct webhook_notice *notice, void *arg);

/* Routes POST `path` (NULL: WEBHOOK_DEFAULT_PATH) on `h` (borrowed; it must
 * outlive the webhook or be freed first, see webhook_free()). `secret` is
 * copied; NULL or "" makes the route answer 403 to everything and say to
 * set webhook_secret. `cb` runs on the loop once per accepted notification,
 * never from inside the HTTP request; `arg` is borrowed. Returns a new
 * webhook, or NULL if the path is routed already. */
struct webhook *webhook_attach(struct httpd *h, const char *path, const char *secret,
                               webhook_cb *cb, void *arg);
/* Drops notices not yet delivered and frees the webhook. Call it after
 * httpd_free() (the route still points here until then). NULL is
 * ignored. */
void webhook_free(struct webhook *w);

/* Parses a payload. Returns 0, or -1 with a message in plain words in
 * `err` when the body is not a JSON object. Missing or odd fields are not
 * errors. Exposed for tests and the fuzzer. */
int webhook_parse(const char *body, size_t len, struct webhook_notice *out, char *err,
                  size_t errlen);
/* "MEDIA_APPROVED" for WEBHOOK_MEDIA_APPROVED; static. */
const char *webhook_event_name(enum webhook_event event);

#endif

/*
 * progress_text: the line a person sees for a tracked request, worked out
 * from what the cycle learned (Seerr's statuses, the arr queue records, the
 * torrents), and the FileBrowser link of a title's folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/progress_impl.h"
#include "core/util.h"
#include "services/qbittorrent.h"

#define PROGRESS_BAR_CELLS 10

const char *
progress_state_name(enum progress_state state)
{
	static const char *const names[] = {
	    [PROGRESS_REQUESTED] = "requested",
	    [PROGRESS_WAITING_APPROVAL] = "waiting_approval",
	    [PROGRESS_APPROVED] = "approved",
	    [PROGRESS_SEARCHING] = "searching",
	    [PROGRESS_DOWNLOADING] = "downloading",
	    [PROGRESS_STALLED] = "stalled",
	    [PROGRESS_IMPORTING] = "importing",
	    [PROGRESS_READY] = "ready",
	    [PROGRESS_DECLINED] = "declined",
	    [PROGRESS_FAILED] = "failed",
	};

	return (unsigned)state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

const char *
progress_state_words(enum progress_state state)
{
	switch (state) {
	case PROGRESS_REQUESTED:
		return "requested";
	case PROGRESS_WAITING_APPROVAL:
		return "waiting for an admin to approve it";
	case PROGRESS_APPROVED:
		return "approved, looking for a copy";
	case PROGRESS_SEARCHING:
		return "searching: no release found yet";
	case PROGRESS_DOWNLOADING:
		return "downloading";
	case PROGRESS_STALLED:
		return "stalled";
	case PROGRESS_IMPORTING:
		return "downloaded, adding it to the library";
	case PROGRESS_READY:
		return "ready to watch";
	case PROGRESS_DECLINED:
		return "declined";
	case PROGRESS_FAILED:
		return "failed";
	}
	return "?";
}

static void
format_bytes_rate(struct buf *b, long long bps)
{
	if (bps >= 1000 * 1000)
		buf_printf(b, "%.1f MB/s", (double)bps / 1e6);
	else
		buf_printf(b, "%lld kB/s", bps / 1000);
}

static void
format_eta(struct buf *b, long long s)
{
	if (s < 60)
		buf_printf(b, "ETA %lld s", s);
	else if (s < 3600)
		buf_printf(b, "ETA %lld min", (s + 59) / 60);
	else
		buf_printf(b, "ETA %lld h %lld min", s / 3600, (s % 3600) / 60);
}

static void
format_bar(struct buf *b, int percent)
{
	int i, full = percent * PROGRESS_BAR_CELLS / 100;

	for (i = 0; i < PROGRESS_BAR_CELLS; i++)
		buf_append_str(b, i < full ? "▓" : "░");
}

/* The title's download as a whole: however many torrents and episodes. */
struct download_view {
	bool have_torrent;
	double progress; /* 0..1 */
	long long dlspeed;
	long long eta;
	long seeds;
	enum qbittorrent_state qb_state;
	size_t episodes_done; /* shows: episodes that have left the queue */
	size_t episodes;      /* shows: every episode seen in the queue */
};

/* True when an earlier record of the title has the same torrent. */
static bool
record_repeats(const struct tracked *t, size_t r)
{
	size_t k;

	if (t->records[r].download_id[0] == '\0')
		return false;
	for (k = 0; k < r; k++)
		if (strcasecmp(t->records[k].download_id, t->records[r].download_id) == 0)
			return true;
	return false;
}

static bool
episode_queued(const struct tracked *t, long episode_id)
{
	size_t r;

	for (r = 0; r < t->record_count; r++)
		if (t->records[r].episode_id == episode_id)
			return true;
	return false;
}

static double
fraction(long long size, long long left)
{
	if (size <= 0)
		return 0;
	if (left < 0)
		left = 0;
	return left >= size ? 0 : (double)(size - left) / (double)size;
}

static void
progress_torrents(struct progress *p, const struct tracked *t, struct download_view *v)
{
	long long size = 0, left = 0;
	double units = 0;
	size_t r, e;

	memset(v, 0, sizeof(*v));
	v->eta = -1;
	for (r = 0; r < t->record_count; r++) {
		const struct queue_record *q = &t->records[r];
		const struct qbittorrent_torrent *tor =
		    p->svc.qbittorrent && q->download_id[0]
		        ? qbittorrent_find(p->svc.qbittorrent, q->download_id)
		        : NULL;
		bool repeat = record_repeats(t, r);

		/* A season pack is one torrent for many episodes: each
		 * episode is as far as the torrent, its bytes count once. */
		units += tor ? tor->progress : fraction(q->size, q->sizeleft);
		if (repeat)
			continue;
		if (tor == NULL) {
			size += q->size;
			left += q->sizeleft;
			continue;
		}
		v->have_torrent = true;
		size += tor->size;
		left += tor->amount_left;
		v->dlspeed += tor->dlspeed;
		v->seeds += tor->num_seeds;
		if (tor->eta > v->eta)
			v->eta = tor->eta;
		if (v->qb_state == QBITTORRENT_UNKNOWN || tor->state == QBITTORRENT_STALLED_DL ||
		    tor->state == QBITTORRENT_ERROR || tor->state == QBITTORRENT_MISSING_FILES)
			v->qb_state = tor->state;
	}
	v->progress = fraction(size, left);
	if (t->kind != SEERR_TV || t->episode_count == 0)
		return;
	/* Counted in episodes, those already gone from the queue as whole
	 * ones: a show does not slide back as its episodes are imported. */
	v->episodes = t->episode_count;
	for (e = 0; e < t->episode_count; e++)
		if (!episode_queued(t, t->episodes[e]))
			v->episodes_done++;
	v->progress = ((double)v->episodes_done + units) / (double)v->episodes;
}

/* Why a download does not move, in words, or NULL when it moves. */
static const char *
stall_reason(const struct download_view *v, const struct tracked *t, char *buf, size_t len)
{
	if (t->seen.arr_state == ARR_TRACKED_IMPORT_BLOCKED) {
		snprintf(buf, len, "the import is blocked%s%s",
		         t->seen.status_messages[0] ? ": " : "", t->seen.status_messages);
		return buf;
	}
	if (!v->have_torrent)
		return NULL;
	switch (v->qb_state) {
	case QBITTORRENT_STALLED_DL:
		return v->seeds == 0 ? "no seeds to download from"
		                     : "connected, but nothing is coming in";
	case QBITTORRENT_META_DL:
	case QBITTORRENT_FORCED_META_DL:
		return v->seeds == 0 ? "no peers to fetch the torrent's details from" : NULL;
	case QBITTORRENT_ERROR:
		return "qBittorrent reports an error (is the disk full?)";
	case QBITTORRENT_MISSING_FILES:
		return "qBittorrent lost the files";
	case QBITTORRENT_STOPPED_DL:
		return "the download is paused in qBittorrent";
	case QBITTORRENT_QUEUED_DL:
		return "waiting in qBittorrent's queue";
	default:
		return NULL;
	}
}

static enum progress_state
progress_next_state(const struct tracked *t, const struct download_view *v)
{
	const struct sighting *s = &t->seen;
	enum progress_state st = t->state;
	char why[320];

	if (s->seerr_seen) {
		if (s->request_status == SEERR_REQ_DECLINED)
			st = PROGRESS_DECLINED;
		else if (s->request_status == SEERR_REQ_FAILED)
			st = PROGRESS_FAILED;
		else if (s->request_status == SEERR_REQ_PENDING)
			st = PROGRESS_WAITING_APPROVAL;
		else if (s->media_status == SEERR_MEDIA_AVAILABLE ||
		         s->request_status == SEERR_REQ_COMPLETED)
			st = PROGRESS_READY; /* Seerr marks a request completed once available */
		else if (s->arr_records == 0 && (t->state == PROGRESS_IMPORTING ||
		                                 (t->state == PROGRESS_DOWNLOADING &&
		                                  t->step * PROGRESS_STEP_PERCENT >= 100)))
			/* Imported: the queue record is gone before Seerr's next
			 * availability sync (minutes) says so; it is not searching. */
			st = PROGRESS_IMPORTING;
		else if (s->arr_records == 0)
			st = PROGRESS_SEARCHING;
	}
	if (st != PROGRESS_READY && st != PROGRESS_DECLINED && st != PROGRESS_FAILED &&
	    s->arr_records > 0) {
		if (s->arr_state == ARR_TRACKED_IMPORTING ||
		    s->arr_state == ARR_TRACKED_IMPORT_PENDING)
			st = PROGRESS_IMPORTING;
		else if (s->arr_state == ARR_TRACKED_FAILED ||
		         s->arr_state == ARR_TRACKED_FAILED_PENDING)
			st = PROGRESS_FAILED;
		else
			st = PROGRESS_DOWNLOADING;
		if (st == PROGRESS_DOWNLOADING && stall_reason(v, t, why, sizeof(why)))
			st = PROGRESS_STALLED;
	}
	return st;
}

static void
render_download(const struct tracked *t, const struct download_view *v, enum progress_state st,
                int pct, struct buf *b)
{
	char why[320];
	const char *reason;

	if (st == PROGRESS_STALLED) {
		reason = stall_reason(v, t, why, sizeof(why));
		buf_printf(b, "Stalled at %d%% · %s", pct, reason ? reason : "not moving");
		return;
	}
	buf_append_str(b, "Downloading ");
	format_bar(b, pct);
	buf_printf(b, " %d%%", pct);
	if (v->have_torrent && v->dlspeed > 0) {
		buf_append_str(b, " · ");
		format_bytes_rate(b, v->dlspeed);
	}
	if (v->have_torrent && v->eta >= 0) {
		buf_append_str(b, " · ");
		format_eta(b, v->eta);
	} else if (!v->have_torrent && t->seen.timeleft_s > 0) {
		buf_append_str(b, " · ");
		format_eta(b, t->seen.timeleft_s);
	}
	if (v->episodes > 1)
		buf_printf(b, " · %zu of %zu episodes in", v->episodes_done, v->episodes);
}

void
progress_render(struct progress *p, struct tracked *t, enum progress_state *state, struct buf *b,
                int *percent)
{
	const struct sighting *s = &t->seen;
	struct download_view v;
	enum progress_state st;

	*percent = -1;
	progress_torrents(p, t, &v);
	st = progress_next_state(t, &v);
	*state = st;
	buf_printf(b, "%s: ", t->label);
	if (st == PROGRESS_DOWNLOADING || st == PROGRESS_STALLED) {
		int pct = (int)(v.progress * 100.0);

		if (pct > 100)
			pct = 100;
		if (t->kind == SEERR_TV && pct < t->floor_pct)
			pct = t->floor_pct;
		*percent = pct;
		render_download(t, &v, st, pct, b);
	} else if (st == PROGRESS_FAILED && s->status_messages[0]) {
		buf_printf(b, "failed: %s", s->status_messages);
	} else {
		buf_append_str(b, progress_state_words(st));
	}
	if (p->downloader_failed && (st == PROGRESS_DOWNLOADING || st == PROGRESS_STALLED ||
	                             st == PROGRESS_SEARCHING || st == PROGRESS_IMPORTING))
		buf_printf(b, " (can't reach the downloader right now: %s)", p->downloader_error);
}

char *
progress_html_escape(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (; *s; s++) {
		if (*s == '&')
			buf_append_str(&b, "&amp;");
		else if (*s == '<')
			buf_append_str(&b, "&lt;");
		else if (*s == '>')
			buf_append_str(&b, "&gt;");
		else if (*s == '"')
			buf_append_str(&b, "&quot;");
		else
			buf_append(&b, s, 1);
	}
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* Appends `s` (n bytes) with every byte but unreserved ones and '/'
 * percent-encoded (RFC 3986). Returns 0, or -1 past the buffer's max. */
static int
append_encoded(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
			rc |= buf_append(b, &c, 1);
		else
			rc |= buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	return rc < 0 ? -1 : 0;
}

/* Length of `s` without trailing slashes. */
static size_t
trimmed_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

char *
progress_library_link(const char *url, const char *path_from, const char *path_to, const char *path)
{
	size_t from = trimmed_len(path_from), to = trimmed_len(path_to);
	const char *rest;
	struct buf b;
	int rc;

	if (url == NULL || path == NULL || strncmp(path, path_from, from) != 0 ||
	    (path[from] != '/' && path[from] != '\0'))
		return NULL;
	rest = path + from;
	buf_init(&b, 4096);
	rc = buf_append(&b, url, trimmed_len(url));
	rc |= buf_append_str(&b, "/files");
	if (to > 0 && path_to[0] != '/')
		rc |= buf_append_str(&b, "/");
	rc |= append_encoded(&b, path_to, to);
	rc |= append_encoded(&b, rest, strlen(rest));
	if (rc != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

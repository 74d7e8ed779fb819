#include "bot/progress.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "services/arr.h"
#include "services/qbittorrent.h"
#include "services/radarr.h"
#include "services/sonarr.h"

#define PROGRESS_TEXT_MAX  512
#define PROGRESS_BAR_CELLS 10
/* A request just made is looked at soon, not a whole interval later. */
#define PROGRESS_FIRST_LOOK_MS 1000
/* Where messages cannot be edited, a new one is sent at each quarter. */
#define PROGRESS_STEP_PERCENT 25

struct follower {
	char *network;
	char *room;
	char *person;
	char *mention;
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
	long long size;
	long long sizeleft;
	long long timeleft_s;
	enum arr_tracked_state arr_state;
	char status_messages[256];
	char download_ids[4][64];
	int download_id_count;
};

struct tracked {
	struct progress *p;
	sqlite3_int64 id;
	long request_id;
	enum seerr_kind kind;
	long tmdb_id;
	bool is_4k;
	char *label;
	struct follower who; /* the requester */
	struct follower *followers;
	size_t follower_count;
	char *progress_msg;
	bool sending; /* the first progress message is on its way */
	enum progress_state state;
	char text[PROGRESS_TEXT_MAX];
	int step;
	bool done;
	const char *announce; /* a static line to tell everyone after the commit */
	uint64_t last_edit_ms;
	struct sighting seen;
};

struct progress {
	struct loop *loop;
	struct store *store;
	struct progress_services svc;
	struct progress_host host;
	long interval_ms;
	long edit_every_ms;
	struct tracked **items;
	size_t count;
	loop_timer_id timer;
	int waiting; /* answers still due in the running cycle */
	int last_calls;
	bool seerr_failed;
	bool downloader_failed;
	char downloader_error[256];
	struct seerr_call *seerr_call;
	struct arr_call *radarr_call;
	struct arr_call *sonarr_call;
	struct qbittorrent_call *qb_call;
};

static void progress_arm(struct progress *p, long delay_ms);

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
follower_free(struct follower *f)
{
	free(f->network);
	free(f->room);
	free(f->person);
	free(f->mention);
}

static void
tracked_free(struct tracked *t)
{
	size_t i;

	follower_free(&t->who);
	for (i = 0; i < t->follower_count; i++)
		follower_free(&t->followers[i]);
	free(t->followers);
	free(t->label);
	free(t->progress_msg);
	free(t);
}

struct progress *
progress_new(struct loop *loop, struct store *store, const struct progress_services *services,
             const struct progress_host *host, long interval_ms, long edit_every_ms)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->loop = loop;
	p->store = store;
	p->svc = *services;
	p->host = *host;
	p->interval_ms = interval_ms > 0 ? interval_ms : 30000;
	p->edit_every_ms = edit_every_ms >= 0 ? edit_every_ms : 5000;
	return p;
}

static void
progress_cancel_cycle(struct progress *p)
{
	if (p->seerr_call)
		seerr_cancel(p->seerr_call);
	if (p->radarr_call)
		arr_cancel(p->radarr_call);
	if (p->sonarr_call)
		arr_cancel(p->sonarr_call);
	if (p->qb_call)
		qbittorrent_cancel(p->qb_call);
	p->seerr_call = NULL;
	p->radarr_call = NULL;
	p->sonarr_call = NULL;
	p->qb_call = NULL;
	p->waiting = 0;
}

void
progress_free(struct progress *p)
{
	size_t i;

	if (p == NULL)
		return;
	progress_cancel_cycle(p);
	if (p->timer)
		loop_cancel_timer(p->loop, p->timer);
	for (i = 0; i < p->count; i++) {
		/* A send in flight still points at its item: it is told to
		 * forget it (see tracked_sent). */
		if (p->items[i]->sending)
			p->items[i]->p = NULL;
		else
			tracked_free(p->items[i]);
	}
	free(p->items);
	free(p);
}

size_t
progress_active(const struct progress *p)
{
	return p->count;
}

int
progress_last_cycle_calls(const struct progress *p)
{
	return p->last_calls;
}

bool
progress_cycle_running(const struct progress *p)
{
	return p->waiting > 0;
}

static void
tracked_save(struct tracked *t)
{
	sqlite3_stmt *q;

	if (t->p->store == NULL)
		return;
	if (sqlite3_prepare_v2(
	        store_db(t->p->store),
	        "UPDATE tracked SET seerr_request_id = ?, progress_msg = ?, state = ?,"
	        " text = ?, step = ?, done = ?, updated_at = ? WHERE id = ?",
	        -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: cannot save progress: %s", sqlite3_errmsg(store_db(t->p->store)));
		return;
	}
	sqlite3_bind_int64(q, 1, t->request_id);
	if (t->progress_msg)
		sqlite3_bind_text(q, 2, t->progress_msg, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)t->state);
	sqlite3_bind_text(q, 4, t->text, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 5, t->step);
	sqlite3_bind_int(q, 6, t->done);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(q, 8, t->id);
	if (sqlite3_step(q) != SQLITE_DONE)
		log_warnx("store: cannot save progress: %s", sqlite3_errmsg(store_db(t->p->store)));
	sqlite3_finalize(q);
}

static void
progress_add(struct progress *p, struct tracked *t)
{
	p->items = xrealloc(p->items, (p->count + 1) * sizeof(*p->items));
	p->items[p->count++] = t;
}

static void
progress_remove(struct progress *p, struct tracked *t)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		if (p->items[i] == t) {
			memmove(&p->items[i], &p->items[i + 1],
			        (p->count - i - 1) * sizeof(*p->items));
			p->count--;
			return;
		}
	}
}

static void
follower_set(struct follower *f, const char *network, const char *room, const char *person,
             const char *mention)
{
	f->network = xstrdup(network);
	f->room = xstrdup(room);
	f->person = xstrdup(person);
	f->mention = xstrdup(mention);
}

static void
progress_load_followers(struct progress *p, struct tracked *t)
{
	sqlite3_stmt *q;

	if (sqlite3_prepare_v2(store_db(p->store),
	                       "SELECT network, room, person, mention FROM followers"
	                       " WHERE tracked_id = ?",
	                       -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(q, 1, t->id);
	while (sqlite3_step(q) == SQLITE_ROW) {
		t->followers =
		    xrealloc(t->followers, (t->follower_count + 1) * sizeof(*t->followers));
		follower_set(&t->followers[t->follower_count++],
		             (const char *)sqlite3_column_text(q, 0),
		             (const char *)sqlite3_column_text(q, 1),
		             (const char *)sqlite3_column_text(q, 2),
		             (const char *)sqlite3_column_text(q, 3));
	}
	sqlite3_finalize(q);
}

void
progress_resume(struct progress *p)
{
	sqlite3_stmt *q;

	if (p->store == NULL)
		return;
	if (sqlite3_prepare_v2(store_db(p->store),
	                       "SELECT id, seerr_request_id, kind, tmdb_id, is_4k, label, network,"
	                       " room, person, mention, progress_msg, state, text, step"
	                       " FROM tracked WHERE done = 0 ORDER BY id",
	                       -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: cannot read tracked requests: %s",
		          sqlite3_errmsg(store_db(p->store)));
		return;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		struct tracked *t = xcalloc(1, sizeof(*t));
		const char *kind = (const char *)sqlite3_column_text(q, 2);
		const char *text = (const char *)sqlite3_column_text(q, 12);

		t->p = p;
		t->id = sqlite3_column_int64(q, 0);
		t->request_id = (long)sqlite3_column_int64(q, 1);
		t->kind = kind && strcmp(kind, "tv") == 0 ? SEERR_TV : SEERR_MOVIE;
		t->tmdb_id = (long)sqlite3_column_int64(q, 3);
		t->is_4k = sqlite3_column_int(q, 4) != 0;
		t->label = xstrdup((const char *)sqlite3_column_text(q, 5));
		follower_set(&t->who, (const char *)sqlite3_column_text(q, 6),
		             (const char *)sqlite3_column_text(q, 7),
		             (const char *)sqlite3_column_text(q, 8),
		             (const char *)sqlite3_column_text(q, 9));
		t->progress_msg = xstrdup((const char *)sqlite3_column_text(q, 10));
		t->state = (enum progress_state)sqlite3_column_int(q, 11);
		strlcpy_u(t->text, text ? text : "", sizeof(t->text));
		t->step = sqlite3_column_int(q, 13);
		progress_load_followers(p, t);
		progress_add(p, t);
	}
	sqlite3_finalize(q);
	if (p->count > 0) {
		log_info("progress: following %zu requests from before the restart", p->count);
		progress_arm(p, PROGRESS_FIRST_LOOK_MS);
	}
}

static struct tracked *
progress_find(struct progress *p, enum seerr_kind kind, long tmdb_id, bool is_4k)
{
	size_t i;

	for (i = 0; i < p->count; i++) {
		struct tracked *t = p->items[i];

		if (t->kind == kind && t->tmdb_id == tmdb_id && t->is_4k == is_4k && !t->done)
			return t;
	}
	return NULL;
}

static int
progress_add_follower(struct progress *p, struct tracked *t, const struct progress_item *it)
{
	sqlite3_stmt *q;
	size_t i;
	int rc;

	if (strcmp(t->who.person, it->person) == 0)
		return 0;
	for (i = 0; i < t->follower_count; i++)
		if (strcmp(t->followers[i].person, it->person) == 0)
			return 0;
	if (sqlite3_prepare_v2(store_db(p->store),
	                       "INSERT OR IGNORE INTO followers (tracked_id, network, room, person,"
	                       " mention) VALUES (?, ?, ?, ?, ?)",
	                       -1, &q, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(q, 1, t->id);
	sqlite3_bind_text(q, 2, it->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, it->room, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, it->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, it->mention, -1, SQLITE_STATIC);
	rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(q);
	if (rc == 0) {
		t->followers =
		    xrealloc(t->followers, (t->follower_count + 1) * sizeof(*t->followers));
		follower_set(&t->followers[t->follower_count++], it->network, it->room, it->person,
		             it->mention);
	}
	return rc;
}

int
progress_track(struct progress *p, const struct progress_item *it)
{
	struct tracked *t = progress_find(p, it->kind, it->tmdb_id, it->is_4k);
	sqlite3_stmt *q;
	time_t now = time(NULL);
	int rc;

	if (t != NULL) {
		if (it->seerr_request_id > 0 && t->request_id == 0)
			t->request_id = it->seerr_request_id;
		return progress_add_follower(p, t, it);
	}
	if (sqlite3_prepare_v2(store_db(p->store),
	                       "INSERT INTO tracked (seerr_request_id, kind, tmdb_id, is_4k, label,"
	                       " network, room, person, mention, created_at, updated_at)"
	                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                       -1, &q, NULL) != SQLITE_OK) {
		log_warnx("store: cannot follow a request: %s", sqlite3_errmsg(store_db(p->store)));
		return -1;
	}
	sqlite3_bind_int64(q, 1, it->seerr_request_id);
	sqlite3_bind_text(q, 2, it->kind == SEERR_TV ? "tv" : "movie", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, it->tmdb_id);
	sqlite3_bind_int(q, 4, it->is_4k);
	sqlite3_bind_text(q, 5, it->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, it->network, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, it->room, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, it->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, it->mention, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, (sqlite3_int64)now);
	sqlite3_bind_int64(q, 11, (sqlite3_int64)now);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		log_warnx("store: cannot follow a request: %s", sqlite3_errmsg(store_db(p->store)));
		return -1;
	}
	t = xcalloc(1, sizeof(*t));
	t->p = p;
	t->id = sqlite3_last_insert_rowid(store_db(p->store));
	t->request_id = it->seerr_request_id;
	t->kind = it->kind;
	t->tmdb_id = it->tmdb_id;
	t->is_4k = it->is_4k;
	t->label = xstrdup(it->label);
	t->step = -1;
	follower_set(&t->who, it->network, it->room, it->person, it->mention);
	progress_add(p, t);
	progress_arm(p, PROGRESS_FIRST_LOOK_MS);
	return 0;
}

/* Cycle ------------------------------------------------------------------ */

static void progress_cycle_finish(struct progress *p);

static void
progress_answer_in(struct progress *p)
{
	if (--p->waiting == 0)
		progress_cycle_finish(p);
}

static void
progress_seerr_done(void *arg, const struct service_result *res, const struct seerr_request *items,
                    size_t count, long total)
{
	struct progress *p = arg;
	size_t i, k;

	(void)total;
	p->seerr_call = NULL;
	p->seerr_failed = res->error != SERVICE_OK;
	if (p->seerr_failed)
		log_warnx("progress: %s", res->message);
	for (i = 0; !p->seerr_failed && i < p->count; i++) {
		struct tracked *t = p->items[i];

		for (k = 0; k < count; k++) {
			const struct seerr_request *q = &items[k];
			bool same = t->request_id > 0
			                ? q->id == t->request_id
			                : q->tmdb_id == t->tmdb_id && q->kind == t->kind &&
			                      q->is_4k == t->is_4k;

			if (!same)
				continue;
			t->seen.seerr_seen = true;
			t->seen.request_status = q->status;
			t->seen.media_status = q->media_status;
			if (t->request_id == 0)
				t->request_id = q->id;
			break;
		}
	}
	progress_answer_in(p);
}

/* A queue record by TMDB id, for matching without an n·m loop. */
struct queue_ref {
	long tmdb_id;
	size_t k;
};

static int
queue_ref_cmp(const void *a, const void *b)
{
	const struct queue_ref *x = a, *y = b;

	if (x->tmdb_id != y->tmdb_id)
		return x->tmdb_id < y->tmdb_id ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k; /* keeps the queue's order */
}

static void
progress_take_queue(struct progress *p, const struct arr_queue *queue, enum seerr_kind kind)
{
	struct queue_ref *refs = queue->count ? xmalloc(queue->count * sizeof(*refs)) : NULL;
	size_t i, k, r;

	for (k = 0; k < queue->count; k++) {
		refs[k].tmdb_id = queue->items[k].tmdb_id;
		refs[k].k = k;
	}
	if (refs)
		qsort(refs, queue->count, sizeof(*refs), queue_ref_cmp);
	for (i = 0; i < p->count; i++) {
		struct tracked *t = p->items[i];
		size_t lo = 0, hi = queue->count;

		if (t->kind != kind)
			continue;
		memset(&t->seen.arr_records, 0,
		       sizeof(t->seen) - offsetof(struct sighting, arr_records));
		while (lo < hi) { /* the first record with this TMDB id */
			size_t mid = lo + (hi - lo) / 2;

			if (refs[mid].tmdb_id < t->tmdb_id)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (r = lo; r < queue->count && refs[r].tmdb_id == t->tmdb_id; r++) {
			const struct arr_queue_item *q = &queue->items[refs[r].k];
			struct sighting *s = &t->seen;
			int d;
			bool known = false;

			s->arr_records++;
			s->size += q->size;
			s->sizeleft += q->sizeleft;
			if (q->timeleft_s > s->timeleft_s)
				s->timeleft_s = q->timeleft_s;
			/* The most advanced record speaks for the title. */
			if (q->tracked_state == ARR_TRACKED_IMPORT_BLOCKED ||
			    q->tracked_state == ARR_TRACKED_FAILED_PENDING ||
			    q->tracked_state == ARR_TRACKED_FAILED ||
			    s->arr_state == ARR_TRACKED_UNKNOWN ||
			    (q->tracked_state == ARR_TRACKED_IMPORTING &&
			     s->arr_state == ARR_TRACKED_DOWNLOADING))
				s->arr_state = q->tracked_state;
			if (q->status_messages && q->status_messages[0] && !s->status_messages[0])
				strlcpy_u(s->status_messages, q->status_messages,
				          sizeof(s->status_messages));
			else if (q->error_message && q->error_message[0] && !s->status_messages[0])
				strlcpy_u(s->status_messages, q->error_message,
				          sizeof(s->status_messages));
			for (d = 0; d < s->download_id_count; d++)
				known |= strcasecmp(s->download_ids[d], q->download_id) == 0;
			if (!known && q->download_id && q->download_id[0] &&
			    s->download_id_count < 4)
				strlcpy_u(s->download_ids[s->download_id_count++], q->download_id,
				          sizeof(s->download_ids[0]));
		}
	}
	free(refs);
}

static void
progress_downloader_failed(struct progress *p, const struct service_result *res)
{
	p->downloader_failed = true;
	strlcpy_u(p->downloader_error, res->message, sizeof(p->downloader_error));
	log_warnx("progress: %s", res->message);
}

static void
progress_radarr_done(const struct service_result *res, const struct arr_queue *queue, void *arg)
{
	struct progress *p = arg;

	p->radarr_call = NULL;
	if (res->error != SERVICE_OK)
		progress_downloader_failed(p, res);
	else
		progress_take_queue(p, queue, SEERR_MOVIE);
	progress_answer_in(p);
}

static void
progress_sonarr_done(const struct service_result *res, const struct arr_queue *queue, void *arg)
{
	struct progress *p = arg;

	p->sonarr_call = NULL;
	if (res->error != SERVICE_OK)
		progress_downloader_failed(p, res);
	else
		progress_take_queue(p, queue, SEERR_TV);
	progress_answer_in(p);
}

static void
progress_qb_done(const struct service_result *res, void *arg)
{
	struct progress *p = arg;

	p->qb_call = NULL;
	if (res->error != SERVICE_OK)
		progress_downloader_failed(p, res);
	progress_answer_in(p);
}

void
progress_cycle_now(struct progress *p)
{
	size_t i;

	if (p->waiting > 0 || p->count == 0)
		return;
	/* The arr part is reset when its queue answers (progress_take_queue). */
	for (i = 0; i < p->count; i++)
		memset(&p->items[i]->seen, 0, offsetof(struct sighting, arr_records));
	p->seerr_failed = p->downloader_failed = false;
	p->downloader_error[0] = '\0';
	/* Count every call first: an answer may not complete the cycle
	 * before all of them are out. */
	p->waiting =
	    1 + (p->svc.radarr != NULL) + (p->svc.sonarr != NULL) + (p->svc.qbittorrent != NULL);
	p->last_calls = p->waiting;
	p->seerr_call = seerr_list_recently_changed(p->svc.seerr, 100, progress_seerr_done, p);
	if (p->svc.radarr)
		p->radarr_call = radarr_queue(p->svc.radarr, progress_radarr_done, p);
	if (p->svc.sonarr)
		p->sonarr_call = sonarr_queue(p->svc.sonarr, progress_sonarr_done, p);
	if (p->svc.qbittorrent)
		p->qb_call = qbittorrent_sync(p->svc.qbittorrent, progress_qb_done, p);
}

static void
progress_timer_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct progress *p = arg;

	(void)loop;
	(void)id;
	p->timer = 0;
	if (p->waiting > 0)
		return; /* the running cycle re-arms when it ends */
	progress_cycle_now(p);
	if (p->waiting == 0 && p->count > 0)
		progress_arm(p, p->interval_ms);
}

/* (Re)arms the one timer to fire in `delay_ms`, unless it fires sooner. */
static void
progress_arm(struct progress *p, long delay_ms)
{
	if (p->timer) {
		loop_cancel_timer(p->loop, p->timer);
		p->timer = 0;
	}
	p->timer = loop_add_timer(p->loop, (uint64_t)delay_ms, progress_timer_fire, p);
}

void
progress_poke(struct progress *p)
{
	if (p->count > 0 && p->waiting == 0)
		progress_arm(p, 0);
}

/* Rendering --------------------------------------------------------------- */

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

struct download_view {
	bool have_torrent;
	double progress; /* 0..1 */
	long long dlspeed;
	long long eta;
	long seeds;
	enum qbittorrent_state qb_state;
};

static void
progress_torrents(struct progress *p, const struct tracked *t, struct download_view *v)
{
	long long size = 0, left = 0;
	int d;

	memset(v, 0, sizeof(*v));
	v->eta = -1;
	if (p->svc.qbittorrent == NULL)
		return;
	for (d = 0; d < t->seen.download_id_count; d++) {
		const struct qbittorrent_torrent *tor =
		    qbittorrent_find(p->svc.qbittorrent, t->seen.download_ids[d]);

		if (tor == NULL)
			continue;
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
		if (size == 0)
			v->progress = tor->progress;
	}
	if (size > 0)
		v->progress = (double)(size - left) / (double)size;
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

/* Works out the state and the visible line for one tracked request. */
static void
progress_render(struct progress *p, struct tracked *t, enum progress_state *state, struct buf *b,
                int *percent)
{
	const struct sighting *s = &t->seen;
	enum progress_state st = t->state;
	struct download_view v;
	char why[320];
	const char *reason;

	*percent = -1;
	progress_torrents(p, t, &v);
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
		if (st == PROGRESS_DOWNLOADING && stall_reason(&v, t, why, sizeof(why)))
			st = PROGRESS_STALLED;
	}
	*state = st;
	buf_printf(b, "%s: ", t->label);
	if (st == PROGRESS_DOWNLOADING || st == PROGRESS_STALLED) {
		int pct = v.have_torrent ? (int)(v.progress * 100.0)
		          : s->size > 0
		              ? (int)((double)(s->size - s->sizeleft) * 100.0 / (double)s->size)
		              : 0;

		if (pct > 100)
			pct = 100;
		*percent = pct;
		if (st == PROGRESS_STALLED) {
			reason = stall_reason(&v, t, why, sizeof(why));
			buf_printf(b, "Stalled at %d%% · %s", pct, reason ? reason : "not moving");
		} else {
			buf_append_str(b, "Downloading ");
			format_bar(b, pct);
			buf_printf(b, " %d%%", pct);
			if (v.have_torrent && v.dlspeed > 0) {
				buf_append_str(b, " · ");
				format_bytes_rate(b, v.dlspeed);
			}
			if (v.have_torrent && v.eta >= 0) {
				buf_append_str(b, " · ");
				format_eta(b, v.eta);
			} else if (!v.have_torrent && s->timeleft_s > 0) {
				buf_append_str(b, " · ");
				format_eta(b, s->timeleft_s);
			}
			if (t->kind == SEERR_TV && s->arr_records > 1)
				buf_printf(b, " · %d episodes", s->arr_records);
		}
	} else if (st == PROGRESS_FAILED && s->status_messages[0]) {
		buf_printf(b, "failed: %s", s->status_messages);
	} else {
		buf_append_str(b, progress_state_words(st));
	}
	if (p->downloader_failed && (st == PROGRESS_DOWNLOADING || st == PROGRESS_STALLED ||
	                             st == PROGRESS_SEARCHING || st == PROGRESS_IMPORTING))
		buf_printf(b, " (can't reach the downloader right now: %s)", p->downloader_error);
}

/* Speaking ------------------------------------------------------------------ */

static void
tracked_sent(void *arg, int status, const char *msg_id, const char *error)
{
	struct tracked *t = arg;

	t->sending = false;
	if (t->p == NULL) { /* the tracker went away meanwhile */
		tracked_free(t);
		return;
	}
	if (status != 0) {
		log_warnx("progress: could not post the progress of %s: %s", t->label,
		          error ? error : "?");
		return;
	}
	free(t->progress_msg);
	t->progress_msg = xstrdup(msg_id);
	tracked_save(t);
}

static void
progress_edit_done(void *arg, int status, const char *msg_id, const char *error)
{
	(void)arg;
	(void)msg_id;
	if (status != 0)
		log_warnx("progress: an edit was not delivered: %s", error ? error : "?");
}

/* Tells the requester and followers that it is ready (or declined). */
static void
progress_announce(struct progress *p, struct tracked *t, const char *what)
{
	char text[PROGRESS_TEXT_MAX + 64];
	size_t i;

	struct chat_out out = {.text = text};

	snprintf(text, sizeof(text), "@%s %s %s", t->who.person, t->label, what);
	out.mention = t->who.mention;
	p->host.send(p->host.arg, t->who.network, t->who.room, &out, progress_edit_done, NULL);
	for (i = 0; i < t->follower_count; i++) {
		struct follower *f = &t->followers[i];

		snprintf(text, sizeof(text), "@%s %s %s", f->person, t->label, what);
		out.mention = f->mention;
		p->host.send(p->host.arg, f->network, f->room, &out, progress_edit_done, NULL);
	}
}

static void
progress_show(struct progress *p, struct tracked *t, enum progress_state state, const char *text,
              int percent)
{
	uint64_t now = loop_now_ms(p->loop);
	bool changed_state = state != t->state;
	bool final =
	    state == PROGRESS_READY || state == PROGRESS_DECLINED || state == PROGRESS_FAILED;
	bool can_edit = p->host.can_edit(p->host.arg, t->who.network);
	int step = percent >= 0 ? percent / PROGRESS_STEP_PERCENT : -1;
	struct chat_out out = {.text = text};

	if (strcmp(text, t->text) == 0 && !changed_state)
		return;
	if (t->sending)
		return; /* the first message is still on its way */
	if (t->progress_msg == NULL || t->progress_msg[0] == '\0') {
		t->sending = true;
		if (p->host.send(p->host.arg, t->who.network, t->who.room, &out, tracked_sent, t) ==
		    -1) {
			t->sending = false;
			return;
		}
	} else if (can_edit) {
		if (!changed_state && !final && now - t->last_edit_ms < (uint64_t)p->edit_every_ms)
			return; /* throttled: the next cycle shows the news */
		p->host.edit(p->host.arg, t->who.network, t->who.room, t->progress_msg, &out,
		             progress_edit_done, NULL);
	} else if (changed_state || step != t->step) {
		p->host.send(p->host.arg, t->who.network, t->who.room, &out, progress_edit_done,
		             NULL);
	} else {
		return;
	}
	t->last_edit_ms = now;
	t->state = state;
	t->step = step;
	strlcpy_u(t->text, text, sizeof(t->text));
	if (final)
		t->done = true;
	tracked_save(t);
	/* Told once the cycle's transaction is committed (progress_cycle_finish). */
	if (state == PROGRESS_READY)
		t->announce = "is ready to watch.";
	else if (state == PROGRESS_DECLINED && changed_state)
		t->announce = "was declined by an admin.";
	else if (state == PROGRESS_FAILED && changed_state)
		t->announce = "could not be fetched; an admin has been told in Overseerr.";
}

static void
progress_cycle_finish(struct progress *p)
{
	bool busy = false, in_tx;
	size_t i;

	/* One transaction for the whole cycle: one disk sync per cycle, not
	 * one per title (synchronous=FULL makes each commit an fdatasync). */
	in_tx = p->store != NULL && store_begin(p->store) == 0;
	for (i = 0; i < p->count; i++) {
		struct tracked *t = p->items[i];
		enum progress_state state;
		struct buf b;
		int percent;

		buf_init(&b, PROGRESS_TEXT_MAX - 1);
		progress_render(p, t, &state, &b, &percent);
		progress_show(p, t, state, b.data ? b.data : "", percent);
		buf_free(&b);
		busy |= t->state == PROGRESS_DOWNLOADING || t->state == PROGRESS_IMPORTING ||
		        t->state == PROGRESS_STALLED;
	}
	if (in_tx && store_commit(p->store) == -1)
		log_warnx("store: cannot save progress: %s", store_errmsg(p->store));
	/* Saved before "ready" goes out: after a crash the person may miss
	 * that line, but is never told twice. */
	for (i = 0; i < p->count;) {
		struct tracked *t = p->items[i];

		if (t->announce) {
			progress_announce(p, t, t->announce);
			t->announce = NULL;
		}
		if (t->done && !t->sending) {
			progress_remove(p, t);
			tracked_free(t);
			continue;
		}
		if (t->done) {
			/* Forget it once its first message is out. */
			progress_remove(p, t);
			t->p = NULL;
			continue;
		}
		i++;
	}
	if (p->count > 0)
		progress_arm(p, busy ? (p->interval_ms / 3 > 1000 ? p->interval_ms / 3 : 1000)
		                     : p->interval_ms);
}

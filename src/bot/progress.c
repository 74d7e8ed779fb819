#include "bot/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/progress_impl.h"
#include "core/log.h"
#include "core/store.h"
#include "core/util.h"
#include "services/qbittorrent.h"
#include "services/radarr.h"
#include "services/sonarr.h"

/* A request just made is looked at soon, not a whole interval later. */
#define PROGRESS_FIRST_LOOK_MS 1000

static void progress_arm(struct progress *p, long delay_ms);

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
	progress_where_free(p);
	progress_store_close(p);
	free(p->by_tmdb);
	free(p->by_tvdb);
	free(p->by_req);
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

void
progress_count_by_state(const struct progress *p, size_t counts[PROGRESS_FAILED + 1])
{
	size_t i;

	memset(counts, 0, (PROGRESS_FAILED + 1) * sizeof(counts[0]));
	for (i = 0; i < p->count; i++)
		if (p->items[i]->state <= PROGRESS_FAILED)
			counts[p->items[i]->state]++;
}

void
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

void
progress_resume(struct progress *p)
{
	if (p->store == NULL)
		return;
	if (progress_load_new(p) > 0)
		log_info("progress: following %zu requests from before the restart", p->count);
	/* The cycle runs even with nothing followed: `usher mcp` may add
	 * rows to the store at any time. */
	progress_arm(p, p->count > 0 ? PROGRESS_FIRST_LOOK_MS : p->interval_ms);
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
	size_t i;

	if (strcmp(t->who.person, it->person) == 0)
		return 0;
	for (i = 0; i < t->follower_count; i++)
		if (strcmp(t->followers[i].person, it->person) == 0)
			return 0;
	if (progress_store_follower(p->store, t->id, it) == -1)
		return -1;
	t->followers = xrealloc(t->followers, (t->follower_count + 1) * sizeof(*t->followers));
	follower_set(&t->followers[t->follower_count++], it->network, it->room, it->person,
	             it->mention, it->notify);
	return 0;
}

int
progress_track(struct progress *p, const struct progress_item *it)
{
	struct tracked *t = progress_find(p, it->kind, it->tmdb_id, it->is_4k);
	sqlite3_int64 id;

	if (t != NULL) {
		if (it->seerr_request_id > 0 && t->request_id == 0)
			t->request_id = it->seerr_request_id;
		if (it->tvdb_id > 0 && t->tvdb_id == 0)
			t->tvdb_id = it->tvdb_id;
		return progress_add_follower(p, t, it);
	}
	if ((id = progress_store_insert(p->store, it)) == 0)
		return -1;
	t = xcalloc(1, sizeof(*t));
	t->p = p;
	t->id = id;
	t->request_id = it->seerr_request_id;
	t->kind = it->kind;
	t->tmdb_id = it->tmdb_id;
	t->tvdb_id = it->tvdb_id;
	t->is_4k = it->is_4k;
	t->label = xstrdup(it->label ? it->label : "");
	tracked_set_text(t, "");
	t->step = -1;
	t->floor_pct = -1;
	follower_set(&t->who, it->network, it->room, it->person, it->mention, it->notify);
	progress_insert_item(p, t);
	if (p->waiting == 0)
		progress_arm(p, PROGRESS_FIRST_LOOK_MS);
	else
		t->fresh = true;
	return 0;
}

enum progress_me_too
progress_follow_latest(struct progress *p, const struct progress_item *who, long max_age_s,
                       char *label, size_t label_len)
{
	enum progress_state state = PROGRESS_REQUESTED;
	bool done = false;
	sqlite3_int64 id;
	struct tracked *t;
	size_t before;

	if (p->store == NULL || who->network == NULL || who->room == NULL)
		return PROGRESS_ME_TOO_NONE;
	id = progress_store_latest(p->store, who->network, who->room,
	                           (long long)time(NULL) - max_age_s, &done, &state, label,
	                           label_len);
	if (id == 0)
		return PROGRESS_ME_TOO_NONE;
	if (done)
		return state == PROGRESS_READY ? PROGRESS_ME_TOO_READY : PROGRESS_ME_TOO_NONE;
	if ((t = progress_by_id(p, id)) == NULL) {
		progress_load_new(p); /* written by `usher mcp` since the last cycle */
		if ((t = progress_by_id(p, id)) == NULL)
			return PROGRESS_ME_TOO_NONE;
	}
	before = t->follower_count;
	if (strcmp(t->who.person, who->person) == 0)
		return PROGRESS_ME_TOO_ALREADY;
	if (progress_add_follower(p, t, who) == -1)
		return PROGRESS_ME_TOO_ERROR;
	return t->follower_count > before ? PROGRESS_ME_TOO_ADDED : PROGRESS_ME_TOO_ALREADY;
}

/* Cycle ------------------------------------------------------------------ */

static void progress_cycle_finish(struct progress *p);

static void
progress_answer_in(struct progress *p)
{
	if (--p->waiting == 0)
		progress_cycle_finish(p);
}

static size_t
hash_slot(const struct progress *p, long id)
{
	return (size_t)((unsigned long)id * 2654435761UL) & (p->hash_size - 1);
}

/* Rebuilds the three look-up chains: a cycle matches every queue record
 * and Seerr request in constant time, whatever the number followed. */
static void
progress_index(struct progress *p)
{
	size_t want = PROGRESS_HASH_MIN, i;

	while (want < 2 * p->count)
		want *= 2;
	if (want != p->hash_size) {
		p->hash_size = want;
		p->by_tmdb = xrealloc(p->by_tmdb, want * sizeof(*p->by_tmdb));
		p->by_tvdb = xrealloc(p->by_tvdb, want * sizeof(*p->by_tvdb));
		p->by_req = xrealloc(p->by_req, want * sizeof(*p->by_req));
	}
	memset(p->by_tmdb, 0, want * sizeof(*p->by_tmdb));
	memset(p->by_tvdb, 0, want * sizeof(*p->by_tvdb));
	memset(p->by_req, 0, want * sizeof(*p->by_req));
	/* Backwards, so each chain lists the oldest first. */
	for (i = p->count; i-- > 0;) {
		struct tracked *t = p->items[i];
		size_t k = hash_slot(p, t->tmdb_id);

		t->next_tmdb = p->by_tmdb[k];
		p->by_tmdb[k] = t;
		t->next_tvdb = NULL;
		if (t->tvdb_id > 0) {
			k = hash_slot(p, t->tvdb_id);
			t->next_tvdb = p->by_tvdb[k];
			p->by_tvdb[k] = t;
		}
		t->next_req = NULL;
		if (t->request_id > 0) {
			k = hash_slot(p, t->request_id);
			t->next_req = p->by_req[k];
			p->by_req[k] = t;
		}
	}
}

static void
tracked_sees(struct tracked *t, const struct seerr_request *q)
{
	t->seen.seerr_seen = true;
	t->seen.request_status = q->status;
	t->seen.media_status = q->media_status;
	if (t->request_id == 0) {
		t->request_id = q->id;
		t->dirty = true;
	}
	if (t->kind == SEERR_TV && t->tvdb_id == 0 && q->tvdb_id > 0) {
		t->tvdb_id = q->tvdb_id;
		t->dirty = true;
	}
}

static void
progress_seerr_done(void *arg, const struct service_result *res, const struct seerr_request *items,
                    size_t count, long total)
{
	struct progress *p = arg;
	struct tracked *t;
	size_t k;

	(void)total;
	p->seerr_call = NULL;
	p->seerr_failed = res->error != SERVICE_OK;
	if (p->seerr_failed)
		log_warnx("progress: %s", res->message);
	for (k = 0; !p->seerr_failed && k < count; k++) {
		const struct seerr_request *q = &items[k];

		for (t = p->by_req[hash_slot(p, q->id)]; t; t = t->next_req)
			if (t->request_id == q->id)
				tracked_sees(t, q);
		/* Followed by title: the newest request for it speaks. */
		for (t = p->by_tmdb[hash_slot(p, q->tmdb_id)]; t; t = t->next_tmdb)
			if (t->request_id == 0 && !t->seen.seerr_seen && t->tmdb_id == q->tmdb_id &&
			    t->kind == q->kind && t->is_4k == q->is_4k)
				tracked_sees(t, q);
	}
	progress_answer_in(p);
}

static void
sighting_add(struct tracked *t, const struct arr_queue_item *q)
{
	struct sighting *s = &t->seen;
	struct queue_record *r;
	size_t e;

	s->arr_records++;
	if (q->timeleft_s > s->timeleft_s)
		s->timeleft_s = q->timeleft_s;
	/* The most advanced record speaks for the title. */
	if (q->tracked_state == ARR_TRACKED_IMPORT_BLOCKED ||
	    q->tracked_state == ARR_TRACKED_FAILED_PENDING ||
	    q->tracked_state == ARR_TRACKED_FAILED || s->arr_state == ARR_TRACKED_UNKNOWN ||
	    (q->tracked_state == ARR_TRACKED_IMPORTING && s->arr_state == ARR_TRACKED_DOWNLOADING))
		s->arr_state = q->tracked_state;
	if (q->status_messages && q->status_messages[0] && !s->status_messages[0])
		strlcpy_u(s->status_messages, q->status_messages, sizeof(s->status_messages));
	else if (q->error_message && q->error_message[0] && !s->status_messages[0])
		strlcpy_u(s->status_messages, q->error_message, sizeof(s->status_messages));
	if (t->record_count == t->record_cap) {
		t->record_cap = t->record_cap ? t->record_cap * 2 : 4;
		t->records = xrealloc(t->records, t->record_cap * sizeof(*t->records));
	}
	r = &t->records[t->record_count++];
	r->episode_id = q->episode_id;
	r->size = q->size;
	r->sizeleft = q->sizeleft;
	strlcpy_u(r->download_id, q->download_id ? q->download_id : "", sizeof(r->download_id));
	if (q->episode_id <= 0)
		return;
	for (e = 0; e < t->episode_count; e++)
		if (t->episodes[e] == q->episode_id)
			return;
	if (t->episode_count == t->episode_cap) {
		t->episode_cap = t->episode_cap ? t->episode_cap * 2 : 8;
		t->episodes = xrealloc(t->episodes, t->episode_cap * sizeof(*t->episodes));
	}
	t->episodes[t->episode_count++] = q->episode_id;
}

static void
progress_take_queue(struct progress *p, const struct arr_queue *queue, enum seerr_kind kind)
{
	struct tracked *t;
	size_t i, k;

	for (i = 0; i < p->count; i++) {
		t = p->items[i];
		if (t->kind != kind)
			continue;
		memset(&t->seen.arr_records, 0,
		       sizeof(t->seen) - offsetof(struct sighting, arr_records));
		t->record_count = 0;
	}
	for (k = 0; k < queue->count; k++) {
		const struct arr_queue_item *q = &queue->items[k];

		if (q->tmdb_id > 0)
			for (t = p->by_tmdb[hash_slot(p, q->tmdb_id)]; t; t = t->next_tmdb) {
				if (t->kind != kind || t->tmdb_id != q->tmdb_id)
					continue;
				sighting_add(t, q);
				if (kind == SEERR_TV && t->tvdb_id == 0 && q->tvdb_id > 0) {
					t->tvdb_id = q->tvdb_id;
					t->dirty = true;
				}
			}
		/* Sonarr v3 series have no TMDB id: the show's TVDB id (from
		 * Seerr) finds them. */
		if (kind == SEERR_TV && q->tvdb_id > 0)
			for (t = p->by_tvdb[hash_slot(p, q->tvdb_id)]; t; t = t->next_tvdb)
				if (t->kind == kind && t->tvdb_id == q->tvdb_id &&
				    t->tmdb_id != q->tmdb_id)
					sighting_add(t, q);
	}
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

	if (p->waiting > 0)
		return;
	progress_load_new(p); /* rows `usher mcp` wrote meanwhile */
	if (p->count == 0)
		return;
	progress_index(p);
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
	if (p->waiting == 0)
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
	if (p->waiting > 0)
		p->poked = true;
	else
		progress_arm(p, 0);
}

/* Speaking ------------------------------------------------------------------ */

static bool
follower_has_room(const struct follower *f)
{
	return f->network[0] != '\0' && f->room[0] != '\0';
}

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
	t->progress_msg = xstrdup(msg_id ? msg_id : "");
	tracked_save(t);
}

void
progress_edit_done(void *arg, int status, const char *msg_id, const char *error)
{
	(void)arg;
	(void)msg_id;
	if (status != 0)
		log_warnx("progress: an edit was not delivered: %s", error ? error : "?");
}

/* Tells one person, where they asked to be told: in the room (mentioned),
 * directly, or both; always directly when they asked without a room. */
static void
progress_tell(struct progress *p, const struct tracked *t, const struct follower *f,
              const char *word, const char *what, const char *what_html)
{
	char text[PROGRESS_TEXT_MAX + 1024], html[PROGRESS_TEXT_MAX * 2 + 2048], key[160];
	bool has_room = follower_has_room(f);
	bool in_room = has_room && f->notify != NOTIFY_DM;
	struct chat_out out = {.text = text, .key = key, .html = what_html ? html : NULL};
	char *label = progress_html_escape(t->label);

	if (!has_room || f->notify != NOTIFY_ROOM) {
		snprintf(text, sizeof(text), "%s %s", t->label, what);
		snprintf(html, sizeof(html), "%s %s", label, what_html ? what_html : "");
		snprintf(key, sizeof(key), "track-%lld-%s-%s-dm", (long long)t->id, word,
		         f->person);
		if ((p->host.send_direct == NULL ||
		     p->host.send_direct(p->host.arg, f->person, has_room ? f->network : NULL, &out,
		                         progress_edit_done, NULL) == -1) &&
		    has_room)
			in_room = true; /* not reachable directly: the room still is */
	}
	if (in_room) {
		snprintf(text, sizeof(text), "@%s %s %s", f->person, t->label, what);
		snprintf(html, sizeof(html), "@%s %s %s", f->person, label,
		         what_html ? what_html : "");
		snprintf(key, sizeof(key), "track-%lld-%s-%s", (long long)t->id, word, f->person);
		out.mention = f->mention;
		p->host.send(p->host.arg, f->network, f->room, &out, progress_edit_done, NULL);
	}
	free(label);
}

void
progress_announce_what(struct progress *p, struct tracked *t, const char *word, const char *what,
                       const char *what_html)
{
	size_t i;

	progress_tell(p, t, &t->who, word, what, what_html);
	for (i = 0; i < t->follower_count; i++)
		progress_tell(p, t, &t->followers[i], word, what, what_html);
}

/* Tells the requester and followers that it was declined or failed. */
static void
progress_announce(struct progress *p, struct tracked *t)
{
	progress_announce_what(p, t, t->state == PROGRESS_DECLINED ? "declined" : "failed",
	                       t->announce, NULL);
}

/* Puts the new line where the requester sees it. Returns false when
 * nothing was shown (throttled, or the first message is on its way). */
static bool
progress_post(struct progress *p, struct tracked *t, const char *text, bool changed_state,
              bool final, int step)
{
	uint64_t now = loop_now_ms(p->loop);
	struct chat_out out = {.text = text};

	if (!follower_has_room(&t->who))
		return true; /* asked over MCP: only "ready" is said, directly */
	if (t->progress_msg == NULL || t->progress_msg[0] == '\0') {
		t->sending = true;
		if (p->host.send(p->host.arg, t->who.network, t->who.room, &out, tracked_sent, t) ==
		    -1) {
			t->sending = false;
			return false;
		}
	} else if (p->host.can_edit(p->host.arg, t->who.network)) {
		if (!changed_state && !final && now - t->last_edit_ms < (uint64_t)p->edit_every_ms)
			return false; /* throttled: the next cycle shows the news */
		p->host.edit(p->host.arg, t->who.network, t->who.room, t->progress_msg, &out,
		             progress_edit_done, NULL);
	} else if (changed_state || step != t->step) {
		p->host.send(p->host.arg, t->who.network, t->who.room, &out, progress_edit_done,
		             NULL);
	} else {
		return false;
	}
	t->last_edit_ms = now;
	return true;
}

static void
progress_show(struct progress *p, struct tracked *t, enum progress_state state, const char *text,
              int percent)
{
	bool changed_state = state != t->state;
	bool final =
	    state == PROGRESS_READY || state == PROGRESS_DECLINED || state == PROGRESS_FAILED;
	int step = percent >= 0 ? percent / PROGRESS_STEP_PERCENT : -1;

	if ((strcmp(text, t->text) == 0 && !changed_state) || t->sending)
		return;
	if (!progress_post(p, t, text, changed_state, final, step))
		return;
	/* Only what a restart needs is written: the state and the quarter
	 * reached, not every percent. */
	if (changed_state || step != t->step || final)
		t->dirty = true;
	if (changed_state)
		log_event(LOG_LEVEL_INFO, "progress", LOG_STR("network", t->who.network),
		          LOG_HASH("room", t->who.room), LOG_STR("person", t->who.person),
		          LOG_INT("request", t->request_id),
		          LOG_STR("state", progress_state_name(state)));
	t->state = state;
	t->step = step;
	if (percent > t->floor_pct)
		t->floor_pct = percent;
	tracked_set_text(t, text);
	if (final)
		t->done = true;
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
	bool busy = false, fresh = false, in_tx;
	size_t i;

	/* One transaction for the whole cycle: one commit per cycle, not one
	 * per title. */
	in_tx = p->store != NULL && store_begin(p->store) == 0;
	for (i = 0; i < p->count; i++) {
		struct tracked *t = p->items[i];
		enum progress_state state;
		struct buf b;
		int percent;

		if (t->fresh) {
			t->fresh = false;
			fresh = true;
			continue;
		}
		buf_init(&b, PROGRESS_TEXT_MAX - 1);
		progress_render(p, t, &state, &b, &percent);
		progress_show(p, t, state, b.data ? b.data : "", percent);
		buf_free(&b);
		if (t->dirty)
			tracked_save(t);
		busy |= t->state == PROGRESS_DOWNLOADING || t->state == PROGRESS_IMPORTING ||
		        t->state == PROGRESS_STALLED;
	}
	if (in_tx && store_commit(p->store) == -1)
		log_warnx("store: cannot save progress: %s", store_errmsg(p->store));
	/* Saved before "ready" goes out: after a crash the person may miss
	 * that line, but is never told twice. */
	for (i = 0; i < p->count;) {
		struct tracked *t = p->items[i];

		if (t->announce && t->state == PROGRESS_READY) {
			t->announce = NULL;
			progress_tell_ready(p, t);
			continue; /* taken out of the items */
		}
		if (t->announce) {
			progress_announce(p, t);
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
	if (p->poked) {
		p->poked = false;
		progress_arm(p, 0);
		return;
	}
	progress_arm(p, fresh  ? PROGRESS_FIRST_LOOK_MS
	                : busy ? (p->interval_ms / 3 > 1000 ? p->interval_ms / 3 : 1000)
	                       : p->interval_ms);
}

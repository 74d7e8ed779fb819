/*
 * Everything about requests that already exist: status, "my requests",
 * what's downloading, cancel, approve and decline; and recommendations and
 * issue reports, which start from a title.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/dialogue.h"
#include "bot/handlers.h"
#include "bot/people.h"
#include "bot/progress.h"
#include "bot/requests.h"
#include "bot/turn.h"
#include "core/buf.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "nlu/intent.h"

#define LIST_MAX 10

enum list_purpose {
	LIST_MINE,
	LIST_DOWNLOADING,
	LIST_CANCEL,
	LIST_APPROVE,
	LIST_DECLINE,
};

/* Requests with the titles Seerr's request objects lack, fetched one
 * details call each (a family has a handful, and the list is capped). */
struct titled {
	struct turn *t;
	enum list_purpose purpose;
	char query[INTENT_TITLE_MAX];
	struct seerr_request reqs[LIST_MAX];
	char titles[LIST_MAX][SEERR_TITLE_MAX + 16];
	size_t count;
	size_t waiting;
	long total;
	struct service_result failure;
};

static void titled_ready(struct titled *tl);

static void
titled_free(struct titled *tl)
{
	turn_release(tl->t);
	free(tl);
}

struct titled_one {
	struct titled *tl;
	size_t index;
};

static void
titled_details_done(void *arg, const struct service_result *res, const struct seerr_details *d)
{
	struct titled_one *one = arg;
	struct titled *tl = one->tl;

	if (res->error == SERVICE_OK)
		requests_format_title(tl->titles[one->index], sizeof(tl->titles[0]), d->title.title,
		                      d->title.year);
	else
		snprintf(tl->titles[one->index], sizeof(tl->titles[0]), "a %s (TMDB %ld)",
		         handlers_kind_word(tl->reqs[one->index].kind),
		         tl->reqs[one->index].tmdb_id);
	free(one);
	if (--tl->waiting == 0)
		titled_ready(tl);
}

static void
titled_list_done(void *arg, const struct service_result *res, const struct seerr_request *items,
                 size_t count, long total)
{
	struct titled *tl = arg;
	size_t i;

	if (res->error != SERVICE_OK) {
		handlers_reply_failure(tl->t, "read the requests", res);
		titled_free(tl);
		return;
	}
	tl->total = total;
	for (i = 0; i < count && tl->count < LIST_MAX; i++)
		tl->reqs[tl->count++] = items[i];
	if (tl->count == 0) {
		titled_ready(tl);
		return;
	}
	tl->waiting = tl->count;
	for (i = 0; i < tl->count; i++) {
		struct titled_one *one = xcalloc(1, sizeof(*one));

		one->tl = tl;
		one->index = i;
		seerr_details(turn_seerr(tl->t), 0, tl->reqs[i].kind, tl->reqs[i].tmdb_id,
		              titled_details_done, one);
	}
}

static void
titled_start(struct turn *t, enum list_purpose purpose, const char *query,
             enum seerr_request_filter filter, long requested_by)
{
	struct titled *tl = xcalloc(1, sizeof(*tl));

	tl->t = t;
	tl->purpose = purpose;
	strlcpy_u(tl->query, query ? query : "", sizeof(tl->query));
	turn_hold(t);
	seerr_list_requests(turn_seerr(t), handlers_seerr_user(t), filter, requested_by, LIST_MAX,
	                    0, titled_list_done, tl);
}

static const char *
request_state_words(const struct seerr_request *q)
{
	if (q->status == SEERR_REQ_PENDING || q->status == SEERR_REQ_DECLINED ||
	    q->status == SEERR_REQ_FAILED)
		return seerr_request_status_words(q->status);
	return seerr_media_status_words(q->media_status);
}

/* Buttons on a list of requests to act on: "Approve"/"Decline" for each
 * pending one, or "Cancel" for each of the person's own. Each says the
 * request's id, so it acts on that request even when titles repeat. */
struct list_actions {
	struct chat_action acts[LIST_MAX];
	char labels[LIST_MAX][SEERR_TITLE_MAX + 32];
	char says[LIST_MAX][48];
	size_t count;
};

/* A button labelled "Approve Dune (2021)" that says "approve request 12". */
static void
list_action_add(struct list_actions *la, const char *label, const char *verb, const char *title,
                long id, bool danger)
{
	size_t i = la->count++;

	snprintf(la->labels[i], sizeof(la->labels[i]), "%s %s", label, title);
	snprintf(la->says[i], sizeof(la->says[i]), "%s request %ld", verb, id);
	la->acts[i] = (struct chat_action){la->labels[i], la->says[i], danger};
}

static void
list_actions_build(const struct titled *tl, struct list_actions *la)
{
	size_t i;

	la->count = 0;
	for (i = 0; i < tl->count; i++) {
		if (tl->purpose == LIST_CANCEL) {
			list_action_add(la, "Cancel", "cancel", tl->titles[i], tl->reqs[i].id,
			                true);
		} else if ((tl->purpose == LIST_APPROVE || tl->purpose == LIST_DECLINE) &&
		           la->count + 2 <= LIST_MAX) {
			list_action_add(la, "Approve", "approve", tl->titles[i], tl->reqs[i].id,
			                false);
			list_action_add(la, "Decline", "decline", tl->titles[i], tl->reqs[i].id,
			                true);
		}
	}
}

static void
titled_reply_list(struct titled *tl, const char *heading, const char *empty)
{
	struct list_actions la;
	struct chat_out out;
	struct buf b;
	size_t i;

	if (tl->count == 0) {
		turn_reply(tl->t, empty);
		return;
	}
	buf_init(&b, 0);
	buf_append_str(&b, heading);
	for (i = 0; i < tl->count; i++) {
		buf_printf(&b, "\n%zu) %s · %s", i + 1, tl->titles[i],
		           request_state_words(&tl->reqs[i]));
		if (tl->purpose == LIST_APPROVE || tl->purpose == LIST_DOWNLOADING)
			buf_printf(&b, " · for %s", tl->reqs[i].requested_by);
	}
	if (tl->total > (long)tl->count)
		buf_printf(&b, "\n…and %ld more.", tl->total - (long)tl->count);
	list_actions_build(tl, &la);
	memset(&out, 0, sizeof(out));
	out.text = b.data;
	out.actions = la.acts;
	out.action_count = la.count;
	turn_reply_out(tl->t, &out);
	buf_free(&b);
}

/* "request 12" or "#12": the id buttons say; 0 when `query` is a title. */
static long
query_request_id(const char *query)
{
	char *end;
	long id;

	if (strncasecmp(query, "request ", 8) == 0)
		query += 8;
	else if (*query == '#')
		query++;
	if (*query < '1' || *query > '9')
		return 0;
	id = strtol(query, &end, 10);
	return *end == '\0' ? id : 0;
}

/* The request among the list whose title is the one asked about. */
static const struct seerr_request *
titled_find(struct titled *tl, char *label, size_t labellen)
{
	long id = query_request_id(tl->query);
	size_t i;

	for (i = 0; id > 0 && i < tl->count; i++) {
		if (tl->reqs[i].id == id) {
			strlcpy_u(label, tl->titles[i], labellen);
			return &tl->reqs[i];
		}
	}
	for (i = 0; id == 0 && i < tl->count; i++) {
		char bare[SEERR_TITLE_MAX + 16], *paren;

		strlcpy_u(bare, tl->titles[i], sizeof(bare));
		paren = strrchr(bare, '(');
		if (paren && paren > bare)
			paren[-1] = '\0';
		if (handlers_same_title(bare, tl->query) ||
		    handlers_same_title(tl->titles[i], tl->query)) {
			strlcpy_u(label, tl->titles[i], labellen);
			return &tl->reqs[i];
		}
	}
	return NULL;
}

struct action {
	struct turn *t;
	enum list_purpose purpose;
	char label[SEERR_TITLE_MAX + 16];
	char who[128];
};

static void
action_done(void *arg, const struct service_result *res, const struct seerr_request *req)
{
	struct action *a = arg;
	const char *verb = a->purpose == LIST_CANCEL    ? "cancel"
	                   : a->purpose == LIST_APPROVE ? "approve"
	                                                : "decline";
	char doing[512];

	(void)req;
	if (res->error != SERVICE_OK) {
		snprintf(doing, sizeof(doing), "%s %s", verb, a->label);
		handlers_reply_failure(a->t, doing, res);
	} else if (a->purpose == LIST_CANCEL) {
		turn_replyf(a->t, "Cancelled the request for %s.", a->label);
	} else if (a->purpose == LIST_APPROVE) {
		turn_replyf(a->t, "Approved %s for %s.", a->label, a->who);
	} else {
		turn_replyf(a->t, "Declined %s for %s.", a->label, a->who);
	}
	turn_release(a->t);
	free(a);
}

static void
action_start(struct turn *t, enum list_purpose purpose, const struct seerr_request *q,
             const char *label)
{
	struct action *a = xcalloc(1, sizeof(*a));
	struct seerr *s = turn_seerr(t);
	long as = handlers_seerr_user(t);

	a->t = t;
	a->purpose = purpose;
	strlcpy_u(a->label, label, sizeof(a->label));
	strlcpy_u(a->who, q->requested_by[0] ? q->requested_by : "someone", sizeof(a->who));
	turn_hold(t);
	if (purpose == LIST_CANCEL)
		seerr_delete_request(s, as, q->id, action_done, a);
	else if (purpose == LIST_APPROVE)
		seerr_approve(s, as, q->id, action_done, a);
	else
		seerr_decline(s, as, q->id, action_done, a);
}

static void
titled_ready(struct titled *tl)
{
	const struct seerr_request *q;
	char label[SEERR_TITLE_MAX + 16];
	const char *verb = tl->purpose == LIST_CANCEL    ? "cancel"
	                   : tl->purpose == LIST_APPROVE ? "approve"
	                                                 : "decline";

	switch (tl->purpose) {
	case LIST_MINE:
		titled_reply_list(tl, "Your requests:",
		                  "You have no requests yet. Ask me for a film "
		                  "or a show!");
		break;
	case LIST_DOWNLOADING:
		titled_reply_list(tl, "On its way:", "Nothing is on its way right now.");
		break;
	case LIST_CANCEL:
	case LIST_APPROVE:
	case LIST_DECLINE:
		if (tl->query[0] == '\0' || strcasecmp(tl->query, "all") == 0) {
			if (tl->purpose == LIST_APPROVE && tl->count > 0 &&
			    strcasecmp(tl->query, "all") == 0) {
				struct dialogue_state st;
				struct buf b;
				size_t i;

				memset(&st, 0, sizeof(st));
				for (i = 0; i < tl->count && i < DIALOGUE_IDS_MAX; i++)
					st.ids[st.id_count++] = tl->reqs[i].id;
				st.wait = DIALOGUE_CONFIRM_APPROVE_ALL;
				buf_init(&b, 0);
				buf_printf(&b, "Approve all %d of these?", st.id_count);
				for (i = 0; i < tl->count; i++)
					buf_printf(&b, "\n%zu) %s · for %s", i + 1, tl->titles[i],
					           tl->reqs[i].requested_by);
				buf_printf(&b, "\nSay yes or no.");
				if (turn_dialogue_save(tl->t, &st) == 0)
					turn_reply(tl->t, b.data);
				buf_free(&b);
				break;
			}
			titled_reply_list(tl,
			                  tl->purpose == LIST_CANCEL ? "Which one? Your requests:"
			                                             : "Waiting for approval:",
			                  tl->purpose == LIST_CANCEL
			                      ? "You have no requests to cancel."
			                      : "Nothing is waiting for approval.");
			break;
		}
		q = titled_find(tl, label, sizeof(label));
		if (q == NULL) {
			turn_replyf(tl->t, "I can't find %s request for \"%s\" to %s.",
			            tl->purpose == LIST_CANCEL ? "your" : "a pending", tl->query,
			            verb);
			break;
		}
		action_start(tl->t, tl->purpose, q, label);
		break;
	}
	titled_free(tl);
}

bool
handlers_wants_follow(const char *text)
{
	static const char *const asks[] = {"tell me when", "let me know when", "notify me",
	                                   "ping me when", "follow ",          "keep me posted"};
	size_t i;

	for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++)
		if (strcasestr(text, asks[i]))
			return true;
	return false;
}

struct follow {
	struct turn *t;
	struct dialogue_choice c;
};

static void
follow_found(void *arg, const struct service_result *res, const struct seerr_request *items,
             size_t count, long total)
{
	struct follow *f = arg;
	char label[SEERR_TITLE_MAX + 16];
	size_t i;

	(void)total;
	requests_format_title(label, sizeof(label), f->c.title, f->c.year);
	if (res->error != SERVICE_OK) {
		handlers_reply_failure(f->t, "look that up", res);
		goto out;
	}
	for (i = 0; i < count; i++) {
		const struct seerr_request *q = &items[i];
		struct progress_item it;

		if (q->tmdb_id != f->c.tmdb_id || q->kind != f->c.kind ||
		    q->status == SEERR_REQ_DECLINED || q->is_4k)
			continue;
		memset(&it, 0, sizeof(it));
		it.seerr_request_id = q->id;
		it.kind = q->kind;
		it.tmdb_id = q->tmdb_id;
		it.label = label;
		it.network = turn_network(f->t);
		it.room = turn_room(f->t);
		it.person = turn_person(f->t)->name;
		it.notify = turn_person(f->t)->notify;
		if (progress_track(turn_progress(f->t), &it) == -1)
			turn_reply(f->t,
			           "Sorry, I can't keep track of that right now (usher's database "
			           "is not writable).");
		else
			turn_replyf(f->t, "OK, I'll tell you when %s is ready.", label);
		goto out;
	}
	{
		char text[SEERR_TITLE_MAX * 2 + 64];

		snprintf(text, sizeof(text),
		         "Nobody has asked for %s yet. Want it? Say \"get %s\".", label,
		         f->c.title);
		handlers_reply_offer(f->t, text, &f->c);
	}
out:
	turn_release(f->t);
	free(f);
}

void
cmd_follow_title(struct turn *t, const struct dialogue_choice *c)
{
	struct follow *f;
	char label[SEERR_TITLE_MAX + 16];

	requests_format_title(label, sizeof(label), c->title, c->year);
	if (c->status == SEERR_MEDIA_AVAILABLE) {
		turn_replyf(t, "%s is already there to watch.", label);
		return;
	}
	f = xcalloc(1, sizeof(*f));
	f->t = t;
	f->c = *c;
	turn_hold(t);
	seerr_list_requests(turn_seerr(t), 0, SEERR_FILTER_ALL, 0, 100, 0, follow_found, f);
}

/* A request made in this room within this long is what "me too" means. */
#define ME_TOO_WINDOW_S (24 * 3600)

/* "Me too": the speaker follows what was last asked for in the room. */
static void
cmd_me_too(struct turn *t)
{
	struct progress_item who = {.network = turn_network(t),
	                            .room = turn_room(t),
	                            .person = turn_person(t)->name,
	                            .notify = turn_person(t)->notify};
	char label[SEERR_TITLE_MAX + 16] = "";

	switch (turn_progress(t) ? progress_follow_latest(turn_progress(t), &who, ME_TOO_WINDOW_S,
	                                                  label, sizeof(label))
	                         : PROGRESS_ME_TOO_NONE) {
	case PROGRESS_ME_TOO_ADDED:
		turn_replyf(t, "OK, I'll tell you too when %s is ready.", label);
		break;
	case PROGRESS_ME_TOO_ALREADY:
		turn_replyf(t, "You're already on the list: I'll tell you when %s is ready.",
		            label);
		break;
	case PROGRESS_ME_TOO_READY:
		turn_replyf(t, "%s is already there to watch.", label);
		break;
	case PROGRESS_ME_TOO_ERROR:
		turn_reply(t,
		           "Sorry, I can't keep track of that right now (usher's database is not "
		           "writable).");
		break;
	case PROGRESS_ME_TOO_NONE:
		turn_reply(t, "Me too what? Tell me the film or show and I'll tell you when it's "
		              "ready.");
		break;
	}
}

void
cmd_status(struct turn *t, const struct intent *in)
{
	if (strcmp(in->rule, "me_too") == 0 && in->title[0] == '\0') {
		cmd_me_too(t);
		return;
	}
	if (handlers_need_seerr(t))
		return;
	if (in->title[0] != '\0') {
		cmd_lookup_title(
		    t, in, handlers_wants_follow(turn_text(t)) ? PURPOSE_FOLLOW : PURPOSE_STATUS);
		return;
	}
	titled_start(t, LIST_DOWNLOADING, NULL, SEERR_FILTER_PROCESSING,
	             handlers_is_admin(t) ? 0 : handlers_seerr_user(t));
}

void
cmd_list_requests(struct turn *t, const struct intent *in)
{
	(void)in;
	if (handlers_need_seerr(t))
		return;
	titled_start(t, LIST_MINE, NULL, SEERR_FILTER_ALL, handlers_seerr_user(t));
}

void
cmd_cancel(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	titled_start(t, LIST_CANCEL, in->title, SEERR_FILTER_ALL,
	             handlers_is_admin(t) && in->title[0] ? 0 : handlers_seerr_user(t));
}

/* "approve all", "approve everything": the grammar leaves no title. */
static const char *
approve_target(const struct turn *t, const struct intent *in)
{
	const char *text = turn_text(t);
	const char *all;

	if (in->title[0] != '\0')
		return in->title;
	if ((all = strcasestr(text, "all")) != NULL && (all == text || all[-1] == ' ') &&
	    (all[3] == '\0' || all[3] == ' ' || all[3] == '!' || all[3] == '.'))
		return "all";
	if (strcasestr(text, "everything") || strcasestr(text, "every one"))
		return "all";
	return "";
}

void
cmd_approve(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	titled_start(t, LIST_APPROVE, approve_target(t, in), SEERR_FILTER_PENDING, 0);
}

void
cmd_decline(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	titled_start(t, LIST_DECLINE, in->title, SEERR_FILTER_PENDING, 0);
}

/* One approval after the other, so Seerr sees them in the order listed. */
struct approve_all {
	struct turn *t;
	long ids[DIALOGUE_IDS_MAX];
	int count;
	int next;
	int ok;
	int failed;
};

static void
approve_all_done(void *arg, const struct service_result *res, const struct seerr_request *req)
{
	struct approve_all *a = arg;

	(void)req;
	if (res->error == SERVICE_OK)
		a->ok++;
	else
		a->failed++;
	if (a->next < a->count) {
		seerr_approve(turn_seerr(a->t), handlers_seerr_user(a->t), a->ids[a->next++],
		              approve_all_done, a);
		return;
	}
	if (a->failed == 0)
		turn_replyf(a->t, "Approved all %d.", a->ok);
	else
		turn_replyf(a->t,
		            "Approved %d; %d could not be approved (Overseerr said no or didn't "
		            "answer).",
		            a->ok, a->failed);
	turn_release(a->t);
	free(a);
}

void
cmd_approve_ids(struct turn *t, const long *ids, int count)
{
	struct approve_all *a;

	if (count <= 0) {
		turn_reply(t, "Nothing to approve.");
		return;
	}
	a = xcalloc(1, sizeof(*a));
	a->t = t;
	a->count = count < DIALOGUE_IDS_MAX ? count : DIALOGUE_IDS_MAX;
	memcpy(a->ids, ids, (size_t)a->count * sizeof(*ids));
	turn_hold(t);
	seerr_approve(turn_seerr(t), handlers_seerr_user(t), a->ids[a->next++], approve_all_done,
	              a);
}

void
cmd_recommend(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	if (in->title[0] == '\0') {
		turn_reply(t,
		           "Something like what? Name a film or show you liked, e.g. \"something "
		           "like Interstellar\".");
		return;
	}
	cmd_lookup_title(t, in, PURPOSE_RECOMMEND);
}

struct suggest {
	struct turn *t;
	struct dialogue_choice like;
};

static void
suggest_done(void *arg, const struct service_result *res, const struct seerr_title *items,
             size_t count, int total_pages)
{
	struct suggest *sg = arg;
	struct dialogue_state st;
	char label[SEERR_TITLE_MAX + 16];
	struct buf b;
	size_t i;

	(void)total_pages;
	requests_format_title(label, sizeof(label), sg->like.title, sg->like.year);
	if (res->error != SERVICE_OK) {
		handlers_reply_failure(sg->t, "find suggestions", res);
	} else if (count == 0) {
		turn_replyf(sg->t, "Overseerr has no suggestions for %s.", label);
	} else {
		struct chat_choice menu[5];
		char labels[5][SEERR_TITLE_MAX + 16], details[5][96];
		struct chat_out out = {.choices = menu};

		memset(&st, 0, sizeof(st));
		buf_init(&b, 0);
		buf_printf(&b, "If you liked %s, you might like:", label);
		for (i = 0; i < count && st.choice_count < 5; i++) {
			struct dialogue_choice *c = &st.choices[st.choice_count];
			const char *there =
			    items[i].status == SEERR_MEDIA_AVAILABLE ? "already there" : NULL;

			c->kind = items[i].kind;
			c->tmdb_id = items[i].tmdb_id;
			strlcpy_u(c->title, items[i].title, sizeof(c->title));
			c->year = items[i].year;
			c->status = items[i].status;
			requests_format_title(labels[st.choice_count], sizeof(labels[0]), c->title,
			                      c->year);
			handlers_choice_detail(c, there, details[st.choice_count],
			                       sizeof(details[0]));
			menu[st.choice_count] = (struct chat_choice){
			    labels[st.choice_count], details[st.choice_count],
			    items[i].poster_url[0] ? items[i].poster_url : NULL};
			st.choice_count++;
			buf_printf(&b, "\n%d) %s · %s%s", st.choice_count,
			           labels[st.choice_count - 1], handlers_kind_word(c->kind),
			           there ? " · already there" : "");
		}
		buf_printf(&b, "\nSay a number and I'll get it.");
		st.wait = DIALOGUE_CHOOSE_TITLE;
		st.purpose = PURPOSE_REQUEST;
		out.text = b.data;
		out.choice_count = (size_t)st.choice_count;
		if (turn_dialogue_save(sg->t, &st) == 0)
			turn_reply_out(sg->t, &out);
		buf_free(&b);
	}
	turn_release(sg->t);
	free(sg);
}

void
cmd_recommend_for(struct turn *t, const struct dialogue_choice *c)
{
	struct suggest *sg = xcalloc(1, sizeof(*sg));

	sg->t = t;
	sg->like = *c;
	turn_hold(t);
	seerr_recommendations(turn_seerr(t), handlers_seerr_user(t), c->kind, c->tmdb_id,
	                      suggest_done, sg);
}

void
cmd_report_issue(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	if (in->title[0] == '\0') {
		turn_reply(t,
		           "Which film or show has the problem? Say it with the title, e.g. \"the "
		           "audio on Dune is out of sync\".");
		return;
	}
	cmd_lookup_title(t, in, PURPOSE_REPORT);
}

static void
report_done(void *arg, const struct service_result *res, long issue_id)
{
	struct suggest *sg = arg;
	char label[SEERR_TITLE_MAX + 16];

	requests_format_title(label, sizeof(label), sg->like.title, sg->like.year);
	if (res->error == SERVICE_OK)
		turn_replyf(sg->t,
		            "Thanks, I've reported the problem with %s to the admins (issue "
		            "#%ld).",
		            label, issue_id);
	else
		handlers_reply_failure(sg->t, "report the problem", res);
	turn_release(sg->t);
	free(sg);
}

/* What kind of problem the person's words describe. */
static enum seerr_issue_type
report_type(const char *words)
{
	if (strcasestr(words, "subtitle") || strcasestr(words, "subs") ||
	    strcasestr(words, "caption"))
		return SEERR_ISSUE_SUBTITLES;
	if (strcasestr(words, "audio") || strcasestr(words, "sound") ||
	    strcasestr(words, "volume") || strcasestr(words, "dub"))
		return SEERR_ISSUE_AUDIO;
	if (strcasestr(words, "video") || strcasestr(words, "picture") ||
	    strcasestr(words, "quality") || strcasestr(words, "pixel") ||
	    strcasestr(words, "blurry") || strcasestr(words, "stutter"))
		return SEERR_ISSUE_VIDEO;
	return SEERR_ISSUE_OTHER;
}

void
cmd_report_for(struct turn *t, const struct dialogue_choice *c, const char *words)
{
	struct suggest *sg = xcalloc(1, sizeof(*sg));

	sg->t = t;
	sg->like = *c;
	turn_hold(t);
	seerr_report_issue(turn_seerr(t), handlers_seerr_user(t), c->kind, c->tmdb_id,
	                   report_type(words), words, report_done, sg);
}

/*
 * The request conversation: find the title, ask which one when it is not
 * clear, ask which seasons of a show, ask for a yes before a big request
 * (many seasons, 4K), then hand it to the outbox (requests.c), which sends
 * it exactly once and says how it went.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/dialogue.h"
#include "bot/people.h"
#include "bot/progress.h"
#include "bot/handlers.h"
#include "bot/requests.h"
#include "bot/turn.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "nlu/intent.h"

/* More seasons than this at once need a yes first. */
#define SEASON_GUARDRAIL 3

struct lookup {
	struct turn *t;
	struct dialogue_state st;
	char query[INTENT_TITLE_MAX];
	int year;
	enum intent_media media;
};

static void choice_proceed(struct turn *t, struct dialogue_state *st);

static void
lookup_done(struct lookup *lk)
{
	turn_release(lk->t);
	free(lk);
}

static void
choice_label(const struct dialogue_choice *c, char *out, size_t outlen)
{
	requests_format_title(out, outlen, c->title, c->year);
}

static void
order_said(void *arg)
{
	turn_release(arg);
}

/* Sends the settled order to the outbox and forgets the question. The
 * turn stays open until the outbox first speaks, so replies keep order. */
static void
order_send(struct turn *t, struct dialogue_state *st)
{
	struct request_order ro;
	struct dialogue_state none;

	memset(&ro, 0, sizeof(ro));
	ro.network = turn_network(t);
	ro.room = turn_room(t);
	ro.person = turn_person(t)->name;
	ro.reply_to = turn_msg_id(t);
	ro.seerr_user = handlers_seerr_user(t);
	strlcpy_u(ro.title, st->chosen.title, sizeof(ro.title));
	ro.year = st->chosen.year;
	ro.what = st->order;
	memset(&none, 0, sizeof(none));
	turn_dialogue_save(t, &none);
	ro.said = order_said;
	ro.said_arg = t;
	turn_hold(t);
	if (requests_submit(turn_requests(t), &ro) == -1) {
		turn_release(t);
		turn_reply(t, "Sorry, I can't save requests right now (usher's database is not "
		              "writable), so I didn't send it. Please tell whoever runs the media "
		              "server.");
	}
}

/* Saves the question, then asks it with `out` (its choices shown as
 * buttons or a menu where the network can). */
static void
ask_out(struct turn *t, struct dialogue_state *st, enum dialogue_wait wait,
        const struct chat_out *out)
{
	st->wait = wait;
	if (turn_dialogue_save(t, st) == -1) {
		turn_reply(t,
		           "Sorry, I can't keep track of our conversation right now (usher's "
		           "database is not writable). Please tell whoever runs the media server.");
		return;
	}
	turn_reply_out(t, out);
}

static void
ask(struct turn *t, struct dialogue_state *st, enum dialogue_wait wait, const char *text)
{
	struct chat_out out = {.text = text};

	ask_out(t, st, wait, &out);
}

/* Asks for a yes when the request is big; otherwise sends it. */
static void
order_confirm_or_send(struct turn *t, struct dialogue_state *st, int season_total)
{
	char label[SEERR_TITLE_MAX + 16], text[768];

	choice_label(&st->chosen, label, sizeof(label));
	/* One yes covers what the other questions would ask. */
	if (st->confirm_title) {
		snprintf(text, sizeof(text), "Did you mean %s%s? Say yes and I'll request it.",
		         label, st->order.is_4k ? " in 4K" : "");
		ask(t, st, DIALOGUE_CONFIRM, text);
		return;
	}
	if (st->order.is_4k) {
		snprintf(text, sizeof(text),
		         "Request %s in 4K? 4K copies are several times bigger. Say yes or no.",
		         label);
		ask(t, st, DIALOGUE_CONFIRM, text);
		return;
	}
	if (st->order.kind == SEERR_TV && season_total > SEASON_GUARDRAIL) {
		snprintf(text, sizeof(text),
		         "That's %d seasons of %s at once, which is a lot of downloading. Request "
		         "them all? Say yes or no.",
		         season_total, label);
		ask(t, st, DIALOGUE_CONFIRM, text);
		return;
	}
	order_send(t, st);
}

static bool
season_available(const struct seerr_details *d, int number)
{
	int i;

	for (i = 0; i < d->seasons_len; i++)
		if (d->seasons[i].number == number)
			return d->seasons[i].status == SEERR_MEDIA_AVAILABLE;
	return false;
}

/* With the show's seasons known, settles which to request. */
static void
tv_seasons_settle(struct turn *t, struct dialogue_state *st, const struct seerr_details *d)
{
	char label[SEERR_TITLE_MAX + 16], text[768];
	int n = d->season_count, i, wanted = 0;

	choice_label(&st->chosen, label, sizeof(label));
	st->season_count = n;
	st->order.kind = SEERR_TV;
	st->order.tmdb_id = st->chosen.tmdb_id;
	st->order.tvdb_id = d->title.tvdb_id;
	st->order.is_4k = st->want_4k;
	st->order.seasons_len = 0;
	st->order.all_seasons = false;
	if (n <= 0) {
		snprintf(text, sizeof(text), "Overseerr doesn't list any seasons of %s yet.",
		         label);
		turn_reply(t, text);
		return;
	}
	if (st->seasons_len > 0) {
		for (i = 0; i < st->seasons_len; i++) {
			if (st->seasons[i] < 1 || st->seasons[i] > n) {
				snprintf(text, sizeof(text),
				         "%s has %d season%s; there's no season %d.", label, n,
				         n == 1 ? "" : "s", st->seasons[i]);
				turn_reply(t, text);
				return;
			}
		}
		for (i = 0; i < st->seasons_len; i++) {
			if (!season_available(d, st->seasons[i]) || st->want_4k)
				st->order.seasons[st->order.seasons_len++] = st->seasons[i];
		}
	} else if (st->seasons_latest || (n == 1 && !st->seasons_all)) {
		if (!season_available(d, n) || st->want_4k)
			st->order.seasons[st->order.seasons_len++] = n;
	} else if (st->seasons_all) {
		for (i = 1; i <= n && st->order.seasons_len < SEERR_SEASONS_MAX; i++)
			if (!season_available(d, i) || st->want_4k)
				st->order.seasons[st->order.seasons_len++] = i;
	} else {
		snprintf(text, sizeof(text),
		         "%s has %d seasons. All %d, or just the latest (season %d)?", label, n, n,
		         n);
		ask(t, st, DIALOGUE_CHOOSE_SEASONS, text);
		return;
	}
	wanted = st->order.seasons_len;
	/* Every season, none of them there yet: say "all", which also covers
	 * seasons Seerr learns of later. */
	if (wanted == n && n > 1) {
		st->order.all_seasons = true;
		st->order.seasons_len = 0;
	}
	if (wanted == 0) {
		snprintf(text, sizeof(text), "%s: %s already there to watch.", label,
		         st->seasons_len == 1 || st->seasons_latest ? "that season is"
		                                                    : "those seasons are");
		turn_reply(t, text);
		return;
	}
	order_confirm_or_send(t, st, wanted);
}

static void
tv_details_done(void *arg, const struct service_result *res, const struct seerr_details *d)
{
	struct lookup *lk = arg;

	if (res->error != SERVICE_OK)
		handlers_reply_failure(lk->t, "look that show up", res);
	else
		tv_seasons_settle(lk->t, &lk->st, d);
	lookup_done(lk);
}

/* "I'll keep you posted" holds for a request somebody else made too: the
 * person becomes a follower and hears when it is ready. */
static void
follow_existing(struct turn *t, const struct dialogue_choice *c, long request_id, const char *label)
{
	struct progress_item it;

	if (turn_progress(t) == NULL)
		return;
	memset(&it, 0, sizeof(it));
	it.seerr_request_id = request_id;
	it.kind = c->kind;
	it.tmdb_id = c->tmdb_id;
	it.label = label;
	it.network = turn_network(t);
	it.room = turn_room(t);
	it.person = turn_person(t)->name;
	it.notify = turn_person(t)->notify;
	if (progress_track(turn_progress(t), &it) == -1)
		log_warnx("cannot follow %s for %s: the store is not writable", label, it.person);
}

/* Somebody already asked for it: say who and how far it is. */
static void
existing_done(void *arg, const struct service_result *res, const struct seerr_request *items,
              size_t count, long total)
{
	struct lookup *lk = arg;
	char label[SEERR_TITLE_MAX + 16];
	size_t i;

	(void)total;
	choice_label(&lk->st.chosen, label, sizeof(label));
	for (i = 0; res->error == SERVICE_OK && i < count; i++) {
		const struct seerr_request *q = &items[i];

		if (q->tmdb_id != lk->st.chosen.tmdb_id || q->kind != lk->st.chosen.kind ||
		    q->status == SEERR_REQ_DECLINED || q->is_4k != lk->st.want_4k)
			continue;
		follow_existing(lk->t, &lk->st.chosen, q->id, label);
		turn_replyf(
		    lk->t, "%s was already requested by %s and is %s. I'll keep you posted.", label,
		    q->requested_by[0] ? q->requested_by : "someone",
		    q->status == SEERR_REQ_PENDING ? "waiting for approval"
		                                   : seerr_media_status_words(q->media_status));
		lookup_done(lk);
		return;
	}
	follow_existing(lk->t, &lk->st.chosen, 0, label);
	turn_replyf(lk->t, "%s is already on its way (%s). I'll keep you posted.", label,
	            seerr_media_status_words(lk->st.chosen.status));
	lookup_done(lk);
}

/* Replies `text` with a "Follow" button: pressing it asks to hear when
 * `c` is ready. */
static void
reply_follow(struct turn *t, const char *text, const struct dialogue_choice *c)
{
	char label[SEERR_TITLE_MAX + 16], says[SEERR_TITLE_MAX + 64];
	struct chat_action follow = {.label = "Follow", .says = says};
	struct chat_out out = {.text = text, .actions = &follow, .action_count = 1};

	choice_label(c, label, sizeof(label));
	snprintf(says, sizeof(says), "tell me when %s is ready", label);
	turn_reply_out(t, &out);
}

static void
status_reply(struct turn *t, const struct dialogue_choice *c)
{
	char label[SEERR_TITLE_MAX + 16], text[SEERR_TITLE_MAX * 2 + 128];

	choice_label(c, label, sizeof(label));
	switch (c->status) {
	case SEERR_MEDIA_AVAILABLE:
		turn_replyf(t, "%s is there to watch.", label);
		break;
	case SEERR_MEDIA_PARTIAL:
		turn_replyf(t, "%s is partly there: some seasons are ready to watch.", label);
		break;
	case SEERR_MEDIA_PENDING:
		snprintf(text, sizeof(text), "%s is requested and waiting for approval.", label);
		reply_follow(t, text, c);
		break;
	case SEERR_MEDIA_PROCESSING:
		snprintf(text, sizeof(text), "%s is requested and on its way.", label);
		reply_follow(t, text, c);
		break;
	default:
		snprintf(text, sizeof(text),
		         "%s isn't in the library yet. Want it? Say \"get %s\".", label, c->title);
		handlers_reply_offer(t, text, c);
		break;
	}
}

static void
choice_proceed(struct turn *t, struct dialogue_state *st)
{
	struct dialogue_choice *c = &st->chosen;
	enum seerr_media_status status = c->status;
	char label[SEERR_TITLE_MAX + 16];
	struct lookup *lk;

	choice_label(c, label, sizeof(label));
	if (st->purpose == PURPOSE_STATUS) {
		status_reply(t, c);
		return;
	}
	if (st->purpose == PURPOSE_FOLLOW) {
		cmd_follow_title(t, c);
		return;
	}
	if (st->purpose == PURPOSE_RECOMMEND) {
		cmd_recommend_for(t, c);
		return;
	}
	if (st->purpose == PURPOSE_REPORT) {
		cmd_report_for(t, c, st->note);
		return;
	}
	if (!st->want_4k && status == SEERR_MEDIA_AVAILABLE) {
		turn_replyf(t, "%s is already there to watch.", label);
		return;
	}
	lk = xcalloc(1, sizeof(*lk));
	lk->t = t;
	lk->st = *st;
	turn_hold(t);
	if (!st->want_4k && (status == SEERR_MEDIA_PENDING || status == SEERR_MEDIA_PROCESSING) &&
	    c->kind == SEERR_MOVIE) {
		seerr_list_requests(turn_seerr(t), 0, SEERR_FILTER_ALL, 0, 100, 0, existing_done,
		                    lk);
		return;
	}
	if (c->kind == SEERR_TV) {
		seerr_details(turn_seerr(t), handlers_seerr_user(t), SEERR_TV, c->tmdb_id,
		              tv_details_done, lk);
		return;
	}
	lk->st.order.kind = SEERR_MOVIE;
	lk->st.order.tmdb_id = c->tmdb_id;
	lk->st.order.is_4k = st->want_4k;
	order_confirm_or_send(t, &lk->st, 1);
	lookup_done(lk);
}

/* Picks the one title meant, or -1 when the person must choose. */
static int
search_pick(const struct lookup *lk, const struct dialogue_choice *c, int n)
{
	int i, exact = -1, exact_count = 0;

	if (n == 1)
		return 0;
	for (i = 0; i < n; i++) {
		if (handlers_same_title(c[i].title, lk->query)) {
			exact_count++;
			if (exact == -1)
				exact = i;
		}
	}
	return exact_count == 1 ? exact : -1;
}

static void
search_done(void *arg, const struct service_result *res, const struct seerr_title *items,
            size_t count, int total_pages)
{
	struct lookup *lk = arg;
	struct dialogue_choice found[DIALOGUE_CHOICES_MAX];
	const char *poster[DIALOGUE_CHOICES_MAX];
	int n = 0, pick, i;
	size_t k;
	bool any_year = false;

	(void)total_pages;
	if (res->error != SERVICE_OK) {
		handlers_reply_failure(lk->t, "search Overseerr", res);
		lookup_done(lk);
		return;
	}
	for (k = 0; k < count; k++)
		any_year |= lk->year > 0 && items[k].year == lk->year;
	for (k = 0; k < count && n < DIALOGUE_CHOICES_MAX; k++) {
		const struct seerr_title *it = &items[k];

		if (lk->media == MEDIA_MOVIE && it->kind != SEERR_MOVIE)
			continue;
		if (lk->media == MEDIA_TV && it->kind != SEERR_TV)
			continue;
		if (any_year && it->year != lk->year)
			continue;
		found[n].kind = it->kind;
		found[n].tmdb_id = it->tmdb_id;
		strlcpy_u(found[n].title, it->title, sizeof(found[n].title));
		found[n].year = it->year;
		found[n].status = lk->st.want_4k ? it->status_4k : it->status;
		poster[n] = it->poster_url[0] ? it->poster_url : NULL;
		n++;
	}
	if (n == 0) {
		turn_replyf(lk->t,
		            "I couldn't find a %s called \"%s\"%s. Check the spelling, or try the "
		            "title it was released under?",
		            lk->media == MEDIA_TV      ? "show"
		            : lk->media == MEDIA_MOVIE ? "film"
		                                       : "film or show",
		            lk->query, lk->year > 0 && !any_year ? " from that year" : "");
		lookup_done(lk);
		return;
	}
	pick = search_pick(lk, found, n);
	/* Suggestions and reports are about the best match: no need to ask. */
	if (pick < 0 && (lk->st.purpose == PURPOSE_RECOMMEND || lk->st.purpose == PURPOSE_REPORT ||
	                 lk->st.purpose == PURPOSE_FOLLOW))
		pick = 0;
	if (pick >= 0) {
		lk->st.chosen = found[pick];
		choice_proceed(lk->t, &lk->st);
	} else {
		struct chat_choice menu[DIALOGUE_CHOICES_MAX];
		char labels[DIALOGUE_CHOICES_MAX][SEERR_TITLE_MAX + 16];
		char details[DIALOGUE_CHOICES_MAX][96];
		struct chat_out out = {.choices = menu, .choice_count = (size_t)n};
		struct buf b;

		buf_init(&b, 0);
		buf_printf(&b, "I found %d. Which one?", n);
		for (i = 0; i < n; i++) {
			const char *state = found[i].status == SEERR_MEDIA_AVAILABLE
			                        ? "already there"
			                    : found[i].status != SEERR_MEDIA_UNKNOWN
			                        ? seerr_media_status_words(found[i].status)
			                        : NULL;

			choice_label(&found[i], labels[i], sizeof(labels[i]));
			buf_printf(&b, "\n%d) %s · %s", i + 1, labels[i],
			           handlers_kind_word(found[i].kind));
			if (state)
				buf_printf(&b, " · %s", state);
			handlers_choice_detail(&found[i], state, details[i], sizeof(details[i]));
			menu[i] = (struct chat_choice){labels[i], details[i], poster[i]};
			lk->st.choices[i] = found[i];
		}
		lk->st.choice_count = n;
		out.text = b.data;
		ask_out(lk->t, &lk->st, DIALOGUE_CHOOSE_TITLE, &out);
		buf_free(&b);
	}
	lookup_done(lk);
}

void
cmd_lookup_title(struct turn *t, const struct intent *in, enum dialogue_purpose purpose)
{
	struct lookup *lk = xcalloc(1, sizeof(*lk));
	int i;

	lk->t = t;
	lk->st.purpose = purpose;
	lk->st.want_4k = in->want_4k;
	lk->st.confirm_title = in->title_unconfirmed;
	lk->st.seasons_all = in->seasons == SEASONS_ALL;
	lk->st.seasons_latest = in->seasons == SEASONS_LATEST;
	for (i = 0; in->seasons == SEASONS_LIST && i < in->season_count; i++)
		lk->st.seasons[lk->st.seasons_len++] = in->season_list[i];
	strlcpy_u(lk->query, in->title, sizeof(lk->query));
	if (purpose == PURPOSE_REPORT)
		strlcpy_u(lk->st.note, turn_text(t), sizeof(lk->st.note));
	lk->year = in->year;
	lk->media = in->media;
	if (lk->st.seasons_len > 0 || lk->st.seasons_all || lk->st.seasons_latest)
		lk->media = MEDIA_TV;
	turn_hold(t);
	seerr_search(turn_seerr(t), handlers_seerr_user(t), in->title, 1, search_done, lk);
}

void
cmd_request(struct turn *t, const struct intent *in)
{
	if (handlers_need_seerr(t))
		return;
	if (in->title[0] == '\0') {
		turn_reply(t, "What would you like me to get? Tell me the film or show, e.g. \"get "
		              "Paddington 2\".");
		return;
	}
	cmd_lookup_title(t, in, PURPOSE_REQUEST);
}

static void
forget(struct turn *t)
{
	struct dialogue_state none;

	memset(&none, 0, sizeof(none));
	turn_dialogue_save(t, &none);
}

/* A bare number typed as an answer ("2", " 3 "). */
static int
answer_number(const char *text)
{
	char *end;
	long n;

	while (*text == ' ')
		text++;
	n = strtol(text, &end, 10);
	while (*end == ' ' || *end == '.' || *end == ')')
		end++;
	return end != text && *end == '\0' && n > 0 && n < 1000 ? (int)n : 0;
}

static bool
answer_title_choice(struct turn *t, struct dialogue_state *st, const struct intent *in)
{
	int i, pick = -1, n = st->choice_count;
	int number = in->choice > 0 ? in->choice : answer_number(turn_text(t));

	if (number > 0) {
		if (number > n) {
			turn_replyf(t, "Please answer with a number from 1 to %d.", n);
			return true;
		}
		pick = number - 1;
	} else if (in->year > 0 || in->media == MEDIA_MOVIE || in->media == MEDIA_TV) {
		int matches = 0;

		for (i = 0; i < n; i++) {
			if (in->year > 0 && st->choices[i].year != in->year)
				continue;
			if (in->media == MEDIA_MOVIE && st->choices[i].kind != SEERR_MOVIE)
				continue;
			if (in->media == MEDIA_TV && st->choices[i].kind != SEERR_TV)
				continue;
			if (matches++ == 0)
				pick = i;
		}
		if (matches != 1) {
			turn_replyf(t, "%s. Please answer with its number, 1 to %d.",
			            matches == 0 ? "None of them matches that"
			                         : "More than one matches that",
			            n);
			return true;
		}
	} else if (in->kind == INTENT_SELECT || in->kind == INTENT_CONFIRM) {
		turn_replyf(t, "Which one? Please answer with a number from 1 to %d.", n);
		return true;
	} else {
		return false;
	}
	st->chosen = st->choices[pick];
	st->wait = DIALOGUE_NONE;
	/* Picking from the list is the person naming it. */
	st->confirm_title = false;
	forget(t);
	choice_proceed(t, st);
	return true;
}

static bool
text_has_word(const char *text, const char *const *words)
{
	for (; *words; words++)
		if (strcasestr(text, *words))
			return true;
	return false;
}

static bool
answer_seasons(struct turn *t, struct dialogue_state *st, const struct intent *in)
{
	static const char *const all_words[] = {"all", "every", "both", "whole", NULL};
	static const char *const latest_words[] = {"latest",      "last",    "newest",
	                                           "most recent", "new one", NULL};
	const char *text = turn_text(t);
	struct lookup *lk;
	int i;

	st->seasons_all = st->seasons_latest = false;
	st->seasons_len = 0;
	if (in->seasons == SEASONS_LIST) {
		for (i = 0; i < in->season_count; i++)
			st->seasons[st->seasons_len++] = in->season_list[i];
	} else if (in->seasons == SEASONS_ALL || text_has_word(text, all_words) ||
	           (in->kind == INTENT_SELECT && in->choice == 1)) {
		st->seasons_all = true;
	} else if (in->seasons == SEASONS_LATEST || text_has_word(text, latest_words) ||
	           (in->kind == INTENT_SELECT && in->choice == 2)) {
		st->seasons_latest = true;
	} else if (answer_number(text) > 0) {
		st->seasons[st->seasons_len++] = answer_number(text);
	} else if (in->kind == INTENT_SELECT || in->kind == INTENT_CONFIRM) {
		turn_replyf(t,
		            "All %d seasons, or just the latest? You can also name one, like "
		            "\"season 2\".",
		            st->season_count);
		return true;
	} else {
		return false;
	}
	st->wait = DIALOGUE_NONE;
	forget(t);
	lk = xcalloc(1, sizeof(*lk));
	lk->t = t;
	lk->st = *st;
	turn_hold(t);
	seerr_details(turn_seerr(t), handlers_seerr_user(t), SEERR_TV, st->chosen.tmdb_id,
	              tv_details_done, lk);
	return true;
}

static bool
answer_is_plus_one(const char *text)
{
	text += strspn(text, " \t");
	if (strncmp(text, "+1", 2) != 0)
		return false;
	text += 2;
	return text[strspn(text, " \t!.")] == '\0';
}

bool
cmd_answer_pending(struct turn *t, const struct intent *in)
{
	struct dialogue_state st;

	if (turn_seerr(t) == NULL || turn_requests(t) == NULL)
		return false;
	turn_dialogue_load(t, &st);
	if (st.wait == DIALOGUE_NONE)
		return false;
	/* "+1" reads as "me too" in a room, but to a yes-or-no question it is
	 * a yes. */
	if ((st.wait == DIALOGUE_CONFIRM || st.wait == DIALOGUE_CONFIRM_APPROVE_ALL) &&
	    strcmp(in->rule, "me_too") == 0 && answer_is_plus_one(turn_text(t))) {
		struct intent yes = *in;

		yes.kind = INTENT_CONFIRM;
		yes.rule[0] = '\0';
		return cmd_answer_pending(t, &yes);
	}
	/* A new ask with a title, or a different command, starts over. */
	if (in->kind != INTENT_SELECT && in->kind != INTENT_CONFIRM && in->kind != INTENT_DENY &&
	    in->kind != INTENT_UNKNOWN &&
	    !(st.wait == DIALOGUE_CHOOSE_SEASONS && in->seasons != SEASONS_NONE &&
	      in->title[0] == '\0')) {
		forget(t);
		return false;
	}
	if (in->kind == INTENT_DENY) {
		forget(t);
		turn_reply(t, "OK, never mind.");
		return true;
	}
	switch (st.wait) {
	case DIALOGUE_CHOOSE_TITLE:
		return answer_title_choice(t, &st, in);
	case DIALOGUE_CHOOSE_SEASONS:
		return answer_seasons(t, &st, in);
	case DIALOGUE_CONFIRM:
		if (in->kind != INTENT_CONFIRM) {
			turn_reply(t, "Shall I go ahead? Say yes or no.");
			return true;
		}
		order_send(t, &st);
		return true;
	case DIALOGUE_CONFIRM_APPROVE_ALL:
		if (in->kind != INTENT_CONFIRM) {
			turn_reply(t, "Approve them all? Say yes or no.");
			return true;
		}
		forget(t);
		cmd_approve_ids(t, st.ids, st.id_count);
		return true;
	case DIALOGUE_NONE:
		break;
	}
	return false;
}

void
cmd_select(struct turn *t, const struct intent *in)
{
	(void)in;
	turn_reply(t, "I wasn't asking you to choose anything. What would you like? Say \"help\" "
	              "for examples.");
}

void
cmd_confirm(struct turn *t, const struct intent *in)
{
	(void)in;
	turn_reply(t, "Yes to what? I wasn't asking anything. Say \"help\" for examples.");
}

void
cmd_deny(struct turn *t, const struct intent *in)
{
	(void)in;
	turn_reply(t, "OK.");
}

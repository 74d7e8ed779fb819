#include "bot/bot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/commands.h"
#include "bot/dialogue.h"
#include "bot/progress.h"
#include "bot/webhook.h"
#include "bot/requests.h"
#include "bot/people.h"
#include "bot/suggest.h"
#include "bot/turn.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/paths.h"
#include "core/util.h"
#include "gateway/gateway.h"
#include "nlu/intent.h"
#include "nlu/llm.h"
#include "nlu/llm_validate.h"
#include "ops/health.h"
#include "ops/metrics.h"
#include "services/qbittorrent.h"
#include "services/radarr.h"
#include "services/seerr.h"
#include "services/sonarr.h"
#include "nlu/nlu.h"

/* Every network usher can speak; a network runs when its section exists. */
static const struct gateway_ops *const bot_networks[] = {
    &console_gateway_ops,
    &discord_gateway_ops,
    &xmpp_gateway_ops,
    &matrix_gateway_ops,
};
#define BOT_NETWORKS (sizeof(bot_networks) / sizeof(bot_networks[0]))

enum unknown_policy {
	UNKNOWN_REFUSE,
	UNKNOWN_READ_ONLY,
	UNKNOWN_DEFAULT,
};

struct bot {
	struct loop *loop;
	const struct config *cfg;
	struct store *store;
	struct people *people;
	struct nlu *nlu;
	struct http *http;
	struct seerr *seerr;
	struct radarr *radarr;
	struct sonarr *sonarr;
	struct qbittorrent *qbittorrent;
	struct requests *requests;
	struct progress *progress;
	struct httpd *httpd;
	struct webhook *webhook;
	struct health *health;
	struct llm *llm;
	struct history *history;
	size_t history_count;
	struct gateway **gateways;
	bool *ended;
	size_t gateway_count;
	enum unknown_policy unknown;
	const struct person *default_person;
	/* Turns held and replies not yet confirmed by their network. */
	unsigned in_flight;
	bool draining;
	loop_timer_id drain_timer;
	struct turn *turns;
	struct queued_msg *queue;
	loop_timer_id dequeue_timer;
	struct bot_relay *relays; /* messages said outside a turn, not yet done */
	struct suggest *suggest;
};

struct turn {
	struct bot *bot;
	struct gateway *gw;
	const struct person *person;
	char *room;
	char *msg_id;
	char *text;
	char *display_name;
	char *sender;
	bool direct;
	bool stranger;
	bool typing; /* "usher is typing" shown, to clear at the end */
	loop_timer_id typing_timer;
	const char *intent;  /* static: intent_kind_name(), NULL until understood */
	uint64_t started_ms; /* loop time the message arrived, for the reply event */
	int refs;
	struct turn *next; /* in bot->turns while alive */
};

/* An answer that takes longer than this (a service call, the LLM) shows
 * "usher is typing"; quicker ones do not flicker it on and off. */
#define TYPING_DELAY_MS 400

/* The last few things a person said in a conversation, for the LLM. */
#define HISTORY_TURNS         4
#define HISTORY_CONVERSATIONS 64

struct history {
	char *key; /* network, room and sender */
	char *texts[HISTORY_TURNS];
	int count;
	struct history *next;
};

/* A message that waits for the conversation's previous one to be answered,
 * so that a person who types fast is answered in order ("get dune", "2"). */
struct queued_msg {
	struct gateway *gw;
	struct chat_msg msg; /* strings owned here */
	struct queued_msg *next;
};

static void bot_check_drained(struct bot *bot);
static struct history *bot_history(struct bot *bot, const struct turn *t);
static void history_add(struct history *h, const char *text);
static void bot_dequeue(struct loop *loop, loop_timer_id id, void *arg);
static void bot_on_message(struct gateway *gw, const struct chat_msg *msg, void *arg);

static void
bot_drain_timeout(struct loop *loop, loop_timer_id id, void *arg)
{
	struct bot *bot = arg;

	(void)id;
	bot->drain_timer = 0;
	log_warnx("input ended; stopping with %u replies still unfinished", bot->in_flight);
	loop_stop(loop);
}

static void
bot_check_drained(struct bot *bot)
{
	if (bot->draining && bot->in_flight == 0 &&
	    (bot->requests == NULL || requests_unsettled(bot->requests) == 0)) {
		if (bot->drain_timer)
			loop_cancel_timer(bot->loop, bot->drain_timer);
		bot->drain_timer = 0;
		loop_stop(bot->loop);
	}
}

static void
bot_work_done(struct bot *bot)
{
	if (bot->in_flight > 0)
		bot->in_flight--;
	bot_check_drained(bot);
}

const struct person *
turn_person(const struct turn *t)
{
	return t->person;
}

const char *
turn_text(const struct turn *t)
{
	return t->text;
}

const char *
turn_display_name(const struct turn *t)
{
	return t->display_name;
}

const char *
turn_network(const struct turn *t)
{
	return gateway_name(t->gw);
}

const char *
turn_room(const struct turn *t)
{
	return t->room;
}

const char *
turn_msg_id(const struct turn *t)
{
	return t->msg_id;
}

struct seerr *
turn_seerr(const struct turn *t)
{
	return t->bot->seerr;
}

struct requests *
turn_requests(const struct turn *t)
{
	return t->bot->requests;
}

struct progress *
turn_progress(const struct turn *t)
{
	return t->bot->progress;
}

struct store *
turn_store(const struct turn *t)
{
	return t->bot->store;
}

void
turn_dialogue_load(struct turn *t, struct dialogue_state *out)
{
	dialogue_load(t->bot->store, gateway_name(t->gw), t->room, t->person->name, time(NULL),
	              out);
}

int
turn_dialogue_save(struct turn *t, const struct dialogue_state *state)
{
	return dialogue_save(t->bot->store, gateway_name(t->gw), t->room, t->person->name,
	                     time(NULL), state);
}

void
turn_hold(struct turn *t)
{
	t->refs++;
	t->bot->in_flight++;
}

void
turn_release(struct turn *t)
{
	struct bot *bot = t->bot;

	struct turn **pp;

	if (--t->refs > 0) {
		bot_work_done(bot);
		return;
	}
	for (pp = &bot->turns; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	if (bot->queue && bot->dequeue_timer == 0)
		bot->dequeue_timer = loop_add_timer(bot->loop, 0, bot_dequeue, bot);
	if (t->typing_timer != 0)
		loop_cancel_timer(bot->loop, t->typing_timer);
	if (t->typing)
		gateway_typing(t->gw, t->room, false);
	free(t->sender);
	free(t->room);
	free(t->msg_id);
	free(t->text);
	free(t->display_name);
	free(t);
	bot_work_done(bot);
}

static void
turn_reply_done(void *arg, int status, const char *msg_id, const char *error)
{
	struct bot *bot = arg;

	(void)msg_id;
	if (status != 0)
		log_warnx("a reply was not delivered: %s", error ? error : "unknown error");
	bot_work_done(bot);
}

int
turn_reply_out(struct turn *t, const struct chat_out *given)
{
	struct chat_out out = *given;
	const char *text = given->text;
	char *named = NULL;
	int rc = 0;

	/* What usher said is context for the LLM ("the second one"). */
	if (t->person != NULL) {
		char *said = xasprintf("usher: %s", text);

		history_add(bot_history(t->bot, t), said);
		free(said);
	}
	/* In a room, say who the answer is for. */
	if (!t->direct) {
		named = xasprintf("%s: %s", t->display_name, text);
		out.text = named;
		out.reply_to = t->msg_id;
		out.mention = t->sender;
	}
	t->bot->in_flight++;
	if (gateway_send(t->gw, t->room, &out, turn_reply_done, t->bot) == -1) {
		log_warnx("%s: cannot send a reply to %s", gateway_name(t->gw), t->room);
		bot_work_done(t->bot);
		rc = -1;
	} else {
		metrics_message_out(gateway_name(t->gw));
		log_event(LOG_LEVEL_INFO, "reply", LOG_STR("network", gateway_name(t->gw)),
		          LOG_HASH("room", t->room),
		          LOG_STR("person", t->person ? t->person->name : NULL),
		          LOG_STR("intent", t->intent),
		          LOG_INT("ms", loop_now_ms(t->bot->loop) - t->started_ms));
	}
	free(named);
	return rc;
}

int
turn_reply(struct turn *t, const char *text)
{
	struct chat_out out = {.text = text};

	return turn_reply_out(t, &out);
}

int
turn_replyf(struct turn *t, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, 0);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	rc = turn_reply(t, b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

/* Everything said outside a turn (a request settled later, progress)
 * goes through here: it counts as work in flight so a console run waits
 * for it, and its completion goes back to whoever asked. */
struct bot_relay {
	struct bot *bot;
	gateway_done_cb *done;
	void *arg;
	struct bot_relay *prev, *next; /* in bot->relays until done */
};

static struct bot_relay *
relay_new(struct bot *bot, gateway_done_cb *done, void *arg)
{
	struct bot_relay *r = xcalloc(1, sizeof(*r));

	r->bot = bot;
	r->done = done;
	r->arg = arg;
	r->next = bot->relays;
	if (bot->relays)
		bot->relays->prev = r;
	bot->relays = r;
	bot->in_flight++;
	return r;
}

static void
relay_unlink(struct bot_relay *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		r->bot->relays = r->next;
	if (r->next)
		r->next->prev = r->prev;
	free(r);
}

/* A relay whose message was never handed over (or never will be). */
static void
relay_drop(struct bot_relay *r)
{
	struct bot *bot = r->bot;

	relay_unlink(r);
	bot_work_done(bot);
}

static void
bot_relay_done(void *arg, int status, const char *msg_id, const char *error)
{
	struct bot_relay *r = arg;

	if (r->done)
		r->done(r->arg, status, msg_id, error);
	else if (status != 0)
		log_warnx("a message was not delivered: %s", error ? error : "unknown error");
	relay_drop(r);
}

/* At shutdown the networks are gone and will never complete what they
 * held: whoever waited is told it was not sent, so it can let go. */
static void
relay_abandon_all(struct bot *bot)
{
	while (bot->relays) {
		struct bot_relay *r = bot->relays;

		if (r->done)
			r->done(r->arg, -1, NULL, "usher stopped before it was sent");
		relay_unlink(r);
	}
}

/* Sends `out`, or edits message `msg_id` with it when not NULL. */
static int
bot_post(struct bot *bot, const char *network, const char *room, const char *msg_id,
         const struct chat_out *out, gateway_done_cb *done, void *done_arg)
{
	struct gateway *gw = bot_gateway(bot, network);
	struct bot_relay *r;
	int rc;

	if (gw == NULL) {
		log_warnx("cannot tell %s: that network is not configured any more", room);
		return -1;
	}
	r = relay_new(bot, done, done_arg);
	rc = msg_id ? gateway_edit(gw, room, msg_id, out, bot_relay_done, r)
	            : gateway_send(gw, room, out, bot_relay_done, r);
	if (rc == -1) {
		relay_drop(r);
	} else {
		metrics_message_out(network);
	}
	return rc;
}

/* Speaks in a conversation outside any turn (a request settled later). */
static int
bot_say(void *arg, const char *network, const char *room, const char *reply_to, const char *text)
{
	struct chat_out out = {.text = text, .reply_to = reply_to};

	return bot_post(arg, network, room, NULL, &out, NULL, NULL);
}

static int
bot_progress_send(void *arg, const char *network, const char *room, const struct chat_out *out,
                  gateway_done_cb *done, void *done_arg)
{
	return bot_post(arg, network, room, NULL, out, done, done_arg);
}

static int
bot_progress_edit(void *arg, const char *network, const char *room, const char *msg_id,
                  const struct chat_out *out, gateway_done_cb *done, void *done_arg)
{
	return bot_post(arg, network, room, msg_id, out, done, done_arg);
}

/* A direct message to a person: on the network they asked from when they
 * are known there, else on the first connected network that knows them. */
static int
bot_send_direct(void *arg, const char *person, const char *network, const struct chat_out *out,
                gateway_done_cb *done, void *done_arg)
{
	struct bot *bot = arg;
	struct gateway *gw = NULL;
	const char *user = NULL;
	struct bot_relay *r;
	size_t i;

	if (network != NULL && (gw = bot_gateway(bot, network)) != NULL &&
	    gateway_can_send_direct(gw))
		user = people_identity(bot->people, person, network);
	for (i = 0; user == NULL && i < bot->gateway_count; i++) {
		gw = bot->gateways[i];
		if (gateway_can_send_direct(gw))
			user = people_identity(bot->people, person, gateway_name(gw));
	}
	if (user == NULL) {
		log_warnx("cannot message %s directly: no network where usher knows them", person);
		return -1;
	}
	r = relay_new(bot, done, done_arg);
	if (gateway_send_direct(gw, user, out, bot_relay_done, r) == -1) {
		relay_drop(r);
		return -1;
	}
	metrics_message_out(gateway_name(gw));
	return 0;
}

static bool
bot_progress_can_edit(void *arg, const char *network)
{
	struct gateway *gw = bot_gateway(arg, network);

	return gw && (gateway_caps(gw) & GATEWAY_CAN_EDIT);
}

/* Discord ids people set in their own Seerr settings count as theirs. */
struct discord_lookup {
	struct bot *bot;
	char *person;
};

static void
bot_discord_id_done(void *arg, const struct service_result *res, const char *id)
{
	struct discord_lookup *d = arg;

	if (res->error == SERVICE_OK && id[0] != '\0') {
		people_add_identity(d->bot->people, d->person, "discord", id);
		log_info("people: %s is Discord user %s (from their Seerr settings)", d->person,
		         id);
	} else if (res->error != SERVICE_OK) {
		log_warnx("people: cannot read %s's Discord id from Seerr: %s", d->person,
		          res->message);
	}
	free(d->person);
	free(d);
}

static void
bot_learn_discord_ids(struct bot *bot)
{
	size_t i;

	if (bot->seerr == NULL || bot_gateway(bot, "discord") == NULL)
		return;
	for (i = 0; i < config_person_count(bot->cfg); i++) {
		const char *name = config_person_name(bot->cfg, i);
		const struct person *p = people_by_name(bot->people, name);
		struct discord_lookup *d;

		if (p == NULL || p->seerr_user <= 0 ||
		    people_has_identity(bot->people, name, "discord"))
			continue;
		d = xcalloc(1, sizeof(*d));
		d->bot = bot;
		d->person = xstrdup(name);
		seerr_user_discord_id(bot->seerr, p->seerr_user, bot_discord_id_done, d);
	}
}

/* Seerr pushed news: look now instead of at the next poll. */
static void
bot_webhook_notice(const struct webhook_notice *n, void *arg)
{
	struct bot *bot = arg;

	log_info("webhook: %s", webhook_event_name(n->event));
	if (bot->progress)
		progress_poke(bot->progress);
}

/* Gauges read when /metrics is asked for. */
static void
bot_collect_metrics(void *arg)
{
	struct bot *bot = arg;
	size_t counts[PROGRESS_FAILED + 1];
	int state;

	if (bot->progress) {
		progress_count_by_state(bot->progress, counts);
		for (state = 0; state <= PROGRESS_FAILED; state++)
			metrics_tracked(progress_state_name(state), counts[state]);
	}
	if (bot->requests)
		metrics_set_tracked("submitting", (double)requests_unsettled(bot->requests));
}

/* The optional local listener: Seerr's webhook, /healthz and /metrics. */
static int
bot_start_httpd(struct bot *bot, char *err, size_t errlen)
{
	const char *listen = config_get(bot->cfg, "http", "listen");
	struct httpd_opts opts;

	if (listen == NULL || *listen == '\0')
		return 0;
	memset(&opts, 0, sizeof(opts));
	opts.listen = listen;
	opts.max_connections = (size_t)config_get_int(bot->cfg, "http", "max_connections");
	opts.max_body = (size_t)config_get_int(bot->cfg, "http", "max_body");
	bot->httpd = httpd_start(bot->loop, &opts, err, errlen);
	if (bot->httpd == NULL)
		return -1;
	if (bot->seerr) {
		bot->webhook = webhook_attach(bot->httpd, NULL,
		                              config_get(bot->cfg, "seerr", "webhook_secret"),
		                              bot_webhook_notice, bot);
		if (bot->webhook == NULL) {
			snprintf(err, errlen, "cannot attach the Seerr webhook");
			return -1;
		}
	}
	bot->health = health_attach(bot->httpd, bot->store, bot_collect_metrics, bot);
	log_info("listening on %s (port %u)", listen, (unsigned)httpd_port(bot->httpd));
	return 0;
}

static void
bot_request_made(void *arg, const struct request_made *m)
{
	struct bot *bot = arg;
	const struct person *who = people_by_name(bot->people, m->person);
	struct progress_item it = {
	    .seerr_request_id = m->seerr_request_id,
	    .kind = m->what.kind,
	    .tmdb_id = m->what.tmdb_id,
	    .tvdb_id = m->what.tvdb_id,
	    .notify = who ? who->notify : NOTIFY_ROOM,
	    .is_4k = m->what.is_4k,
	    .label = m->label,
	    .network = m->network,
	    .room = m->room,
	    .person = m->person,
	    .mention = people_identity(bot->people, m->person, m->network),
	};

	if (bot->progress && progress_track(bot->progress, &it) == -1)
		log_warnx("cannot follow %s: the store is not writable", m->label);
}

/* Titles for a network's autocomplete (see suggest.h). */
static void *
bot_suggest(struct gateway *gw, const char *prefix, gateway_suggest_cb *done, void *done_arg,
            void *arg)
{
	struct bot *bot = arg;

	(void)gw;
	return bot->suggest ? suggest_start(bot->suggest, prefix, done, done_arg) : NULL;
}

static void
bot_suggest_cancel(void *handle, void *arg)
{
	(void)arg;
	suggest_cancel(handle);
}

/* What a stranger may do under unknown_users = read-only: look, not act. */
static bool
bot_read_only_kind(enum intent_kind kind)
{
	switch (kind) {
	case INTENT_HELP:
	case INTENT_SEARCH:
	case INTENT_STATUS:
	case INTENT_UNKNOWN:
	case INTENT_RECOMMEND:
		return true;
	default:
		return false;
	}
}

static const struct person *
bot_identify(struct bot *bot, const struct chat_msg *msg, bool *stranger)
{
	const struct person *p = people_find(bot->people, msg->network, msg->sender);

	*stranger = p == NULL;
	if (p == NULL && bot->unknown != UNKNOWN_REFUSE)
		p = bot->default_person;
	return p;
}

static char *
bot_history_key(const struct turn *t)
{
	return xasprintf("%s\x1f%s\x1f%s", gateway_name(t->gw), t->room,
	                 t->sender ? t->sender : "");
}

static void
history_free(struct history *h)
{
	int i;

	for (i = 0; i < h->count; i++)
		free(h->texts[i]);
	free(h->key);
	free(h);
}

/* The conversation's history (most recently used first), made when new;
 * the least recently used is dropped past the cap. */
static struct history *
bot_history(struct bot *bot, const struct turn *t)
{
	char *key = bot_history_key(t);
	struct history **pp, *h;

	for (pp = &bot->history; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			h = *pp;
			*pp = h->next;
			h->next = bot->history;
			bot->history = h;
			free(key);
			return h;
		}
	}
	h = xcalloc(1, sizeof(*h));
	h->key = key;
	h->next = bot->history;
	bot->history = h;
	if (++bot->history_count > HISTORY_CONVERSATIONS) {
		for (pp = &bot->history; (*pp)->next; pp = &(*pp)->next)
			;
		history_free(*pp);
		*pp = NULL;
		bot->history_count--;
	}
	return h;
}

static void
history_add(struct history *h, const char *text)
{
	if (h->count == HISTORY_TURNS) {
		free(h->texts[0]);
		memmove(h->texts, h->texts + 1, (HISTORY_TURNS - 1) * sizeof(h->texts[0]));
		h->count--;
	}
	h->texts[h->count++] = xstrdup(text);
}

static bool
bot_same_conversation(const struct gateway *gw, const char *room, const char *sender,
                      const struct gateway *gw2, const char *room2, const char *sender2)
{
	return gw == gw2 && strcmp(room, room2) == 0 &&
	       strcmp(sender ? sender : "", sender2 ? sender2 : "") == 0;
}

static bool
bot_conversation_busy(const struct bot *bot, const struct gateway *gw, const struct chat_msg *m)
{
	const struct turn *t;

	for (t = bot->turns; t; t = t->next)
		if (bot_same_conversation(t->gw, t->room, t->sender, gw, m->room, m->sender))
			return true;
	return false;
}

static void
bot_queue_msg(struct bot *bot, struct gateway *gw, const struct chat_msg *m)
{
	struct queued_msg *q = xcalloc(1, sizeof(*q)), **pp;

	q->gw = gw;
	q->msg = *m;
	q->msg.network = xstrdup(m->network);
	q->msg.room = xstrdup(m->room);
	q->msg.sender = xstrdup(m->sender);
	q->msg.sender_name = xstrdup(m->sender_name);
	q->msg.text = xstrdup(m->text);
	q->msg.msg_id = xstrdup(m->msg_id);
	q->msg.reply_to = xstrdup(m->reply_to);
	for (pp = &bot->queue; *pp; pp = &(*pp)->next)
		;
	*pp = q;
	bot->in_flight++;
}

static void
bot_queued_free(struct queued_msg *q)
{
	free((char *)q->msg.network);
	free((char *)q->msg.room);
	free((char *)q->msg.sender);
	free((char *)q->msg.sender_name);
	free((char *)q->msg.text);
	free((char *)q->msg.msg_id);
	free((char *)q->msg.reply_to);
	free(q);
}

/* Hands on the oldest waiting message of every conversation that is free. */
static void
bot_dequeue(struct loop *loop, loop_timer_id id, void *arg)
{
	struct bot *bot = arg;
	struct queued_msg **pp = &bot->queue;

	(void)loop;
	(void)id;
	bot->dequeue_timer = 0;
	while (*pp) {
		struct queued_msg *q = *pp;

		if (bot_conversation_busy(bot, q->gw, &q->msg)) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		bot_on_message(q->gw, &q->msg, bot);
		bot_queued_free(q);
		bot_work_done(bot);
	}
}

/* Checks what may be done with the intent, then runs its command. */
static void
bot_act(struct turn *t, const struct intent *in)
{
	struct bot *bot = t->bot;

	t->intent = intent_kind_name(in->kind);
	log_event(LOG_LEVEL_INFO, "message", LOG_STR("network", gateway_name(t->gw)),
	          LOG_HASH("room", t->room), LOG_STR("person", t->person->name),
	          LOG_STR("intent", t->intent), LOG_STR("source", intent_source_name(in->source)),
	          LOG_STR("rule", in->rule[0] ? in->rule : "none"));
	if (t->stranger && bot->unknown == UNKNOWN_READ_ONLY && !bot_read_only_kind(in->kind))
		turn_reply(t, "Sorry, I don't know you yet, so I can only answer questions. Ask "
		              "whoever runs the media server to add you to usher.");
	else
		commands_dispatch(t, in);
}

/* The words a person uses to ask for `kind`, for the hint in a reply. */
static const char *
bot_verb(enum intent_kind kind)
{
	switch (kind) {
	case INTENT_CANCEL:
		return "cancel";
	case INTENT_APPROVE:
		return "approve";
	case INTENT_DECLINE:
		return "decline";
	case INTENT_REPORT_ISSUE:
		return "there's a problem with";
	default:
		return "get";
	}
}

/* An action on a title the person never named (the model's guess, or an
 * injection in the message) waits for the person to name it. Reading
 * (search, status, recommend) needs no such care. */
static bool
bot_llm_title_said(struct turn *t, const struct intent *in)
{
	const struct history *h = bot_history(t->bot, t);
	const char *said[HISTORY_TURNS + 1];
	size_t n = 0;
	int i;

	if (bot_read_only_kind(in->kind) || in->title[0] == '\0')
		return true;
	/* A member is refused these whatever the title: say that instead. */
	if ((in->kind == INTENT_APPROVE || in->kind == INTENT_DECLINE) &&
	    t->person->role != ROLE_ADMIN)
		return true;
	said[n++] = t->text;
	for (i = 0; i < h->count; i++)
		if (strncmp(h->texts[i], "usher: ", 7) != 0)
			said[n++] = h->texts[i];
	return llm_validate_title_said(in->title, said, n);
}

static void
bot_llm_done(void *arg, enum llm_outcome outcome, const struct intent *in, const char *why)
{
	struct turn *t = arg;
	struct intent unknown;

	if (outcome != LLM_REFUSED_RATE)
		metrics_llm_call(outcome != LLM_OK);
	metrics_parse(outcome == LLM_OK ? "llm" : "none");
	if (outcome != LLM_OK) {
		if (outcome != LLM_REFUSED_RATE)
			log_warnx("llm: no help for %s's message: %s", t->person->name,
			          why ? why : "?");
		intent_clear(&unknown);
		bot_act(t, &unknown);
	} else if (bot_llm_title_said(t, in)) {
		bot_act(t, in);
	} else if (in->kind == INTENT_REQUEST) {
		/* A request can be confirmed: it goes on, asking "did you mean". */
		struct intent asked = *in;

		log_info("llm: %s's message did not name \"%s\"; asking first", t->person->name,
		         in->title);
		asked.title_unconfirmed = true;
		bot_act(t, &asked);
	} else {
		log_warnx("llm: %s's message did not name \"%s\"; nothing done", t->person->name,
		          in->title);
		turn_replyf(
		    t,
		    "I'm not sure you meant %s, so I haven't done anything. If you did, say "
		    "so with its name, like \"%s %s\".",
		    in->title, bot_verb(in->kind), in->title);
	}
	turn_release(t);
}

static void
turn_typing_due(struct loop *loop, loop_timer_id id, void *arg)
{
	struct turn *t = arg;

	(void)loop;
	(void)id;
	t->typing_timer = 0;
	t->typing = true;
	gateway_typing(t->gw, t->room, true);
}

static void
bot_on_message(struct gateway *gw, const struct chat_msg *msg, void *arg)
{
	struct bot *bot = arg;
	struct turn *t;
	struct intent in;
	struct history *history;
	bool stranger;

	if (!msg->direct && !msg->addressed)
		return;
	if (bot_conversation_busy(bot, gw, msg)) {
		bot_queue_msg(bot, gw, msg);
		return;
	}
	metrics_message_in(gateway_name(gw));
	t = xcalloc(1, sizeof(*t));
	t->sender = xstrdup(msg->sender);
	t->next = bot->turns;
	bot->turns = t;
	t->bot = bot;
	t->gw = gw;
	t->room = xstrdup(msg->room);
	t->msg_id = xstrdup(msg->msg_id);
	t->text = xstrdup(msg->text ? msg->text : "");
	t->display_name = xstrdup(msg->sender_name ? msg->sender_name : msg->sender);
	t->direct = msg->direct;
	t->started_ms = loop_now_ms(bot->loop);
	t->refs = 0;
	turn_hold(t);
	t->person = bot_identify(bot, msg, &stranger);
	if (t->person == NULL) {
		log_info("%s: refused a message from unknown sender %s", gateway_name(gw),
		         msg->sender ? msg->sender : "(none)");
		turn_reply(t, "Sorry, I only take requests from the family members I know. Ask "
		              "whoever runs the media server to add you to usher.");
		turn_release(t);
		return;
	}
	t->stranger = stranger;
	gateway_seen(gw, t->room, msg->msg_id);
	t->typing_timer = loop_add_timer(bot->loop, TYPING_DELAY_MS, turn_typing_due, t);
	nlu_understand(bot->nlu, t->text, &in);
	history = bot_history(bot, t);
	/* Only what no grammar rule placed goes to the LLM; its answer is
	 * checked exactly like the grammar's (bot_act). */
	if (in.source == SOURCE_NONE && bot->llm) {
		turn_hold(t);
		llm_understand(bot->llm, t->person->name, t->text,
		               (const char *const *)history->texts, (size_t)history->count,
		               bot_llm_done, t);
		history_add(history, t->text);
		turn_release(t);
		return;
	}
	history_add(history, t->text);
	metrics_parse(in.source == SOURCE_GRAMMAR ? "grammar" : "none");
	bot_act(t, &in);
	turn_release(t);
}

static void
bot_on_end(struct gateway *gw, void *arg)
{
	struct bot *bot = arg;
	size_t i;
	long wait_ms;

	for (i = 0; i < bot->gateway_count; i++) {
		if (bot->gateways[i] == gw)
			bot->ended[i] = true;
		else if (!bot->ended[i])
			return; /* other networks still talk: keep running */
	}
	if (bot->draining)
		return;
	bot->draining = true;
	wait_ms = config_get_int(bot->cfg, "console", "exit_wait_ms");
	bot->drain_timer = loop_add_timer(bot->loop, (uint64_t)wait_ms, bot_drain_timeout, bot);
	bot_check_drained(bot);
}

struct bot *
bot_new(struct loop *loop, const struct config *cfg, struct store *store, char *err, size_t errlen)
{
	return bot_new_with_networks(loop, cfg, store, bot_networks, BOT_NETWORKS, err, errlen);
}

struct bot *
bot_new_with_networks(struct loop *loop, const struct config *cfg, struct store *store,
                      const struct gateway_ops *const *networks, size_t network_count, char *err,
                      size_t errlen)
{
	struct bot *bot = xcalloc(1, sizeof(*bot));
	struct gateway_host host = {.on_message = bot_on_message,
	                            .on_end = bot_on_end,
	                            .suggest = bot_suggest,
	                            .suggest_cancel = bot_suggest_cancel,
	                            .arg = bot,
	                            .store = store};
	const char *policy = config_get(cfg, "usher", "unknown_users");
	const char *fallback = config_get(cfg, "usher", "default_person");
	size_t i;

	bot->loop = loop;
	bot->cfg = cfg;
	bot->store = store;
	bot->people = people_new(cfg);
	bot->gateways = xcalloc(network_count, sizeof(*bot->gateways));
	bot->ended = xcalloc(network_count, sizeof(*bot->ended));
	if (policy && strcmp(policy, "read-only") == 0)
		bot->unknown = UNKNOWN_READ_ONLY;
	else if (policy && strcmp(policy, "default") == 0)
		bot->unknown = UNKNOWN_DEFAULT;
	if (bot->unknown != UNKNOWN_REFUSE) {
		bot->default_person = fallback ? people_by_name(bot->people, fallback) : NULL;
		if (bot->default_person == NULL) {
			snprintf(err, errlen,
			         "[usher] unknown_users = %s needs default_person = NAME of a "
			         "configured person",
			         policy);
			bot_free(bot);
			return NULL;
		}
	}
	bot->nlu = nlu_new(cfg, err, errlen);
	if (bot->nlu == NULL) {
		bot_free(bot);
		return NULL;
	}
	bot->http = http_new(loop);
	if (llm_configured(cfg)) {
		const char *prompts = config_get(cfg, "usher", "prompts");
		char *dir = prompts && *prompts ? xstrdup(prompts) : paths_data("prompts");

		bot->llm = llm_new(loop, bot->http, cfg, dir, err, errlen);
		free(dir);
		if (bot->llm == NULL) {
			bot_free(bot);
			return NULL;
		}
	}
	bot->seerr = seerr_new(bot->http, cfg);
	bot->suggest = suggest_new(loop, bot->seerr);
	bot->radarr = radarr_new(bot->http, cfg);
	bot->sonarr = sonarr_new(bot->http, cfg);
	bot->qbittorrent = qbittorrent_new(bot->http, cfg);
	if (bot->seerr && store) {
		struct progress_services svc = {
		    .seerr = bot->seerr,
		    .radarr = bot->radarr,
		    .sonarr = bot->sonarr,
		    .qbittorrent = bot->qbittorrent,
		    .filebrowser_url = config_get(cfg, "filebrowser", "url"),
		    .path_from = config_get(cfg, "filebrowser", "path_from"),
		    .path_to = config_get(cfg, "filebrowser", "path_to"),
		};
		struct progress_host ph = {
		    .send = bot_progress_send,
		    .edit = bot_progress_edit,
		    .can_edit = bot_progress_can_edit,
		    .send_direct = bot_send_direct,
		    .arg = bot,
		};

		bot->requests = requests_new(loop, store, bot->seerr, bot_say, bot);
		bot->progress = progress_new(
		    loop, store, &svc, &ph, config_get_int(cfg, "progress", "interval_s") * 1000,
		    config_get_int(cfg, "progress", "edit_every_s") * 1000);
		requests_on_made(bot->requests, bot_request_made, bot);
	}
	for (i = 0; i < network_count; i++) {
		struct gateway *gw;

		if (!config_has_section(cfg, networks[i]->name))
			continue;
		gw = gateway_new(networks[i], loop, cfg, &host, err, errlen);
		if (gw == NULL) {
			bot_free(bot);
			return NULL;
		}
		bot->gateways[bot->gateway_count++] = gw;
	}
	if (bot->gateway_count == 0) {
		snprintf(err, errlen,
		         "no chat network is configured: add a [console], [xmpp], [matrix] or "
		         "[discord] section");
		bot_free(bot);
		return NULL;
	}
	return bot;
}

int
bot_start(struct bot *bot, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < bot->gateway_count; i++) {
		if (gateway_start(bot->gateways[i]) == -1) {
			snprintf(err, errlen, "%s: cannot start", gateway_name(bot->gateways[i]));
			return -1;
		}
	}
	if (bot_start_httpd(bot, err, errlen) == -1)
		return -1;
	if (bot->requests)
		requests_resume(bot->requests);
	if (bot->progress)
		progress_resume(bot->progress);
	bot_learn_discord_ids(bot);
	return 0;
}

void
bot_reload(struct bot *bot)
{
	char err[512];

	nlu_reload(bot->nlu);
	if (bot->llm && llm_reload(bot->llm, err, sizeof(err)) == -1)
		log_warnx("prompts not reloaded, the old ones stay in force: %s", err);
}

struct gateway *
bot_gateway(const struct bot *bot, const char *network)
{
	size_t i;

	for (i = 0; i < bot->gateway_count; i++)
		if (strcmp(gateway_name(bot->gateways[i]), network) == 0)
			return bot->gateways[i];
	return NULL;
}

void
bot_free(struct bot *bot)
{
	size_t i;

	if (bot == NULL)
		return;
	for (i = 0; i < bot->gateway_count; i++)
		gateway_free(bot->gateways[i]);
	if (bot->drain_timer)
		loop_cancel_timer(bot->loop, bot->drain_timer);
	if (bot->dequeue_timer)
		loop_cancel_timer(bot->loop, bot->dequeue_timer);
	while (bot->queue) {
		struct queued_msg *q = bot->queue;

		bot->queue = q->next;
		bot_queued_free(q);
	}
	httpd_free(bot->httpd);
	health_free(bot->health);
	webhook_free(bot->webhook);
	llm_free(bot->llm);
	while (bot->history) {
		struct history *h = bot->history;

		bot->history = h->next;
		history_free(h);
	}
	progress_free(bot->progress);
	relay_abandon_all(bot);
	requests_free(bot->requests);
	qbittorrent_free(bot->qbittorrent);
	sonarr_free(bot->sonarr);
	radarr_free(bot->radarr);
	suggest_free(bot->suggest);
	seerr_free(bot->seerr);
	http_free(bot->http);
	nlu_free(bot->nlu);
	people_free(bot->people);
	free(bot->gateways);
	free(bot->ended);
	free(bot);
}

#include "bot/commands.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bot/handlers.h"
#include "bot/people.h"
#include "bot/requests.h"
#include "bot/turn.h"
#include "gateway/gateway.h"
#include "nlu/intent.h"
#include "services/seerr.h"

typedef void command_fn(struct turn *t, const struct intent *in);

struct command {
	enum intent_kind kind;
	bool admin_only;
	command_fn *fn;
};

static const char commands_help[] =
    "I fetch films and shows for the family. Just ask in your own words, for example:\n"
    "  can you get Dune: Part Two\n"
    "  add season 2 of The Bear\n"
    "  is Oppenheimer ready yet?\n"
    "  what's downloading\n"
    "  my requests\n"
    "  cancel Barbie\n"
    "I'll tell you when it's ready to watch.";

const char *
commands_help_text(void)
{
	return commands_help;
}

static void
command_help(struct turn *t, const struct intent *in)
{
	(void)in;
	turn_reply(t, commands_help);
}

/* Words that open a conversation rather than ask for something. */
static bool
commands_is_greeting(const char *text)
{
	static const char *const greetings[] = {"hi",    "hello",          "hey",
	                                        "hiya",  "good morning",   "good evening",
	                                        "howdy", "good afternoon", "yo"};
	size_t i, len;

	while (*text == ' ')
		text++;
	for (i = 0; i < sizeof(greetings) / sizeof(greetings[0]); i++) {
		len = strlen(greetings[i]);
		if (strncasecmp(text, greetings[i], len) == 0 &&
		    strspn(text + len, " !.,usherUSHER") == strlen(text + len))
			return true;
	}
	return false;
}

static void
command_unknown(struct turn *t, const struct intent *in)
{
	const char *text = turn_text(t);

	while (*text == ' ')
		text++;
	if (strncasecmp(text, "follow ", 7) == 0 && text[7] != '\0') {
		struct intent follow = *in;

		if (handlers_need_seerr(t))
			return;
		follow.kind = INTENT_STATUS;
		snprintf(follow.title, sizeof(follow.title), "%s", text + 7);
		cmd_lookup_title(t, &follow, PURPOSE_FOLLOW);
		return;
	}
	if (commands_is_greeting(turn_text(t))) {
		turn_replyf(t,
		            "Hi %s! I'm usher. Ask me for a film or a show, or say \"help\" to see "
		            "what I can do.",
		            turn_display_name(t));
		return;
	}
	turn_reply(t, "Sorry, I didn't catch that. Ask me for a film or a show in your own "
	              "words (\"can you get Dune: Part Two\"), or say \"help\".");
}

static void
command_not_media(struct turn *t, const struct intent *in)
{
	(void)in;
	turn_reply(t, "I can only fetch films and TV shows, not music, books or games.");
}

static void
command_admin_only(struct turn *t, const struct intent *in)
{
	turn_replyf(t, "Only an admin can %s requests.", intent_kind_name(in->kind));
}

static const struct command commands[] = {
    {INTENT_HELP, false, command_help},       {INTENT_UNKNOWN, false, command_unknown},
    {INTENT_SEARCH, false, cmd_status},       {INTENT_REQUEST, false, cmd_request},
    {INTENT_STATUS, false, cmd_status},       {INTENT_LIST_REQUESTS, false, cmd_list_requests},
    {INTENT_CANCEL, false, cmd_cancel},       {INTENT_APPROVE, true, cmd_approve},
    {INTENT_DECLINE, true, cmd_decline},      {INTENT_SELECT, false, cmd_select},
    {INTENT_CONFIRM, false, cmd_confirm},     {INTENT_DENY, false, cmd_deny},
    {INTENT_RECOMMEND, false, cmd_recommend}, {INTENT_REPORT_ISSUE, false, cmd_report_issue},
};

void
commands_dispatch(struct turn *t, const struct intent *in)
{
	size_t i;

	if (in->media == MEDIA_OTHER && in->kind != INTENT_UNKNOWN) {
		command_not_media(t, in);
		return;
	}
	/* Admin-only intents are refused for members whatever produced them,
	 * before anything else looks at them. */
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].kind == in->kind && commands[i].admin_only &&
		    !handlers_is_admin(t)) {
			command_admin_only(t, in);
			return;
		}
	}
	if (cmd_answer_pending(t, in))
		return;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].kind == in->kind) {
			commands[i].fn(t, in);
			return;
		}
	}
	command_unknown(t, in);
}

bool
handlers_need_seerr(struct turn *t)
{
	if (turn_seerr(t) != NULL && turn_requests(t) != NULL)
		return false;
	turn_reply(t, "I'm not connected to Overseerr yet, so I can't do that. Whoever runs the "
	              "media server needs to add a [seerr] section to usher's config.");
	return true;
}

const char *
handlers_kind_word(enum seerr_kind kind)
{
	return kind == SEERR_TV ? "show" : "film";
}

void
handlers_reply_failure(struct turn *t, const char *doing, const struct service_result *res)
{
	if (res->error == SERVICE_UNREACHABLE || res->error == SERVICE_SERVER ||
	    res->error == SERVICE_BAD_RESPONSE || res->error == SERVICE_TLS)
		turn_replyf(t,
		            "I can't %s right now: Overseerr isn't answering properly (%s). "
		            "Try again in a little while.",
		            doing, res->message);
	else if (res->error == SERVICE_AUTH)
		turn_replyf(t,
		            "I can't %s: Overseerr turned usher away (%s). Whoever runs the "
		            "media server should check usher's API key and your Seerr user.",
		            doing, res->message);
	else
		turn_replyf(t, "I can't %s: %s", doing, res->message);
}

long
handlers_seerr_user(const struct turn *t)
{
	return turn_person(t)->seerr_user;
}

bool
handlers_is_admin(const struct turn *t)
{
	return turn_person(t)->role == ROLE_ADMIN;
}

void
handlers_request_words(const struct dialogue_choice *c, bool want_4k, char *out, size_t outlen)
{
	char label[SEERR_TITLE_MAX + 16];

	requests_format_title(label, sizeof(label), c->title, c->year);
	snprintf(out, outlen, "get the %s %s%s", handlers_kind_word(c->kind), label,
	         want_4k ? " in 4K" : "");
}

void
handlers_choice_detail(const struct dialogue_choice *c, const char *state, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s", handlers_kind_word(c->kind));

	if (c->year > 0 && n >= 0 && (size_t)n < outlen)
		n += snprintf(out + n, outlen - (size_t)n, " · %d", c->year);
	if (state && n >= 0 && (size_t)n < outlen)
		snprintf(out + n, outlen - (size_t)n, " · %s", state);
}

void
handlers_reply_offer(struct turn *t, const char *text, const struct dialogue_choice *c)
{
	char plain[SEERR_TITLE_MAX + 64], in_4k[SEERR_TITLE_MAX + 64];
	struct chat_action acts[2] = {{.label = "Request", .says = plain},
	                              {.label = "Request in 4K", .says = in_4k}};
	struct chat_out out = {.text = text, .actions = acts, .action_count = 2};

	handlers_request_words(c, false, plain, sizeof(plain));
	handlers_request_words(c, true, in_4k, sizeof(in_4k));
	turn_reply_out(t, &out);
}

/* Lower-cases letters and digits, drops everything else, and skips a
 * leading "the ", "a " or "an ". */
static void
handlers_title_key(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (strncasecmp(in, "the ", 4) == 0)
		in += 4;
	else if (strncasecmp(in, "a ", 2) == 0)
		in += 2;
	else if (strncasecmp(in, "an ", 3) == 0)
		in += 3;
	for (; *in && n + 1 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		if (isalnum(c) || c >= 0x80)
			out[n++] = (char)tolower(c);
	}
	out[n] = '\0';
}

bool
handlers_same_title(const char *a, const char *b)
{
	char ka[SEERR_TITLE_MAX], kb[SEERR_TITLE_MAX];

	handlers_title_key(a, ka, sizeof(ka));
	handlers_title_key(b, kb, sizeof(kb));
	return ka[0] != '\0' && strcmp(ka, kb) == 0;
}

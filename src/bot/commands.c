#include "bot/commands.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bot/people.h"
#include "bot/turn.h"
#include "nlu/intent.h"

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
	(void)in;
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

/* The services that would carry this out are not connected in this build:
 * say so plainly rather than pretend. */
static void
command_not_yet(struct turn *t, const struct intent *in)
{
	const char *what = intent_kind_name(in->kind);

	if (in->title[0] != '\0')
		turn_replyf(t,
		            "I understood that you want me to %s \"%s\", but I can't talk to the "
		            "media server yet, so I can't do that today.",
		            what, in->title);
	else
		turn_replyf(t,
		            "I understood \"%s\", but I can't talk to the media server yet, so I "
		            "can't do that today.",
		            what);
}

static void
command_admin_only(struct turn *t, const struct intent *in)
{
	turn_replyf(t, "Only an admin can %s requests.", intent_kind_name(in->kind));
}

static const struct command commands[] = {
    {INTENT_HELP, false, command_help},         {INTENT_UNKNOWN, false, command_unknown},
    {INTENT_SEARCH, false, command_not_yet},    {INTENT_REQUEST, false, command_not_yet},
    {INTENT_STATUS, false, command_not_yet},    {INTENT_LIST_REQUESTS, false, command_not_yet},
    {INTENT_CANCEL, false, command_not_yet},    {INTENT_APPROVE, true, command_not_yet},
    {INTENT_DECLINE, true, command_not_yet},    {INTENT_SELECT, false, command_not_yet},
    {INTENT_CONFIRM, false, command_not_yet},   {INTENT_DENY, false, command_not_yet},
    {INTENT_RECOMMEND, false, command_not_yet}, {INTENT_REPORT_ISSUE, false, command_not_yet},
};

void
commands_dispatch(struct turn *t, const struct intent *in)
{
	size_t i;

	if (in->media == MEDIA_OTHER && in->kind != INTENT_UNKNOWN) {
		command_not_media(t, in);
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].kind != in->kind)
			continue;
		if (commands[i].admin_only && turn_person(t)->role != ROLE_ADMIN)
			command_admin_only(t, in);
		else
			commands[i].fn(t, in);
		return;
	}
	command_unknown(t, in);
}

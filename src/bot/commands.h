/*
 * commands: one handler per intent kind, in the manner of tmux's command
 * table. A handler answers through the turn it is given; handlers that must
 * wait for an upstream service hold the turn until they are done.
 */
#ifndef USHER_COMMANDS_H
#define USHER_COMMANDS_H

struct turn;
struct intent;

/* Runs the handler for `in->kind` (borrowed for the call). */
void commands_dispatch(struct turn *t, const struct intent *in);

/* The help text, a static string. */
const char *commands_help_text(void);

#endif

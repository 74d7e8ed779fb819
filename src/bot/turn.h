/*
 * turn: one incoming message being answered.
 *
 * The bot makes a turn for every message it will answer and hands it to
 * the command for what the person meant. A command replies through the
 * turn; the turn remembers where to answer (network, room, the message to
 * quote) and who asked. A command that answers later (after an upstream
 * call) takes a reference with turn_hold() and drops it with turn_release()
 * when done; the bot counts held turns and unsent replies as work in flight.
 */
#ifndef USHER_TURN_H
#define USHER_TURN_H

#include <stdarg.h>

struct turn;
struct person;
struct chat_msg;
struct chat_out;
struct seerr;
struct requests;
struct progress;
struct store;
struct dialogue_state;

/* Borrowed, valid for the turn's life. */
const struct person *turn_person(const struct turn *t);
/* The text as the person typed it. Borrowed, valid for the turn's life. */
const char *turn_text(const struct turn *t);
/* The name to address the person by in a reply. Borrowed. */
const char *turn_display_name(const struct turn *t);

/* Sends a reply in the turn's conversation (quoting the message in rooms).
 * Returns 0 when handed to the network, -1 when it could not be sent (the
 * failure is logged). */
int turn_reply(struct turn *t, const char *text);
int turn_replyf(struct turn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with structure for networks that show it (posters, choices as
 * buttons or menus, actions as buttons). out->text is required; reply_to
 * and mention are filled in by the turn. `out` is borrowed for the call. */
int turn_reply_out(struct turn *t, const struct chat_out *out);

/* Where the message came from. Borrowed, valid for the turn's life. */
const char *turn_network(const struct turn *t);
const char *turn_room(const struct turn *t);
const char *turn_msg_id(const struct turn *t);

/* The bot's services; NULL when not configured. Borrowed. */
struct seerr *turn_seerr(const struct turn *t);
struct requests *turn_requests(const struct turn *t);
struct progress *turn_progress(const struct turn *t);
struct store *turn_store(const struct turn *t);

/* The conversation's pending question (see dialogue.h). */
void turn_dialogue_load(struct turn *t, struct dialogue_state *out);
/* Returns 0, or -1 when it could not be saved (logged). */
int turn_dialogue_save(struct turn *t, const struct dialogue_state *state);

void turn_hold(struct turn *t);
void turn_release(struct turn *t);

#endif

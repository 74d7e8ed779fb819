/*
 * handlers: the command handlers behind commands.c's table, and the few
 * helpers they share. cmd_request.c has the request conversation (find,
 * choose, seasons, confirm, send); cmd_manage.c the rest (status, my
 * requests, cancel, approve, decline, recommend, report an issue).
 */
#ifndef USHER_HANDLERS_H
#define USHER_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/dialogue.h"
#include "services/seerr.h"

struct turn;
struct intent;
struct dialogue_state;

/* cmd_request.c */
void cmd_request(struct turn *t, const struct intent *in);
void cmd_select(struct turn *t, const struct intent *in);
void cmd_confirm(struct turn *t, const struct intent *in);
void cmd_deny(struct turn *t, const struct intent *in);
/* Answers a pending question with this message; false when the message is
 * not an answer to it (and the question is dropped if the message starts
 * something new). */
bool cmd_answer_pending(struct turn *t, const struct intent *in);
/* Finds the intent's title (asking which one when unclear) and goes on
 * with `purpose`. */
void cmd_lookup_title(struct turn *t, const struct intent *in, enum dialogue_purpose purpose);

/* cmd_manage.c */
void cmd_status(struct turn *t, const struct intent *in);
void cmd_list_requests(struct turn *t, const struct intent *in);
void cmd_cancel(struct turn *t, const struct intent *in);
void cmd_approve(struct turn *t, const struct intent *in);
void cmd_decline(struct turn *t, const struct intent *in);
void cmd_recommend(struct turn *t, const struct intent *in);
void cmd_report_issue(struct turn *t, const struct intent *in);
/* Suggests titles like `c`, offered as a numbered list to request from. */
void cmd_recommend_for(struct turn *t, const struct dialogue_choice *c);
/* Files a Seerr issue about `c` with the person's words. */
void cmd_report_for(struct turn *t, const struct dialogue_choice *c, const char *words);
/* Follows `c` for the person: tells them when it is ready. */
void cmd_follow_title(struct turn *t, const struct dialogue_choice *c);
/* "follow X", "tell me when X is ready": true when the words ask that. */
bool handlers_wants_follow(const char *text);
/* Approves every request in the confirmed list (after "approve all"). */
void cmd_approve_ids(struct turn *t, const long *ids, int count);

/* Shared: replies that Seerr is not configured and returns true when so. */
bool handlers_need_seerr(struct turn *t);
/* "film" / "show". */
const char *handlers_kind_word(enum seerr_kind kind);
/* Seerr's answer as a sentence for the person after a failed call. */
void handlers_reply_failure(struct turn *t, const char *doing, const struct service_result *res);
/* The person's Seerr user id (0: act as the API key's owner). */
long handlers_seerr_user(const struct turn *t);
bool handlers_is_admin(const struct turn *t);
/* The words that ask for `c` ("get the film Dune (2021)", with " in 4K"
 * when `want_4k`), which the grammar reads back as the same title; written
 * to out[outlen]. */
void handlers_request_words(const struct dialogue_choice *c, bool want_4k, char *out,
                            size_t outlen);
/* The line under a choice's name on networks with menus ("film · 2021"),
 * then `state` ("already there"; may be NULL); written to out[outlen]. */
void handlers_choice_detail(const struct dialogue_choice *c, const char *state, char *out,
                            size_t outlen);
/* Replies `text` with "Request" and "Request in 4K" buttons for `c`, on
 * networks that show buttons. */
void handlers_reply_offer(struct turn *t, const char *text, const struct dialogue_choice *c);
/* True when `a` and `b` are the same title once case, punctuation and a
 * leading article are set aside ("the bear" = "The Bear"). */
bool handlers_same_title(const char *a, const char *b);

#endif

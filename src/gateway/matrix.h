/*
 * matrix: the Matrix gateway, a plain client-server API client on usher's
 * own loop and async http (no SDK, no end-to-end encryption).
 *
 * It logs in with [matrix] access_token, or with password (the token it
 * gets is kept in the store and reused), follows /sync as one long-poll
 * call re-armed on completion, and keeps next_batch in the store after each
 * batch is handled, so a restart neither replays nor misses messages; the
 * first sync after install only learns where "now" is. Invitations from
 * configured people are accepted, all others declined. Direct chats (m.direct,
 * an is_direct invite, or two members) are always answered; in bigger rooms
 * only messages that mention usher (m.mentions or a pill), reply to one of
 * its messages, or start with its name. Replies are m.notice, or m.text when
 * they ping someone, with an HTML body (org.matrix.custom.html) built from
 * escaped text, m.in_reply_to for threads, m.mentions and a pill for the
 * person, and edits with m.replace. Each outgoing message has one txnId for
 * all its retries: derived from chat_out.key when there is one (so the same
 * message sent again after a restart is the same transaction), else the
 * next number of a counter kept in the store; a send still unsettled when
 * usher stops is kept in the store and made again, as the same transaction,
 * at the next start. 429 waits for retry_after_ms. Typing notifications and
 * read receipts are sent as the bot asks. send_direct writes in the direct
 * chat usher last used with the person (or one m.direct lists), else opens
 * one (createRoom, is_direct) and remembers it. Encrypted rooms are told
 * once that usher cannot read them, then ignored.
 *
 * The gateway's ops table is matrix_gateway_ops (gateway.h); it owns its
 * http client, every call in flight and what it knows of each room.
 */
#ifndef USHER_MATRIX_H
#define USHER_MATRIX_H

#include "gateway/gateway.h"

#endif

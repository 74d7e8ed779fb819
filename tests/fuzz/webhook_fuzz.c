/*
 * webhook_fuzz: hostile webhook bodies through webhook_parse, the part of
 * the webhook receiver that reads what anyone who knows the URL (or a
 * Seerr admin's template) sends. Checks what the parser promises for any
 * body: an error comes with a message; a parsed notice has every string
 * ended inside its array, a known event and status, and at most
 * WEBHOOK_MAX_SEASONS seasons.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENDED(field) (strnlen((field), sizeof(field)) < sizeof(field))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webhook_notice *n = malloc(sizeof(*n));
	char err[256];

	err[0] = '\0';
	if (webhook_parse((const char *)data, size, n, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || !ENDED(err))
			abort();
		free(n);
		return 0;
	}
	if ((unsigned)n->event > WEBHOOK_OTHER || (unsigned)n->status > WEBHOOK_STATUS_DELETED ||
	    (unsigned)n->status_4k > WEBHOOK_STATUS_DELETED || n->nseasons > WEBHOOK_MAX_SEASONS)
		abort();
	if (!ENDED(n->notification_type) || !ENDED(n->event_text) || !ENDED(n->subject) ||
	    !ENDED(n->message) || !ENDED(n->image) || !ENDED(n->requested_by) ||
	    !ENDED(n->requested_by_email) || !ENDED(n->requested_by_discord_id) ||
	    !ENDED(n->requested_by_telegram_chat_id))
		abort();
	if (n->tmdb_id < 0 || n->tvdb_id < 0 || n->request_id < 0 || n->requested_by_id < 0)
		abort();
	if (strcmp(webhook_event_name(n->event), "") == 0)
		abort();
	free(n);
	return 0;
}

/*
 * The downloads tool: what Seerr says is being fetched, with the percent
 * and time left from the Radarr and Sonarr queues when those are
 * configured (one queue call each, whatever the number of requests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"
#include "mcp/mcp_tools_impl.h"
#include "services/radarr.h"
#include "services/sonarr.h"

static void
annotate(struct mcp_tool_call *c, enum seerr_kind kind, const struct arr_queue *q)
{
	size_t i, j;

	for (i = 0; i < c->ndownloads; i++) {
		struct mcp_download *d = &c->downloads[i];

		if (d->req.kind != kind)
			continue;
		for (j = 0; j < q->count; j++) {
			const struct arr_queue_item *it = &q->items[j];

			if (it->tmdb_id != d->req.tmdb_id)
				continue;
			if (!d->queued && it->status)
				snprintf(d->status, sizeof(d->status), "%s", it->status);
			d->queued = true;
			d->size += it->size;
			d->sizeleft += it->sizeleft;
			if (it->timeleft_s > d->timeleft_s)
				d->timeleft_s = it->timeleft_s;
		}
	}
}

static void
finish(struct mcp_tool_call *c)
{
	json_t *list = json_array();
	struct buf b;
	size_t i;

	buf_init(&b, MCP_TOOLS_TEXT_MAX - 1);
	buf_append_str(&b, c->ndownloads ? "Downloading: " : "Nothing is downloading now.");
	for (i = 0; i < c->ndownloads; i++) {
		const struct mcp_download *d = &c->downloads[i];
		json_t *o =
		    json_pack("{s:I,s:s,s:I,s:s}", "requestId", (json_int_t)d->req.id, "type",
		              d->req.kind == SEERR_TV ? "tv" : "movie", "tmdbId",
		              (json_int_t)d->req.tmdb_id, "requestedBy", d->req.requested_by);
		char detail[96] = "being fetched";

		if (d->queued && d->size > 0) {
			int pct = (int)((d->size - d->sizeleft) * 100 / d->size);

			json_object_set_new(o, "percent", json_integer(pct));
			if (d->timeleft_s >= 0) {
				json_object_set_new(o, "timeLeftSeconds",
				                    json_integer(d->timeleft_s));
				snprintf(detail, sizeof(detail), "downloading %d%% ETA %lld min",
				         pct, (d->timeleft_s + 59) / 60);
			} else {
				snprintf(detail, sizeof(detail), "downloading %d%%", pct);
			}
		}
		if (d->status[0])
			json_object_set_new(o, "downloadStatus", json_string(d->status));
		json_object_set_new(o, "state", json_string(detail));
		json_array_append_new(list, o);
		if (i < 10)
			buf_printf(&b, "%srequest %ld (%s TMDB %ld): %s", i ? "; " : "", d->req.id,
			           d->req.kind == SEERR_TV ? "show" : "film", d->req.tmdb_id,
			           detail);
	}
	mcp_tools_finish(c, mcp_tools_result(false,
	                                     json_pack("{s:o,s:I,s:s}", "requests", list, "total",
	                                               (json_int_t)c->total, "scope",
	                                               c->scope_all ? "all" : "mine"),
	                                     "%s", b.data));
	buf_free(&b);
}

/* A queue that cannot be read leaves the requests without a percent. */
static void
sonarr_done(const struct service_result *res, const struct arr_queue *queue, void *arg)
{
	struct mcp_tool_call *c = arg;

	c->arr_call = NULL;
	if (res->error == SERVICE_OK && queue)
		annotate(c, SEERR_TV, queue);
	finish(c);
}

static void
ask_sonarr(struct mcp_tool_call *c)
{
	if (c->env.sonarr == NULL) {
		finish(c);
		return;
	}
	c->arr_call = sonarr_queue(c->env.sonarr, sonarr_done, c);
}

static void
radarr_done(const struct service_result *res, const struct arr_queue *queue, void *arg)
{
	struct mcp_tool_call *c = arg;

	c->arr_call = NULL;
	if (res->error == SERVICE_OK && queue)
		annotate(c, SEERR_MOVIE, queue);
	ask_sonarr(c);
}

void
mcp_tools_downloads_done(void *arg, const struct service_result *res,
                         const struct seerr_request *items, size_t count, long total)
{
	struct mcp_tool_call *c = arg;
	size_t i;

	c->call = NULL;
	if (res->error != SERVICE_OK) {
		mcp_tools_finish(c, mcp_tools_refused("service", res->message[0]
		                                                     ? res->message
		                                                     : "Overseerr failed"));
		return;
	}
	c->total = total;
	c->ndownloads = count;
	c->downloads = count ? xcalloc(count, sizeof(*c->downloads)) : NULL;
	for (i = 0; i < count; i++) {
		c->downloads[i].req = items[i];
		c->downloads[i].timeleft_s = -1;
	}
	if (count == 0 || c->env.radarr == NULL) {
		if (count == 0)
			finish(c);
		else
			ask_sonarr(c);
		return;
	}
	c->arr_call = radarr_queue(c->env.radarr, radarr_done, c);
}

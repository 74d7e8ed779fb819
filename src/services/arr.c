#include "services/arr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/util.h"

/* Bodies past this are refused: a queue page of 100 records with the movie
 * included is about 200 KB. */
#define ARR_MAX_BODY (8u * 1024 * 1024)

struct arr {
	struct http *http;
	char *name;
	char *section;
	char *api_base; /* url + api prefix, e.g. http://radarr:7878/api/v3 */
	struct service_conf conf;
	char *key_header; /* "X-Api-Key: ..." */
	struct arr_call *calls;
	/* The last whole queue, and the hash of its one page's body: an
	 * answer with the same bytes is not parsed again (Radarr and Sonarr
	 * refresh their queue about once a minute; usher asks more often). */
	struct arr_queue last_queue;
	uint64_t last_hash; /* 0: no reusable queue */
};

struct arr_call {
	struct arr *arr;
	struct arr_call *prev, *next;
	struct http_call *http;
	arr_step_fn *step;
	void *state;
	void (*state_free)(void *);
	bool stepping;  /* inside step: arr_cancel() is ignored */
	bool memo;      /* a queue's first page: may be the same as last time */
	bool unchanged; /* it was: the step got no body */
	uint64_t hash;  /* of the answer's body, when memo */
};

long long
arr_json_int(const json_t *obj, const char *key, long long dflt)
{
	long long n;

	return service_json_integer(json_object_get(obj, key), &n) ? n : dflt;
}

bool
arr_json_bool(const json_t *obj, const char *key, bool dflt)
{
	json_t *v = json_object_get(obj, key);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

const char *
arr_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

long long
arr_parse_timespan(const char *s)
{
	long long days = 0, h, m, sec;
	int n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	/* "d.hh:mm:ss" or "hh:mm:ss", either with an optional ".fraction". */
	if (sscanf(s, "%lld.%lld:%lld:%lld%n", &days, &h, &m, &sec, &n) == 4 && n > 0) {
		/* parsed with days */
	} else if (sscanf(s, "%lld:%lld:%lld%n", &h, &m, &sec, &n) == 3 && n > 0) {
		days = 0;
	} else {
		return -1;
	}
	if (s[n] != '\0' && s[n] != '.')
		return -1;
	if (days < 0 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -1;
	return ((days * 24 + h) * 60 + m) * 60 + sec;
}

time_t
arr_parse_date(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, n = 0;
	const char *p;
	time_t t;

	if (s == NULL ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return 0;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	if (*p == 'Z' || *p == '\0')
		return t;
	if ((*p == '+' || *p == '-') && p[1] && p[2] && p[3] == ':') {
		int oh = 0, om = 0;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
			return *p == '+' ? t - (oh * 3600 + om * 60) : t + (oh * 3600 + om * 60);
	}
	return 0;
}

static const struct {
	const char *name;
	enum arr_tracked_state state;
} tracked_states[] = {
    {"downloading", ARR_TRACKED_DOWNLOADING},
    {"importBlocked", ARR_TRACKED_IMPORT_BLOCKED},
    {"importPending", ARR_TRACKED_IMPORT_PENDING},
    {"importing", ARR_TRACKED_IMPORTING},
    {"imported", ARR_TRACKED_IMPORTED},
    {"failedPending", ARR_TRACKED_FAILED_PENDING},
    {"failed", ARR_TRACKED_FAILED},
    {"ignored", ARR_TRACKED_IGNORED},
};

const char *
arr_tracked_state_name(enum arr_tracked_state state)
{
	for (size_t i = 0; i < sizeof(tracked_states) / sizeof(tracked_states[0]); i++)
		if (tracked_states[i].state == state)
			return tracked_states[i].name;
	return "unknown";
}

static enum arr_tracked_state
tracked_state_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(tracked_states) / sizeof(tracked_states[0]); i++)
		if (strcasecmp(tracked_states[i].name, s) == 0)
			return tracked_states[i].state;
	return ARR_TRACKED_UNKNOWN;
}

static enum arr_tracked_status
tracked_status_parse(const char *s)
{
	if (strcasecmp(s, "ok") == 0)
		return ARR_STATUS_OK;
	if (strcasecmp(s, "warning") == 0)
		return ARR_STATUS_WARNING;
	if (strcasecmp(s, "error") == 0)
		return ARR_STATUS_ERROR;
	return ARR_STATUS_UNKNOWN;
}

static enum arr_protocol
protocol_parse(const char *s)
{
	if (strcasecmp(s, "torrent") == 0)
		return ARR_PROTOCOL_TORRENT;
	if (strcasecmp(s, "usenet") == 0)
		return ARR_PROTOCOL_USENET;
	return ARR_PROTOCOL_UNKNOWN;
}

/* statusMessages: [{title, messages: [...]}] joined as "m1; m2"; an entry
 * without messages contributes its title. Bounded: a release with
 * hundreds of rejected files must not make a progress line of pages. */
static char *
join_status_messages(const json_t *arr)
{
	struct buf b;
	size_t i, j;
	json_t *e, *m;

	buf_init(&b, 1024);
	json_array_foreach(arr, i, e)
	{
		json_t *msgs = json_object_get(e, "messages");
		size_t before = b.len;

		json_array_foreach(msgs, j, m)
		{
			if (!json_is_string(m) || json_string_length(m) == 0)
				continue;
			if (b.len > 0 && buf_append_str(&b, "; ") < 0)
				goto full;
			if (buf_append_str(&b, json_string_value(m)) < 0)
				goto full;
		}
		if (b.len == before && arr_json_str(e, "title")[0] != '\0') {
			if (b.len > 0 && buf_append_str(&b, "; ") < 0)
				goto full;
			if (buf_append_str(&b, arr_json_str(e, "title")) < 0)
				goto full;
		}
	}
full:
	return buf_steal(&b);
}

static void
item_parse(struct arr_queue_item *it, const json_t *r, enum arr_media media)
{
	const json_t *media_obj = json_object_get(r, media == ARR_MEDIA_MOVIE ? "movie" : "series");
	const json_t *ep = json_object_get(r, "episode");
	const char *mtitle = arr_json_str(media_obj, "title");
	long long year = arr_json_int(media_obj, "year", 0);

	it->id = (long)arr_json_int(r, "id", -1);
	it->media_id = (long)arr_json_int(r, media == ARR_MEDIA_MOVIE ? "movieId" : "seriesId", -1);
	if (it->media_id < 0)
		it->media_id = (long)arr_json_int(media_obj, "id", -1);
	it->tmdb_id = (long)arr_json_int(media_obj, "tmdbId", 0);
	it->tvdb_id = (long)arr_json_int(media_obj, "tvdbId", 0);
	it->episode_id = (long)arr_json_int(r, "episodeId", 0);
	it->season_number =
	    (int)arr_json_int(r, "seasonNumber", arr_json_int(ep, "seasonNumber", -1));
	it->episode_number = (int)arr_json_int(ep, "episodeNumber", -1);
	it->release_title = xstrdup(arr_json_str(r, "title"));
	if (mtitle[0] != '\0' && year > 0)
		it->title = xasprintf("%s (%lld)", mtitle, year);
	else if (mtitle[0] != '\0')
		it->title = xstrdup(mtitle);
	else
		it->title = xstrdup(it->release_title);
	it->episode_title = xstrdup(arr_json_str(ep, "title"));
	it->size = arr_json_int(r, "size", 0);
	it->sizeleft = arr_json_int(r, "sizeleft", it->size);
	if (it->size < 0)
		it->size = 0;
	if (it->sizeleft < 0 || it->sizeleft > it->size)
		it->sizeleft = it->size;
	it->percent =
	    it->size > 0 ? 100.0 * (double)(it->size - it->sizeleft) / (double)it->size : 0.0;
	it->status = xstrdup(arr_json_str(r, "status"));
	it->tracked_status = tracked_status_parse(arr_json_str(r, "trackedDownloadStatus"));
	it->tracked_state_name = xstrdup(arr_json_str(r, "trackedDownloadState"));
	it->tracked_state = tracked_state_parse(it->tracked_state_name);
	it->status_messages = join_status_messages(json_object_get(r, "statusMessages"));
	it->error_message = xstrdup(arr_json_str(r, "errorMessage"));
	it->timeleft_s = arr_parse_timespan(json_string_value(json_object_get(r, "timeleft")));
	it->estimated_completion =
	    arr_parse_date(json_string_value(json_object_get(r, "estimatedCompletionTime")));
	it->download_id = xstrdup(arr_json_str(r, "downloadId"));
	it->protocol = protocol_parse(arr_json_str(r, "protocol"));
	it->download_client = xstrdup(arr_json_str(r, "downloadClient"));
	it->indexer = xstrdup(arr_json_str(r, "indexer"));
}

static void
item_free(struct arr_queue_item *it)
{
	free(it->title);
	free(it->release_title);
	free(it->episode_title);
	free(it->status);
	free(it->tracked_state_name);
	free(it->status_messages);
	free(it->error_message);
	free(it->download_id);
	free(it->download_client);
	free(it->indexer);
}

void
arr_queue_free(struct arr_queue *q)
{
	for (size_t i = 0; i < q->count; i++)
		item_free(&q->items[i]);
	free(q->items);
	memset(q, 0, sizeof(*q));
}

const struct arr_queue_item *
arr_queue_find(const struct arr_queue *q, const char *download_id)
{
	if (download_id == NULL || *download_id == '\0')
		return NULL;
	for (size_t i = 0; i < q->count; i++)
		if (strcasecmp(q->items[i].download_id, download_id) == 0)
			return &q->items[i];
	return NULL;
}

bool
arr_queue_parse_page(struct arr_queue *q, const json_t *page, enum arr_media media)
{
	const json_t *records = json_object_get(page, "records");
	size_t i, n;
	json_t *r;

	if (!json_is_object(page) || !json_is_array(records))
		return false;
	n = json_array_size(records);
	q->items = xrealloc(q->items, (q->count + n) * sizeof(*q->items));
	json_array_foreach(records, i, r)
	{
		if (!json_is_object(r))
			continue;
		memset(&q->items[q->count], 0, sizeof(q->items[0]));
		item_parse(&q->items[q->count++], r, media);
	}
	q->total_records = (size_t)arr_json_int(page, "totalRecords", (long long)q->count);
	return true;
}

struct arr *
arr_new(struct http *http, const struct config *cfg, const char *section, const char *name,
        const char *api_prefix)
{
	struct arr *a = xcalloc(1, sizeof(*a));

	if (!service_conf_load(&a->conf, cfg, section)) {
		free(a);
		return NULL;
	}
	a->http = http;
	a->name = xstrdup(name);
	a->section = xstrdup(section);
	{
		size_t blen = strlen(a->conf.url);
		while (blen > 0 && a->conf.url[blen - 1] == '/')
			blen--;
		a->api_base = xasprintf("%.*s%s", (int)blen, a->conf.url, api_prefix);
	}
	a->key_header = xasprintf("X-Api-Key: %s", a->conf.api_key ? a->conf.api_key : "");
	return a;
}

static void
call_free(struct arr_call *c)
{
	struct arr *a = c->arr;

	if (c->prev)
		c->prev->next = c->next;
	else
		a->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->state_free)
		c->state_free(c->state);
	free(c);
}

void
arr_cancel(struct arr_call *c)
{
	if (c == NULL || c->stepping)
		return;
	http_cancel(c->http);
	call_free(c);
}

void
arr_free(struct arr *a)
{
	if (a == NULL)
		return;
	while (a->calls != NULL) {
		a->calls->stepping = false;
		arr_cancel(a->calls);
	}
	arr_queue_free(&a->last_queue);
	service_conf_free(&a->conf);
	free(a->name);
	free(a->section);
	free(a->api_base);
	free(a->key_header);
	free(a);
}

const char *
arr_name(const struct arr *a)
{
	return a->name;
}

const char *
arr_url(const struct arr *a)
{
	return a->conf.url;
}

struct arr_call *
arr_call_new(struct arr *a, arr_step_fn *step, void *state, void (*state_free)(void *))
{
	struct arr_call *c = xcalloc(1, sizeof(*c));

	c->arr = a;
	c->step = step;
	c->state = state;
	c->state_free = state_free;
	c->next = a->calls;
	if (a->calls)
		a->calls->prev = c;
	a->calls = c;
	return c;
}

void *
arr_call_state(struct arr_call *c)
{
	return c->state;
}

struct arr *
arr_call_arr(struct arr_call *c)
{
	return c->arr;
}

/* FNV-1a: a few instructions a byte, against a few hundred for parsing. */
static uint64_t
body_hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static void
arr_on_http(const struct http_response *resp, void *arg)
{
	struct arr_call *c = arg;
	struct arr *a = c->arr;
	struct service_result res;
	json_t *body = NULL;
	bool more;

	c->http = NULL;
	if (c->memo && resp->result == HTTP_OK && resp->status == 200)
		c->hash = body_hash(resp->body, resp->body_len);
	if (c->memo && c->hash != 0 && c->hash == a->last_hash) {
		c->unchanged = true;
		service_result_ok(&res);
	} else {
		body = service_json_body(&res, a->name, resp);
	}
	if (res.error == SERVICE_AUTH)
		service_result_set(&res, SERVICE_AUTH, res.http_status,
		                   "%s rejected the API key (%ld); check api_key in [%s]", a->name,
		                   res.http_status, a->section);
	c->stepping = true;
	more = c->step(c, &res, body);
	c->stepping = false;
	json_decref(body);
	if (!more)
		call_free(c);
}

void
arr_next(struct arr_call *c, const char *path_fmt, ...)
{
	struct arr *a = c->arr;
	const char *headers[] = {a->key_header, NULL};
	struct http_opts o = {0};
	char *url;
	va_list ap;

	va_start(ap, path_fmt);
	url = service_vurl(a->api_base, path_fmt, ap);
	va_end(ap);
	service_conf_apply(&a->conf, &o);
	o.max_body = ARR_MAX_BODY;
	c->http = http_start_json(a->http, "GET", url, headers, NULL, &o, arr_on_http, c);
	free(url);
}

struct queue_state {
	struct arr_queue_pages pages;
	arr_queue_cb *done;
	void *arg;
};

static void
queue_state_free(void *p)
{
	struct queue_state *s = p;

	arr_queue_free(&s->pages.queue);
	free(s);
}

void
arr_queue_pages_next(struct arr_call *c, struct arr_queue_pages *qp)
{
	c->memo = qp->page == 1;
	c->hash = 0;
	if (qp->bare)
		arr_next(c, "/queue?page=%d&pageSize=%d", qp->page, ARR_QUEUE_BARE_PAGE_SIZE);
	else if (qp->media == ARR_MEDIA_MOVIE)
		arr_next(c, "/queue?page=%d&pageSize=%d&includeMovie=true", qp->page,
		         ARR_QUEUE_PAGE_SIZE);
	else
		arr_next(c, "/queue?page=%d&pageSize=%d&includeSeries=true&includeEpisode=true",
		         qp->page, ARR_QUEUE_PAGE_SIZE);
}

int
arr_queue_pages_take(struct arr_call *c, struct arr_queue_pages *qp,
                     const struct service_result *res, json_t *body, struct service_result *out)
{
	size_t before = qp->queue.count;

	*out = *res;
	if (res->error != SERVICE_OK)
		return -1;
	if (c->unchanged) {
		qp->same = true;
		return 0;
	}
	if (!arr_queue_parse_page(&qp->queue, body, qp->media)) {
		service_result_set(out, SERVICE_BAD_RESPONSE, res->http_status,
		                   "%s sent a queue usher can't read (no records)",
		                   arr_name(arr_call_arr(c)));
		return -1;
	}
	if (qp->queue.count < qp->queue.total_records && qp->queue.count > before) {
		if (qp->page < ARR_QUEUE_MAX_PAGES) {
			qp->page++;
			arr_queue_pages_next(c, qp);
			return 1;
		}
		qp->queue.truncated = true;
	}
	return 0;
}

struct arr_queue *
arr_queue_pages_done(struct arr_call *c, struct arr_queue_pages *qp)
{
	struct arr *a = c->arr;

	if (qp->same)
		return &a->last_queue;
	arr_queue_free(&a->last_queue);
	a->last_queue = qp->queue;
	memset(&qp->queue, 0, sizeof(qp->queue));
	/* Only a queue that came in one page can be known by its page. */
	a->last_hash = qp->page == 1 && !a->last_queue.truncated ? c->hash : 0;
	return &a->last_queue;
}

static bool
queue_step(struct arr_call *c, const struct service_result *res, json_t *body)
{
	struct queue_state *s = arr_call_state(c);
	struct service_result r;
	int rc = arr_queue_pages_take(c, &s->pages, res, body, &r);

	if (rc == 1)
		return true;
	s->done(&r, rc == 0 ? arr_queue_pages_done(c, &s->pages) : NULL, s->arg);
	return false;
}

struct arr_call *
arr_queue_fetch(struct arr *a, enum arr_media media, arr_queue_cb *done, void *arg)
{
	struct queue_state *s = xcalloc(1, sizeof(*s));
	struct arr_call *c;

	s->pages.media = media;
	s->pages.page = 1;
	s->done = done;
	s->arg = arg;
	c = arr_call_new(a, queue_step, s, queue_state_free);
	arr_queue_pages_next(c, &s->pages);
	return c;
}

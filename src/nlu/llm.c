#include "nlu/llm.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "nlu/intent.h"
#include "nlu/llm_validate.h"
#include "nlu/normalize.h"

#define PROMPT_FILE     "intent.md"
#define SCHEMA_FILE     "intent.schema.json"
#define PROMPT_MAX      (64 * 1024)
#define ANSWER_MAX      (1024 * 1024) /* HTTP body; the JSON answer itself is far smaller */
#define HOUR_MS         (3600ULL * 1000)
#define RETRY_5XX_MS    500
#define RETRY_429_MS    1000
#define RETRY_AFTER_MAX 60 /* seconds; a longer wait is not worth a chat reply's time */
#define BUDGETS_MAX     1024
#define WHY_MAX         320

struct cache_entry {
	char *key;
	struct intent in;
	struct cache_entry *prev, *next; /* most recently used first */
};

/* One person's LLM calls in the last hour, oldest first. */
struct budget {
	char *person;
	uint64_t *times;
	size_t n, cap;
	struct budget *next;
};

struct llm_call {
	struct llm *llm;
	struct llm_call *prev, *next;
	struct http_call *hc;
	loop_timer_id timer; /* the retry, or the delivery of a result known at once */
	llm_done_cb *cb;
	void *arg;
	char *person;
	char *key;  /* cache key */
	char *body; /* the request, kept for the retry */
	uint64_t started, deadline;
	int attempts;
	/* A result waiting for `timer` to deliver it. */
	enum llm_outcome outcome;
	struct intent in;
	char why[WHY_MAX];
};

struct llm {
	struct loop *loop;
	struct http *http;
	enum llm_api api;
	char *endpoint;
	char *model;
	char *auth; /* "Authorization: Bearer ..." or NULL */
	long timeout_ms;
	long max_per_hour;
	size_t cache_max;
	char *prompts_dir;
	char *system; /* intent.md */
	json_t *schema;
	struct cache_entry *cache;
	size_t cache_n;
	struct budget *budgets;
	size_t budgets_n;
	struct llm_call *calls;
	size_t calls_n;
};

bool
llm_configured(const struct config *cfg)
{
	return config_has_section(cfg, "llm") && config_get_bool(cfg, "llm", "enabled");
}

/* Prompts ---------------------------------------------------------------- */

static int
prompts_load(const char *dir, char **system, json_t **schema, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", dir, PROMPT_FILE), *text;
	json_error_t jerr;
	json_t *probe;
	size_t len;

	if ((text = file_read_all(path, PROMPT_MAX, &len)) == NULL) {
		snprintf(err, errlen, "%s: %s", path,
		         errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
		free(path);
		return -1;
	}
	/* It goes into a JSON string, which must be UTF-8. */
	probe = json_stringn(text, len);
	if (probe == NULL || len == 0 || str_trim(text)[0] == '\0') {
		snprintf(err, errlen, "%s: %s", path,
		         probe == NULL ? "not valid UTF-8 text" : "empty");
		json_decref(probe);
		free(text);
		free(path);
		return -1;
	}
	json_decref(probe);
	free(path);
	path = xasprintf("%s/%s", dir, SCHEMA_FILE);
	*schema = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (*schema == NULL || !json_is_object(*schema) ||
	    !json_is_object(json_object_get(*schema, "properties"))) {
		if (*schema == NULL)
			snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		else
			snprintf(err, errlen, "%s: not a JSON schema object with \"properties\"",
			         path);
		json_decref(*schema);
		*schema = NULL;
		free(text);
		free(path);
		return -1;
	}
	free(path);
	*system = text;
	return 0;
}

int
llm_reload(struct llm *llm, char *err, size_t errlen)
{
	char *system;
	json_t *schema;

	if (prompts_load(llm->prompts_dir, &system, &schema, err, errlen) != 0)
		return -1;
	free(llm->system);
	json_decref(llm->schema);
	llm->system = system;
	llm->schema = schema;
	while (llm->cache != NULL) {
		struct cache_entry *e = llm->cache;
		llm->cache = e->next;
		free(e->key);
		free(e);
	}
	llm->cache_n = 0;
	return 0;
}

/* Cache ------------------------------------------------------------------ */

static struct cache_entry *
cache_find(struct llm *llm, const char *key)
{
	struct cache_entry *e;

	for (e = llm->cache; e != NULL; e = e->next) {
		if (strcmp(e->key, key) != 0)
			continue;
		if (e != llm->cache) {
			e->prev->next = e->next;
			if (e->next)
				e->next->prev = e->prev;
			e->prev = NULL;
			e->next = llm->cache;
			llm->cache->prev = e;
			llm->cache = e;
		}
		return e;
	}
	return NULL;
}

static void
cache_put(struct llm *llm, const char *key, const struct intent *in)
{
	struct cache_entry *e;

	if (llm->cache_max == 0)
		return;
	if ((e = cache_find(llm, key)) != NULL) {
		e->in = *in;
		return;
	}
	if (llm->cache_n >= llm->cache_max) {
		for (e = llm->cache; e->next != NULL; e = e->next)
			;
		if (e->prev)
			e->prev->next = NULL;
		else
			llm->cache = NULL;
		free(e->key);
		free(e);
		llm->cache_n--;
	}
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->in = *in;
	e->next = llm->cache;
	if (llm->cache)
		llm->cache->prev = e;
	llm->cache = e;
	llm->cache_n++;
}

/* Valid UTF-8 copy of at most `max` bytes, cut at a character boundary. */
static char *
clean_text(const char *s, size_t max)
{
	size_t len = strlen(s);
	size_t size = (len < max / 3 ? len * 3 : max) + 1;
	char *out = xmalloc(size);

	normalize_utf8_copy(out, size, s, len);
	return out;
}

/* The normalised text and the context, as typed: "Get Dune!" and "get
 * dune" are the same question, but only in the same conversation. */
static char *
cache_key(const char *text, const char *const *context, size_t n)
{
	struct normalized *norm = xmalloc(sizeof(*norm));
	struct buf b;
	char *turn;

	buf_init(&b, 0);
	if (normalize_text(text, strlen(text), norm) == 0) {
		/* Words only: "cubs!" and "cubs" ask the same. */
		for (size_t i = 0; i < norm->len; i++) {
			unsigned char ch = (unsigned char)norm->text[i];
			if (ch >= 0x80 || isalnum(ch))
				buf_append(&b, &norm->text[i], 1);
			else if (b.len > 0 && b.data[b.len - 1] != ' ')
				buf_append(&b, " ", 1);
		}
		if (b.len > 0 && b.data[b.len - 1] == ' ')
			b.data[--b.len] = '\0';
	} else {
		buf_append_str(&b, text);
	}
	for (size_t i = 0; i < n; i++) {
		turn = clean_text(context[i], LLM_TURN_MAX);
		buf_printf(&b, "\x1e%s", turn);
		free(turn);
	}
	free(norm);
	return buf_steal(&b);
}

/* Budgets ---------------------------------------------------------------- */

static void
budget_expire(struct budget *b, uint64_t now)
{
	size_t k = 0;

	while (k < b->n && b->times[k] + HOUR_MS <= now)
		k++;
	if (k == 0)
		return; /* also: no times yet, and no array to move */
	memmove(b->times, b->times + k, (b->n - k) * sizeof(b->times[0]));
	b->n -= k;
}

/* Forgets the people with nothing in the last hour once there are many,
 * so a stream of strangers cannot grow the table. */
static void
budgets_prune(struct llm *llm, uint64_t now)
{
	struct budget **pp = &llm->budgets, *b;

	while ((b = *pp) != NULL) {
		budget_expire(b, now);
		if (b->n == 0) {
			*pp = b->next;
			free(b->person);
			free(b->times);
			free(b);
			llm->budgets_n--;
		} else {
			pp = &b->next;
		}
	}
}

/* Spends one call of `person`'s hour. Returns 0, or -1 when none is left. */
static int
budget_spend(struct llm *llm, const char *person, uint64_t now)
{
	struct budget *b;

	for (b = llm->budgets; b != NULL; b = b->next) {
		if (strcmp(b->person, person) == 0)
			break;
	}
	if (b == NULL) {
		if (llm->budgets_n >= BUDGETS_MAX)
			budgets_prune(llm, now);
		b = xcalloc(1, sizeof(*b));
		b->person = xstrdup(person);
		b->next = llm->budgets;
		llm->budgets = b;
		llm->budgets_n++;
	}
	budget_expire(b, now);
	if (b->n >= (size_t)llm->max_per_hour)
		return -1;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->times = xrealloc(b->times, b->cap * sizeof(b->times[0]));
	}
	b->times[b->n++] = now;
	return 0;
}

/* Calls ------------------------------------------------------------------ */

static void
call_unlink(struct llm_call *c)
{
	struct llm *llm = c->llm;

	if (c->prev)
		c->prev->next = c->next;
	else
		llm->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	llm->calls_n--;
}

static void
call_free(struct llm_call *c)
{
	free(c->person);
	free(c->key);
	free(c->body);
	free(c);
}

/* Reports and frees `c`. The callback may free the llm, so nothing after
 * it touches c->llm. */
static void
call_finish(struct llm_call *c, enum llm_outcome outcome, const struct intent *in, const char *why)
{
	struct llm *llm = c->llm;
	unsigned long long ms = loop_now_ms(llm->loop) - c->started;

	switch (outcome) {
	case LLM_OK:
		log_info("llm: %s understood as %s %s (%llu ms)", c->person,
		         intent_kind_name(in->kind), intent_media_name(in->media), ms);
		break;
	case LLM_REFUSED_RATE:
		log_info("llm: %s: %s", c->person, why);
		break;
	case LLM_UNAVAILABLE:
		log_warnx("llm: unavailable for %s after %llu ms: %s", c->person, ms, why);
		break;
	case LLM_INVALID:
		log_info("llm: answer for %s refused: %s", c->person, why);
		break;
	}
	call_unlink(c);
	c->cb(c->arg, outcome, outcome == LLM_OK ? in : NULL, outcome == LLM_OK ? NULL : why);
	call_free(c);
}

static void
on_deliver(struct loop *loop, loop_timer_id id, void *arg)
{
	struct llm_call *c = arg;

	(void)loop;
	(void)id;
	c->timer = 0;
	call_finish(c, c->outcome, &c->in, c->why);
}

static void finish_later(struct llm_call *c, enum llm_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports on the next loop iteration: the caller of llm_understand()
 * must get its handle before any callback runs. */
static void
finish_later(struct llm_call *c, enum llm_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	c->outcome = outcome;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	c->timer = loop_add_timer(c->llm->loop, 0, on_deliver, c);
	if (c->timer == 0)
		fatalx("llm: out of memory");
}

static void send_request(struct llm_call *c);

static void
on_retry(struct loop *loop, loop_timer_id id, void *arg)
{
	struct llm_call *c = arg;

	(void)loop;
	(void)id;
	c->timer = 0;
	send_request(c);
}

/* The error message an HTTP error body carries, quoted, or "". */
static void
error_message(const struct http_response *resp, char *out, size_t outlen)
{
	json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t *e = json_object_get(root, "error");
	const char *msg = json_is_string(e) ? json_string_value(e)
	                                    : json_string_value(json_object_get(e, "message"));
	char q[80];

	out[0] = '\0';
	if (msg == NULL)
		msg = json_string_value(json_object_get(root, "message"));
	if (msg != NULL && *msg) {
		llm_validate_quote(q, sizeof(q), msg, strlen(msg), 60);
		snprintf(out, outlen, ": %s", q);
	}
	json_decref(root);
}

/* How long to wait before the one retry, or -1 for none: Retry-After in
 * seconds when the server sent one, and only within the call's time. */
static long
retry_delay(const struct llm_call *c, const struct http_response *resp, uint64_t now)
{
	const char *ra = http_response_header(resp, "Retry-After");
	long ms = resp->status == 429 ? RETRY_429_MS : RETRY_5XX_MS;
	char *end;

	if (c->attempts >= 2)
		return -1;
	if (ra != NULL) {
		long s = strtol(ra, &end, 10);
		if (end != ra && *end == '\0' && s >= 0) {
			if (s > RETRY_AFTER_MAX)
				return -1;
			ms = s * 1000;
		}
	}
	/* Leave the retry some time to be answered in. */
	if (now + (uint64_t)ms + 200 >= c->deadline)
		return -1;
	return ms;
}

static void
on_answer(const struct http_response *resp, void *arg)
{
	struct llm_call *c = arg;
	struct llm *llm = c->llm;
	uint64_t now = loop_now_ms(llm->loop);
	char why[WHY_MAX], msg[100];
	char *content;
	struct intent in;
	long delay;

	c->hc = NULL;
	if (resp->result == HTTP_ERR_TOO_LARGE) {
		call_finish(c, LLM_INVALID, NULL, "the answer was larger than 1 MiB");
		return;
	}
	if (resp->result == HTTP_ERR_TIMEOUT) {
		snprintf(why, sizeof(why), "no answer within %ld ms", llm->timeout_ms);
		call_finish(c, LLM_UNAVAILABLE, NULL, why);
		return;
	}
	if (resp->result != HTTP_OK) {
		snprintf(why, sizeof(why), "cannot reach the LLM server: %s",
		         resp->error ? resp->error : "no answer");
		call_finish(c, LLM_UNAVAILABLE, NULL, why);
		return;
	}
	if (resp->status >= 200 && resp->status < 300) {
		if (llm_validate_envelope(llm->api, resp->body, resp->body_len, &content, why,
		                          sizeof(why)) != 0) {
			call_finish(c, LLM_INVALID, NULL, why);
			return;
		}
		if (llm_validate_json(content, strlen(content), &in, why, sizeof(why)) != 0) {
			free(content);
			call_finish(c, LLM_INVALID, NULL, why);
			return;
		}
		free(content);
		log_debug("llm: answer for %s: %s %s title of %zu bytes", c->person,
		          intent_kind_name(in.kind), intent_media_name(in.media), strlen(in.title));
		cache_put(llm, c->key, &in);
		call_finish(c, LLM_OK, &in, NULL);
		return;
	}
	error_message(resp, msg, sizeof(msg));
	if (resp->status == 429 || resp->status >= 500) {
		if ((delay = retry_delay(c, resp, now)) >= 0) {
			log_info("llm: HTTP %ld, trying once more in %ld ms", resp->status, delay);
			c->timer = loop_add_timer(llm->loop, (uint64_t)delay, on_retry, c);
			if (c->timer == 0)
				fatalx("llm: out of memory");
			return;
		}
		if (resp->status == 429)
			snprintf(why, sizeof(why),
			         "the LLM server is limiting usher's rate (HTTP 429)%s", msg);
		else
			snprintf(why, sizeof(why), "the LLM server failed (HTTP %ld)%s",
			         resp->status, msg);
	} else if (resp->status == 401 || resp->status == 403) {
		snprintf(why, sizeof(why),
		         "the LLM server refused usher's API key (HTTP %ld); check [llm] api_key%s",
		         resp->status, msg);
	} else if (resp->status == 404) {
		snprintf(why, sizeof(why),
		         "the LLM server has no such endpoint or model (HTTP 404); check [llm] url "
		         "and model%s",
		         msg);
	} else {
		snprintf(why, sizeof(why), "the LLM server answered HTTP %ld%s", resp->status, msg);
	}
	call_finish(c, LLM_UNAVAILABLE, NULL, why);
}

static void
send_request(struct llm_call *c)
{
	struct llm *llm = c->llm;
	const char *headers[4] = {"Content-Type: application/json", "Accept: application/json",
	                          llm->auth, NULL};
	struct http_opts opts = {0};
	uint64_t now = loop_now_ms(llm->loop);

	opts.method = "POST";
	opts.url = llm->endpoint;
	opts.headers = headers;
	opts.body = c->body;
	opts.body_len = strlen(c->body);
	opts.timeout_ms = c->deadline > now + 1 ? (long)(c->deadline - now) : 1;
	opts.max_body = ANSWER_MAX;
	c->attempts++;
	c->hc = http_start(llm->http, &opts, on_answer, c);
}

static json_t *
message(const char *role, const char *text, size_t max)
{
	char *clean = clean_text(text, max);
	json_t *m = json_pack("{s:s, s:s}", "role", role, "content", clean);

	free(clean);
	return m;
}

/* The request body: the model, the prompt, the context and the text. */
static char *
request_body(const struct llm *llm, const char *text, const char *const *context, size_t n)
{
	json_t *msgs = json_array(), *body;
	size_t first = n > LLM_CONTEXT_MAX ? n - LLM_CONTEXT_MAX : 0;
	char *out;

	json_array_append_new(msgs, message("system", llm->system, PROMPT_MAX));
	for (size_t i = first; i < n; i++) {
		const char *t = context[i];
		if (str_starts_with(t, "usher: "))
			json_array_append_new(msgs, message("assistant", t + 7, LLM_TURN_MAX));
		else
			json_array_append_new(
			    msgs, message("user", str_starts_with(t, "person: ") ? t + 8 : t,
			                  LLM_TURN_MAX));
	}
	json_array_append_new(msgs, message("user", text, LLM_TEXT_MAX));
	if (llm->api == LLM_API_OLLAMA)
		body = json_pack("{s:s, s:o, s:b, s:O, s:{s:i}}", "model", llm->model, "messages",
		                 msgs, "stream", 0, "format", llm->schema, "options", "temperature",
		                 0);
	else
		body = json_pack("{s:s, s:o, s:i, s:{s:s, s:{s:s, s:b, s:O}}}", "model", llm->model,
		                 "messages", msgs, "temperature", 0, "response_format", "type",
		                 "json_schema", "json_schema", "name", "intent", "strict", 1,
		                 "schema", llm->schema);
	if (body == NULL)
		fatalx("llm: cannot build the request");
	out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (out == NULL)
		fatalx("llm: out of memory");
	return out;
}

struct llm_call *
llm_understand(struct llm *llm, const char *person, const char *text, const char *const *context,
               size_t context_len, llm_done_cb *cb, void *arg)
{
	struct llm_call *c = xcalloc(1, sizeof(*c));
	struct cache_entry *hit;
	size_t len = strlen(text);
	char q[64];

	c->llm = llm;
	c->cb = cb;
	c->arg = arg;
	c->person = xstrdup(person);
	c->started = loop_now_ms(llm->loop);
	c->deadline = c->started + (uint64_t)llm->timeout_ms;
	c->next = llm->calls;
	if (llm->calls)
		llm->calls->prev = c;
	llm->calls = c;
	llm->calls_n++;
	if (context == NULL)
		context_len = 0;
	if (context_len > LLM_CONTEXT_MAX) {
		context += context_len - LLM_CONTEXT_MAX;
		context_len = LLM_CONTEXT_MAX;
	}

	if (len > LLM_TEXT_MAX) {
		finish_later(c, LLM_INVALID,
		             "the message is too long for the LLM (%zu bytes; at most %d)", len,
		             LLM_TEXT_MAX);
		return c;
	}
	llm_validate_quote(q, sizeof(q), text, len, 40);
	log_debug("llm: %s asks \"%s\" (%zu bytes, %zu earlier turns)", person, q, len,
	          context_len);
	c->key = cache_key(text, context, context_len);
	if ((hit = cache_find(llm, c->key)) != NULL) {
		c->in = hit->in;
		log_debug("llm: answered from the cache");
		finish_later(c, LLM_OK, NULL);
		return c;
	}
	if (budget_spend(llm, person, c->started) != 0) {
		finish_later(c, LLM_REFUSED_RATE, "over the budget of %ld LLM calls an hour",
		             llm->max_per_hour);
		return c;
	}
	c->body = request_body(llm, text, context, context_len);
	send_request(c);
	return c;
}

void
llm_cancel(struct llm_call *c)
{
	if (c == NULL)
		return;
	if (c->hc != NULL)
		http_cancel(c->hc);
	if (c->timer != 0)
		loop_cancel_timer(c->llm->loop, c->timer);
	call_unlink(c);
	call_free(c);
}

size_t
llm_in_flight(const struct llm *llm)
{
	return llm->calls_n;
}

/* Life ------------------------------------------------------------------- */

struct llm *
llm_new(struct loop *loop, struct http *http, const struct config *cfg, const char *prompts_dir,
        char *err, size_t errlen)
{
	const char *url = config_get(cfg, "llm", "url");
	const char *model = config_get(cfg, "llm", "model");
	const char *key = config_get(cfg, "llm", "api_key");
	const char *api = config_get(cfg, "llm", "api");
	struct llm *llm;
	char *base;
	size_t n;

	if (url == NULL || *url == '\0') {
		snprintf(err, errlen,
		         "[llm] url is not set; give the address of an OpenAI-compatible "
		         "server, e.g. http://localhost:11434/v1");
		return NULL;
	}
	if (model == NULL || *model == '\0') {
		snprintf(err, errlen,
		         "[llm] model is not set; give the model's name, e.g. llama3.1:8b");
		return NULL;
	}
	if (prompts_dir == NULL)
		prompts_dir = config_get(cfg, "usher", "prompts");
	if (prompts_dir == NULL) {
		snprintf(err, errlen, "no prompts folder; set [usher] prompts");
		return NULL;
	}
	llm = xcalloc(1, sizeof(*llm));
	llm->loop = loop;
	llm->http = http;
	llm->api = api != NULL && strcmp(api, "ollama") == 0 ? LLM_API_OLLAMA : LLM_API_OPENAI;
	base = xstrdup(url);
	while ((n = strlen(base)) > 0 && base[n - 1] == '/')
		base[n - 1] = '\0';
	/* Ollama's native API lives at the root, beside its /v1. */
	if (llm->api == LLM_API_OLLAMA && n >= 3 && strcmp(base + n - 3, "/v1") == 0)
		base[n - 3] = '\0';
	llm->endpoint =
	    xasprintf("%s%s", base, llm->api == LLM_API_OLLAMA ? "/api/chat" : "/chat/completions");
	free(base);
	llm->model = xstrdup(model);
	if (key != NULL && *key != '\0')
		llm->auth = xasprintf("Authorization: Bearer %s", key);
	llm->timeout_ms = config_get_int(cfg, "llm", "timeout_ms");
	if (llm->timeout_ms <= 0)
		llm->timeout_ms = 20000;
	llm->max_per_hour = config_get_int(cfg, "llm", "max_per_person_per_hour");
	llm->cache_max = config_get(cfg, "llm", "cache_size")
	                     ? (size_t)config_get_int(cfg, "llm", "cache_size")
	                     : LLM_CACHE_DEFAULT;
	llm->prompts_dir = xstrdup(prompts_dir);
	if (llm_reload(llm, err, errlen) != 0) {
		llm_free(llm);
		return NULL;
	}
	/* Not the endpoint: some providers take the key in the query string. */
	log_info("llm: %s (%s API), %ld ms, %ld calls per person an hour", llm->model,
	         llm->api == LLM_API_OLLAMA ? "Ollama" : "OpenAI", llm->timeout_ms,
	         llm->max_per_hour);
	return llm;
}

void
llm_free(struct llm *llm)
{
	if (llm == NULL)
		return;
	while (llm->calls != NULL)
		llm_cancel(llm->calls);
	while (llm->cache != NULL) {
		struct cache_entry *e = llm->cache;
		llm->cache = e->next;
		free(e->key);
		free(e);
	}
	while (llm->budgets != NULL) {
		struct budget *b = llm->budgets;
		llm->budgets = b->next;
		free(b->person);
		free(b->times);
		free(b);
	}
	free(llm->auth);
	free(llm->endpoint);
	free(llm->model);
	free(llm->prompts_dir);
	free(llm->system);
	json_decref(llm->schema);
	free(llm);
}

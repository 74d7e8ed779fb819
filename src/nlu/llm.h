/*
 * llm: the fallback that asks a language model what a message means, for
 * the messages the grammar cannot place.
 *
 * One `struct llm` per configured [llm] section. It speaks the
 * OpenAI-compatible chat completions API (OpenAI, llama.cpp's server, vLLM,
 * LocalAI, Ollama's /v1) or, with `api = ollama`, Ollama's native /api/chat,
 * asynchronously on usher's http client, with the system prompt and the
 * answer's JSON schema read from the prompts folder (intent.md,
 * intent.schema.json) at start and again by llm_reload(). The answer is
 * checked by llm_validate like any hostile input, so all a call can yield
 * is a struct intent; the bot checks the person's permissions afterwards
 * exactly as for the grammar's intents.
 *
 * It also owns what keeps the fallback cheap and well-behaved: a small LRU
 * cache of answers (normalised text + context), a sliding one-hour budget
 * per person ([llm] max_per_person_per_hour), a timeout for the whole call
 * ([llm] timeout_ms) and one retry after a 429 or 5xx when Retry-After
 * allows it within that time. It never logs the API key, and logs what a
 * person wrote only at debug level, shortened.
 *
 * The struct owns its prompts, cache, budgets and every call in flight.
 */
#ifndef USHER_LLM_H
#define USHER_LLM_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct http;
struct intent;
struct llm;
struct llm_call;
struct loop;

enum llm_outcome {
	LLM_OK,           /* `in` is a validated intent (source SOURCE_LLM; kind
	                     INTENT_UNKNOWN when the model did not understand either) */
	LLM_REFUSED_RATE, /* the person used up their hourly budget; nothing was sent */
	LLM_UNAVAILABLE,  /* down, timed out, 401, 429, 5xx...: `why` says which */
	LLM_INVALID,      /* the answer failed validation: `why` names the field */
};

/* `in` is NULL unless outcome is LLM_OK; `why` is NULL on LLM_OK, else
 * plain words fit for a log line (no key, no message text). Both are
 * borrowed for the callback only. */
typedef void llm_done_cb(void *arg, enum llm_outcome outcome, const struct intent *in,
                         const char *why);

/* True when `cfg` has an [llm] section with enabled = true: the only case
 * in which the caller should make a struct llm. */
bool llm_configured(const struct config *cfg);

/* Returns a new client, freed with llm_free(), or NULL with `err` filled
 * when [llm] is incomplete (no url, no model) or the prompts cannot be
 * loaded. `loop` and `http` are borrowed and must outlive it; `cfg` is
 * read here only. `prompts_dir` NULL means [usher] prompts (by default the
 * prompts folder usher ships). */
struct llm *llm_new(struct loop *loop, struct http *http, const struct config *cfg,
                    const char *prompts_dir, char *err, size_t errlen);
/* Cancels every call in flight without calling any back, then frees. NULL
 * is ignored. May be called from inside one of its own callbacks. */
void llm_free(struct llm *llm);
/* Reads the prompt and the schema again. On success the cache is emptied
 * and 0 returned; on failure the old ones stay in force and -1 is returned
 * with `err` naming the file and why. Calls in flight keep the old ones. */
int llm_reload(struct llm *llm, char *err, size_t errlen);

/* Asks what `text` (what `person` wrote; both copied) means. `context` is
 * up to a few prior turns of the same conversation, oldest first (NULL
 * when `context_len` is 0; copied): a turn that starts with "usher: " is
 * what usher said and goes to the model as an assistant turn, any other
 * turn is the person's (a leading "person: " is removed). Only the last
 * LLM_CONTEXT_MAX turns are sent.
 *
 * A message longer than LLM_TEXT_MAX bytes is not sent (LLM_INVALID). A
 * cached answer costs nothing; every other call spends one of the person's
 * [llm] max_per_person_per_hour (0: none at all) before it is sent.
 *
 * `cb` runs exactly once on the loop, never from inside this call (a cache
 * hit or a refused budget is reported on a later iteration), and never
 * after llm_cancel() or llm_free(). Returns the call's handle, valid until
 * `cb` starts running or the call is cancelled; never NULL. */
struct llm_call *llm_understand(struct llm *llm, const char *person, const char *text,
                                const char *const *context, size_t context_len, llm_done_cb *cb,
                                void *arg);
/* Cancels a call that has not called back; its callback never runs. NULL
 * is ignored. */
void llm_cancel(struct llm_call *call);

#define LLM_CONTEXT_MAX   8    /* turns sent with a message */
#define LLM_TEXT_MAX      2000 /* bytes of a message sent; longer ones are refused */
#define LLM_TURN_MAX      1000 /* bytes of one context turn sent; longer ones are cut */
#define LLM_CACHE_DEFAULT 128  /* answers kept when [llm] cache_size is not set */

/* Calls in flight (tests, metrics). */
size_t llm_in_flight(const struct llm *llm);

#endif

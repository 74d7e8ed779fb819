/*
 * llm_validate: the LLM's answer, treated as the hostile input it is.
 *
 * Two steps, both pure functions with no I/O so they are easy to test and
 * to fuzz. llm_validate_envelope() takes the HTTP body an OpenAI-compatible
 * or Ollama server sent and finds the model's text in it, refusing
 * refusals, cut-off answers and provider errors, and peeling the markdown
 * fences and prose that servers which ignore the response format wrap
 * around it. llm_validate_json() then accepts that text only when it is one
 * JSON object with the meaning keys of `usher parse --json` (intent, media,
 * title, year, seasons, episode, quality, choice), each of the right type
 * and in range, and nothing else; it is the one place that decides what an
 * LLM may say, and all it can ever produce is a struct intent. Whether the
 * person may do what the intent says is the bot's business, afterwards.
 *
 * Every refusal comes with a `why` in plain words that names the field; it
 * quotes at most a short, sanitised piece of what the model sent.
 */
#ifndef USHER_LLM_VALIDATE_H
#define USHER_LLM_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

struct intent;

enum llm_api {
	LLM_API_OPENAI, /* POST {url}/chat/completions, choices[0].message.content */
	LLM_API_OLLAMA, /* POST {url}/api/chat, message.content */
};

/* The longest model answer (the JSON text) looked at; a valid one is
 * well under 1 KiB. */
#define LLM_VALIDATE_MAX 16384
/* The confidence given to every intent the LLM produced. */
#define LLM_VALIDATE_CONFIDENCE 0.6f

/* Fills `out` (cleared first; source SOURCE_LLM, confidence
 * LLM_VALIDATE_CONFIDENCE) from the `len` bytes of `json`, which may hold
 * anything. Returns 0, or -1 with `why` filled and `out` cleared. Keys
 * other than "intent" may be missing (read as null) for servers that do
 * not enforce the schema; duplicate keys are refused. */
int llm_validate_json(const char *json, size_t len, struct intent *out, char *why, size_t whylen);

/* Finds the model's answer in the `len` bytes of an HTTP response `body`
 * (status 2xx) from `api`. Returns 0 with *content set to a new
 * NUL-terminated string (the caller frees it) holding the JSON text with
 * fences and surrounding prose removed, or -1 with `why` filled and
 * *content NULL. */
int llm_validate_envelope(enum llm_api api, const char *body, size_t len, char **content, char *why,
                          size_t whylen);

/* Copies at most `max` bytes of `s` into `dst` (`size` bytes, always
 * terminated) fit to quote in a log line or a why: valid UTF-8, control
 * characters as '?', cut at a character boundary with "..." when longer. */
void llm_validate_quote(char *dst, size_t size, const char *s, size_t len, size_t max);

/* Whether the person named `title` themselves: every word of it (but
 * "the", "a", "an", "of", "and") stands as a word in one of the `n`
 * texts they wrote, case and punctuation aside. A title the model brought
 * in on its own (a prompt injection, a guess) must be confirmed by the
 * person before anything is done with it. An empty title counts as said. */
bool llm_validate_title_said(const char *title, const char *const *texts, size_t n);

#endif

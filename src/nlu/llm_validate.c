#include "nlu/llm_validate.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nlu/intent.h"
#include "nlu/normalize.h"

#define YEAR_MIN    1870
#define YEAR_MAX    2100
#define SEASON_MAX  100
#define EPISODE_MAX 1000
#define CHOICE_MAX  50
#define QUOTE_MAX   60 /* bytes of the model's text quoted in a why */

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Characters a title never holds: C0 and C1 controls, DEL, line and
 * paragraph separators, zero-width and bidirectional formatting marks and
 * the BOM. The last ones can make a title read differently from what it
 * is when usher quotes it back in a chat. */
static int
is_forbidden(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

void
llm_validate_quote(char *dst, size_t size, const char *s, size_t len, size_t max)
{
	size_t i = 0, o = 0, n;
	int32_t cp;

	if (size == 0)
		return;
	while (i < len) {
		n = normalize_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (o + n + 4 > size || i + n > max) {
			if (o + 4 <= size) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (cp < 0 || is_forbidden(cp)) {
			dst[o++] = '?';
		} else {
			memcpy(dst + o, s + i, n);
			o += n;
		}
		i += n;
	}
	dst[o] = '\0';
}

static int
get_int(const json_t *v, const char *key, long min, long max, int *out, char *why, size_t whylen)
{
	json_int_t n;

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return fail(why, whylen, "%s must be an integer %ld..%ld or null, not %s", key, min,
		            max,
		            json_is_string(v)    ? "a string"
		            : json_is_real(v)    ? "a fraction"
		            : json_is_boolean(v) ? "true/false"
		            : json_is_array(v)   ? "a list"
		            : json_is_object(v)  ? "an object"
		                                 : "that");
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(why, whylen, "%s must be %ld..%ld or null, not %lld", key, min, max,
		            (long long)n);
	*out = (int)n;
	return 0;
}

static int
get_title(const json_t *v, struct intent *in, char *why, size_t whylen)
{
	const char *s;
	size_t len, i, n, start, end;
	int32_t cp;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(why, whylen, "title must be a string or null");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len >= INTENT_TITLE_MAX)
		return fail(why, whylen, "title is %zu bytes long; at most %d", len,
		            INTENT_TITLE_MAX - 1);
	for (i = 0; i < len; i += n) {
		n = normalize_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (cp < 0)
			return fail(why, whylen, "title is not valid UTF-8");
		if (cp == 0 || is_forbidden(cp))
			return fail(why, whylen,
			            "title holds a control or formatting character (U+%04X)",
			            (unsigned)cp);
	}
	start = 0;
	end = len;
	while (start < end && s[start] == ' ')
		start++;
	while (end > start && s[end - 1] == ' ')
		end--;
	memcpy(in->title, s + start, end - start);
	in->title[end - start] = '\0';
	return 0;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
get_seasons(const json_t *v, struct intent *in, char *why, size_t whylen)
{
	size_t i, n;
	int k, list[INTENT_SEASONS_MAX];

	in->seasons = SEASONS_NONE;
	in->season_count = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "all") == 0 && json_string_length(v) == 3)
			in->seasons = SEASONS_ALL;
		else if (strcmp(json_string_value(v), "latest") == 0 && json_string_length(v) == 6)
			in->seasons = SEASONS_LATEST;
		else
			return fail(why, whylen,
			            "seasons must be a list of numbers, \"all\", "
			            "\"latest\" or null");
		return 0;
	}
	if (!json_is_array(v))
		return fail(why, whylen,
		            "seasons must be a list of numbers, \"all\", \"latest\" or null");
	n = json_array_size(v);
	if (n > INTENT_SEASONS_MAX)
		return fail(why, whylen, "seasons lists %zu numbers; at most %d", n,
		            INTENT_SEASONS_MAX);
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		if (!json_is_integer(e))
			return fail(why, whylen, "seasons[%zu] must be an integer 0..%d", i,
			            SEASON_MAX);
		if (json_integer_value(e) < 0 || json_integer_value(e) > SEASON_MAX)
			return fail(why, whylen, "seasons[%zu] must be 0..%d, not %lld", i,
			            SEASON_MAX, (long long)json_integer_value(e));
		list[i] = (int)json_integer_value(e);
	}
	if (n == 0)
		return 0;
	qsort(list, n, sizeof(list[0]), cmp_int);
	for (i = 0, k = 0; i < n; i++) {
		if (k == 0 || in->season_list[k - 1] != list[i])
			in->season_list[k++] = list[i];
	}
	in->season_count = k;
	in->seasons = SEASONS_LIST;
	return 0;
}

static int
fill(const json_t *root, struct intent *in, char *why, size_t whylen)
{
	static const char *const known[] = {"intent",  "media",   "title",   "year",
	                                    "seasons", "episode", "quality", "choice"};
	const char *key;
	const json_t *v;
	char q[QUOTE_MAX + 8];
	size_t i;

	json_object_foreach((json_t *)root, key, v)
	{
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			if (strcmp(key, known[i]) == 0)
				break;
		}
		if (i == sizeof(known) / sizeof(known[0])) {
			llm_validate_quote(q, sizeof(q), key, strlen(key), 32);
			return fail(why, whylen, "unexpected key \"%s\"", q);
		}
	}

	v = json_object_get(root, "intent");
	if (v == NULL)
		return fail(why, whylen, "intent is missing");
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    intent_kind_from_name(json_string_value(v), &in->kind) != 0) {
		if (json_is_string(v)) {
			llm_validate_quote(q, sizeof(q), json_string_value(v),
			                   json_string_length(v), 32);
			return fail(why, whylen, "intent \"%s\" is not one usher knows", q);
		}
		return fail(why, whylen, "intent must be a string");
	}

	v = json_object_get(root, "media");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
		    intent_media_from_name(json_string_value(v), &in->media) != 0)
			return fail(why, whylen,
			            "media must be \"any\", \"movie\", \"tv\" or \"other\"");
	}

	if (get_title(json_object_get(root, "title"), in, why, whylen) != 0 ||
	    get_int(json_object_get(root, "year"), "year", YEAR_MIN, YEAR_MAX, &in->year, why,
	            whylen) != 0 ||
	    get_seasons(json_object_get(root, "seasons"), in, why, whylen) != 0 ||
	    get_int(json_object_get(root, "episode"), "episode", 1, EPISODE_MAX, &in->episode, why,
	            whylen) != 0 ||
	    get_int(json_object_get(root, "choice"), "choice", 1, CHOICE_MAX, &in->choice, why,
	            whylen) != 0)
		return -1;

	v = json_object_get(root, "quality");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || strcmp(json_string_value(v), "4k") != 0 ||
		    json_string_length(v) != 2)
			return fail(why, whylen, "quality must be \"4k\" or null");
		in->want_4k = true;
	}
	return 0;
}

int
llm_validate_json(const char *json, size_t len, struct intent *out, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	intent_clear(out);
	if (len > LLM_VALIDATE_MAX)
		return fail(why, whylen, "the answer is %zu bytes long; at most %d", len,
		            LLM_VALIDATE_MAX);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		char q[QUOTE_MAX + 8];
		llm_validate_quote(q, sizeof(q), json, len, 40);
		return fail(why, whylen, "the answer is not a JSON object (%s at byte %d): %s",
		            jerr.text, jerr.position, q);
	}
	if (!json_is_object(root)) {
		const char *what = json_is_array(root) ? "list" : "value";
		json_decref(root);
		return fail(why, whylen, "the answer is a JSON %s, not an object", what);
	}
	rc = fill(root, out, why, whylen);
	json_decref(root);
	if (rc != 0) {
		intent_clear(out);
		return -1;
	}
	out->source = SOURCE_LLM;
	out->confidence = LLM_VALIDATE_CONFIDENCE;
	return 0;
}

/* The JSON object in a model's text: without a markdown fence, without
 * a "Sure! Here it is:" before it or an explanation after it. */
static char *
unwrap(const char *s, size_t len, char *why, size_t whylen)
{
	const char *start = s, *end = s + len, *open, *close;

	while (start < end && strchr(" \t\r\n", *start))
		start++;
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	if ((size_t)(end - start) >= 3 && memcmp(start, "```", 3) == 0) {
		const char *nl = memchr(start, '\n', (size_t)(end - start));
		start = nl ? nl + 1 : end;
		if ((size_t)(end - start) >= 3 && memcmp(end - 3, "```", 3) == 0)
			end -= 3;
	}
	open = memchr(start, '{', (size_t)(end - start));
	close = NULL;
	for (const char *p = end; p > start; p--) {
		if (p[-1] == '}') {
			close = p;
			break;
		}
	}
	if (open == NULL || close == NULL || close <= open) {
		char q[QUOTE_MAX + 8];
		llm_validate_quote(q, sizeof(q), s, len, 40);
		fail(why, whylen, "the answer holds no JSON object: %s", q);
		return NULL;
	}
	return xstrndup(open, (size_t)(close - open));
}

static int
provider_error(const json_t *root, char *why, size_t whylen)
{
	const json_t *e = json_object_get(root, "error");
	const char *msg;
	char q[QUOTE_MAX + 8];

	if (e == NULL || json_is_null(e))
		return 0;
	msg = json_is_string(e) ? json_string_value(e)
	                        : json_string_value(json_object_get(e, "message"));
	llm_validate_quote(q, sizeof(q), msg ? msg : "?", msg ? strlen(msg) : 1, QUOTE_MAX);
	return fail(why, whylen, "the LLM server answered with an error: %s", q);
}

int
llm_validate_envelope(enum llm_api api, const char *body, size_t len, char **content, char *why,
                      size_t whylen)
{
	json_error_t jerr;
	json_t *root, *msg, *text, *choice = NULL;
	const char *finish;
	char q[QUOTE_MAX + 8];
	int rc = -1;

	*content = NULL;
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		llm_validate_quote(q, sizeof(q), body, len, 40);
		json_decref(root);
		return fail(why, whylen, "the LLM server's answer is not a JSON object: %s", q);
	}
	if (provider_error(root, why, whylen) != 0)
		goto out;
	if (api == LLM_API_OLLAMA) {
		msg = json_object_get(root, "message");
		finish = json_string_value(json_object_get(root, "done_reason"));
		if (json_is_false(json_object_get(root, "done"))) {
			fail(why, whylen, "the LLM server streamed a partial answer");
			goto out;
		}
	} else {
		choice = json_array_get(json_object_get(root, "choices"), 0);
		if (!json_is_object(choice)) {
			fail(why, whylen, "the LLM server's answer has no choices[0]");
			goto out;
		}
		msg = json_object_get(choice, "message");
		finish = json_string_value(json_object_get(choice, "finish_reason"));
	}
	if (!json_is_object(msg)) {
		fail(why, whylen, "the LLM server's answer has no message");
		goto out;
	}
	text = json_object_get(msg, "refusal");
	if (json_is_string(text) && json_string_length(text) > 0) {
		llm_validate_quote(q, sizeof(q), json_string_value(text), json_string_length(text),
		                   QUOTE_MAX);
		fail(why, whylen, "the model refused: %s", q);
		goto out;
	}
	if (finish != NULL && strcmp(finish, "length") == 0) {
		fail(why, whylen, "the answer was cut off (finish reason \"length\")");
		goto out;
	}
	if (finish != NULL && strcmp(finish, "content_filter") == 0) {
		fail(why, whylen, "the provider's content filter withheld the answer");
		goto out;
	}
	text = json_object_get(msg, "content");
	if (!json_is_string(text) || json_string_length(text) == 0) {
		fail(why, whylen, "the answer has no text%s",
		     json_object_get(msg, "tool_calls") ? " (the model called a tool instead)"
		                                        : "");
		goto out;
	}
	if (json_string_length(text) > LLM_VALIDATE_MAX) {
		fail(why, whylen, "the answer is %zu bytes long; at most %d",
		     json_string_length(text), LLM_VALIDATE_MAX);
		goto out;
	}
	*content = unwrap(json_string_value(text), json_string_length(text), why, whylen);
	rc = *content ? 0 : -1;
out:
	json_decref(root);
	return rc;
}

/* The next word of `s` from *pos, lowercased ASCII (other bytes, UTF-8
 * included, kept as they are), into `word`; 0 at the end. */
static size_t
next_word(const char *s, size_t *pos, char *word, size_t size)
{
	size_t i = *pos, n = 0;

	while (s[i] != '\0' && !isalnum((unsigned char)s[i]) && (unsigned char)s[i] < 0x80)
		i++;
	while (s[i] != '\0' && (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)) {
		if (n + 1 < size)
			word[n++] = (char)tolower((unsigned char)s[i]);
		i++;
	}
	word[n] = '\0';
	*pos = i;
	return n;
}

static bool
text_has_word(const char *text, const char *want)
{
	char word[INTENT_TITLE_MAX];
	size_t pos = 0;

	while (next_word(text, &pos, word, sizeof(word)) > 0)
		if (strcmp(word, want) == 0)
			return true;
	return false;
}

bool
llm_validate_title_said(const char *title, const char *const *texts, size_t n)
{
	static const char *const small[] = {"the", "a", "an", "of", "and", NULL};
	char word[INTENT_TITLE_MAX];
	size_t pos = 0, i, k;

	while (next_word(title, &pos, word, sizeof(word)) > 0) {
		bool found = false;

		for (k = 0; small[k] && strcmp(small[k], word) != 0; k++)
			;
		if (small[k] != NULL)
			continue;
		for (i = 0; i < n && !found; i++)
			found = texts[i] != NULL && text_has_word(texts[i], word);
		if (!found)
			return false;
	}
	return true;
}

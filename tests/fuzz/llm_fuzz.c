/*
 * llm_fuzz: hostile LLM answers through llm_validate. The first byte picks
 * what the rest is: the model's JSON text (llm_validate_json), or a whole
 * HTTP body from an OpenAI-compatible or Ollama server
 * (llm_validate_envelope, then llm_validate_json on what it found). Checks
 * what must hold for any input: a refusal comes with a why and a cleared
 * intent; an accepted answer is a well-formed intent within every range
 * the validator promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/intent.h"
#include "nlu/llm_validate.h"
#include "nlu/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_refused(const struct intent *in, const char *why)
{
	if (why[0] == '\0' || memchr(why, '\0', 256) == NULL || in->kind != INTENT_UNKNOWN ||
	    in->source != SOURCE_NONE || in->title[0] != '\0')
		abort();
}

static void
check_accepted(const struct intent *in)
{
	const char *t = in->title;
	size_t len, i, n;
	int32_t cp;

	if ((unsigned)in->kind >= INTENT_KIND_COUNT || (unsigned)in->media > MEDIA_OTHER ||
	    in->source != SOURCE_LLM || in->confidence <= 0.0f || in->confidence > 1.0f)
		abort();
	if ((len = strnlen(t, sizeof(in->title))) == sizeof(in->title))
		abort();
	if (len > 0 && (t[0] == ' ' || t[len - 1] == ' '))
		abort();
	for (i = 0; i < len; i += n) {
		n = normalize_utf8_decode((const unsigned char *)t + i, len - i, &cp);
		if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029)
			abort();
	}
	if (in->year != 0 && (in->year < 1870 || in->year > 2100))
		abort();
	if (in->episode < 0 || in->episode > 1000 || in->choice < 0 || in->choice > 50)
		abort();
	if ((unsigned)in->seasons > SEASONS_LATEST || in->season_count < 0 ||
	    in->season_count > INTENT_SEASONS_MAX ||
	    (in->seasons == SEASONS_LIST) != (in->season_count > 0))
		abort();
	for (int k = 0; k < in->season_count; k++) {
		if (in->season_list[k] < 0 || in->season_list[k] > 100 ||
		    (k > 0 && in->season_list[k - 1] >= in->season_list[k]))
			abort();
	}
}

static void
validate(const char *text, size_t len)
{
	struct intent in;
	char why[256];

	why[0] = '\0';
	if (llm_validate_json(text, len, &in, why, sizeof(why)) == 0)
		check_accepted(&in);
	else
		check_refused(&in, why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], *content = NULL;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		validate((const char *)data + 1, size - 1);
		break;
	default:
		why[0] = '\0';
		if (llm_validate_envelope(data[0] % 3 == 1 ? LLM_API_OPENAI : LLM_API_OLLAMA,
		                          (const char *)data + 1, size - 1, &content, why,
		                          sizeof(why)) == 0) {
			if (content == NULL || strlen(content) > LLM_VALIDATE_MAX)
				abort();
			validate(content, strlen(content));
			free(content);
		} else if (content != NULL || why[0] == '\0') {
			abort();
		}
		break;
	}
	return 0;
}

/*
 * log_redact: the part of log that keeps secrets out of every line: the
 * registered secrets, the well-known carriers of secrets, and the masking
 * of a line before it is written.
 */
#include "core/log.h"
#include "core/log_impl.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOG_MIN_SECRET 4
#define LOG_MASK_STACK LOG_FORMAT_MAX

const char log_redacted[] = "[redacted]";

static char **log_secrets;
static size_t log_nsecrets;

/* Carriers whose value is a secret whoever sent it. A value runs to the
 * next white space, '&' or quote, except a cookie header's, which runs to
 * the end of the line because it holds several "; "-separated pairs. */
enum carrier_kind {
	CARRIER_AUTH_HEADER, /* keeps the scheme word: "Bearer [redacted]" */
	CARRIER_HEADER,
	CARRIER_LINE_HEADER,
	CARRIER_PARAM,
	CARRIER_JSON,
};

static const struct carrier {
	const char *name;
	enum carrier_kind kind;
} carriers[] = {
    {"authorization:", CARRIER_AUTH_HEADER},
    {"x-api-key:", CARRIER_HEADER},
    {"cookie:", CARRIER_LINE_HEADER}, /* also matches Set-Cookie: */
    {"api_key=", CARRIER_PARAM},
    {"apikey=", CARRIER_PARAM},
    {"access_token=", CARRIER_PARAM},
    {"token=", CARRIER_PARAM},
    {"password=", CARRIER_PARAM},
    {"authorization\"", CARRIER_JSON},
    {"api_key\"", CARRIER_JSON},
    {"apikey\"", CARRIER_JSON},
    {"x-api-key\"", CARRIER_JSON},
    {"token\"", CARRIER_JSON}, /* also access_token, refresh_token */
    {"password\"", CARRIER_JSON},
};

void
log_add_secret(const char *value)
{
	char **grown, *copy;

	if (value == NULL || strlen(value) < LOG_MIN_SECRET)
		return;
	for (size_t i = 0; i < log_nsecrets; i++)
		if (strcmp(log_secrets[i], value) == 0)
			return;
	/* Not xmalloc: its out-of-memory path logs, and a lost secret would
	 * be worse than a lost log line, so fail loudly here instead. */
	copy = strdup(value);
	grown = realloc(log_secrets, (log_nsecrets + 1) * sizeof(*log_secrets));
	if (copy == NULL || grown == NULL)
		abort();
	log_secrets = grown;
	log_secrets[log_nsecrets++] = copy;
}

void
log_clear_secrets(void)
{
	for (size_t i = 0; i < log_nsecrets; i++) {
		/* Secrets should not linger in freed heap memory. */
		memset(log_secrets[i], 0, strlen(log_secrets[i]));
		free(log_secrets[i]);
	}
	free(log_secrets);
	log_secrets = NULL;
	log_nsecrets = 0;
}

const char *
log_redact_memcasemem(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
	if (nlen == 0 || nlen > haylen)
		return NULL;
	for (size_t i = 0; i + nlen <= haylen; i++) {
		if (tolower((unsigned char)hay[i]) != tolower((unsigned char)needle[0]))
			continue;
		if (strncasecmp(hay + i, needle, nlen) == 0)
			return hay + i;
	}
	return NULL;
}

static bool
is_param_delim(char c)
{
	return c == '\0' || isspace((unsigned char)c) || c == '&' || c == '"' || c == '\'';
}

static void
mask_range(bool *mask, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		mask[i] = true;
}

/* Finds the value that follows a carrier ending at `p`: [*start, *end). */
static void
carrier_value(const char *line, size_t len, size_t p, enum carrier_kind kind, size_t *start,
              size_t *end)
{
	size_t q;

	if (kind != CARRIER_PARAM)
		while (p < len && (line[p] == ' ' || line[p] == '\t'))
			p++;
	if (kind == CARRIER_AUTH_HEADER) {
		/* "Bearer xyz", "Bot xyz", "Basic xyz": a known scheme stays
		 * readable; any other first word is taken as the secret. */
		static const char *const schemes[] = {"bearer", "basic",  "bot",
		                                      "token",  "digest", "mediabrowser"};

		q = p;
		while (q < len && isalpha((unsigned char)line[q]))
			q++;
		for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			if (q - p == strlen(schemes[i]) &&
			    strncasecmp(line + p, schemes[i], q - p) == 0 && q + 1 < len &&
			    line[q] == ' ' && !isspace((unsigned char)line[q + 1])) {
				p = q + 1;
				break;
			}
		}
	}
	if (kind == CARRIER_JSON) {
		/* "key" : "value" (with escapes), or an unquoted value. */
		if (p >= len || line[p] != ':') {
			*start = *end = p;
			return;
		}
		p++;
		while (p < len && isspace((unsigned char)line[p]))
			p++;
		*start = p;
		if (p < len && line[p] == '"') {
			*start = ++p;
			while (p < len && line[p] != '"') {
				if (line[p] == '\\' && p + 1 < len)
					p++;
				p++;
			}
		} else {
			while (p < len && line[p] != ',' && line[p] != '}' &&
			       !isspace((unsigned char)line[p]))
				p++;
		}
		*end = p;
		return;
	}
	*start = p;
	if (kind == CARRIER_LINE_HEADER) {
		while (p < len && line[p] != '\n' && line[p] != '\r' && line[p] != '"')
			p++;
	} else {
		while (p < len && !is_param_delim(line[p]))
			p++;
	}
	*end = p;
}

static void
mark_secrets(const char *line, size_t len, bool *mask)
{
	for (size_t s = 0; s < log_nsecrets; s++) {
		const char *secret = log_secrets[s];
		size_t slen = strlen(secret);
		const char *from = line, *hit;

		/* Every occurrence, overlapping ones too, so that two secrets
		 * sharing bytes cannot leave a tail of either visible. */
		while ((size_t)(from - line) + slen <= len &&
		       (hit = memmem(from, len - (size_t)(from - line), secret, slen)) != NULL) {
			mask_range(mask, (size_t)(hit - line), (size_t)(hit - line) + slen);
			from = hit + 1;
		}
	}
	for (size_t c = 0; c < sizeof(carriers) / sizeof(carriers[0]); c++) {
		const struct carrier *k = &carriers[c];
		size_t nlen = strlen(k->name), pos = 0;
		const char *hit;

		while (pos < len &&
		       (hit = log_redact_memcasemem(line + pos, len - pos, k->name, nlen))) {
			size_t after = (size_t)(hit - line) + nlen, start, end;

			carrier_value(line, len, after, k->kind, &start, &end);
			if (end > start)
				mask_range(mask, start, end);
			pos = after;
		}
	}
}

/* Writes `line` with every masked run replaced, into out[outlen]. Returns
 * true when all of it fit. Never splits a UTF-8 sequence. */
static bool
emit_masked(const char *line, size_t len, const bool *mask, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return len == 0;
	while (i < len) {
		if (mask[i]) {
			if (o + sizeof(log_redacted) - 1 > outlen - 1)
				break;
			memcpy(out + o, log_redacted, sizeof(log_redacted) - 1);
			o += sizeof(log_redacted) - 1;
			while (i < len && mask[i])
				i++;
			continue;
		}
		if (o + 1 > outlen - 1)
			break;
		out[o++] = line[i++];
	}
	if (i < len) {
		/* Cut: drop a partial UTF-8 sequence at the end. */
		size_t lead = o;
		while (lead > 0 && ((unsigned char)out[lead - 1] & 0xC0) == 0x80)
			lead--;
		if (lead > 0 && ((unsigned char)out[lead - 1] & 0x80)) {
			unsigned char c = (unsigned char)out[lead - 1];
			size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

			if (o - (lead - 1) < want)
				o = lead - 1;
		}
	}
	out[o] = '\0';
	return i >= len;
}

bool
log_redact_bounded(const char *line, size_t len, char *out, size_t outlen)
{
	bool stack_mask[LOG_MASK_STACK];
	bool *mask = stack_mask, fit;

	if (len > LOG_MASK_STACK) {
		mask = calloc(len, sizeof(*mask));
		if (mask == NULL) {
			strncpy(out, "[redacted: out of memory]", outlen);
			if (outlen)
				out[outlen - 1] = '\0';
			return false;
		}
	} else {
		memset(stack_mask, 0, len);
	}
	mark_secrets(line, len, mask);
	fit = emit_masked(line, len, mask, out, outlen);
	if (mask != stack_mask)
		free(mask);
	return fit;
}

void
log_redact(const char *line, char *out, size_t outlen)
{
	log_redact_bounded(line, strlen(line), out, outlen);
}

/* When formatting cut the message, its tail may be the first bytes of a
 * registered secret that the redaction can no longer recognise whole. */
size_t
log_redact_cut_tail(const char *line, size_t len)
{
	for (size_t s = 0; s < log_nsecrets; s++) {
		size_t slen = strlen(log_secrets[s]);

		for (size_t k = slen - 1; k > 0; k--) {
			if (k <= len && memcmp(line + len - k, log_secrets[s], k) == 0) {
				len -= k;
				break;
			}
		}
	}
	return len;
}

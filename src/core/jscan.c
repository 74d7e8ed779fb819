#include "core/jscan.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* A number longer than this is read from a heap copy. */
#define NUMBER_STACK 64

static bool
fail(struct jscan *s, const char *why)
{
	if (s->err == NULL) {
		s->err = why;
		s->err_at = (size_t)(s->p - s->start);
	}
	return false;
}

static void
skip_space(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

void
jscan_init(struct jscan *s, const char *text, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->start = s->p = text;
	s->end = text + len;
}

enum jscan_type
jscan_peek(struct jscan *s)
{
	if (s->err != NULL)
		return JSCAN_NONE;
	skip_space(s);
	if (s->p == s->end)
		return JSCAN_NONE;
	switch (*s->p) {
	case '{':
		return JSCAN_OBJECT;
	case '[':
		return JSCAN_ARRAY;
	case '"':
		return JSCAN_STRING;
	case 't':
		return JSCAN_TRUE;
	case 'f':
		return JSCAN_FALSE;
	case 'n':
		return JSCAN_NULL;
	default:
		return *s->p == '-' || (*s->p >= '0' && *s->p <= '9') ? JSCAN_NUMBER : JSCAN_NONE;
	}
}

/* Containers ---------------------------------------------------------------- */

static bool
open_container(struct jscan *s, enum jscan_type type)
{
	if (jscan_peek(s) != type)
		return false;
	if (s->depth >= JSCAN_MAX_DEPTH)
		return fail(s, "nested too deeply");
	s->p++;
	s->depth++;
	s->first = true;
	return true;
}

/* At a ',' or the closing byte, past whitespace: true when a member
 * follows. The container being closed was past its first member in its
 * parent, so `first` is false after it. */
static bool
next_member(struct jscan *s, char close, const char *expected)
{
	if (s->err != NULL)
		return false;
	skip_space(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		s->first = false;
		return false;
	}
	if (s->first) {
		s->first = false;
		return true;
	}
	if (s->p == s->end || *s->p != ',')
		return fail(s, expected);
	s->p++;
	return true;
}

bool
jscan_object_begin(struct jscan *s)
{
	return open_container(s, JSCAN_OBJECT);
}

bool
jscan_array_begin(struct jscan *s)
{
	return open_container(s, JSCAN_ARRAY);
}

bool
jscan_array_next(struct jscan *s)
{
	return next_member(s, ']', "expected ',' or ']' in an array");
}

/* Strings ------------------------------------------------------------------- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits after "\u"; -1 when they are not. */
static long
read_hex4(struct jscan *s)
{
	long v = 0;

	if (s->end - s->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hex_value(s->p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	s->p += 4;
	return v;
}

/* The length of the UTF-8 character at p (at most `left` bytes), or 0
 * when it is not one: no overlong forms, no surrogates, at most U+10FFFF. */
static size_t
utf8_length(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		if (p[0] == 0xE0)
			lo = 0xA0;
		else if (p[0] == 0xED)
			hi = 0x9F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		if (p[0] == 0xF0)
			lo = 0x90;
		else if (p[0] == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* What read_string() has decoded so far: `written` bytes in out, `total`
 * in all. Once a piece does not fit, nothing more is written. */
struct decoded {
	char *out;
	size_t outlen, written, total;
	bool cut;
};

/* Appends `n` bytes: a run of ASCII (`split`) as far as it fits, one
 * character only whole. */
static void
put(struct decoded *d, const void *bytes, size_t n, bool split)
{
	size_t room, k;

	d->total += n;
	if (d->out == NULL || d->outlen == 0 || d->cut)
		return;
	room = d->outlen - 1 - d->written;
	k = n <= room ? n : split ? room : 0;
	memcpy(d->out + d->written, bytes, k);
	d->written += k;
	d->cut = k < n;
}

/* An escape after the backslash, decoded to UTF-8 in `u8`; its length, or
 * 0 after failing. */
static size_t
read_escape(struct jscan *s, char u8[4])
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at;
	long cp, lo;

	if (s->p == s->end)
		return fail(s, "unterminated string"), 0;
	if (*s->p != 'u') {
		if (*s->p == '\0' || (at = strchr(from, *s->p)) == NULL)
			return fail(s, "bad escape in a string"), 0;
		s->p++;
		u8[0] = to[at - from];
		return 1;
	}
	s->p++;
	if ((cp = read_hex4(s)) < 0)
		return fail(s, "bad \\u escape in a string"), 0;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return fail(s, "a lone low surrogate in a string"), 0;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return fail(s, "a lone high surrogate in a string"), 0;
		s->p += 2;
		if ((lo = read_hex4(s)) < 0xDC00 || lo > 0xDFFF)
			return fail(s, "a high surrogate without its low half"), 0;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	if (cp == 0)
		return fail(s, "\\u0000 in a string"), 0;
	return str_utf8_encode(cp, u8);
}

/* At the opening quote: reads the string into out (may be NULL). */
static bool
read_string(struct jscan *s, char *out, size_t outlen, size_t *len)
{
	struct decoded d = {.out = out, .outlen = outlen};

	s->p++;
	for (;;) {
		const char *run = s->p;
		unsigned char c;
		char u8[4];
		size_t n;

		/* Plain ASCII, the usual case, a run at a time. */
		while (s->p < s->end && (unsigned char)*s->p >= 0x20 && *s->p != '"' &&
		       *s->p != '\\' && (unsigned char)*s->p < 0x80)
			s->p++;
		if (s->p > run)
			put(&d, run, (size_t)(s->p - run), true);
		if (s->p == s->end)
			return fail(s, "unterminated string");
		c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			break;
		}
		if (c < 0x20)
			return fail(s, "a control character in a string");
		if (c == '\\') {
			s->p++;
			if ((n = read_escape(s, u8)) == 0)
				return false;
			put(&d, u8, n, false);
			continue;
		}
		if ((n = utf8_length((const unsigned char *)s->p, (size_t)(s->end - s->p))) == 0)
			return fail(s, "invalid UTF-8 in a string");
		put(&d, s->p, n, false);
		s->p += n;
	}
	if (out != NULL && outlen > 0)
		out[d.written] = '\0';
	if (len != NULL)
		*len = d.total;
	return true;
}

bool
jscan_object_next(struct jscan *s, char *key, size_t keylen, size_t *key_len)
{
	if (!next_member(s, '}', "expected ',' or '}' in an object"))
		return false;
	skip_space(s);
	if (s->p == s->end || *s->p != '"')
		return fail(s, "expected a key in an object");
	if (!read_string(s, key, keylen, key_len))
		return false;
	skip_space(s);
	if (s->p == s->end || *s->p != ':')
		return fail(s, "expected ':' after a key");
	s->p++;
	return true;
}

bool
jscan_string(struct jscan *s, char *out, size_t outlen, size_t *len)
{
	if (jscan_peek(s) != JSCAN_STRING)
		return false;
	return read_string(s, out, outlen, len);
}

char *
jscan_string_dup(struct jscan *s)
{
	char small[256], *copy;
	const char *at = s->p;
	size_t len;

	if (!jscan_string(s, small, sizeof(small), &len))
		return NULL;
	if (len < sizeof(small))
		return xstrndup(small, len);
	/* Long: read it again, now into a buffer of its size. */
	copy = xmalloc(len + 1);
	s->p = at;
	if (!jscan_string(s, copy, len + 1, NULL)) {
		free(copy);
		return NULL;
	}
	return copy;
}

/* Numbers and literals ---------------------------------------------------- */

static bool
is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

bool
jscan_number(struct jscan *s, double *d, long long *ll, bool *is_int)
{
	const char *a, *digits;
	char small[NUMBER_STACK], *text;
	ptrdiff_t int_digits;
	bool integral = true, exponent = false, negative;
	unsigned long long mag = 0;
	bool fits = true;
	double v;
	size_t n;

	if (jscan_peek(s) != JSCAN_NUMBER)
		return false;
	a = s->p;
	negative = *s->p == '-';
	if (negative)
		s->p++;
	if (!is_digit(s->p, s->end))
		return fail(s, "a '-' without digits");
	digits = s->p;
	if (*s->p == '0')
		s->p++;
	else
		while (is_digit(s->p, s->end))
			s->p++;
	if (is_digit(s->p, s->end))
		return fail(s, "a number with a leading zero");
	int_digits = s->p - digits;
	/* The magnitude of an integer, exactly while it fits. */
	for (const char *q = digits; q < s->p; q++) {
		unsigned digit = (unsigned)(*q - '0');

		if (mag > (ULLONG_MAX - digit) / 10)
			fits = false;
		else
			mag = mag * 10 + digit;
	}
	if (s->p < s->end && *s->p == '.') {
		integral = false;
		s->p++;
		if (!is_digit(s->p, s->end))
			return fail(s, "a '.' without digits after it");
		while (is_digit(s->p, s->end))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		integral = false;
		exponent = true;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s->p, s->end))
			return fail(s, "an exponent without digits");
		while (is_digit(s->p, s->end))
			s->p++;
	}
	fits = fits && integral &&
	       (negative ? mag <= (unsigned long long)LLONG_MAX + 1 : mag <= LLONG_MAX);
	if (fits) {
		/* Exact, or rounded to nearest as strtod would. */
		v = negative ? -(double)mag : (double)mag;
	} else if (d == NULL && !exponent && int_digits <= DBL_MAX_10_EXP) {
		/* Skipped, and too short to overflow a double: no need to
		 * convert it. */
		v = 0;
	} else {
		/* strtod reads the C locale's '.' (usher never changes the
		 * locale) and needs the number alone: the text may go on with
		 * digits of something else, or not end in NUL. */
		n = (size_t)(s->p - a);
		text = n < sizeof(small) ? small : xmalloc(n + 1);
		memcpy(text, a, n);
		text[n] = '\0';
		v = strtod(text, NULL);
		if (text != small)
			free(text);
		if (isinf(v))
			return fail(s, "a number too large for a double");
	}
	if (d != NULL)
		*d = v;
	if (is_int != NULL)
		*is_int = fits;
	if (ll != NULL && fits)
		*ll = negative
		          ? (mag == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)mag)
		          : (long long)mag;
	return true;
}

/* Reads `word` (true, false, null) at the cursor. */
static bool
read_literal(struct jscan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return fail(s, "not a JSON value");
	s->p += n;
	return true;
}

bool
jscan_bool(struct jscan *s, bool *value)
{
	switch (jscan_peek(s)) {
	case JSCAN_TRUE:
		*value = true;
		return read_literal(s, "true");
	case JSCAN_FALSE:
		*value = false;
		return read_literal(s, "false");
	default:
		return false;
	}
}

bool
jscan_skip(struct jscan *s)
{
	switch (jscan_peek(s)) {
	case JSCAN_OBJECT:
		jscan_object_begin(s);
		while (jscan_object_next(s, NULL, 0, NULL))
			if (!jscan_skip(s))
				return false;
		break;
	case JSCAN_ARRAY:
		jscan_array_begin(s);
		while (jscan_array_next(s))
			if (!jscan_skip(s))
				return false;
		break;
	case JSCAN_STRING:
		return read_string(s, NULL, 0, NULL);
	case JSCAN_NUMBER:
		return jscan_number(s, NULL, NULL, NULL);
	case JSCAN_TRUE:
		return read_literal(s, "true");
	case JSCAN_FALSE:
		return read_literal(s, "false");
	case JSCAN_NULL:
		return read_literal(s, "null");
	case JSCAN_NONE:
		return fail(s, s->p == s->end ? "the text ends where a value should be"
		                              : "expected a value");
	}
	return s->err == NULL;
}

bool
jscan_finish(struct jscan *s)
{
	if (s->err != NULL)
		return false;
	skip_space(s);
	return s->p == s->end || fail(s, "text after the JSON value");
}

bool
jscan_failed(const struct jscan *s)
{
	return s->err != NULL;
}

const char *
jscan_error(const struct jscan *s, size_t *offset)
{
	if (offset != NULL)
		*offset = s->err_at;
	return s->err;
}

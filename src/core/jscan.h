/*
 * jscan: reads a JSON text in place, one value at a time, without building
 * a tree. For the few large answers read on every progress cycle
 * (qBittorrent's maindata), where building jansson's tree of a thousand
 * torrents only to read six fields of each costs most of a cycle. Anything
 * else uses jansson.
 *
 * The syntax is RFC 8259's, checked as strictly as jansson checks it:
 * strings must be valid UTF-8 without raw control characters, \u escapes
 * must pair their surrogates and may not be \u0000, numbers follow the
 * grammar (no leading zeros, no hex, no NaN) and must fit a double,
 * nesting is limited to JSCAN_MAX_DEPTH. Two differences: an integer too
 * large for a long long is read as a double (jansson refuses the text),
 * and duplicate keys are passed on as they come (jansson keeps the last).
 *
 * A `struct jscan` is a cursor on the stack that borrows the text; its
 * fields are private. The caller walks the document: after
 * jscan_object_next() returns a key, or jscan_array_next() says an element
 * follows, exactly one value must be read or skipped. After the first
 * error every call fails and jscan_error() says what and where.
 */
#ifndef USHER_JSCAN_H
#define USHER_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 512

enum jscan_type {
	JSCAN_NONE = 0, /* no value here: an error, or the end of the text */
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

struct jscan {
	const char *start, *p, *end;
	int depth;
	bool first;      /* inside a container, before its first member */
	const char *err; /* static text, NULL while all is well */
	size_t err_at;
};

/* Starts reading `len` bytes at `text` (borrowed; need not end in NUL). */
void jscan_init(struct jscan *s, const char *text, size_t len);

/* The type of the value at the cursor (skipping whitespace), without
 * reading it. JSCAN_NONE on error or where no value can start. */
enum jscan_type jscan_peek(struct jscan *s);

/* Reads the '{' that opens an object; false if something else is here. */
bool jscan_object_begin(struct jscan *s);
/* Inside an object: reads the next key and the ':' after it and returns
 * true; its value must be read next. Returns false at the closing '}'
 * (read) or on error. The key is decoded into `key` (NUL-terminated, cut
 * to keylen - 1 bytes); *key_len, when not NULL, is its whole length, so
 * a key that did not fit is seen as *key_len >= keylen. */
bool jscan_object_next(struct jscan *s, char *key, size_t keylen, size_t *key_len);
/* Reads the '[' that opens an array; false if something else is here. */
bool jscan_array_begin(struct jscan *s);
/* Inside an array: true when an element follows (read it next); false at
 * the closing ']' (read) or on error. */
bool jscan_array_next(struct jscan *s);

/* Reads a string into `out` (NUL-terminated, cut to outlen - 1 bytes, never
 * inside a UTF-8 character); *len, when not NULL, is its whole decoded
 * length. False (nothing read) when the value is not a string. */
bool jscan_string(struct jscan *s, char *out, size_t outlen, size_t *len);
/* Reads a string into a new NUL-terminated copy the caller frees; NULL
 * when the value is not a string (nothing read) or on error. */
char *jscan_string_dup(struct jscan *s);
/* Reads a number. *d is its value as a double; *is_int says it was
 * written as an integer (no fraction, no exponent) that fits a long long,
 * and then *ll holds it exactly. Either pointer may be NULL. False
 * (nothing read) when the value is not a number. */
bool jscan_number(struct jscan *s, double *d, long long *ll, bool *is_int);
/* Reads true or false; false (nothing read) for anything else. */
bool jscan_bool(struct jscan *s, bool *value);
/* Reads any one value, checking its syntax to the end. */
bool jscan_skip(struct jscan *s);
/* True when only whitespace is left and nothing went wrong. */
bool jscan_finish(struct jscan *s);

bool jscan_failed(const struct jscan *s);
/* What went wrong ("bad escape in a string"), and the byte offset. NULL
 * while all is well. Static. */
const char *jscan_error(const struct jscan *s, size_t *offset);

#endif

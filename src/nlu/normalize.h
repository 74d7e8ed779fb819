/*
 * normalize: turns what a person typed into the plain text the grammar
 * matches, and remembers where every byte of it came from.
 *
 * The normalised text is lower case (ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic through a same-length table; the grammar also matches
 * caselessly, which covers the rest), has straight quotes and ASCII dashes,
 * single spaces, runs of punctuation collapsed, chat shorthand spelled out
 * ("pls" -> "please"), agreeing emoji turned into the token ":yes:" and
 * refusing ones into ":no:" (every other emoji dropped), and no leading
 * address to the bot ("hey usher,", "@usher", "usher:", Discord "<@123>").
 * Invalid UTF-8 becomes U+FFFD and NUL bytes vanish.
 *
 * Every output byte keeps the span of input bytes it came from, so a slot
 * matched in the normalised text is copied out of the original as typed
 * ("Se7en", "Mission: Impossible – Dead Reckoning").
 *
 * The module owns nothing: a struct normalized is a plain value the caller
 * provides (about 5 KiB; keep one around rather than on a small stack).
 */
#ifndef USHER_NORMALIZE_H
#define USHER_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORMALIZE_MAX       1024  /* bytes of normalised text; longer is "too long" */
#define NORMALIZE_INPUT_MAX 16384 /* bytes of input looked at; longer is "too long" */

struct normalized {
	char text[NORMALIZE_MAX + 1]; /* NUL-terminated */
	size_t len;
	bool too_long; /* the input was cut: understand nothing of it */
	/* Input span [from[i], to[i]) that produced output byte i. */
	uint16_t from[NORMALIZE_MAX + 1];
	uint16_t to[NORMALIZE_MAX + 1];
};

/* Normalises `len` bytes of `src` (which may hold NULs and invalid UTF-8)
 * into `out`. Returns 0, or -1 when the input or its normal form is too long
 * (out->too_long is then set and out->text holds what fitted). */
int normalize_text(const char *src, size_t len, struct normalized *out);

/* Maps the normalised byte range [start, end) back to the input:
 * sets *src_start and *src_end. `end` > `start`. */
void normalize_span(const struct normalized *n, size_t start, size_t end, size_t *src_start,
                    size_t *src_end);

/* Copies `len` bytes of `src` into `dst` (`size` bytes, always terminated)
 * as valid UTF-8: invalid sequences become U+FFFD, NULs are dropped, the
 * result is cut at a character boundary. Returns the bytes written. */
size_t normalize_utf8_copy(char *dst, size_t size, const char *src, size_t len);

/* Decodes one UTF-8 character of `s` (`len` > 0 bytes available). Returns
 * its length and sets *cp, or returns 1 with *cp = -1 for an invalid byte. */
size_t normalize_utf8_decode(const unsigned char *s, size_t len, int32_t *cp);

#endif

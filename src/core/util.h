/*
 * util: the few allocation and string helpers every module needs.
 *
 * The x* allocators call fatalx() on out-of-memory (the one failure usher
 * does not try to survive); everything they return is owned by the caller
 * and released with free().
 */
#ifndef USHER_UTIL_H
#define USHER_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Returns a new copy, or NULL when `s` is NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a new formatted string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies at most size-1 bytes and always terminates; returns strlen(src)
 * so truncation is detectable (>= size). */
size_t strlcpy_u(char *dst, const char *src, size_t size);
/* Trims ASCII white space at both ends in place; returns `s`. */
char *str_trim(char *s);
bool str_starts_with(const char *s, const char *prefix);
/* Case-insensitive ASCII comparison; true when equal. */
bool str_eq_nocase(const char *a, const char *b);

/* Writes code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8
 * into `out`; returns its length, 1 to 4. */
size_t str_utf8_encode(long cp, char out[4]);

/* Reads a whole file of at most `max` bytes. Returns a new NUL-terminated
 * buffer (length in *len when not NULL), or NULL with errno set (EFBIG past
 * `max`). */
char *file_read_all(const char *path, size_t max, size_t *len);

#endif

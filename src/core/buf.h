/*
 * buf: a growable byte buffer with a hard maximum, for everything fed from
 * the network or a file. Appending past the maximum fails and leaves the
 * buffer as it was, so a hostile peer cannot make usher grow without bound.
 * The buffer owns its bytes; the contents stay NUL-terminated.
 */
#ifndef USHER_BUF_H
#define USHER_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated, NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* 0: no limit (only for data usher itself makes) */
};

/* Initialises an empty buffer that may hold at most `max` bytes. */
void buf_init(struct buf *b, size_t max);
/* Frees the bytes; the buffer may be reused after buf_init(). */
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Return 0, or -1 when the result would exceed the maximum. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the bytes to the caller (free() them) and empties the buffer.
 * Never NULL: an empty buffer gives "". */
char *buf_steal(struct buf *b);
/* Removes the first `n` bytes. */
void buf_consume(struct buf *b, size_t n);

#endif

/*
 * log_impl: what log.c (formatting and writing lines) and log_redact.c
 * (keeping secrets out of them) share. Not for other modules: they use
 * log.h.
 */
#ifndef USHER_LOG_IMPL_H
#define USHER_LOG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

/* The most a formatted message may hold before it is cut. */
#define LOG_FORMAT_MAX 16384

/* What a secret is replaced with. */
extern const char log_redacted[];

/* Redacts line[0..len) into out[outlen] (always NUL-terminated); returns
 * true when all of it fit. */
bool log_redact_bounded(const char *line, size_t len, char *out, size_t outlen);
/* Returns len shortened so that the line does not end in the first bytes
 * of a registered secret (a message cut there would show them). */
size_t log_redact_cut_tail(const char *line, size_t len);
/* Case-insensitive memmem. */
const char *log_redact_memcasemem(const char *hay, size_t haylen, const char *needle, size_t nlen);

#endif

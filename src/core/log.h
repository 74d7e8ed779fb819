/*
 * log: leveled, printf-checked logging to stderr, one line per call,
 * friendly to journald and `docker logs`.
 *
 * Secrets never reach the output: every value registered with
 * log_add_secret() is replaced by "[redacted]" wherever it appears, and the
 * well-known carriers of secrets (Authorization / X-Api-Key / Cookie headers,
 * api_key=, access_token=, password= and token= parameters) have their value
 * redacted even when nobody registered it. The module owns its copies of
 * registered secrets.
 */
#ifndef USHER_LOG_H
#define USHER_LOG_H

#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Sets the threshold (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *out);
/* Redirects output (default stderr); `out` is borrowed. Tests use this. */
void log_set_output(FILE *out);
/* Registers a secret to redact; the value is copied. Values shorter than
 * 4 bytes are ignored (they would redact ordinary words). */
void log_add_secret(const char *value);
/* Forgets every registered secret (config reload, tests). */
void log_clear_secrets(void);

/* Redacts `line` into `out` (always NUL-terminated, truncated to fit). */
void log_redact(const char *line, char *out, size_t outlen);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Programming errors and out-of-memory only: logs and aborts. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

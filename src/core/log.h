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
 *
 * Events worth counting or alerting on are logged with log_event(): one line
 * of stable key=value fields after "event=NAME", so they can be grepped and
 * shipped. With LOG_FORMAT_JSON every line, free text included, is one JSON
 * object ({"ts","level","msg"} or {"ts","level","event",...}).
 */
#ifndef USHER_LOG_H
#define USHER_LOG_H

#include <stdbool.h>
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
enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON,
};

/* Sets the line format (default LOG_FORMAT_TEXT). */
void log_set_format(enum log_format format);
enum log_format log_get_format(void);
/* Parses "text" or "json"; returns 0 or -1. */
int log_format_parse(const char *name, enum log_format *out);

/* Redirects output (default stderr); `out` is borrowed. Tests use this. */
void log_set_output(FILE *out);
/* Registers a secret to redact; the value is copied. Values shorter than
 * 4 bytes are ignored (they would redact ordinary words). */
void log_add_secret(const char *value);
/* Forgets every registered secret (config reload, tests). */
void log_clear_secrets(void);

/* Redacts `line` into `out` (always NUL-terminated, truncated to fit). */
void log_redact(const char *line, char *out, size_t outlen);

/* One field of an event. Build them with LOG_STR/LOG_INT/LOG_HASH: a field
 * whose string is NULL is left out, so optional fields need no branches. */
enum log_field_kind {
	LOG_FIELD_STR,
	LOG_FIELD_INT,
	LOG_FIELD_HASH, /* a short stable hex hash of the string, never the string */
};

struct log_field {
	const char *key; /* [A-Za-z0-9_.-]; other bytes print as '_' */
	enum log_field_kind kind;
	const char *str;
	long long num;
};

#define LOG_STR(k, v)                                                                              \
	{                                                                                          \
		.key = (k), .kind = LOG_FIELD_STR, .str = (v)                                      \
	}
#define LOG_INT(k, v)                                                                              \
	{                                                                                          \
		.key = (k), .kind = LOG_FIELD_INT, .str = "", .num = (long long)(v)                \
	}
#define LOG_HASH(k, v)                                                                             \
	{                                                                                          \
		.key = (k), .kind = LOG_FIELD_HASH, .str = (v)                                     \
	}

/* Logs event `name` with the fields up to the first one whose key is NULL
 * (all borrowed; an event without fields passes NULL to log_event_fields):
 * log_event(LOG_LEVEL_INFO, "reply", LOG_STR("network",
 * net), LOG_HASH("room", room), LOG_INT("ms", ms)). Text form:
 * `ts=2024-05-01T12:00:00.123Z level=info event=reply network=matrix
 * room=3f2a9c1e ms=42`, values with spaces, quotes, '=' or control bytes
 * quoted and escaped. Values are redacted like every line, and a field whose
 * key names a secret (token, password, api_key, ...) is always
 * "[redacted]". */
void log_event_fields(enum log_level level, const char *name, const struct log_field *fields);
#define log_event(level, name, ...)                                                                \
	log_event_fields((level), (name), (const struct log_field[]){__VA_ARGS__, {.key = NULL}})

/* Writes the hash LOG_HASH prints for `value` (8 hex digits and a NUL) into
 * out; returns out. Stable across runs and machines, so one room's lines can
 * be followed without its name in the log. */
#define LOG_HASH_SIZE 9
char *log_hash(const char *value, char out[LOG_HASH_SIZE]);

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

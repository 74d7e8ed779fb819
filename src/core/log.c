#include "core/log.h"
#include "core/log_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * A line is formatted into a bounded stack buffer, redacted, then cut to
 * LOG_LINE_MAX. Nothing on this path allocates except log_redact() on
 * inputs longer than the stack mask, so fatalx() from an out-of-memory
 * path cannot recurse into another allocation failure.
 */
#define LOG_LINE_MAX   8192
#define LOG_ERRNO_ROOM 256

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 */

static enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_TEXT;
static FILE *log_out;

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level
log_get_level(void)
{
	return log_threshold;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_format(enum log_format format)
{
	log_fmt = format;
}

enum log_format
log_get_format(void)
{
	return log_fmt;
}

int
log_format_parse(const char *name, enum log_format *out)
{
	if (strcmp(name, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(name, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

void
log_set_output(FILE *out)
{
	log_out = out;
}

enum log_kind {
	LOG_KIND_ERROR,
	LOG_KIND_WARN,
	LOG_KIND_INFO,
	LOG_KIND_DEBUG,
	LOG_KIND_FATAL,
};

static const struct {
	const char *label;
	const char *priority;
} kinds[] = {
    [LOG_KIND_ERROR] = {"error", "<3>"}, [LOG_KIND_WARN] = {"warn", "<4>"},
    [LOG_KIND_INFO] = {"info", "<6>"},   [LOG_KIND_DEBUG] = {"debug", "<7>"},
    [LOG_KIND_FATAL] = {"fatal", "<2>"},
};

/* Lines --------------------------------------------------------------------- */

/*
 * A line is assembled in a fixed buffer by a writer that keeps LW_RESERVE
 * bytes back, so that whatever was cut, the closing quote and brace of a
 * JSON object still fit and every line stays parseable.
 */
#define LW_RESERVE 16

struct lw {
	char *p;
	size_t len, cap; /* cap excludes the reserve */
	bool full;
};

static void
lw_init(struct lw *w, char *p, size_t size)
{
	w->p = p;
	w->len = 0;
	w->cap = size - LW_RESERVE;
	w->full = false;
	p[0] = '\0';
}

/* Appends all of s[0..n) or, when it does not fit, nothing (and the writer
 * is full from then on). */
static bool
lw_put(struct lw *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = true;
		return false;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
	return true;
}

static bool
lw_str(struct lw *w, const char *s)
{
	return lw_put(w, s, strlen(s));
}

/* Past the reserve: only for the closing bytes of a line. */
static void
lw_close(struct lw *w, const char *s)
{
	size_t n = strlen(s);

	if (n > w->cap + LW_RESERVE - 1 - w->len)
		n = w->cap + LW_RESERVE - 1 - w->len;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0 when the bytes
 * there are not one (overlong forms and surrogates included). */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t want, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		want = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		want = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		want = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < want)
		return 0;
	for (i = 1; i < want; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((want == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (want == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return want;
}

static bool
text_needs_quotes(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;

	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i += k) {
		k = utf8_seq(p + i, n - i);
		if (k == 0 || p[i] <= ' ' || p[i] == '"' || p[i] == '=' || p[i] == '\\' ||
		    p[i] == 0x7F)
			return true;
	}
	return false;
}

/*
 * Writes s as a JSON string body (json) or a logfmt value (text), escaping
 * quotes, backslashes, control bytes and invalid UTF-8 (U+FFFD in JSON,
 * \xNN in text). A value cut for room ends in an ellipsis inside its
 * quotes. Returns false when it was cut.
 */
static bool
lw_value(struct lw *w, const char *s, bool json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	bool quoted = json || text_needs_quotes(s);
	char esc[8];

	if (quoted && !lw_put(w, "\"", 1))
		return false;
	for (size_t i = 0; i < n; i += k) {
		const char *unit = esc;
		size_t ulen;

		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			k = 1;
			if (json)
				unit = "\\ufffd";
			else
				snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		} else if (p[i] == '"') {
			unit = "\\\"";
		} else if (p[i] == '\\') {
			unit = "\\\\";
		} else if (p[i] == '\n') {
			unit = "\\n";
		} else if (p[i] == '\r') {
			unit = "\\r";
		} else if (p[i] == '\t') {
			unit = "\\t";
		} else if (p[i] < 0x20 || p[i] == 0x7F) {
			snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x", p[i]);
		} else {
			unit = s + i;
		}
		ulen = unit == s + i ? k : strlen(unit);
		if (!lw_put(w, unit, ulen)) {
			lw_close(w, ellipsis);
			if (quoted)
				lw_close(w, "\"");
			return false;
		}
	}
	if (quoted && !lw_put(w, "\"", 1)) {
		lw_close(w, "\"");
		return false;
	}
	return true;
}

/* ISO 8601 in UTC with milliseconds: "2024-05-01T12:00:00.123Z". */
static void
stamp_utc(char *out, size_t outlen)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 || gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, outlen, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out + strlen(out), outlen - strlen(out), ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The common head of every line: journald's priority (it stamps the time
 * itself), then the time and level in the line's format. */
static void
lw_head(struct lw *w, enum log_kind kind, bool event)
{
	bool journal = getenv("JOURNAL_STREAM") != NULL;
	char stamp[40];

	if (journal)
		lw_str(w, kinds[kind].priority);
	if (log_fmt == LOG_FORMAT_JSON) {
		stamp_utc(stamp, sizeof(stamp));
		lw_str(w, "{\"ts\":\"");
		lw_str(w, stamp);
		lw_str(w, "\",\"level\":\"");
		lw_str(w, kinds[kind].label);
		lw_str(w, "\"");
	} else if (event) {
		if (!journal) {
			stamp_utc(stamp, sizeof(stamp));
			lw_str(w, "ts=");
			lw_str(w, stamp);
			lw_str(w, " ");
		}
		lw_str(w, "level=");
		lw_str(w, kinds[kind].label);
	} else if (!journal) {
		time_t now = time(NULL);
		struct tm tm;

		if (localtime_r(&now, &tm) == NULL ||
		    strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			strcpy(stamp, "0000-00-00 00:00:00");
		lw_str(w, stamp);
		lw_str(w, " ");
		lw_str(w, kinds[kind].label);
		lw_str(w, ": ");
	}
}

static void
lw_emit(struct lw *w)
{
	FILE *out = log_out ? log_out : stderr;

	if (log_fmt == LOG_FORMAT_JSON)
		lw_close(w, "}");
	fprintf(out, "%s\n", w->p);
	fflush(out);
}

/* Writes one free-text line, already redacted. */
static void
log_write(enum log_kind kind, const char *msg)
{
	char line[LOG_LINE_MAX + 128];
	struct lw w;

	lw_init(&w, line, sizeof(line));
	lw_head(&w, kind, false);
	if (log_fmt == LOG_FORMAT_JSON) {
		lw_str(&w, ",\"msg\":");
		lw_value(&w, msg, true);
	} else {
		if (kind == LOG_KIND_FATAL && getenv("JOURNAL_STREAM") != NULL)
			lw_str(&w, "fatal: ");
		lw_str(&w, msg);
	}
	lw_emit(&w);
}

/* Events -------------------------------------------------------------------- */

/* Field names whose value is a secret, whatever it looks like. */
static bool
key_is_secret(const char *key)
{
	static const char *const words[] = {"token",  "password",      "secret", "api_key",
	                                    "apikey", "authorization", "cookie"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (log_redact_memcasemem(key, strlen(key), words[i], strlen(words[i])))
			return true;
	return false;
}

static void
lw_key(struct lw *w, const char *key, bool json)
{
	char safe[64];
	size_t i;

	for (i = 0; key[i] && i < sizeof(safe) - 1; i++)
		safe[i] = isalnum((unsigned char)key[i]) || key[i] == '_' || key[i] == '.' ||
		                  key[i] == '-'
		              ? key[i]
		              : '_';
	safe[i] = '\0';
	lw_str(w, json ? ",\"" : " ");
	lw_str(w, safe);
	lw_str(w, json ? "\":" : "=");
}

char *
log_hash(const char *value, char out[LOG_HASH_SIZE])
{
	/* FNV-1a: no key, so the same room hashes the same in every run. */
	unsigned long h = 2166136261UL;

	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		h = ((h ^ *p) * 16777619UL) & 0xFFFFFFFFUL;
	snprintf(out, LOG_HASH_SIZE, "%08lx", h);
	return out;
}

void
log_event_fields(enum log_level level, const char *name, const struct log_field *fields)
{
	static const enum log_kind level_kind[] = {
	    [LOG_LEVEL_ERROR] = LOG_KIND_ERROR,
	    [LOG_LEVEL_WARN] = LOG_KIND_WARN,
	    [LOG_LEVEL_INFO] = LOG_KIND_INFO,
	    [LOG_LEVEL_DEBUG] = LOG_KIND_DEBUG,
	};
	bool json = log_fmt == LOG_FORMAT_JSON;
	char line[LOG_LINE_MAX], value[1024];
	int saved = errno;
	struct lw w;

	if (log_threshold < level || (unsigned)level > LOG_LEVEL_DEBUG)
		return;
	lw_init(&w, line, sizeof(line));
	lw_head(&w, level_kind[level], true);
	lw_key(&w, "event", json);
	lw_value(&w, name ? name : "", json);
	for (size_t i = 0; fields && fields[i].key && !w.full; i++) {
		const struct log_field *f = &fields[i];
		char num[24], hash[LOG_HASH_SIZE];

		if (f->str == NULL)
			continue;
		lw_key(&w, f->key, json);
		if (f->kind == LOG_FIELD_INT) {
			snprintf(num, sizeof(num), "%lld", f->num);
			lw_str(&w, num);
		} else if (f->kind == LOG_FIELD_HASH) {
			lw_value(&w, log_hash(f->str, hash), json);
		} else if (key_is_secret(f->key)) {
			lw_value(&w, log_redacted, json);
		} else {
			/* Redacted before escaping: escapes could hide a secret
			 * from the redaction and the redaction could eat an
			 * escape's backslash. */
			if (!log_redact_bounded(f->str, strlen(f->str), value,
			                        sizeof(value) - sizeof(ellipsis)))
				strcat(value, ellipsis);
			lw_value(&w, value, json);
		}
	}
	lw_emit(&w);
	errno = saved;
}

static void __attribute__((format(printf, 3, 0)))
log_vline(enum log_kind kind, int errnum, const char *fmt, va_list ap)
{
	char msg[LOG_FORMAT_MAX], line[LOG_LINE_MAX];
	size_t room = sizeof(msg) - LOG_ERRNO_ROOM, len;
	bool cut = false;
	int n;

	n = vsnprintf(msg, room, fmt, ap);
	if (n < 0) {
		snprintf(msg, room, "(unformattable log message: %s)", fmt);
		n = (int)strlen(msg);
	}
	len = (size_t)n;
	if (len >= room) {
		cut = true;
		len = log_redact_cut_tail(msg, room - 1);
		msg[len] = '\0';
	}
	if (errnum >= 0) {
		/* msg has LOG_ERRNO_ROOM bytes left for this. */
		int m = snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(errnum));
		if (m > 0)
			len = strlen(msg);
	}
	if (!log_redact_bounded(msg, len, line, sizeof(line) - sizeof(ellipsis)) || cut)
		strcat(line, ellipsis);
	log_write(kind, line);
}

static void __attribute__((format(printf, 4, 0)))
log_level_line(enum log_kind kind, enum log_level level, bool with_errno, const char *fmt,
               va_list ap)
{
	int saved = errno;

	if (log_threshold < level)
		return;
	log_vline(kind, with_errno ? saved : -1, fmt, ap);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_level_line(LOG_KIND_WARN, LOG_LEVEL_WARN, true, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_level_line(LOG_KIND_WARN, LOG_LEVEL_WARN, false, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_level_line(LOG_KIND_ERROR, LOG_LEVEL_ERROR, false, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_level_line(LOG_KIND_INFO, LOG_LEVEL_INFO, false, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_level_line(LOG_KIND_DEBUG, LOG_LEVEL_DEBUG, false, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOG_KIND_FATAL, saved, fmt, ap);
	va_end(ap);
	abort();
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOG_KIND_FATAL, -1, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * service: what every service client (seerr, radarr, sonarr, prowlarr,
 * qbittorrent) shares: one result type that says in plain words what went
 * wrong, the mapping from an HTTP response to it, JSON bodies checked the
 * same way everywhere, building a URL from the root a person typed in the
 * config, and the connection settings every [service] section has.
 *
 * A service_result is a plain value the caller owns (no pointers inside),
 * so a client can fill one on its stack and hand it to a callback.
 */
#ifndef USHER_SERVICE_H
#define USHER_SERVICE_H

#include <stdarg.h>
#include <stdbool.h>

#include <jansson.h>

struct config;
struct http_opts;
struct http_response;

enum service_error {
	SERVICE_OK = 0,
	SERVICE_UNREACHABLE,  /* connection refused, DNS, timeout, lost connection */
	SERVICE_TLS,          /* certificate not trusted, handshake failed */
	SERVICE_AUTH,         /* 401/403: wrong API key or credentials */
	SERVICE_NOT_FOUND,    /* 404 */
	SERVICE_REJECTED,     /* any other 4xx: the server refused this request */
	SERVICE_BAD_RESPONSE, /* malformed or oversized body, wrong JSON shape, odd status */
	SERVICE_SERVER,       /* 5xx */
};

struct service_result {
	enum service_error error;
	long http_status; /* 0 when no response arrived */
	/* Plain words for a person: "Radarr isn't answering (connection
	 * refused)". Empty on success. */
	char message[256];
};

/* A short fixed name for logs and tests: "ok", "unreachable", "auth", ... */
const char *service_error_name(enum service_error error);

/* Sets `out` to success. */
void service_result_ok(struct service_result *out);
/* Sets `out` to `error` with a formatted message. */
void service_result_set(struct service_result *out, enum service_error error, long http_status,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Maps a response to a result: transport errors to UNREACHABLE/TLS/
 * BAD_RESPONSE (too large), 2xx to OK, 401/403 to AUTH, 404 to NOT_FOUND,
 * other 4xx to REJECTED (with the server's own message when its body has
 * one), 5xx to SERVER, anything else to BAD_RESPONSE. `service_name` is the
 * name people know ("Radarr"). */
void service_result_from_http(struct service_result *out, const char *service_name,
                              const struct http_response *resp);

/* A JSON number as a whole number: integers as they are, reals only when
 * they fit (a service may send 8.64e42 for "forever"). Returns false, with
 * *out untouched, for anything else. */
bool service_json_integer(const json_t *v, long long *out);
/* The whole part of a real, when it has an exact one (|d| < 2^53). Returns
 * false, with *out untouched, otherwise. */
bool service_real_integer(double d, long long *out);

/* service_result_from_http(), then whether the body can be JSON at all
 * (http_response_may_be_json): false with `out` saying why, for callers
 * that read the body themselves (core/jscan.h). */
bool service_body_may_be_json(struct service_result *out, const char *service_name,
                              const struct http_response *resp);
/* service_result_from_http(), then parses the body as JSON (object or
 * array). Returns a new reference the caller releases with json_decref(),
 * or NULL with `out` saying why (a non-JSON body is SERVICE_BAD_RESPONSE). */
json_t *service_json_body(struct service_result *out, const char *service_name,
                          const struct http_response *resp);

/* Returns a new string (free() it): `base` (the server root as people type
 * it: "http://radarr:7878", "http://host/radarr/") joined with the path
 * made from `path_fmt`, which must start with '/'. In `path_fmt`, every %s
 * argument is percent-encoded (RFC 3986 unreserved characters kept), so
 * titles can go in a query string as they are; the integer conversions %d
 * %i %u %ld %lu %lld %llu %zu and %% are also accepted. Anything else is a
 * programming error (fatalx). */
char *service_url(const char *base, const char *path_fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *service_vurl(const char *base, const char *path_fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Returns `s` percent-encoded as a new string (free() it). */
char *service_url_encode(const char *s);

/* What every [service] section in the config holds. */
struct service_conf {
	char *url;     /* the server root; never NULL once loaded */
	char *api_key; /* NULL when the section has none (qbittorrent) */
	long timeout_ms;
	bool tls_insecure;
	char *ca_file; /* NULL: the system's trust store */
};

/* Fills `out` with copies from `section`. Returns false (and leaves `out`
 * zeroed) when the section is absent or has no url. */
bool service_conf_load(struct service_conf *out, const struct config *cfg, const char *section);
void service_conf_free(struct service_conf *conf);
/* Sets the timeout and TLS fields of `opts` from `conf` (borrowed: `conf`
 * must outlive the http_start() call that uses `opts`). */
void service_conf_apply(const struct service_conf *conf, struct http_opts *opts);

#endif

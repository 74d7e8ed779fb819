#include "services/service.h"

#include "ops/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "ops/metrics.h"
#include "core/log.h"
#include "core/util.h"

const char *
service_error_name(enum service_error error)
{
	switch (error) {
	case SERVICE_OK:
		return "ok";
	case SERVICE_UNREACHABLE:
		return "unreachable";
	case SERVICE_TLS:
		return "tls";
	case SERVICE_AUTH:
		return "auth";
	case SERVICE_NOT_FOUND:
		return "not-found";
	case SERVICE_REJECTED:
		return "rejected";
	case SERVICE_BAD_RESPONSE:
		return "bad-response";
	case SERVICE_SERVER:
		return "server";
	}
	return "unknown";
}

void
service_result_ok(struct service_result *out)
{
	out->error = SERVICE_OK;
	out->http_status = 0;
	out->message[0] = '\0';
}

void
service_result_set(struct service_result *out, enum service_error error, long http_status,
                   const char *fmt, ...)
{
	va_list ap;

	out->error = error;
	out->http_status = http_status;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

/* The server's own words from an error body, when it has any: Radarr and
 * Seerr send {"message": ...}, Radarr's validation errors are an array of
 * {"errorMessage": ...}, qBittorrent sends plain text. Copies into `out`
 * (empty when there is nothing usable). */
static void
server_words(const struct http_response *resp, char *out, size_t outlen)
{
	json_t *v, *m = NULL;
	const char *s = NULL;

	out[0] = '\0';
	if (resp->body == NULL || resp->body_len == 0)
		return;
	if ((v = json_loadb(resp->body, resp->body_len, 0, NULL)) != NULL) {
		if (json_is_object(v))
			m = json_object_get(v, "message");
		else if (json_is_array(v) && json_is_object(json_array_get(v, 0)))
			m = json_object_get(json_array_get(v, 0), "errorMessage");
		if (json_is_string(m))
			s = json_string_value(m);
		if (s != NULL)
			strlcpy_u(out, s, outlen);
		json_decref(v);
		return;
	}
	/* Short plain text only: an HTML error page says nothing useful. */
	if (resp->body_len < 200 && resp->body[0] != '<' && strlen(resp->body) == resp->body_len) {
		strlcpy_u(out, resp->body, outlen);
		str_trim(out);
	}
	for (char *p = out; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

static void
service_classify_http(struct service_result *out, const char *name,
                      const struct http_response *resp)
{
	const char *why = resp->error ? resp->error : "no answer";
	long st = resp->status;
	char words[160];

	switch (resp->result) {
	case HTTP_OK:
		break;
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_DNS:
	case HTTP_ERR_TIMEOUT:
		service_result_set(out, SERVICE_UNREACHABLE, 0, "%s isn't answering (%s)", name,
		                   why);
		return;
	case HTTP_ERR_TLS:
		service_result_set(out, SERVICE_TLS, 0,
		                   "%s's secure connection failed (%s); check its certificate, or "
		                   "set ca_file or tls_verify in its section",
		                   name, why);
		return;
	case HTTP_ERR_TOO_LARGE:
		service_result_set(out, SERVICE_BAD_RESPONSE, 0, "%s sent an answer too large (%s)",
		                   name, why);
		return;
	case HTTP_ERR_OTHER:
		service_result_set(out, SERVICE_UNREACHABLE, 0, "%s couldn't be asked (%s)", name,
		                   why);
		return;
	}

	if (st >= 200 && st < 300) {
		service_result_ok(out);
		out->http_status = st;
		return;
	}
	server_words(resp, words, sizeof(words));
	if (st == 401 || st == 403)
		service_result_set(out, SERVICE_AUTH, st, "%s rejected the API key (%ld)", name,
		                   st);
	else if (st == 404)
		service_result_set(out, SERVICE_NOT_FOUND, st, "%s doesn't know that (404)%s%s",
		                   name, words[0] ? ": " : "", words);
	else if (st >= 400 && st < 500)
		service_result_set(out, SERVICE_REJECTED, st, "%s refused the request (%ld)%s%s",
		                   name, st, words[0] ? ": " : "", words);
	else if (st >= 500 && st < 600)
		service_result_set(out, SERVICE_SERVER, st, "%s had an internal error (%ld)%s%s",
		                   name, st, words[0] ? ": " : "", words);
	else if (st >= 300 && st < 400)
		service_result_set(out, SERVICE_BAD_RESPONSE, st,
		                   "%s answered with a redirect (%ld); check its url in the config "
		                   "(a missing base path?)",
		                   name, st);
	else
		service_result_set(out, SERVICE_BAD_RESPONSE, st,
		                   "%s answered with an unexpected status (%ld)", name, st);
}

/* Every answer from every service passes here, so this is where /metrics
 * counts upstream calls and errors. */
void
service_result_from_http(struct service_result *out, const char *service_name,
                         const struct http_response *resp)
{
	service_classify_http(out, service_name, resp);
	metrics_upstream(service_name, out->error != SERVICE_OK);
	log_event(out->error == SERVICE_OK ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, "upstream",
	          LOG_STR("upstream", service_name), LOG_INT("status", out->http_status),
	          LOG_STR("result", service_error_name(out->error)),
	          LOG_STR("error", out->error == SERVICE_OK ? NULL : out->message));
}

bool
service_json_integer(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	return json_is_real(v) && service_real_integer(json_real_value(v), out);
}

bool
service_real_integer(double d, long long *out)
{
	/* Beyond ±2^53 a double has no exact whole value anyway, and beyond
	 * ±2^63 the cast is undefined. */
	if (!(d > -9007199254740992.0 && d < 9007199254740992.0))
		return false;
	*out = (long long)d;
	return true;
}

bool
service_body_may_be_json(struct service_result *out, const char *name,
                         const struct http_response *resp)
{
	char err[160];

	service_result_from_http(out, name, resp);
	if (out->error != SERVICE_OK)
		return false;
	if (!http_response_may_be_json(resp, err, sizeof(err))) {
		service_result_set(out, SERVICE_BAD_RESPONSE, resp->status,
		                   "%s sent something usher can't read (%s)", name, err);
		return false;
	}
	return true;
}

json_t *
service_json_body(struct service_result *out, const char *name, const struct http_response *resp)
{
	char err[160];
	json_t *v;

	/* http_response_json() makes service_body_may_be_json()'s checks itself. */
	service_result_from_http(out, name, resp);
	if (out->error != SERVICE_OK)
		return NULL;
	if ((v = http_response_json(resp, err, sizeof(err))) == NULL) {
		service_result_set(out, SERVICE_BAD_RESPONSE, resp->status,
		                   "%s sent something usher can't read (%s)", name, err);
		return NULL;
	}
	return v;
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

static void
encode_into(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

		if (is_unreserved(*p))
			buf_append(b, p, 1);
		else
			buf_append(b, esc, 3);
	}
}

char *
service_url_encode(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	encode_into(&b, s);
	return buf_steal(&b);
}

char *
service_url(const char *base, const char *path_fmt, ...)
{
	va_list ap;
	char *url;

	va_start(ap, path_fmt);
	url = service_vurl(base, path_fmt, ap);
	va_end(ap);
	return url;
}

char *
service_vurl(const char *base, const char *path_fmt, va_list ap)
{
	size_t blen = strlen(base);
	const char *f;
	struct buf b;

	if (path_fmt[0] != '/')
		fatalx("service_url: path '%s' must start with '/'", path_fmt);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	buf_init(&b, 0);
	buf_append(&b, base, blen);

	for (f = path_fmt; *f != '\0'; f++) {
		int longs = 0;
		bool size = false;

		if (*f != '%') {
			buf_append(&b, f, 1);
			continue;
		}
		f++;
		if (*f == 'z') {
			size = true;
			f++;
		}
		while (*f == 'l' && longs < 2) {
			longs++;
			f++;
		}
		switch (*f) {
		case '%':
			buf_append(&b, "%", 1);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			encode_into(&b, s ? s : "");
			break;
		}
		case 'd':
		case 'i':
			if (size)
				fatalx("service_url: %%z%c is not supported", *f);
			if (longs == 2)
				buf_printf(&b, "%lld", va_arg(ap, long long));
			else if (longs == 1)
				buf_printf(&b, "%ld", va_arg(ap, long));
			else
				buf_printf(&b, "%d", va_arg(ap, int));
			break;
		case 'u':
			if (size)
				buf_printf(&b, "%zu", va_arg(ap, size_t));
			else if (longs == 2)
				buf_printf(&b, "%llu", va_arg(ap, unsigned long long));
			else if (longs == 1)
				buf_printf(&b, "%lu", va_arg(ap, unsigned long));
			else
				buf_printf(&b, "%u", va_arg(ap, unsigned));
			break;
		default:
			fatalx("service_url: unsupported conversion in '%s'", path_fmt);
		}
	}
	return buf_steal(&b);
}

bool
service_conf_load(struct service_conf *out, const struct config *cfg, const char *section)
{
	const char *url, *key, *ca;

	memset(out, 0, sizeof(*out));
	if (cfg == NULL || !config_has_section(cfg, section))
		return false;
	if ((url = config_get(cfg, section, "url")) == NULL || url[0] == '\0')
		return false;
	out->url = xstrdup(url);
	if ((key = config_get(cfg, section, "api_key")) != NULL && key[0] != '\0')
		out->api_key = xstrdup(key);
	out->timeout_ms = config_get_int(cfg, section, "timeout_ms");
	if (out->timeout_ms <= 0)
		out->timeout_ms = 15000;
	out->tls_insecure = !config_get_bool(cfg, section, "tls_verify");
	if ((ca = config_get(cfg, section, "ca_file")) != NULL && ca[0] != '\0')
		out->ca_file = xstrdup(ca);
	return true;
}

void
service_conf_free(struct service_conf *conf)
{
	free(conf->url);
	free(conf->api_key);
	free(conf->ca_file);
	memset(conf, 0, sizeof(*conf));
}

void
service_conf_apply(const struct service_conf *conf, struct http_opts *opts)
{
	opts->timeout_ms = conf->timeout_ms;
	opts->tls_insecure = conf->tls_insecure;
	opts->ca_file = conf->ca_file;
}

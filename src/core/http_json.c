/* The JSON conveniences of http.h, apart from the transfer machinery in
 * http.c: they only build http_start()'s options and read a response. */
#include "core/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"

/* RFC 8259's whitespace, which may stand before a JSON text. */
static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether `headers` (NULL-terminated, may be NULL) has a `name:` line, in
 * any case. The same test as http.c's for "Expect:"; kept apart because
 * http.h's API stays as it is and there is no private header between the
 * two files. */
static bool
has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
			return true;
	return false;
}

bool
http_response_may_be_json(const struct http_response *resp, char *err, size_t errlen)
{
	const char *type;
	size_t i;

	if (resp->result != HTTP_OK) {
		snprintf(err, errlen, "no response: %s", resp->error ? resp->error : "error");
		return false;
	}
	for (i = 0; i < resp->body_len && is_json_space(resp->body[i]); i++)
		;
	if (i == resp->body_len) {
		snprintf(err, errlen, "empty response (status %ld)", resp->status);
		return false;
	}
	type = http_response_header(resp, "Content-Type");
	if ((type != NULL && strcasestr(type, "html") != NULL) || resp->body[i] == '<') {
		snprintf(err, errlen, "expected JSON, got an HTML page (status %ld)", resp->status);
		return false;
	}
	return true;
}

json_t *
http_response_json(const struct http_response *resp, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v;

	if (!http_response_may_be_json(resp, err, errlen))
		return NULL;
	if ((v = json_loadb(resp->body, resp->body_len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "malformed JSON at line %d, column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		return NULL;
	}
	return v;
}

struct http_call *
http_start_json(struct http *h, const char *method, const char *url, const char *const *headers,
                const json_t *body, const struct http_opts *base, http_done_cb *cb, void *arg)
{
	struct http_opts o = {0};
	const char **all;
	char *text = NULL;
	size_t n = 0, i = 0;
	struct http_call *c;

	if (base != NULL)
		o = *base;
	while (headers != NULL && headers[n] != NULL)
		n++;
	all = xcalloc(n + 3, sizeof(*all));
	for (; i < n; i++)
		all[i] = headers[i];
	if (!has_header(headers, "Accept"))
		all[i++] = "Accept: application/json";
	if (body != NULL && !has_header(headers, "Content-Type"))
		all[i++] = "Content-Type: application/json";
	all[i] = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		fatalx("cannot serialise a JSON request body");
	o.method = method;
	o.url = url;
	o.headers = all;
	o.body = text;
	o.body_len = text ? strlen(text) : 0;
	c = http_start(h, &o, cb, arg);
	free(text);
	free(all);
	return c;
}

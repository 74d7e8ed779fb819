#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/http.h"
#include "services/arr.h"
#include "services/service.h"

static void
test_url(void **state)
{
	char *u;

	(void)state;
	u = service_url("http://radarr:7878", "/api/v3/movie?tmdbId=%ld", 438631L);
	assert_string_equal(u, "http://radarr:7878/api/v3/movie?tmdbId=438631");
	free(u);
	u = service_url("http://host/radarr//", "/api/v3/movie/lookup?term=%s&n=%zu%%",
	                "Amélie & Nino/2001?", (size_t)3);
	assert_string_equal(u,
	                    "http://host/radarr/api/v3/movie/lookup?term=Am%C3%A9lie%20%26%20Nino"
	                    "%2F2001%3F&n=3%");
	free(u);
}

static void
test_from_http(void **state)
{
	struct service_result r;
	struct http_response resp = {.result = HTTP_OK, .status = 400, .body = ""};
	json_t *v;

	(void)state;
	resp.body = "[{\"propertyName\":\"TmdbId\",\"errorMessage\":\"This movie has already been "
	            "added\"}]";
	resp.body_len = strlen(resp.body);
	service_result_from_http(&r, "Radarr", &resp);
	assert_int_equal(r.error, SERVICE_REJECTED);
	assert_string_equal(r.message,
	                    "Radarr refused the request (400): This movie has already been added");
	resp.status = 302;
	service_result_from_http(&r, "Radarr", &resp);
	assert_int_equal(r.error, SERVICE_BAD_RESPONSE);
	resp = (struct http_response){
	    .result = HTTP_ERR_TIMEOUT, .body = "", .error = "timed out after 5000 ms"};
	service_result_from_http(&r, "Sonarr", &resp);
	assert_int_equal(r.error, SERVICE_UNREACHABLE);
	assert_string_equal(r.message, "Sonarr isn't answering (timed out after 5000 ms)");
	resp = (struct http_response){
	    .result = HTTP_OK, .status = 200, .body = "{\"a\":1}", .body_len = 7};
	v = service_json_body(&r, "Radarr", &resp);
	assert_non_null(v);
	assert_int_equal(r.error, SERVICE_OK);
	json_decref(v);
	assert_string_equal(service_error_name(SERVICE_AUTH), "auth");
}

static void
test_parsers(void **state)
{
	(void)state;
	assert_int_equal(arr_parse_timespan("00:12:31"), 751);
	assert_int_equal(arr_parse_timespan("1.02:03:04"), 93784);
	assert_int_equal(arr_parse_timespan("00:00:05.1234567"), 5);
	assert_int_equal(arr_parse_timespan("soon"), -1);
	assert_int_equal(arr_parse_timespan("00:61:00"), -1);
	assert_int_equal(arr_parse_date("2025-01-05T11:12:31Z"), 1736075551);
	assert_int_equal(arr_parse_date("2025-01-05T11:12:31.5Z"), 1736075551);
	assert_int_equal(arr_parse_date("2025-01-05T12:12:31+01:00"), 1736075551);
	assert_int_equal(arr_parse_date("yesterday"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_from_http),
	    cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

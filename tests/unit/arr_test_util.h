/*
 * arr_test_util: what the service tests (radarr, sonarr, prowlarr,
 * qbittorrent) share on top of fake_server.h: one fakehttp for the whole
 * cmocka group (`fake`, started by fake_group_setup and stopped by
 * fake_group_teardown), a config made from environment-style strings,
 * bounded loop runs, and a free loopback port nobody listens on.
 */
#ifndef USHER_TEST_ARR_TEST_UTIL_H
#define USHER_TEST_ARR_TEST_UTIL_H

#include "fake_server.h"

#include "core/config.h"
#include "core/http.h"
#include "core/loop.h"

/* The group's fakehttp; tests set its routes and read fake.port. */
FAKE_UNUSED static struct fake fake = {.pid = -1};

FAKE_UNUSED static int
fake_group_setup(void **state)
{
	(void)state;
	return fake_start(&fake);
}

FAKE_UNUSED static int
fake_group_teardown(void **state)
{
	(void)state;
	fake_stop(&fake);
	return 0;
}

/* Runs the loop until *flag reaches `want` or `ms` pass. */
FAKE_UNUSED static void
run_until(struct loop *loop, const int *flag, int want, unsigned ms)
{
	unsigned long long end = fake_now_ms() + ms;

	while (*flag < want && fake_now_ms() < end)
		loop_run_once(loop, 50);
}

/* Runs the loop for `ms` (to show that nothing more happens). */
FAKE_UNUSED static void
run_for(struct loop *loop, unsigned ms)
{
	unsigned long long end = fake_now_ms() + ms;

	while (fake_now_ms() < end)
		loop_run_once(loop, 20);
}

/* A config from "USHER_SECTION_KEY=value" strings (NULL-terminated). */
FAKE_UNUSED static struct config *
config_from_env(const char *const *env)
{
	return config_load(NULL, (char *const *)env);
}

/* Makes what a service client runs on: a loop, an http client on it and a
 * config from `env` (as config_from_env). arr_env_close() frees them. */
FAKE_UNUSED static void
arr_env_open(struct loop **loop, struct http **http, struct config **cfg, const char *const *env)
{
	*loop = loop_new();
	*http = http_new(*loop);
	*cfg = config_from_env(env);
}

/* Frees what arr_env_open() made, once the client on it is freed. */
FAKE_UNUSED static void
arr_env_close(struct loop *loop, struct http *http, struct config *cfg)
{
	http_free(http);
	config_free(cfg);
	loop_free(loop);
}

/* A loopback port that refuses connections (bound, then closed). */
FAKE_UNUSED static int
closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		return 1;
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

#endif

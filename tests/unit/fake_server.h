/*
 * fake_server: the one place C tests and bench programs start the Python
 * fakes under tests/fakes/ (fakehttp.py, fake_seerr.py, or any helper that
 * prints one line when ready) and stop them. For fakehttp.py it also talks
 * to the control API (/__fake/routes, /__fake/requests, /__fake/reset)
 * with a small blocking client, so a test can set the routes it needs and
 * check the exact requests that reached the fake.
 *
 * Header-only (static functions) because tests/CMakeLists.txt builds each
 * test from its one file. Needs USHER_TESTS_DIR and USHER_PYTHON defined.
 * A fake is always killed and reaped by fake_stop(); every wait here is
 * bounded.
 */
#ifndef USHER_TEST_FAKE_SERVER_H
#define USHER_TEST_FAKE_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define FAKE_UNUSED __attribute__((unused))

struct fake {
	pid_t pid;
	int port;
};

FAKE_UNUSED static unsigned long long
fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

FAKE_UNUSED static void
fake_stop(struct fake *f)
{
	int status;

	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = -1;
			return;
		}
		usleep(50 * 1000);
	}
	kill(f->pid, SIGKILL);
	waitpid(f->pid, &status, 0);
	f->pid = -1;
}

/* Starts argv[0] (a path) with `argv` (NULL-terminated), its stdout a
 * pipe, and reads the first line it prints (without the newline) into
 * `line` within `timeout_ms`: "" when it printed none in time. With
 * `to_stdin`, the child's stdin is a pipe too and *to_stdin its write end,
 * for the caller to close. Returns the child's pid, which the caller must
 * kill and reap whatever the line says, or -1 when none was started. */
FAKE_UNUSED static pid_t
fake_spawn(const char *const *argv, int *to_stdin, char *line, size_t size, unsigned timeout_ms)
{
	int in[2] = {-1, -1}, out[2];
	size_t len = 0;
	unsigned long long deadline = fake_now_ms() + timeout_ms;
	pid_t pid;

	line[0] = '\0';
	if (to_stdin != NULL && pipe(in) == -1)
		return -1;
	if (pipe(out) == -1) {
		out[0] = out[1] = -1;
		pid = -1;
	} else {
		pid = fork();
	}
	if (pid == -1) {
		int fds[] = {in[0], in[1], out[0], out[1]};
		for (size_t i = 0; i < 4; i++)
			if (fds[i] != -1)
				close(fds[i]);
		return -1;
	}
	if (pid == 0) {
		/* A test that dies must not leave its fake holding ctest's
		 * output pipe open until the timeout. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (to_stdin != NULL) {
			dup2(in[0], STDIN_FILENO);
			close(in[0]);
			close(in[1]);
		}
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (to_stdin != NULL) {
		close(in[0]);
		*to_stdin = in[1];
	}
	close(out[1]);
	while (len < size - 1 && fake_now_ms() < deadline) {
		struct pollfd p = {.fd = out[0], .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		if (read(out[0], line + len, 1) != 1 || line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	close(out[0]);
	return pid;
}

/* Starts the Python fake `script` (a path under tests/, such as
 * "fakes/fake_seerr.py") with `args` (NULL-terminated, may be NULL) and
 * "--port 0", and reads its "LISTENING <port>" within 15 s. Returns 0, or
 * -1 with nothing left running. */
FAKE_UNUSED static int
fake_start_script(struct fake *f, const char *script, const char *const *args)
{
	char path[512], line[64];
	const char *argv[24] = {USHER_PYTHON, path, "--port", "0"};
	size_t n = 4;

	f->pid = -1;
	snprintf(path, sizeof(path), "%s/%s", USHER_TESTS_DIR, script);
	for (; args != NULL && *args != NULL; args++) {
		if (n >= sizeof(argv) / sizeof(argv[0]) - 1)
			return -1;
		argv[n++] = *args;
	}
	argv[n] = NULL;
	if ((f->pid = fake_spawn(argv, NULL, line, sizeof(line), 15000)) == -1)
		return -1;
	if (sscanf(line, "LISTENING %d", &f->port) != 1) {
		fprintf(stderr, "%s did not start: '%s'\n", script, line);
		fake_stop(f);
		return -1;
	}
	return 0;
}

/* Starts tests/fakes/fakehttp.py with no routes (see fake_start_script). */
FAKE_UNUSED static int
fake_start(struct fake *f)
{
	return fake_start_script(f, "fakes/fakehttp.py", NULL);
}

/* One blocking request to the fake's control API (5 s at most). Returns
 * the response body (malloc'd, NUL-terminated) or NULL. */
FAKE_UNUSED static char *
fake_control(const struct fake *f, const char *method, const char *path, const char *body)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
	size_t blen = body ? strlen(body) : 0, len = 0, cap = 65536;
	char *req, *resp = malloc(cap), *start;
	unsigned long long deadline = fake_now_ms() + 5000;
	int fd, n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (resp == NULL || (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		free(resp);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		free(resp);
		return NULL;
	}
	n = asprintf(&req,
	             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	             method, path, blen, body ? body : "");
	if (n < 0 || write(fd, req, (size_t)n) != n) {
		free(req);
		close(fd);
		free(resp);
		return NULL;
	}
	free(req);
	while (fake_now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (len + 4096 > cap) {
			char *bigger = realloc(resp, cap *= 2);
			if (bigger == NULL)
				break;
			resp = bigger;
		}
		if ((r = read(fd, resp + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	resp[len] = '\0';
	if ((start = strstr(resp, "\r\n\r\n")) == NULL) {
		free(resp);
		return NULL;
	}
	memmove(resp, start + 4, strlen(start + 4) + 1);
	return resp;
}

/* Replaces the routes ({"routes": [...]} as JSON text, "mode" added) and
 * forgets the recorded requests. Returns 0 or -1. */
FAKE_UNUSED static int
fake_set_routes(const struct fake *f, json_t *routes /* takes */)
{
	json_t *spec = json_pack("{s:o, s:s}", "routes", routes, "mode", "replace");
	char *text = json_dumps(spec, JSON_COMPACT);
	char *ans = fake_control(f, "POST", "/__fake/routes", text);
	char *ans2 = fake_control(f, "POST", "/__fake/reset", "");
	int ok = ans && strstr(ans, "\"ok\"") && ans2 ? 0 : -1;

	free(text);
	free(ans);
	free(ans2);
	json_decref(spec);
	return ok;
}

/* The requests recorded since the last reset (a new reference), or NULL. */
FAKE_UNUSED static json_t *
fake_requests(const struct fake *f)
{
	char *ans = fake_control(f, "GET", "/__fake/requests", NULL);
	json_t *v = ans ? json_loads(ans, 0, NULL) : NULL;

	free(ans);
	return v;
}

/* A fixture from tests/fakes/arr/ (a new reference), or NULL. */
FAKE_UNUSED static json_t *
fake_fixture(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/fakes/arr/%s", USHER_TESTS_DIR, name);
	return json_load_file(path, 0, NULL);
}

/* Case-insensitive header lookup in a recorded request. Borrowed. */
FAKE_UNUSED static const char *
fake_req_header(const json_t *req, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(json_object_get(req, "headers"), k, v)
	{
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	}
	return NULL;
}

/* The first value of query parameter `name` in a recorded request. */
FAKE_UNUSED static const char *
fake_req_query(const json_t *req, const char *name)
{
	return json_string_value(
	    json_array_get(json_object_get(json_object_get(req, "query"), name), 0));
}

#endif

#include "demo/demo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/paths.h"
#include "core/util.h"

#define DEMO_PYTHON           "/usr/bin/python3"
#define DEMO_START_TIMEOUT_MS 15000
#define DEMO_LINE_MAX         4096

struct demo {
	pid_t pid;
	int to_child; /* the services' stdin: closing it stops them */
	char *dir;
	char *config_path;
};

static void
demo_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *path;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(dir);
}

static long
demo_ms_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Reads the one JSON line the services print once they listen. */
static int
demo_read_ready_line(int fd, char *line, size_t cap, char *err, size_t errlen)
{
	struct timespec start;
	size_t used = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (used + 1 < cap) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long left = DEMO_START_TIMEOUT_MS - demo_ms_since(&start);
		ssize_t n;

		if (left <= 0) {
			snprintf(err, errlen, "the demo services did not start within %d s",
			         DEMO_START_TIMEOUT_MS / 1000);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			snprintf(err, errlen, "waiting for the demo services: %s", strerror(errno));
			return -1;
		}
		n = read(fd, line + used, 1);
		if (n == 0) {
			snprintf(err, errlen, "the demo services exited before they were ready");
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(err, errlen, "reading from the demo services: %s",
			         strerror(errno));
			return -1;
		}
		if (line[used] == '\n') {
			line[used] = '\0';
			return 0;
		}
		used++;
	}
	snprintf(err, errlen, "the demo services printed an over-long first line");
	return -1;
}

static const char *
demo_field(json_t *ready, const char *key)
{
	const char *v = json_string_value(json_object_get(ready, key));

	return v ? v : "";
}

static int
demo_write_config(struct demo *demo, json_t *ready, char *err, size_t errlen)
{
	FILE *f;
	int fd;

	demo->config_path = xasprintf("%s/usher.conf", demo->dir);
	fd = open(demo->config_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "cannot write %s: %s", demo->config_path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	fprintf(f,
	        "# Written by `usher demo`: the terminal is the chat, the services are "
	        "pretend.\n"
	        "[usher]\nlog_level = warn\n\n"
	        "[seerr]\nurl = %s\napi_key = %s\n\n"
	        "[radarr]\nurl = %s\napi_key = %s\n\n"
	        "[sonarr]\nurl = %s\napi_key = %s\n\n"
	        "[qbittorrent]\nurl = %s\nusername = %s\npassword = %s\n\n"
	        "[console]\nperson = you\n\n"
	        "[person you]\nrole = admin\nseerr_user = 1\n\n"
	        "[progress]\ninterval_s = 3\nedit_every_s = 2\n\n"
	        "[store]\npath = %s/usher.db\n",
	        demo_field(ready, "seerr"), demo_field(ready, "seerr_api_key"),
	        demo_field(ready, "radarr"), demo_field(ready, "radarr_api_key"),
	        demo_field(ready, "sonarr"), demo_field(ready, "sonarr_api_key"),
	        demo_field(ready, "qbittorrent"), demo_field(ready, "qbittorrent_username"),
	        demo_field(ready, "qbittorrent_password"), demo->dir);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", demo->config_path, strerror(errno));
		return -1;
	}
	return 0;
}

static pid_t
demo_spawn(const char *script, double speed, int *to_child, int *from_child, const char *log)
{
	int in[2], out[2];
	pid_t pid;
	char speed_arg[32];

	if (pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	snprintf(speed_arg, sizeof(speed_arg), "%g", speed);
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* The parent's loop may block signals for its signalfd. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		if (logfd != -1)
			dup2(logfd, STDERR_FILENO);
		/* Ctrl-C in the terminal is usher's to handle: it stops the
		 * services itself, in order. */
		setpgid(0, 0);
		execl(DEMO_PYTHON, DEMO_PYTHON, script, "--speed", speed_arg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid == -1) {
		close(in[1]);
		close(out[0]);
		return -1;
	}
	*to_child = in[1];
	*from_child = out[0];
	return pid;
}

struct demo *
demo_start(double speed, char *err, size_t errlen)
{
	struct demo *demo = xcalloc(1, sizeof(*demo));
	char template[] = "/tmp/usher-demo-XXXXXX";
	char *dir = paths_data("contrib/demo"), *script, *log;
	char line[DEMO_LINE_MAX];
	int from_child = -1;
	json_t *ready;
	json_error_t jerr;

	demo->pid = -1;
	demo->to_child = -1;
	script = xasprintf("%s/demo_services.py", dir);
	free(dir);
	if (access(script, R_OK) == -1) {
		snprintf(err, errlen, "cannot find the demo services at %s (set USHER_DATA_DIR)",
		         script);
		goto fail;
	}
	if (mkdtemp(template) == NULL) {
		snprintf(err, errlen, "cannot make a temporary folder: %s", strerror(errno));
		goto fail;
	}
	demo->dir = xstrdup(template);
	log = xasprintf("%s/demo-services.log", demo->dir);
	demo->pid = demo_spawn(script, speed, &demo->to_child, &from_child, log);
	free(log);
	if (demo->pid == -1) {
		snprintf(err, errlen, "cannot start %s: %s", script, strerror(errno));
		goto fail;
	}
	if (demo_read_ready_line(from_child, line, sizeof(line), err, errlen) == -1)
		goto fail;
	ready = json_loads(line, 0, &jerr);
	if (!json_is_object(ready)) {
		snprintf(err, errlen, "the demo services said something unexpected: %.200s", line);
		json_decref(ready);
		goto fail;
	}
	if (demo_write_config(demo, ready, err, errlen) == -1) {
		json_decref(ready);
		goto fail;
	}
	json_decref(ready);
	close(from_child);
	free(script);
	return demo;
fail:
	if (from_child != -1)
		close(from_child);
	free(script);
	demo_stop(demo);
	return NULL;
}

const char *
demo_config_path(const struct demo *demo)
{
	return demo->config_path;
}

/* Waits up to `ms` for the child; returns true when it was reaped. */
static bool
demo_wait(pid_t pid, int ms)
{
	int i;

	for (i = 0; i < ms / 20; i++) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r == -1 && errno == ECHILD))
			return true;
		usleep(20000);
	}
	return false;
}

void
demo_stop(struct demo *demo)
{
	if (demo == NULL)
		return;
	if (demo->to_child != -1)
		close(demo->to_child);
	if (demo->pid > 0) {
		kill(demo->pid, SIGTERM);
		if (!demo_wait(demo->pid, 3000)) {
			kill(demo->pid, SIGKILL);
			waitpid(demo->pid, NULL, 0);
		}
	}
	if (demo->dir)
		demo_remove_dir(demo->dir);
	free(demo->dir);
	free(demo->config_path);
	free(demo);
}

/*
 * memory_bench: what usher holds in memory when it is connected to three
 * networks and follows 1,000 requests. Matrix and Discord are the loopback
 * fakes (tests/fakes/fake_matrix.py, fake_discord.py); XMPP is a throwaway
 * prosody (tests/fakes/xmpp_prosody.py) when prosody is installed, else a
 * console gateway stands in for it. Seerr is fake_seerr.py with a generated
 * catalogue of 1,000 films and one request for each; the 1,000 requests
 * are tracked through progress_track() into the store before the bot
 * starts, so the bot's own tracker resumes them. After some progress
 * cycles it prints VmRSS and VmHWM (/proc/self/status), the requests the
 * bot follows (its /metrics gauge), and a baseline taken before the bot
 * existed (curl_global_init + the loop), so the bot's own share shows.
 *
 * Target: VmRSS <= 8 MB. Exits 1 when the bot does not follow them all.
 */
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench_common.h"
#include "bot/bot.h"
#include "bot/progress.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/store.h"
#include "gateway/console.h"
#include "gateway/gateway.h"

#ifndef USHER_PYTHON
#define USHER_PYTHON "/usr/bin/python3"
#endif
#include "../tests/unit/fake_server.h"

#define TRACKED       1000
#define FIRST_TMDB    900001
#define DISCORD_TOKEN "bench-discord-token"
#define XMPP_PASSWORD "bench-xmpp-pw"

/* 1,000 films nobody has, each asked for once (request ids 1..1000). */
static int
write_seerr_files(const char *catalog, const char *state)
{
	struct buf c, s;
	int i, rc;

	buf_init(&c, 0);
	buf_init(&s, 0);
	buf_printf(&c, "{\"movies\": [");
	buf_printf(&s, "{\"requests\": [");
	for (i = 0; i < TRACKED; i++) {
		buf_printf(&c,
		           "%s{\"tmdbId\": %d, \"imdbId\": \"tt%07d\", \"title\": \"Film %d\", "
		           "\"releaseDate\": \"2020-01-01\", \"runtime\": 100, \"posterPath\": "
		           "null, \"overview\": \"\", \"library\": null}",
		           i ? ", " : "", FIRST_TMDB + i, i, i);
		buf_printf(&s,
		           "%s{\"user\": 2, \"mediaType\": \"movie\", \"tmdbId\": %d, "
		           "\"status\": 2, \"is4k\": false}",
		           i ? ", " : "", FIRST_TMDB + i);
	}
	buf_printf(&c, "], \"shows\": [], \"people\": [], \"requests\": []}\n");
	buf_printf(&s, "]}\n");
	rc =
	    bench_write_file(catalog, c.data) == 0 && bench_write_file(state, s.data) == 0 ? 0 : -1;
	buf_free(&c);
	buf_free(&s);
	return rc;
}

static int
no_send(void *arg, const char *network, const char *room, const struct chat_out *out,
        gateway_done_cb *done, void *done_arg)
{
	(void)arg;
	(void)network;
	(void)room;
	(void)out;
	(void)done;
	(void)done_arg;
	return -1;
}

/* Writes the tracked requests into the store as the bot itself would. */
static int
track_all(struct store *store, struct loop *loop)
{
	struct progress_services svc = {0};
	struct progress_host host = {.send = no_send};
	struct progress *p = progress_new(loop, store, &svc, &host, 3600 * 1000, 0);
	char label[64];
	int i, rc = 0;

	for (i = 0; i < TRACKED && rc == 0; i++) {
		struct progress_item it = {.seerr_request_id = i + 1,
		                           .kind = SEERR_MOVIE,
		                           .tmdb_id = FIRST_TMDB + i,
		                           .label = label,
		                           .network = "matrix",
		                           .room = "!family:localhost",
		                           .person = "dad"};

		snprintf(label, sizeof(label), "Film %d (2020)", i);
		rc = progress_track(p, &it);
	}
	progress_free(p);
	return rc;
}

/* A child with stdout and stderr to /dev/null. Returns its pid or -1. */
static pid_t
spawn_quiet(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		FILE *null = freopen("/dev/null", "w", stdout);

		(void)null;
		dup2(STDOUT_FILENO, STDERR_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int
wait_child(pid_t pid, unsigned timeout_ms)
{
	unsigned long long deadline = fake_now_ms() + timeout_ms;
	int status;

	while (fake_now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* A throwaway prosody with an account for usher. Returns its client port,
 * or 0 when it cannot run here (then nothing is left running). */
static int
start_prosody(const char *dir, struct fake *prosody)
{
	char pdir[128], cfg[160], line[64], port_s[16], account[64];
	const char *setup[] = {
	    USHER_PYTHON, USHER_TESTS_DIR "/fakes/xmpp_prosody.py", "setup", pdir, account, NULL};
	const char *run[] = {"prosody", "--config", cfg, "-F", NULL};
	const char *wait[] = {
	    USHER_PYTHON, USHER_TESTS_DIR "/fakes/xmpp_prosody.py", "wait", port_s, "20", NULL};
	int port = 0;
	pid_t pid;

	if (access("/usr/bin/prosody", X_OK) != 0)
		return 0;
	snprintf(pdir, sizeof(pdir), "%s/prosody", dir);
	snprintf(cfg, sizeof(cfg), "%s/prosody.cfg.lua", pdir);
	snprintf(account, sizeof(account), "usher:%s", XMPP_PASSWORD);
	if ((pid = fake_spawn(setup, NULL, line, sizeof(line), 15000)) == -1)
		return 0;
	wait_child(pid, 15000);
	if (sscanf(line, "PORT %d", &port) != 1)
		return 0;
	snprintf(port_s, sizeof(port_s), "%d", port);
	if ((prosody->pid = spawn_quiet(run)) == -1)
		return 0;
	if ((pid = spawn_quiet(wait)) == -1 || wait_child(pid, 25000) != 0) {
		fake_stop(prosody);
		return 0;
	}
	prosody->port = port;
	return port;
}

/* The bot's own count of requests it follows, from its /metrics. The bot
 * answers on this loop, so a child asks and the loop runs meanwhile.
 * Returns the count, or -1. */
static long
tracked_by_bot(struct loop *loop, const struct fake *httpd)
{
	unsigned long long deadline = fake_now_ms() + 10000;
	char answer[32] = "";
	int fds[2], status;
	long n = -1;
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == 0) {
		/* The "following" gauge where there is one, else the sum over
		 * progress's states ("submitting" is not yet followed). */
		const char *key = "\nusher_tracked_requests{state=\"";
		char *text = fake_control(httpd, "GET", "/metrics", NULL);
		char *at = text;
		long sum = text ? 0 : -1, following = -1;

		while (at && (at = strstr(at, key)) != NULL) {
			char *label = at + strlen(key), *close_brace = strchr(label, '}');
			long v;

			if (close_brace == NULL)
				break;
			v = strtol(close_brace + 1, NULL, 10);
			if (strncmp(label, "following\"", 10) == 0)
				following = v;
			else if (strncmp(label, "submitting\"", 11) != 0)
				sum += v;
			at = close_brace;
		}
		dprintf(fds[1], "%ld\n", following >= 0 ? following : sum);
		_exit(0);
	}
	close(fds[1]);
	if (pid == -1) {
		close(fds[0]);
		return -1;
	}
	while (fake_now_ms() < deadline) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};

		if (poll(&p, 1, 0) == 1) {
			ssize_t r = read(fds[0], answer, sizeof(answer) - 1);

			if (r > 0) {
				answer[r] = '\0';
				n = strtol(answer, NULL, 10);
			}
			break;
		}
		loop_run_once(loop, 10);
	}
	close(fds[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return n;
}

/* Where the resident memory is, by mapping: the heap, anonymous mappings
 * (malloc's large blocks and other arenas, PCRE2 JIT code, thread stacks),
 * and each shared library's private (written) pages. Then malloc's own
 * view (mallinfo2): what is in use and what it holds free. */
static void
print_breakdown(void)
{
	struct {
		char name[64];
		long rss, dirty;
	} maps[96];
	size_t n = 0, i = 0;
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	struct mallinfo2 mi = mallinfo2();

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		char path[400] = "";
		int end = 0;
		long kb;

		/* "lo-hi perms offset dev inode [path]" opens each mapping. */
		if (sscanf(line, "%lx-%lx %*s %*x %*s %*u%n", &lo, &hi, &end) == 2 && end > 0) {
			const char *base;

			sscanf(line + end, "%399s", path);
			base = strrchr(path, '/');
			base = path[0] == '\0' ? "[anon]" : base ? base + 1 : path;
			for (i = 0; i < n && strcmp(maps[i].name, base) != 0; i++)
				;
			if (i == n && n < sizeof(maps) / sizeof(maps[0])) {
				snprintf(maps[n].name, sizeof(maps[n].name), "%s", base);
				maps[n].rss = maps[n].dirty = 0;
				n++;
			}
			continue;
		}
		if (i == n)
			continue;
		if (sscanf(line, "Rss: %ld kB", &kb) == 1)
			maps[i].rss += kb;
		else if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1)
			maps[i].dirty += kb;
	}
	fclose(f);
	printf("  by mapping (KiB resident, of which private dirty):\n");
	for (i = 0; i < n; i++)
		if (maps[i].rss >= 64)
			printf("    %7ld %7ld  %s\n", maps[i].rss, maps[i].dirty, maps[i].name);
	printf("  malloc: arena %zu KiB, mmapped %zu KiB (%zu blocks), in use %zu KiB, "
	       "free %zu KiB, trimmable %zu KiB\n",
	       mi.arena / 1024, mi.hblkhd / 1024, mi.hblks, mi.uordblks / 1024, mi.fordblks / 1024,
	       mi.keepcost / 1024);
}

static int
free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd != -1 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd != -1)
		close(fd);
	return port;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
	                                     {"breakdown", no_argument, NULL, 'b'},
	                                     {NULL, 0, NULL, 0}};
	struct fake fseerr = {.pid = -1}, fmatrix = {.pid = -1}, fdiscord = {.pid = -1},
	            prosody = {.pid = -1}, httpd = {.pid = -1};
	char dir[64], catalog[128], state[128], path[128], err[512];
	struct config *cfg = NULL;
	struct store *store = NULL;
	struct loop *loop = NULL;
	struct bot *bot = NULL;
	struct mem_trimmer *trim = NULL;
	struct buf conf;
	long seconds = 20, base_rss, tracked = -1;
	int xmpp_port, ch, i, rc = 1, null_fd = -1;
	unsigned long long deadline;
	bool breakdown = false;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'b') {
			breakdown = true;
			continue;
		}
		if (ch != 's') {
			fprintf(stderr, "usage: memory_bench [--seconds S] [--breakdown]\n");
			return 2;
		}
		seconds = strtol(optarg, NULL, 10);
	}
	if (seconds < 1 || seconds > 3600) {
		fprintf(stderr, "usage: memory_bench [--seconds S] [--breakdown]\n");
		return 2;
	}
	/* libstrophe writes with send(..., 0): a peer that hangs up
	 * must not kill the bench (usher's main does not ignore it either:
	 * see bench/README.md). */
	signal(SIGPIPE, SIG_IGN);
	/* As usher's main() does, before anything is allocated. */
	mem_tune();
	log_set_level(LOG_LEVEL_ERROR);
	/* The baseline: libraries loaded, curl (and with it OpenSSL) set up,
	 * one loop; nothing of the bot yet. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	loop = loop_new();
	base_rss = bench_status_kb("VmRSS");
	/* usher run trims the heap every 10 s (src/main.c). */
	trim = mem_trim_start(loop, 10000);
	buf_init(&conf, 0);
	if (bench_tmpdir(dir, sizeof(dir), "memory-bench") == -1) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(catalog, sizeof(catalog), "%s/catalog.json", dir);
	snprintf(state, sizeof(state), "%s/state.json", dir);
	{
		const char *seerr_args[] = {"--no-library", "--catalog", catalog,
		                            "--state",      state,       NULL};
		const char *discord_args[] = {"--token", DISCORD_TOKEN, NULL};

		if (write_seerr_files(catalog, state) == -1 ||
		    fake_start_script(&fseerr, "fakes/fake_seerr.py", seerr_args) == -1 ||
		    fake_start_script(&fmatrix, "fakes/fake_matrix.py", NULL) == -1 ||
		    fake_start_script(&fdiscord, "fakes/fake_discord.py", discord_args) == -1) {
			fprintf(stderr, "memory_bench: cannot start the fakes\n");
			goto out;
		}
	}
	xmpp_port = start_prosody(dir, &prosody);
	httpd.port = free_port();
	buf_printf(&conf,
	           "[usher]\nlog_level = error\n[store]\npath = %s/usher.db\n"
	           "[http]\nlisten = 127.0.0.1:%d\n"
	           "[seerr]\nurl = http://127.0.0.1:%d\napi_key = test-seerr-key\n"
	           "[progress]\ninterval_s = 1\n"
	           "[matrix]\nhomeserver = http://127.0.0.1:%d\nuser_id = @usher:localhost\n"
	           "access_token = usher-token\n"
	           "[discord]\ntoken = %s\napi_url = http://127.0.0.1:%d/api/v10\n"
	           "[person dad]\nseerr_user = 2\nmatrix = @dad:localhost\n",
	           dir, httpd.port, fseerr.port, fmatrix.port, DISCORD_TOKEN, fdiscord.port);
	if (xmpp_port > 0)
		buf_printf(&conf,
		           "[xmpp]\njid = usher@localhost\npassword = %s\nhost = 127.0.0.1\n"
		           "port = %d\ntls = off-for-loopback-tests\n",
		           XMPP_PASSWORD, xmpp_port);
	else
		buf_printf(&conf, "[console]\nperson = dad\n");
	snprintf(path, sizeof(path), "%s/usher.conf", dir);
	if (bench_write_file(path, conf.data) == -1) {
		perror(path);
		goto out;
	}
	cfg = config_load(path, (char *const[]){NULL});
	if (cfg == NULL || !config_ok(cfg)) {
		fprintf(stderr, "memory_bench: the generated config is not valid\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/usher.db", dir);
	if ((store = store_open(path, err, sizeof(err))) == NULL || track_all(store, loop) == -1) {
		fprintf(stderr, "memory_bench: cannot track the requests: %s\n",
		        store ? store_errmsg(store) : err);
		goto out;
	}
	if ((bot = bot_new(loop, cfg, store, err, sizeof(err))) == NULL) {
		fprintf(stderr, "memory_bench: %s\n", err);
		goto out;
	}
	if (xmpp_port == 0) {
		/* The console must not read the bench's own stdin. */
		null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		console_set_fds(bot_gateway(bot, "console"), null_fd, null_fd);
	}
	if (bot_start(bot, err, sizeof(err)) == -1) {
		fprintf(stderr, "memory_bench: %s\n", err);
		goto out;
	}
	deadline = fake_now_ms() + (unsigned long long)seconds * 1000;
	while (fake_now_ms() < deadline)
		loop_run_once(loop, 100);
	/* The listener can be slow to answer while a cycle works: ask again. */
	for (i = 0; i < 3 && (tracked = tracked_by_bot(loop, &httpd)) != TRACKED; i++)
		;
	printf("memory_bench: networks matrix (fake_matrix.py), discord (fake_discord.py), %s; "
	       "%ld s of progress cycles (every 1 s)\n",
	       xmpp_port ? "xmpp (prosody)" : "console (prosody cannot run here)", seconds);
	printf("  tracked requests (the bot's /metrics): %ld of %d\n", tracked, TRACKED);
	printf("  VmRSS %ld KiB, VmHWM %ld KiB\n", bench_status_kb("VmRSS"),
	       bench_status_kb("VmHWM"));
	printf("  baseline (libraries, curl_global_init, one loop): VmRSS %ld KiB; the bot's own "
	       "share %ld KiB\n",
	       base_rss, bench_status_kb("VmRSS") - base_rss);
	if (breakdown)
		print_breakdown();
	rc = tracked == TRACKED ? 0 : 1;
out:
	bot_free(bot);
	store_close(store);
	config_free(cfg);
	mem_trim_stop(trim);
	if (loop)
		loop_free(loop);
	if (null_fd != -1)
		close(null_fd);
	buf_free(&conf);
	fake_stop(&fseerr);
	fake_stop(&fmatrix);
	fake_stop(&fdiscord);
	fake_stop(&prosody);
	curl_global_cleanup();
	if (bench_rmdir(dir) == -1)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}

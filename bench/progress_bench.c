/*
 * progress_bench: what one progress cycle costs with 1, 100 and 1,000
 * tracked requests. A tracker without a bot (its host only counts sends
 * and edits) follows films whose Radarr queue records and qBittorrent
 * torrents are served by the loopback fakes; every cycle each torrent
 * moves on a little, so every title changes and every message is edited.
 * For each level it prints the calls the cycle made (the tracker's own
 * count and the HTTP requests the fakes recorded), usher's CPU time per
 * cycle (getrusage, this process only: curl, JSON, matching, rendering,
 * SQLite), the wall time, and the edits.
 *
 * Targets: calls per cycle constant (4: Radarr's queue comes in one page;
 * the first cycle also looks each film up once), CPU per cycle at most
 * 5 ms at 1,000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include "bot/progress.h"
#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "services/qbittorrent.h"
#include "services/radarr.h"
#include "services/seerr.h"
#include "services/sonarr.h"

#ifndef USHER_PYTHON
#define USHER_PYTHON "/usr/bin/python3"
#endif
#include "../tests/unit/fake_server.h"

#define CYCLES         21
#define CYCLE_LIMIT_MS 60000
#define SEERR_TAKE     100

struct counts {
	long sends;
	long edits;
};

static int
host_send(void *arg, const char *network, const char *room, const struct chat_out *out,
          gateway_done_cb *done, void *done_arg)
{
	struct counts *c = arg;
	char id[32];

	(void)network;
	(void)room;
	(void)out;
	snprintf(id, sizeof(id), "m%ld", ++c->sends);
	if (done)
		done(done_arg, 0, id, NULL);
	return 0;
}

static int
host_edit(void *arg, const char *network, const char *room, const char *msg_id,
          const struct chat_out *out, gateway_done_cb *done, void *done_arg)
{
	struct counts *c = arg;

	(void)network;
	(void)room;
	(void)out;
	c->edits++;
	if (done)
		done(done_arg, 0, msg_id, NULL);
	return 0;
}

static bool
host_can_edit(void *arg, const char *network)
{
	(void)arg;
	(void)network;
	return true;
}

/* CPU time so far, user + system, in ms; the system part in *sys. */
static double
cpu_ms(double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*sys = (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
	return (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 + *sys;
}

static void
hash_of(long i, char *out, size_t len)
{
	snprintf(out, len, "%040lx", 0xab000000L + i);
}

/* Seerr: the newest SEERR_TAKE requests (what one list call can see). */
static json_t *
seerr_routes(long n)
{
	json_t *results = json_array();
	long i;

	for (i = n; i >= 1 && i > n - SEERR_TAKE; i--)
		json_array_append_new(
		    results, json_pack("{s:I, s:i, s:s, s:b, s:{s:I, s:s, s:i}, s:{s:i}}", "id",
		                       (json_int_t)i, "status", 2, "type", "movie", "is4k", 0,
		                       "media", "tmdbId", (json_int_t)(100000 + i), "mediaType",
		                       "movie", "status", 3, "requestedBy", "id", 2));
	return json_pack("[{s:s, s:s, s:{s:{s:i, s:i, s:I, s:i}, s:o}}]", "method", "GET", "path",
	                 "/api/v1/request", "json", "pageInfo", "pages", 1, "pageSize", SEERR_TAKE,
	                 "results", (json_int_t)n, "page", 1, "results", results);
}

/* Radarr: one downloading record per film, the queue in one page without
 * the movie (as usher asks for it), and each film by its id for the first
 * time usher sees it. */
static json_t *
radarr_routes(long n)
{
	json_t *routes = json_array(), *records = json_array();
	char h[48], title[64], path[48];
	long i;

	for (i = 1; i <= n; i++) {
		hash_of(i, h, sizeof(h));
		snprintf(title, sizeof(title), "Film.%ld.2020.1080p", i);
		json_array_append_new(
		    records,
		    json_pack("{s:I, s:I, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:[], s:s, s:s}",
		              "id", (json_int_t)i, "movieId", (json_int_t)i, "title", title, "size",
		              (json_int_t)2000000000, "sizeleft", (json_int_t)1000000000,
		              "timeleft", "00:10:00", "status", "downloading",
		              "trackedDownloadStatus", "ok", "trackedDownloadState", "downloading",
		              "downloadId", h, "statusMessages", "protocol", "torrent",
		              "downloadClient", "qBittorrent"));
		snprintf(path, sizeof(path), "/api/v3/movie/%ld", i);
		json_array_append_new(routes, json_pack("{s:s, s:s, s:{s:I, s:s, s:i, s:I}}",
		                                        "method", "GET", "path", path, "json", "id",
		                                        (json_int_t)i, "title", "Film", "year",
		                                        2020, "tmdbId", (json_int_t)(100000 + i)));
	}
	json_array_append_new(routes,
	                      json_pack("{s:s, s:s, s:{s:i, s:i, s:I, s:o}}", "method", "GET",
	                                "path", "/api/v3/queue", "json", "page", 1, "pageSize",
	                                1000, "totalRecords", (json_int_t)n, "records", records));
	return routes;
}

/* Moves every torrent on (or creates them at 10%) in the fake qBittorrent. */
static int
qb_move(const struct fake *qb, long n, int round)
{
	json_t *t = json_object(), *spec;
	char h[48], *text, *ans;
	long i;
	int rc;

	for (i = 1; i <= n; i++) {
		hash_of(i, h, sizeof(h));
		json_object_set_new(
		    t, h,
		    json_pack("{s:f, s:I, s:i, s:I, s:i}", "progress", 0.1 + 0.01 * round,
		              "dlspeed", (json_int_t)(1000000 + round * 1000), "eta", 600 - round,
		              "size", (json_int_t)2000000000, "num_seeds", 4));
	}
	spec = json_pack("{s:o}", "torrents", t);
	text = json_dumps(spec, JSON_COMPACT);
	ans = fake_control(qb, "POST", "/__fake/routes", text);
	rc = ans && strstr(ans, "ok") ? 0 : -1;
	free(ans);
	free(text);
	json_decref(spec);
	return rc;
}

static long
recorded(const struct fake *f)
{
	json_t *r = fake_requests(f);
	long n = r ? (long)json_array_size(r) : -1;

	json_decref(r);
	return n;
}

struct env {
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct seerr *seerr;
	struct radarr *radarr;
	struct sonarr *sonarr;
	struct qbittorrent *qb;
	struct fake fseerr, fradarr, fsonarr, fqb;
	char dir[64];
};

static int
run_level(struct env *e, long n)
{
	struct progress_services svc = {
	    .seerr = e->seerr, .radarr = e->radarr, .sonarr = e->sonarr, .qbittorrent = e->qb};
	struct counts counts = {0, 0};
	struct progress_host host = {
	    .send = host_send, .edit = host_edit, .can_edit = host_can_edit, .arg = &counts};
	char path[128], err[256], label[64];
	struct store *st;
	struct progress *p;
	double cpu_sum = 0, sys_sum = 0, wall_sum = 0, http_sum = 0;
	int cycle, measured = 0, calls_max = 0;
	long i;

	snprintf(path, sizeof(path), "%s/bench-%ld.db", e->dir, n);
	if ((st = store_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	if (fake_set_routes(&e->fseerr, seerr_routes(n)) == -1 ||
	    fake_set_routes(&e->fradarr, radarr_routes(n)) == -1 ||
	    fake_set_routes(&e->fsonarr,
	                    json_pack("[{s:s, s:s, s:{s:i, s:i, s:i, s:[]}}]", "method", "GET",
	                              "path", "/api/v3/queue", "json", "page", 1, "pageSize", 100,
	                              "totalRecords", 0, "records")) == -1) {
		fprintf(stderr, "cannot set the fakes' routes\n");
		store_close(st);
		return -1;
	}
	/* Long interval: only the cycles the bench starts run. */
	p = progress_new(e->loop, st, &svc, &host, 3600 * 1000, 0);
	for (i = 1; i <= n; i++) {
		struct progress_item it = {.seerr_request_id = i,
		                           .kind = SEERR_MOVIE,
		                           .tmdb_id = 100000 + i,
		                           .label = label,
		                           .network = "bench",
		                           .room = "room",
		                           .person = "dad"};

		snprintf(label, sizeof(label), "Film %ld (2020)", i);
		if (progress_track(p, &it) == -1) {
			fprintf(stderr, "cannot track\n");
			progress_free(p);
			store_close(st);
			return -1;
		}
	}
	for (cycle = 0; cycle < CYCLES; cycle++) {
		unsigned long long t0, deadline;
		double c0, c1, s0, s1;
		long before = recorded(&e->fseerr) + recorded(&e->fradarr) + recorded(&e->fsonarr) +
		              recorded(&e->fqb);

		if (qb_move(&e->fqb, n, cycle) == -1) {
			fprintf(stderr, "cannot move the torrents\n");
			break;
		}
		t0 = fake_now_ms();
		deadline = t0 + CYCLE_LIMIT_MS;
		c0 = cpu_ms(&s0);
		progress_cycle_now(p);
		while (progress_cycle_running(p) && fake_now_ms() < deadline)
			loop_run_once(e->loop, 100);
		c1 = cpu_ms(&s1);
		if (progress_cycle_running(p)) {
			fprintf(stderr, "a cycle did not end within %d s\n", CYCLE_LIMIT_MS / 1000);
			break;
		}
		if (progress_last_cycle_calls(p) > calls_max)
			calls_max = progress_last_cycle_calls(p);
		/* The first cycle also logs in to qBittorrent and gets its
		 * whole table: reported, not averaged. */
		if (cycle == 0) {
			printf("  %5ld tracked  first cycle: %.2f ms CPU, %llu ms wall, %ld HTTP "
			       "requests\n",
			       n, c1 - c0, fake_now_ms() - t0,
			       recorded(&e->fseerr) + recorded(&e->fradarr) +
			           recorded(&e->fsonarr) + recorded(&e->fqb) - before);
			continue;
		}
		measured++;
		cpu_sum += c1 - c0;
		sys_sum += s1 - s0;
		wall_sum += (double)(fake_now_ms() - t0);
		http_sum += (double)(recorded(&e->fseerr) + recorded(&e->fradarr) +
		                     recorded(&e->fsonarr) + recorded(&e->fqb) - before);
	}
	if (measured > 0)
		printf(
		    "  %5ld tracked  calls/cycle %d (max), HTTP requests/cycle %.1f, CPU/cycle "
		    "%.2f ms (system %.2f), wall/cycle %.0f ms, edits %ld, sends %ld, active %zu\n",
		    n, calls_max, http_sum / measured, cpu_sum / measured, sys_sum / measured,
		    wall_sum / measured, counts.edits, counts.sends, progress_active(p));
	progress_free(p);
	store_close(st);
	return measured == CYCLES - 1 ? 0 : -1;
}

/* Levels from the command line ("progress_bench 1000" for one), else 1,
 * 100 and 1,000. */
int
main(int argc, char **argv)
{
	long levels[8] = {1, 100, 1000};
	size_t nlevels = 3;
	struct env e;
	char conf[128], text[1024];
	FILE *f;
	size_t i;
	int rc = 0;

	if (argc > 1) {
		for (nlevels = 0; nlevels + 1 < (size_t)argc && nlevels < 8; nlevels++)
			if ((levels[nlevels] = strtol(argv[nlevels + 1], NULL, 10)) <= 0) {
				fprintf(stderr, "usage: progress_bench [TRACKED...]\n");
				return 2;
			}
	}
	memset(&e, 0, sizeof(e));
	e.fseerr.pid = e.fradarr.pid = e.fsonarr.pid = e.fqb.pid = -1;
	log_set_level(LOG_LEVEL_ERROR);
	snprintf(e.dir, sizeof(e.dir), "/tmp/usher-progress-bench-XXXXXX");
	if (mkdtemp(e.dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (fake_start(&e.fseerr) == -1 || fake_start(&e.fradarr) == -1 ||
	    fake_start(&e.fsonarr) == -1 ||
	    fake_start_script(&e.fqb, "fakes/fake_qbittorrent.py", NULL) == -1) {
		fprintf(stderr, "progress_bench: cannot start the fakes\n");
		rc = 1;
		goto out;
	}
	snprintf(conf, sizeof(conf), "%s/usher.conf", e.dir);
	snprintf(text, sizeof(text),
	         "[seerr]\nurl = http://127.0.0.1:%d\napi_key = k\n"
	         "[radarr]\nurl = http://127.0.0.1:%d\napi_key = k\n"
	         "[sonarr]\nurl = http://127.0.0.1:%d\napi_key = k\n"
	         "[qbittorrent]\nurl = http://127.0.0.1:%d\nusername = admin\n"
	         "password = adminadmin\n",
	         e.fseerr.port, e.fradarr.port, e.fsonarr.port, e.fqb.port);
	if ((f = fopen(conf, "w")) == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(conf);
		rc = 1;
		goto out;
	}
	e.cfg = config_load(conf, (char *const[]){NULL});
	e.loop = loop_new();
	e.http = http_new(e.loop);
	e.seerr = seerr_new(e.http, e.cfg);
	e.radarr = radarr_new(e.http, e.cfg);
	e.sonarr = sonarr_new(e.http, e.cfg);
	e.qb = qbittorrent_new(e.http, e.cfg);
	if (!e.seerr || !e.radarr || !e.sonarr || !e.qb) {
		fprintf(stderr, "progress_bench: the services did not take the config\n");
		rc = 1;
		goto out;
	}
	printf("progress_bench: %d cycles per level, every torrent moving every cycle\n", CYCLES);
	for (i = 0; i < nlevels; i++)
		if (run_level(&e, levels[i]) == -1)
			rc = 1;
out:
	qbittorrent_free(e.qb);
	sonarr_free(e.sonarr);
	radarr_free(e.radarr);
	seerr_free(e.seerr);
	http_free(e.http);
	if (e.loop)
		loop_free(e.loop);
	config_free(e.cfg);
	fake_stop(&e.fseerr);
	fake_stop(&e.fradarr);
	fake_stop(&e.fsonarr);
	fake_stop(&e.fqb);
	snprintf(text, sizeof(text), "rm -rf '%s'", e.dir);
	if (system(text) != 0)
		fprintf(stderr, "could not remove %s\n", e.dir);
	return rc;
}

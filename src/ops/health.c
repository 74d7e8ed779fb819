/*
 * health: /healthz and /metrics, and the loop's iteration timing.
 */
#include "ops/health.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/httpd.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/util.h"
#include "ops/metrics.h"

struct health {
	struct loop *loop;
	struct store *store;
	health_collect_fn *collect;
	void *arg;
	loop_hook_id hook;
	double last_cpu; /* thread CPU seconds at the previous hook; <0: none yet */
};

/* CPU time, not wall time: the loop sleeps in poll() between the hooks, and
 * sleeping uses none, so what is left is the work one iteration did. */
static double
thread_cpu_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
health_before_sleep(struct loop *loop, void *arg)
{
	struct health *hl = arg;
	double now = thread_cpu_seconds();

	(void)loop;
	if (now >= 0 && hl->last_cpu >= 0)
		metrics_loop_iteration(now - hl->last_cpu);
	hl->last_cpu = now;
}

static void
health_healthz(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct health *hl = arg;

	(void)req;
	if (loop_stopping(hl->loop)) {
		httpd_respond_static(
		    resp, 503, "application/json",
		    "{\"status\":\"unhealthy\",\"reason\":\"usher is stopping\"}\n");
		return;
	}
	if (hl->store && store_check_writable(hl->store) == -1) {
		httpd_respond_static(resp, 503, "application/json",
		                     "{\"status\":\"unhealthy\",\"reason\":\"the store cannot be "
		                     "written (disk full, read-only, or locked by another "
		                     "process)\"}\n");
		return;
	}
	httpd_respond_static(resp, 200, "application/json", "{\"status\":\"ok\"}\n");
}

static void
health_metrics(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct health *hl = arg;
	char *text;

	(void)req;
	if (hl->collect)
		hl->collect(hl->arg);
	text = metrics_render();
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	resp->body = text;
	resp->body_len = strlen(text);
	resp->body_owned = true;
}

struct health *
health_attach(struct httpd *h, struct store *store, health_collect_fn *collect, void *arg)
{
	struct health *hl = xcalloc(1, sizeof(*hl));

	hl->loop = httpd_loop(h);
	hl->store = store;
	hl->collect = collect;
	hl->arg = arg;
	hl->last_cpu = -1;
	/* Routes cannot be taken back, so a clash is the caller's bug. */
	if (httpd_route(h, "GET", "/healthz", health_healthz, hl) == -1 ||
	    httpd_route(h, "GET", "/metrics", health_metrics, hl) == -1)
		fatalx("/healthz or /metrics is routed twice");
	hl->hook = loop_add_hook(hl->loop, health_before_sleep, hl);
	return hl;
}

void
health_free(struct health *hl)
{
	if (hl == NULL)
		return;
	loop_remove_hook(hl->loop, hl->hook);
	free(hl);
}

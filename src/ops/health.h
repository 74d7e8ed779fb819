/*
 * health: usher's operational endpoints on the [http] listener.
 *
 * GET /healthz answers 200 {"status":"ok"} when the loop is running (the
 * answer itself comes from the loop) and the store can be written, else
 * 503 with {"status":"unhealthy","reason":"..."}; GET /metrics answers the
 * metrics registry in Prometheus text format. A before-sleep hook on the
 * loop measures how long each iteration worked, for /metrics.
 *
 * A `struct health` owns its loop hook; the httpd, loop and store are
 * borrowed and must outlive it.
 */
#ifndef USHER_HEALTH_H
#define USHER_HEALTH_H

struct httpd;
struct store;
struct health;

/* Called before /metrics is rendered, to set gauges (tracked requests). */
typedef void health_collect_fn(void *arg);

/* Routes /healthz and /metrics on `h` and hooks its loop. `collect` may be
 * NULL; `arg` is borrowed. Returns a new health the caller frees with
 * health_free() after freeing the httpd (its routes point here). Routing
 * either path twice is a programming error (fatal). */
struct health *health_attach(struct httpd *h, struct store *store, health_collect_fn *collect,
                             void *arg);
/* Removes the loop hook and frees. NULL is ignored. */
void health_free(struct health *hl);

#endif

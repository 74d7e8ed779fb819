/*
 * arr_fuzz: the Radarr, Sonarr and Prowlarr answers whose readers are
 * static in their client files. Each arr_fuzz_*.c includes one client's
 * .c file (so its static step functions are in reach and instrumented)
 * and feeds it one body the way arr.c would, then checks what the client
 * promises its callback. `arr` is borrowed: any server will do, no request
 * is ever sent. Each aborts on a broken promise.
 */
#ifndef USHER_ARR_FUZZ_H
#define USHER_ARR_FUZZ_H

#include <jansson.h>
#include <time.h>

#include "services/arr.h"

void arr_fuzz_radarr_movie(struct arr *arr, json_t *body, long tmdb_id);
void arr_fuzz_sonarr_series(struct arr *arr, json_t *body, long tvdb_id);
/* `indexers` and `statuses`: the two answers of one health call. */
void arr_fuzz_prowlarr_health(struct arr *arr, json_t *indexers, json_t *statuses, time_t now);

/* Runs `step` on `body` as arr.c does with a 200 answer, in a new call on
 * `arr` that owns `state` (freed with `state_free`). Aborts unless the step
 * ends the call with the callback run exactly once (*calls, counted by the
 * callback, is 1). */
void arr_fuzz_step(struct arr *arr, arr_step_fn *step, void *state, void (*state_free)(void *),
                   json_t *body, const int *calls);
/* Aborts unless `s` is a string (never NULL). */
void arr_fuzz_check_str(const char *s);

#endif

/*
 * seerr_json: private to the Seerr client (seerr.c); nothing else includes
 * it. Reads the JSON of Seerr's /api/v1 answers into the value structs of
 * seerr.h. Any field may be missing, null or of another type: the readers
 * fall back to a default rather than fail, and only a missing id makes a
 * title or request unusable. Holds no state and keeps no reference to the
 * json_t it is given.
 */
#ifndef USHER_SEERR_JSON_H
#define USHER_SEERR_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "services/seerr.h"

/* The integer at `key` (a real in range is truncated), else `def`. */
long seerr_json_int(const json_t *o, const char *key, long def);
/* The string at `key`, borrowed from `o`; NULL when absent or not a string. */
const char *seerr_json_str(const json_t *o, const char *key);
/* Copies text meant for a chat line into `dst` (NULL copies as ""),
 * truncated to `size`, control characters turned into spaces. */
void seerr_json_copy_text(char *dst, size_t size, const char *src);

/* One request object into `r` (overwritten). Returns false when it has no
 * id, which makes it useless to usher. */
bool seerr_json_request(const json_t *o, struct seerr_request *r);
/* A details answer for a film or show into `d` (overwritten). Returns false
 * when it has no id. */
bool seerr_json_details(const json_t *v, enum seerr_kind kind, struct seerr_details *d);

/* The films and shows in a search or recommendations "results" array;
 * people and collections are skipped. `hint` is the kind for results that
 * carry no mediaType at all (recommendations of a film are films), used
 * only when `has_hint`. Returns a new array the caller frees with free()
 * (never NULL) and its length in *count; at most 500 items. */
struct seerr_title *seerr_json_titles(const json_t *results, bool has_hint, enum seerr_kind hint,
                                      size_t *count);
/* The usable requests in a request list's "results" array, as a new array
 * the caller frees with free() (never NULL), its length in *count; at most
 * 500 items. */
struct seerr_request *seerr_json_requests(const json_t *results, size_t *count);

#endif

/*
 * config: usher.conf (INI, read with libinih) plus environment overrides.
 *
 * One section per service ([seerr], [radarr], ...), per network ([xmpp],
 * [matrix], ...) and per person ([person NAME]). Every key K may also be
 * given as K_file (the value is that file's content, trimmed) and is
 * overridden by the environment variable USHER_<SECTION>_<K> (for a person:
 * USHER_PERSON_<NAME>_<K>). The schema of known sections and keys, their
 * types, defaults and which of them are secrets lives in config.c: a later
 * module adds its keys there.
 *
 * Loading never stops at the first problem: every problem found is kept as
 * a config_problem with where it is (file:line, the variable's name, or the
 * file) and a message in plain words that says what to change. A config
 * with any error must not be used to start (config_ok() is false). Values
 * of secret keys are registered with log_add_secret() as they are read.
 *
 * The config owns every string it returns; they live until config_free().
 */
#ifndef USHER_CONFIG_H
#define USHER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct config;

enum config_severity {
	CONFIG_WARNING,
	CONFIG_ERROR,
};

struct config_problem {
	enum config_severity severity;
	const char *where; /* "usher.conf:12", "USHER_SEERR_URL", "usher.conf" */
	const char *
	    message; /* "[seerr] url: 'overseer:5055' is not a URL; write it as http://host:port" */
};

/* Reads `path` (NULL: no file, environment and defaults only) and the
 * environment `envp` (NULL: the process environment). Returns a new config
 * the caller frees with config_free(), or NULL on out-of-memory only; all
 * other failures are problems inside the returned config. */
struct config *config_load(const char *path, char *const *envp);
void config_free(struct config *cfg);

/* True when no problem of severity CONFIG_ERROR was found. */
bool config_ok(const struct config *cfg);
size_t config_problem_count(const struct config *cfg);
/* Borrowed; valid until config_free(). */
const struct config_problem *config_problem_at(const struct config *cfg, size_t i);

/* The file it was read from (borrowed, NULL when none) and its folder
 * ("." when none), where relative paths in the config are resolved. */
const char *config_path(const struct config *cfg);
const char *config_dir(const struct config *cfg);

/* True when the section was given in the file or by the environment. */
bool config_has_section(const struct config *cfg, const char *section);
/* The value of `key` in `section` after overrides, or its schema default,
 * or NULL when neither. Borrowed. */
const char *config_get(const struct config *cfg, const char *section, const char *key);
/* Typed reads of keys the schema declares as integer / boolean / list;
 * values were validated at load, so these cannot fail. */
long config_get_int(const struct config *cfg, const char *section, const char *key);
bool config_get_bool(const struct config *cfg, const char *section, const char *key);

/* People: [person NAME] sections, in file order. */
size_t config_person_count(const struct config *cfg);
const char *config_person_name(const struct config *cfg, size_t i);
const char *config_person_get(const struct config *cfg, const char *name, const char *key);

#endif

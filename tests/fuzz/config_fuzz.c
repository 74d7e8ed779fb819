/*
 * config_fuzz: hostile usher.conf files through config_load (libinih, the
 * schema's type checks, the person sections). Each input is written to a
 * private temporary file and loaded with an empty environment. Checks what
 * config.h promises: every problem has a place and a message, config_ok()
 * agrees with the problems' severities, every person listed has a name.
 * Secrets registered for redaction are forgotten after each input, so the
 * list does not grow across inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/usher-config-fuzz-XXXXXX";
static char path[64];

static void
remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

static const char *
conf_path(void)
{
	if (path[0] == '\0') {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/usher.conf", dir);
		atexit(remove_dir);
	}
	return path;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *const env[] = {NULL};
	FILE *f = fopen(conf_path(), "w");
	struct config *cfg;
	bool error = false;

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	cfg = config_load(path, env);
	if (cfg == NULL)
		abort();
	for (size_t i = 0; i < config_problem_count(cfg); i++) {
		const struct config_problem *p = config_problem_at(cfg, i);

		if (p->where == NULL || p->where[0] == '\0' || p->message == NULL ||
		    p->message[0] == '\0')
			abort();
		if (p->severity == CONFIG_ERROR)
			error = true;
	}
	if (config_ok(cfg) == error)
		abort();
	for (size_t i = 0; i < config_person_count(cfg); i++) {
		if (config_person_name(cfg, i) == NULL)
			abort();
	}
	config_free(cfg);
	log_clear_secrets();
	return 0;
}

/*
 * grammar_fuzz: hostile chat text through normalisation and every rule of
 * grammars/. Loads the grammars once; each input is one message. Checks
 * what must hold for any input: the parse is a well-formed intent and its
 * JSON form can be produced.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/grammar.h"
#include "nlu/intent.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct grammar *grammar;

static void
load_once(void)
{
	char err[512];
	const char *dir = getenv("USHER_GRAMMARS");

	if (grammar != NULL)
		return;
	grammar = grammar_load_dir(dir ? dir : USHER_SOURCE_DIR "/grammars", err, sizeof(err));
	if (grammar == NULL) {
		fprintf(stderr, "grammar_fuzz: %s\n", err);
		abort();
	}
}

/* Loading and JIT-compiling every rule takes long under ASan on a busy
 * machine: done before the first input, so -timeout measures matching. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	load_once();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intent in;
	json_t *j;

	load_once();
	grammar_parse_n(grammar, (const char *)data, size, &in);
	if ((unsigned)in.kind >= INTENT_KIND_COUNT || in.season_count < 0 ||
	    in.season_count > INTENT_SEASONS_MAX ||
	    memchr(in.title, '\0', sizeof(in.title)) == NULL)
		abort();
	for (int i = 1; i < in.season_count; i++) {
		if (in.season_list[i - 1] >= in.season_list[i])
			abort();
	}
	j = intent_to_json_n((const char *)data, size, &in);
	if (j == NULL || json_object_size(j) != 11)
		abort();
	json_decref(j);
	return 0;
}

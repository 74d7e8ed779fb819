/*
 * nlu_share: how many real utterances the grammar leaves to the LLM.
 *
 * Reads a JSONL file whose rows carry "text" (default: the project's dev
 * set, ../shared/eval/dev/snips_train_full.jsonl beside the repository),
 * parses each text with every grammar loaded, and prints how many got no
 * rule at all (source "none": what usher would send to the LLM). The fewer
 * the better.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "nlu/grammar.h"
#include "nlu/intent.h"

#define DEFAULT_EVAL USHER_TESTS_DIR "/../../shared/eval/dev/snips_train_full.jsonl"

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : DEFAULT_EVAL;
	char *dir = paths_data("grammars"), err[512], *line = NULL;
	struct grammar *g = grammar_load_dir(dir, err, sizeof(err));
	size_t cap = 0, rows = 0, none = 0, unknown = 0;
	FILE *f;

	free(dir);
	if (g == NULL) {
		fprintf(stderr, "nlu_share: %s\n", err);
		return 2;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "nlu_share: cannot open %s (the dev set is not on this machine?)\n",
		        path);
		grammar_free(g);
		return 2;
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *row = json_loads(line, 0, NULL);
		const char *text = json_string_value(json_object_get(row, "text"));
		struct intent in;

		if (text != NULL) {
			grammar_parse(g, text, &in);
			rows++;
			none += in.source == SOURCE_NONE;
			unknown += in.kind == INTENT_UNKNOWN;
		}
		json_decref(row);
	}
	free(line);
	fclose(f);
	grammar_free(g);
	printf("nlu_share: %zu lines; the grammar leaves %zu to the LLM (%.1f%%); %zu end as "
	       "unknown after guards (%.1f%%)\n",
	       rows, none, rows ? 100.0 * (double)none / (double)rows : 0.0, unknown,
	       rows ? 100.0 * (double)unknown / (double)rows : 0.0);
	return 0;
}

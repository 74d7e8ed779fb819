#include "nlu/parse_cmd.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/paths.h"
#include "core/util.h"
#include "nlu/llm.h"
#include "nlu/grammar.h"
#include "nlu/intent.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: usher parse [--json] [--grammars DIR] [--llm [--config FILE]] [UTTERANCE...]\n"
    "\n"
    "Prints what usher's grammar understands of each UTTERANCE, or of each\n"
    "line of standard input when none is given.\n"
    "\n"
    "  --json           one JSON object per utterance\n"
    "  --llm            ask the configured LLM about lines the grammar does not place\n"
    "  --config FILE    where [llm] is (default: $USHER_CONFIG, else ./usher.conf)\n"
    "  --grammars DIR   load DIR/*.grammar (default: $USHER_GRAMMARS, else\n"
    "                   the grammars/ folder of the source tree)\n"
    "  --help           this text\n";

static void
print_readable(FILE *out, const struct intent *in)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_printf(&b, "%s %s", intent_kind_name(in->kind), intent_media_name(in->media));
	if (in->title[0]) {
		json_t *t = json_string(in->title);
		char *q = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;
		buf_printf(&b, " %s", q ? q : "\"?\"");
		free(q);
		json_decref(t);
	}
	if (in->year)
		buf_printf(&b, " year=%d", in->year);
	if (in->seasons == SEASONS_ALL)
		buf_append_str(&b, " seasons=all");
	else if (in->seasons == SEASONS_LATEST)
		buf_append_str(&b, " seasons=latest");
	else if (in->seasons == SEASONS_LIST) {
		buf_append_str(&b, " seasons=");
		for (i = 0; i < in->season_count; i++)
			buf_printf(&b, "%s%d", i ? "," : "", in->season_list[i]);
	}
	if (in->episode)
		buf_printf(&b, " episode=%d", in->episode);
	if (in->want_4k)
		buf_append_str(&b, " quality=4k");
	if (in->choice)
		buf_printf(&b, " choice=%d", in->choice);
	if (in->rule[0])
		buf_printf(&b, " [rule %s]", in->rule);
	fprintf(out, "%s\n", b.data);
	buf_free(&b);
}

/* `--llm`: the fallback the bot uses, run to completion for each line the
 * grammar does not place. */
struct parse_llm {
	struct config *cfg;
	struct loop *loop;
	struct http *http;
	struct llm *llm;
	long wait_ms;
};

struct parse_llm_answer {
	bool done;
	bool ok;
	struct intent in;
};

static void
parse_llm_done(void *arg, enum llm_outcome outcome, const struct intent *in, const char *why)
{
	struct parse_llm_answer *a = arg;

	a->done = true;
	a->ok = outcome == LLM_OK;
	if (a->ok)
		a->in = *in;
	else
		fprintf(stderr, "usher parse: llm: %s\n", why ? why : "no answer");
}

static void
parse_llm_ask(struct parse_llm *pl, const char *text, size_t len, struct intent *in)
{
	struct parse_llm_answer a;
	char *copy = xstrndup(text, len);
	uint64_t start = loop_now_ms(pl->loop);
	struct llm_call *call;

	memset(&a, 0, sizeof(a));
	call = llm_understand(pl->llm, "parse", copy, NULL, 0, parse_llm_done, &a);
	while (!a.done && loop_now_ms(pl->loop) - start < (uint64_t)pl->wait_ms)
		loop_run_once(pl->loop, 100);
	if (!a.done)
		llm_cancel(call);
	if (a.ok)
		*in = a.in;
	free(copy);
}

static int
parse_llm_open(struct parse_llm *pl, const char *config_path)
{
	char err[512];

	pl->cfg = config_load(config_path, NULL);
	if (pl->cfg == NULL || !config_ok(pl->cfg)) {
		fprintf(stderr,
		        "usher parse: %s has problems (usher check-config explains them); "
		        "parsing with the grammar alone\n",
		        config_path);
		return -1;
	}
	if (!llm_configured(pl->cfg)) {
		fprintf(stderr,
		        "usher parse: no LLM is configured ([llm] in %s); parsing with the "
		        "grammar alone\n",
		        config_path);
		return -1;
	}
	pl->loop = loop_new();
	pl->http = http_new(pl->loop);
	pl->llm = llm_new(pl->loop, pl->http, pl->cfg, NULL, err, sizeof(err));
	if (pl->llm == NULL) {
		fprintf(stderr, "usher parse: %s; parsing with the grammar alone\n", err);
		return -1;
	}
	pl->wait_ms = config_get_int(pl->cfg, "llm", "timeout_ms") * 2 + 5000;
	return 0;
}

static void
parse_llm_close(struct parse_llm *pl)
{
	llm_free(pl->llm);
	http_free(pl->http);
	if (pl->loop)
		loop_free(pl->loop);
	config_free(pl->cfg);
}

static void
answer(const struct grammar *g, struct parse_llm *pl, const char *text, size_t len, int json)
{
	struct intent in;

	grammar_parse_n(g, text, len, &in);
	if (in.source == SOURCE_NONE && pl != NULL && pl->llm != NULL)
		parse_llm_ask(pl, text, len, &in);
	if (json) {
		json_t *o = intent_to_json_n(text, len, &in);
		char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
		if (s == NULL) {
			fputs("{\"text\":null,\"intent\":\"unknown\"}\n", stdout);
		} else {
			fputs(s, stdout);
			fputc('\n', stdout);
		}
		free(s);
		json_decref(o);
	} else {
		print_readable(stdout, &in);
	}
}

int
parse_cmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'}, {"grammars", required_argument, NULL, 'g'},
	    {"llm", no_argument, NULL, 'l'},  {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *dir = getenv("USHER_GRAMMARS");
	char *found = NULL;
	char err[512];
	struct grammar *g;
	int json = 0, use_llm = 0, c, i;
	const char *config_path = getenv("USHER_CONFIG");
	struct parse_llm pl;

	optind = 1;
	memset(&pl, 0, sizeof(pl));
	if (config_path == NULL || *config_path == '\0')
		config_path = "usher.conf";
	while ((c = getopt_long(argc, argv, "jg:lc:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			use_llm = 1;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'g':
			dir = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || *dir == '\0')
		dir = found = paths_data("grammars");
	g = grammar_load_dir(dir, err, sizeof(err));
	free(found);
	if (g == NULL) {
		fprintf(stderr, "usher parse: %s\n", err);
		return EXIT_USAGE;
	}
	if (use_llm)
		parse_llm_open(&pl, config_path);
	if (optind < argc) {
		for (i = optind; i < argc; i++)
			answer(g, &pl, argv[i], strlen(argv[i]), json);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		while ((n = getline(&line, &cap, stdin)) >= 0) {
			size_t len = (size_t)n;
			if (len > 0 && line[len - 1] == '\n')
				len--;
			if (len > 0 && line[len - 1] == '\r')
				len--;
			answer(g, &pl, line, len, json);
		}
		free(line);
	}
	fflush(stdout);
	parse_llm_close(&pl);
	grammar_free(g);
	return 0;
}

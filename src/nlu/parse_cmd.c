#include "nlu/parse_cmd.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "nlu/grammar.h"
#include "nlu/intent.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: usher parse [--json] [--grammars DIR] [UTTERANCE...]\n"
    "\n"
    "Prints what usher's grammar understands of each UTTERANCE, or of each\n"
    "line of standard input when none is given.\n"
    "\n"
    "  --json           one JSON object per utterance\n"
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

static void
answer(const struct grammar *g, const char *text, size_t len, int json)
{
	struct intent in;

	grammar_parse_n(g, text, len, &in);
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
	    {"json", no_argument, NULL, 'j'},
	    {"grammars", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = getenv("USHER_GRAMMARS");
	char err[512];
	struct grammar *g;
	int json = 0, c, i;

	if (dir == NULL || *dir == '\0')
		dir = USHER_SOURCE_DIR "/grammars";
	optind = 1;
	while ((c = getopt_long(argc, argv, "jg:h", opts, NULL)) != -1) {
		switch (c) {
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
	g = grammar_load_dir(dir, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "usher parse: %s\n", err);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		for (i = optind; i < argc; i++)
			answer(g, argv[i], strlen(argv[i]), json);
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
			answer(g, line, len, json);
		}
		free(line);
	}
	fflush(stdout);
	grammar_free(g);
	return 0;
}

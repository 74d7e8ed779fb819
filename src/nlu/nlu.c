#include "nlu/nlu.h"

#include <stdlib.h>

#include "core/config.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/util.h"
#include "nlu/grammar.h"
#include "nlu/intent.h"

struct nlu {
	char *grammar_dir;
	char *bot_name;
	struct grammar *grammar;
};

/* People address the bot by its configured name as well as "usher". */
static void
nlu_name_grammar(struct nlu *nlu, struct grammar *g)
{
	const char *names[1];

	if (nlu->bot_name == NULL || *nlu->bot_name == '\0')
		return;
	names[0] = nlu->bot_name;
	if (grammar_set_bot_names(g, names, 1) == -1)
		log_warnx("grammar: cannot use the name '%s' for addressing; only \"usher\" works",
		          nlu->bot_name);
}

struct nlu *
nlu_new(const struct config *cfg, char *err, size_t errlen)
{
	struct nlu *nlu = xcalloc(1, sizeof(*nlu));
	const char *dir = config_get(cfg, "usher", "grammars");

	nlu->grammar_dir = dir && *dir ? xstrdup(dir) : paths_data("grammars");
	nlu->bot_name = xstrdup(config_get(cfg, "usher", "name"));
	nlu->grammar = grammar_load_dir(nlu->grammar_dir, err, errlen);
	if (nlu->grammar == NULL) {
		nlu_free(nlu);
		return NULL;
	}
	nlu_name_grammar(nlu, nlu->grammar);
	log_info("grammar: %zu rules from %s", grammar_rule_count(nlu->grammar), nlu->grammar_dir);
	return nlu;
}

void
nlu_free(struct nlu *nlu)
{
	if (nlu == NULL)
		return;
	grammar_free(nlu->grammar);
	free(nlu->grammar_dir);
	free(nlu->bot_name);
	free(nlu);
}

void
nlu_reload(struct nlu *nlu)
{
	char err[512];
	struct grammar *g = grammar_load_dir(nlu->grammar_dir, err, sizeof(err));

	if (g == NULL) {
		log_warnx("grammar not reloaded, the old one stays in force: %s", err);
		return;
	}
	nlu_name_grammar(nlu, g);
	grammar_free(nlu->grammar);
	nlu->grammar = g;
	log_info("grammar: reloaded %zu rules from %s", grammar_rule_count(g), nlu->grammar_dir);
}

void
nlu_understand(struct nlu *nlu, const char *text, struct intent *out)
{
	grammar_parse(nlu->grammar, text, out);
}

/*
 * nlu: what a message means, from the grammar first (the grammars folder)
 * and, once the LLM fallback is configured, from the LLM for what the
 * grammar cannot place. Owns the loaded grammar; a reload that fails keeps
 * the old one in force.
 */
#ifndef USHER_NLU_H
#define USHER_NLU_H

#include <stddef.h>

struct config;
struct intent;
struct nlu;

/* Returns a new nlu the caller frees with nlu_free(), or NULL with `err`
 * filled when the grammars cannot be loaded. `cfg` is borrowed. */
struct nlu *nlu_new(const struct config *cfg, char *err, size_t errlen);
void nlu_free(struct nlu *nlu);
/* Loads the grammars again; on failure logs file:line and keeps the old. */
void nlu_reload(struct nlu *nlu);
/* Fills `out` with the meaning of `text` (kind INTENT_UNKNOWN when none). */
void nlu_understand(struct nlu *nlu, const char *text, struct intent *out);

#endif

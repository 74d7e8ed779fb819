/*
 * grammar: the rules that turn a chat message into an intent without any
 * model: grammars/NAME.grammar, plain text a non-programmer can edit (the file
 * format is described in grammars/README.md).
 *
 * A struct grammar owns every compiled rule (PCRE2, UTF, caseless, JIT),
 * the match context that bounds each match, and one reusable match data
 * block, so parsing allocates nothing. It is immutable once loaded; a
 * reload builds a new one and the caller swaps it in only when the load
 * succeeded, so a bad rule never leaves a half-loaded grammar in force.
 * One grammar is used by one thread at a time (the match data is shared).
 */
#ifndef USHER_GRAMMAR_H
#define USHER_GRAMMAR_H

#include <stddef.h>

struct intent;
struct grammar;

/* Loads every *.grammar file of `dir`, in name order. Returns a new grammar
 * the caller frees with grammar_free(), or NULL with `err` filled
 * ("grammars/en.grammar:12: missing closing parenthesis (at offset 7)"). */
struct grammar *grammar_load_dir(const char *dir, char *err, size_t errlen);
/* Loads one file; same contract as grammar_load_dir(). */
struct grammar *grammar_load_file(const char *path, char *err, size_t errlen);
/* Loads rules from a string; `name` stands for the file in messages. */
struct grammar *grammar_load_string(const char *name, const char *text, char *err, size_t errlen);
void grammar_free(struct grammar *g);

/* Sets the names the bot answers to (the config's `[usher] name`), so
 * that an address in front ("jarvis, get dune", "hey jarvis", "@jarvis",
 * "@jarvis:example.org:") or at the end ("thanks jarvis") is cut off
 * before the rules are tried, like the lead and tail. "usher" is always
 * understood (normalize removes it); `n` = 0 goes back to only that.
 * `names` are borrowed, matched literally and caselessly. Call it after
 * loading and before parsing (a reload needs it again). Returns 0, or -1
 * with `g` unchanged when a name cannot be made into a pattern. */
int grammar_set_bot_names(struct grammar *g, const char *const *names, size_t n);

/* Number of compiled patterns (each `match:` line is one). */
size_t grammar_rule_count(const struct grammar *g);

/* Understands `text` (NUL-terminated) into `out`: source "grammar" and the
 * rule name when a rule matched, else kind unknown and source "none". Never
 * fails; input too long, invalid or matching nothing gives unknown. */
void grammar_parse(const struct grammar *g, const char *text, struct intent *out);
/* Same for `len` bytes that may hold NUL bytes (they are ignored). */
void grammar_parse_n(const struct grammar *g, const char *text, size_t len, struct intent *out);

#endif

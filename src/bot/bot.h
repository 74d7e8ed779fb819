/*
 * bot: the wiring between chat networks and what usher does.
 *
 * The bot owns the gateways named in the config, the people directory and
 * the understanding of messages. For each incoming message it decides
 * whether to answer (direct, or addressed in a room), who is talking
 * (strangers get a polite refusal by default), what they want, and hands
 * that to the command for it. It counts the work it has in flight so that a
 * console run can end as soon as every reply is out.
 */
#ifndef USHER_BOT_H
#define USHER_BOT_H

#include <stddef.h>

struct config;
struct loop;
struct store;
struct gateway;
struct gateway_ops;
struct bot;

/* Returns a new bot the caller frees with bot_free(), or NULL with `err`
 * filled (a gateway that cannot be set up). `loop`, `cfg` and `store` are
 * borrowed and must outlive the bot; `store` may be NULL in tests. */
struct bot *bot_new(struct loop *loop, const struct config *cfg, struct store *store, char *err,
                    size_t errlen);
void bot_free(struct bot *bot);
/* The same with another table of networks than the built-in one (tests use
 * a scripted network); `networks` is borrowed and must outlive the bot. */
struct bot *bot_new_with_networks(struct loop *loop, const struct config *cfg, struct store *store,
                                  const struct gateway_ops *const *networks, size_t network_count,
                                  char *err, size_t errlen);

/* Starts every gateway. Returns 0, or -1 with `err` filled. */
int bot_start(struct bot *bot, char *err, size_t errlen);
/* SIGHUP: reloads what can change without a restart (grammars, prompts).
 * What fails to load is logged and the old version stays in force. */
void bot_reload(struct bot *bot);

/* The gateway for `network` ("console", ...), or NULL. Borrowed. */
struct gateway *bot_gateway(const struct bot *bot, const char *network);

#endif

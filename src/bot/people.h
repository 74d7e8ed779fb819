/*
 * people: who is talking to usher.
 *
 * Built from the [person NAME] sections: a name, a role, the Seerr user the
 * person acts as, and identities on each network (bare JIDs, Matrix user
 * ids, Discord user ids, Telegram ids; on the console, the person's name).
 * Lookups return borrowed pointers valid until people_free().
 */
#ifndef USHER_PEOPLE_H
#define USHER_PEOPLE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct people;

enum person_role {
	ROLE_MEMBER = 0,
	ROLE_ADMIN,
};

/* Where "it's ready" reaches a person: the room where they asked, a
 * direct message, or both ([person] notify). */
enum person_notify {
	NOTIFY_ROOM = 0,
	NOTIFY_DM,
	NOTIFY_BOTH,
};

struct person {
	const char *name;
	enum person_role role;
	long seerr_user; /* 0 when not mapped */
	enum person_notify notify;
};

/* Returns a new directory the caller frees with people_free(). The config
 * was validated at load, so this cannot fail but for memory. */
struct people *people_new(const struct config *cfg);
void people_free(struct people *people);

size_t people_count(const struct people *people);
/* The person behind `sender` on `network`, or NULL for a stranger.
 * XMPP senders match by bare JID (the resource is ignored, the domain and
 * local part compared without case); other networks match exactly. */
const struct person *people_find(const struct people *people, const char *network,
                                 const char *sender);
const struct person *people_by_name(const struct people *people, const char *name);
/* Adds an identity learnt at run time (a Discord id from the person's
 * Seerr settings); ignored when another person already has it. */
void people_add_identity(struct people *people, const char *name, const char *network,
                         const char *id);
/* True when the person has an identity on `network` in the config. */
bool people_has_identity(const struct people *people, const char *name, const char *network);
/* The person's first identity on `network` (borrowed, valid until the
 * directory is freed), or NULL. */
const char *people_identity(const struct people *people, const char *name, const char *network);

#endif

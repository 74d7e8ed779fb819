#include "bot/people.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/util.h"

/* The networks whose identities a [person] section lists under a key of
 * the same name. */
static const char *const people_networks[] = {"xmpp", "matrix", "discord", "telegram"};
#define PEOPLE_NETWORKS (sizeof(people_networks) / sizeof(people_networks[0]))

struct identity {
	const char *network; /* static */
	char *id;
	size_t person;
};

struct people {
	struct person *persons;
	size_t count;
	struct identity *ids;
	size_t id_count;
};

static void
people_add_identities(struct people *p, size_t person, const char *network, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		str_trim(tok);
		if (*tok == '\0')
			continue;
		p->ids = xrealloc(p->ids, (p->id_count + 1) * sizeof(*p->ids));
		p->ids[p->id_count].network = network;
		p->ids[p->id_count].id = xstrdup(tok);
		p->ids[p->id_count].person = person;
		p->id_count++;
	}
	free(copy);
}

struct people *
people_new(const struct config *cfg)
{
	struct people *p = xcalloc(1, sizeof(*p));
	size_t i, n;

	p->count = config_person_count(cfg);
	p->persons = xcalloc(p->count, sizeof(*p->persons));
	for (i = 0; i < p->count; i++) {
		const char *name = config_person_name(cfg, i);
		const char *role = config_person_get(cfg, name, "role");
		const char *seerr = config_person_get(cfg, name, "seerr_user");
		const char *notify = config_person_get(cfg, name, "notify");

		p->persons[i].name = xstrdup(name);
		p->persons[i].role = role && strcmp(role, "admin") == 0 ? ROLE_ADMIN : ROLE_MEMBER;
		p->persons[i].seerr_user = seerr ? strtol(seerr, NULL, 10) : 0;
		p->persons[i].notify = notify == NULL                ? NOTIFY_ROOM
		                       : strcmp(notify, "dm") == 0   ? NOTIFY_DM
		                       : strcmp(notify, "both") == 0 ? NOTIFY_BOTH
		                                                     : NOTIFY_ROOM;
		for (n = 0; n < PEOPLE_NETWORKS; n++) {
			const char *list = config_person_get(cfg, name, people_networks[n]);
			if (list)
				people_add_identities(p, i, people_networks[n], list);
		}
	}
	return p;
}

void
people_free(struct people *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->count; i++)
		free((char *)p->persons[i].name);
	for (i = 0; i < p->id_count; i++)
		free(p->ids[i].id);
	free(p->persons);
	free(p->ids);
	free(p);
}

size_t
people_count(const struct people *p)
{
	return p->count;
}

const struct person *
people_by_name(const struct people *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		if (strcasecmp(p->persons[i].name, name) == 0)
			return &p->persons[i];
	return NULL;
}

/* user@host/resource and USER@Host are the same person. */
static bool
people_same_jid(const char *configured, const char *sender)
{
	size_t len = strcspn(sender, "/");

	return strlen(configured) == len && strncasecmp(configured, sender, len) == 0;
}

const struct person *
people_find(const struct people *p, const char *network, const char *sender)
{
	size_t i;

	if (sender == NULL)
		return NULL;
	if (strcmp(network, "console") == 0)
		return people_by_name(p, sender);
	for (i = 0; i < p->id_count; i++) {
		const struct identity *id = &p->ids[i];

		if (strcmp(id->network, network) != 0)
			continue;
		if (strcmp(network, "xmpp") == 0 ? people_same_jid(id->id, sender)
		                                 : strcmp(id->id, sender) == 0)
			return &p->persons[id->person];
	}
	return NULL;
}

void
people_add_identity(struct people *p, const char *name, const char *network, const char *id)
{
	const struct person *who = people_by_name(p, name);
	size_t n;

	if (who == NULL || id == NULL || *id == '\0' || people_find(p, network, id) != NULL)
		return;
	for (n = 0; n < PEOPLE_NETWORKS; n++) {
		if (strcmp(people_networks[n], network) == 0) {
			people_add_identities(p, (size_t)(who - p->persons), people_networks[n],
			                      id);
			return;
		}
	}
}

const char *
people_identity(const struct people *p, const char *name, const char *network)
{
	const struct person *who = people_by_name(p, name);
	size_t i;

	if (who != NULL && strcmp(network, "console") == 0)
		return who->name;
	for (i = 0; who && i < p->id_count; i++)
		if (p->ids[i].person == (size_t)(who - p->persons) &&
		    strcmp(p->ids[i].network, network) == 0)
			return p->ids[i].id;
	return NULL;
}

bool
people_has_identity(const struct people *p, const char *name, const char *network)
{
	return people_identity(p, name, network) != NULL;
}

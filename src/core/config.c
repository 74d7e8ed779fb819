#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/util.h"

/*
 * How the file is read. libinih splits "key = value", strips comments and
 * white space and skips a BOM; Debian's build has no INI_HANDLER_LINENO, so
 * config.c feeds it through ini_parse_stream() with its own line reader,
 * which numbers the lines and also sees the section headers and the lines
 * inih would reject (inih reports only the first of those). Multi-line
 * values are turned off: an indented line is a key of its own.
 */
#define CONFIG_FILE_MAX   (1024 * 1024)
#define CONFIG_LINE_MAX   4096
#define CONFIG_SECRET_MAX (64 * 1024)

enum type {
	T_STRING,
	T_URL,
	T_INT,
	T_BOOL,
	T_ENUM,
	T_LIST,
	T_SECRET,
	T_HOSTPORT,
	T_PATH,
	T_PERSON, /* the name of a configured [person] */
};

enum {
	F_REQUIRED = 1 << 0,      /* when the section is present */
	F_MUST_EXIST = 1 << 1,    /* a path that must be readable */
	F_FOLDER_EXISTS = 1 << 2, /* a path whose folder must exist */
};

struct spec {
	const char *section;
	const char *key;
	enum type type;
	unsigned flags;
	const char *def;
	long min, max;      /* T_INT */
	const char *values; /* T_ENUM: "a|b|c" */
	const char *hint;   /* what it is and where to find it */
};

/* clang-format off */
#define SERVICE_COMMON(sec) \
	{sec, "timeout_ms", T_INT, 0, "15000", 100, 600000, NULL, "how long to wait for an answer"}, \
	{sec, "tls_verify", T_BOOL, 0, "true", 0, 0, NULL, "check the server's certificate"}, \
	{sec, "ca_file", T_PATH, F_MUST_EXIST, NULL, 0, 0, NULL, \
	 "a CA certificate file, for a server with a self-signed certificate"}

#define ARR(sec, app, port) \
	{sec, "url", T_URL, F_REQUIRED, NULL, 0, 0, NULL, \
	 "the address you open " app " at, e.g. http://localhost:" port}, \
	{sec, "api_key", T_SECRET, F_REQUIRED, NULL, 0, 0, NULL, \
	 app " -> Settings -> General -> API Key"}, \
	SERVICE_COMMON(sec)
/* clang-format on */

static const struct spec schema[] = {
    {"usher", "log_level", T_ENUM, 0, "info", 0, 0, "error|warn|info|debug", "how much to log"},
    {"usher", "log_format", T_ENUM, 0, "text", 0, 0, "text|json",
     "log lines as key=value text or as JSON objects"},
    {"usher", "unknown_users", T_ENUM, 0, "refuse", 0, 0, "refuse|read-only|default",
     "what to do with people usher does not know"},
    {"usher", "default_person", T_PERSON, 0, NULL, 0, 0, NULL,
     "the person unknown senders act as when unknown_users = default"},
    {"usher", "name", T_STRING, 0, "usher", 0, 0, NULL, "the bot's name in chat"},
    {"usher", "command_prefix", T_STRING, 0, "!usher", 0, 0, NULL,
     "how people address usher in group rooms"},
    {"usher", "grammars", T_PATH, F_MUST_EXIST, NULL, 0, 0, NULL, "the folder of *.grammar files"},
    {"usher", "prompts", T_PATH, F_MUST_EXIST, NULL, 0, 0, NULL, "the folder of LLM prompts"},

    {"seerr", "url", T_URL, F_REQUIRED, NULL, 0, 0, NULL,
     "the address you open Overseerr or Jellyseerr at, e.g. http://localhost:5055"},
    {"seerr", "api_key", T_SECRET, F_REQUIRED, NULL, 0, 0, NULL,
     "Overseerr -> Settings -> General -> API Key"},
    {"seerr", "webhook_secret", T_SECRET, 0, NULL, 0, 0, NULL,
     "the Authorization header Overseerr sends: Settings -> Notifications -> Webhook"},
    SERVICE_COMMON("seerr"),

    ARR("radarr", "Radarr", "7878"),
    ARR("sonarr", "Sonarr", "8989"),
    ARR("prowlarr", "Prowlarr", "9696"),

    {"qbittorrent", "url", T_URL, F_REQUIRED, NULL, 0, 0, NULL,
     "the address of qBittorrent's Web UI, e.g. http://localhost:8080"},
    {"qbittorrent", "username", T_STRING, 0, "admin", 0, 0, NULL,
     "qBittorrent -> Options -> Web UI -> Authentication"},
    {"qbittorrent", "password", T_SECRET, 0, NULL, 0, 0, NULL,
     "qBittorrent -> Options -> Web UI -> Authentication"},
    SERVICE_COMMON("qbittorrent"),

    {"llm", "url", T_URL, 0, NULL, 0, 0, NULL,
     "an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"},
    {"llm", "model", T_STRING, 0, NULL, 0, 0, NULL, "the model name, e.g. llama3.1:8b"},
    {"llm", "api_key", T_SECRET, 0, NULL, 0, 0, NULL, "the provider's API key, if it needs one"},
    {"llm", "api", T_ENUM, 0, "openai", 0, 0, "openai|ollama", "which API the endpoint speaks"},
    {"llm", "timeout_ms", T_INT, 0, "20000", 100, 600000, NULL, "how long to wait for an answer"},
    {"llm", "max_per_person_per_hour", T_INT, 0, "30", 0, 10000, NULL,
     "how many LLM calls one person may cause in an hour"},
    {"llm", "enabled", T_BOOL, 0, "true", 0, 0, NULL, "use the LLM when the grammar is unsure"},
    {"llm", "cache_size", T_INT, 0, "128", 0, 100000, NULL,
     "how many answers to remember (0: none)"},

    {"xmpp", "jid", T_STRING, F_REQUIRED, NULL, 0, 0, NULL,
     "the bot's own account, e.g. usher@example.org"},
    {"xmpp", "password", T_SECRET, F_REQUIRED, NULL, 0, 0, NULL, "the bot account's password"},
    {"xmpp", "host", T_STRING, 0, NULL, 0, 0, NULL, "the server to connect to, if not the JID's"},
    {"xmpp", "port", T_INT, 0, NULL, 1, 65535, NULL, "the server's client port, usually 5222"},
    {"xmpp", "rooms", T_LIST, 0, NULL, 0, 0, NULL, "group chats to join, comma-separated"},
    {"xmpp", "nick", T_STRING, 0, "usher", 0, 0, NULL, "the bot's nickname in rooms"},
    {"xmpp", "tls", T_ENUM, 0, "required", 0, 0,
     "required|trust-self-signed|off-for-loopback-tests", "how strict to be about TLS"},
    {"xmpp", "ping_s", T_INT, 0, "60", 0, 3600, NULL,
     "seconds of silence before usher pings the server to check the link (0: never)"},

    {"matrix", "homeserver", T_URL, F_REQUIRED, NULL, 0, 0, NULL,
     "the homeserver's address, e.g. https://matrix.example.org"},
    {"matrix", "user_id", T_STRING, F_REQUIRED, NULL, 0, 0, NULL,
     "the bot's account, e.g. @usher:example.org"},
    {"matrix", "access_token", T_SECRET, 0, NULL, 0, 0, NULL,
     "Element -> Settings -> Help & About -> Access Token, logged in as the bot"},
    {"matrix", "password", T_SECRET, 0, NULL, 0, 0, NULL, "the bot account's password"},
    {"matrix", "device_id", T_STRING, 0, NULL, 0, 0, NULL, "keep the same device across restarts"},
    {"matrix", "rooms", T_LIST, 0, NULL, 0, 0, NULL, "rooms to join, comma-separated"},
    {"matrix", "request_timeout_ms", T_INT, 0, "20000", 100, 600000, NULL,
     "how long to wait for the homeserver before retrying a send"},

    {"discord", "token", T_SECRET, F_REQUIRED, NULL, 0, 0, NULL,
     "Discord Developer Portal -> your application -> Bot -> Reset Token"},
    {"discord", "application_id", T_STRING, 0, NULL, 0, 0, NULL,
     "Developer Portal -> General Information -> Application ID"},
    {"discord", "guild", T_STRING, 0, NULL, 0, 0, NULL,
     "a server id, to register slash commands there at once"},
    {"discord", "api_url", T_URL, 0, "https://discord.com/api/v10", 0, 0, NULL,
     "Discord's REST API; change only for tests"},

    {"telegram", "token", T_SECRET, F_REQUIRED, NULL, 0, 0, NULL, "the token @BotFather gave you"},

    {"console", "person", T_PERSON, F_REQUIRED, NULL, 0, 0, NULL, "who is typing at the console"},
    {"console", "exit_wait_ms", T_INT, 0, "30000", 0, 600000, NULL,
     "how long to wait for replies after input ends"},

    {"mcp", "person", T_PERSON, 0, NULL, 0, 0, NULL,
     "whom an MCP client (usher mcp) acts as, unless --as says"},

    {"person", "role", T_ENUM, 0, "member", 0, 0, "admin|member", "what the person may do"},
    {"person", "seerr_user", T_INT, 0, NULL, 1, INT_MAX, NULL,
     "Overseerr -> Users -> the person -> the number in the address"},
    {"person", "xmpp", T_LIST, 0, NULL, 0, 0, NULL, "their JIDs"},
    {"person", "matrix", T_LIST, 0, NULL, 0, 0, NULL, "their Matrix ids"},
    {"person", "discord", T_LIST, 0, NULL, 0, 0, NULL, "their Discord user ids"},
    {"person", "telegram", T_LIST, 0, NULL, 0, 0, NULL, "their Telegram user ids"},
    {"person", "notify", T_ENUM, 0, "room", 0, 0, "room|dm|both",
     "where \"it's ready\" reaches them: the room where they asked, a direct message, or both"},
    {"person", "xmpp_nick", T_LIST, 0, NULL, 0, 0, NULL,
     "their nicknames in XMPP rooms that hide real JIDs"},

    {"store", "path", T_PATH, F_FOLDER_EXISTS, "usher.db", 0, 0, NULL,
     "the database file, next to the config unless absolute"},
    {"store", "sync", T_ENUM, 0, "normal", 0, 0, "normal|full",
     "normal: every write survives usher crashing; full: also a power cut, with a disk flush "
     "per write"},
    {"http", "listen", T_HOSTPORT, 0, NULL, 0, 0, NULL, "e.g. 127.0.0.1:8765"},
    {"http", "max_connections", T_INT, 0, "16", 1, 1024, NULL,
     "how many clients may be connected at once"},
    {"http", "max_body", T_INT, 0, "65536", 1024, 16777216, NULL,
     "the largest request body accepted, in bytes"},
    {"progress", "interval_s", T_INT, 0, "30", 1, 3600, NULL, "seconds between progress checks"},
    {"progress", "edit_every_s", T_INT, 0, "5", 0, 600, NULL,
     "at most one edit of a progress message this often"},

    {"filebrowser", "url", T_URL, F_REQUIRED, NULL, 0, 0, NULL,
     "FileBrowser's address as people open it, e.g. http://files.home:8080"},
    {"filebrowser", "path_from", T_STRING, 0, "/", 0, 0, NULL,
     "the library root as Radarr and Sonarr see it, e.g. /data/media"},
    {"filebrowser", "path_to", T_STRING, 0, "/", 0, 0, NULL,
     "the same folder as FileBrowser shows it, e.g. /media"},
};

#define NSCHEMA (sizeof(schema) / sizeof(schema[0]))

/* What the example config writes where a secret goes. */
static const char placeholder[] = "CHANGE-ME";

/* Settings that begin with USHER_ but are read elsewhere. */
static const char *const env_not_settings[] = {"USHER_CONFIG", "USHER_DATA_DIR"};

/* The networks whose identities a person lists; one identity, one person. */
static const char *const identity_keys[] = {"xmpp", "matrix", "discord", "telegram"};

enum source {
	SRC_FILE,
	SRC_ENV,
};

struct entry {
	const struct spec *spec;
	char *value;
	char *where;
	enum source source;
	bool via_file; /* K_file / USHER_..._FILE */
	int line;
};

struct section {
	char *kind;   /* schema section: "seerr", "person" */
	char *person; /* the NAME of [person NAME], else NULL */
	char *where;  /* where it was first given */
	struct entry *entries;
	size_t nentries;
};

struct config {
	char *path;
	char *dir;
	struct section *sections;
	size_t nsections;
	struct config_problem *problems;
	size_t nproblems;
	char *defaults[NSCHEMA]; /* resolved path defaults */

	/* While reading the file. */
	const char *text;
	size_t pos, len;
	int line;
	struct section *cur; /* NULL: before any header, or a rejected one */
	bool cur_rejected;
	int first_inline_secret_line;
	int *flagged_lines;
	size_t nflagged;
};

static void __attribute__((format(printf, 4, 5)))
problem(struct config *cfg, enum config_severity sev, const char *where, const char *fmt, ...)
{
	struct config_problem *p;
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	cfg->problems = xrealloc(cfg->problems, (cfg->nproblems + 1) * sizeof(*cfg->problems));
	p = &cfg->problems[cfg->nproblems++];
	p->severity = sev;
	p->where = xstrdup(where);
	p->message = msg;
}

/* "usher.conf:12" for the line being read. */
static char *
here(const struct config *cfg)
{
	return xasprintf("%s:%d", cfg->path, cfg->line);
}

static const struct spec *
spec_find(const char *kind, const char *key)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if (strcmp(schema[i].section, kind) == 0 && strcmp(schema[i].key, key) == 0)
			return &schema[i];
	return NULL;
}

static bool
kind_known(const char *kind)
{
	for (size_t i = 0; i < NSCHEMA; i++)
		if (strcmp(schema[i].section, kind) == 0)
			return true;
	return false;
}

static void
str_lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void
str_upper(char *s)
{
	for (; *s; s++)
		*s = (char)toupper((unsigned char)*s);
}

/* Levenshtein distance, case-insensitive, for "did you mean". */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];

	if (lb >= sizeof(row) / sizeof(row[0]) || la >= 128)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost =
			    tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;

			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Picks the closest candidate when it is close enough to be a typo. */
struct nearest {
	const char *best;
	size_t dist;
	char *owned; /* when the candidate had to be built */
};

static void
nearest_offer(struct nearest *n, const char *word, const char *candidate, bool copy)
{
	size_t d = edit_distance(word, candidate);
	size_t len = strlen(word);

	if (d == 0 || d > 3 || (d > 2 && d * 3 > len) || d >= n->dist)
		return;
	n->dist = d;
	free(n->owned);
	n->owned = copy ? xstrdup(candidate) : NULL;
	n->best = copy ? n->owned : candidate;
}

static void
nearest_init(struct nearest *n)
{
	n->best = NULL;
	n->dist = SIZE_MAX;
	n->owned = NULL;
}

/* ---- sections and entries ---- */

static bool
person_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 32)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && *name != '_' && *name != '-')
			return false;
	return true;
}

static struct section *
section_find(struct config *cfg, const char *kind, const char *person)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct section *s = &cfg->sections[i];

		if (strcmp(s->kind, kind) != 0)
			continue;
		if (person == NULL || (s->person && str_eq_nocase(s->person, person)))
			return s;
	}
	return NULL;
}

static struct section *
section_add(struct config *cfg, const char *kind, const char *person, const char *where)
{
	struct section *s = section_find(cfg, kind, person);

	if (s)
		return s;
	cfg->sections = xrealloc(cfg->sections, (cfg->nsections + 1) * sizeof(*cfg->sections));
	s = &cfg->sections[cfg->nsections++];
	memset(s, 0, sizeof(*s));
	s->kind = xstrdup(kind);
	s->person = xstrdup(person);
	s->where = xstrdup(where);
	return s;
}

/* "[seerr]" or "[person alice]", for messages. */
static char *
section_label(const struct section *s)
{
	return s->person ? xasprintf("[person %s]", s->person) : xasprintf("[%s]", s->kind);
}

static struct entry *
entry_find(const struct section *s, const char *key)
{
	for (size_t i = 0; i < s->nentries; i++)
		if (strcmp(s->entries[i].spec->key, key) == 0)
			return &s->entries[i];
	return NULL;
}

static char *
resolve_path(const struct config *cfg, const char *path)
{
	if (path[0] == '/' || cfg->dir == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cfg->dir, path);
}

/*
 * Sets a value, applying the rules about where it came from: the same key
 * twice in the file is an error, K with K_file too, and the environment
 * replaces what the file said.
 */
static void
entry_set(struct config *cfg, struct section *s, const struct spec *sp, const char *value,
          const char *where, enum source src, bool via_file)
{
	struct entry *e = entry_find(s, sp->key);
	char *label = section_label(s);

	/* The placeholder is no secret, and redacting it would hide it in
	 * the very message that asks for it to be replaced. */
	if (sp->type == T_SECRET && strcmp(value, placeholder) != 0)
		log_add_secret(value);
	if (e && e->source == src) {
		char also[64];

		if (e->line)
			snprintf(also, sizeof(also), "line %d", e->line);
		else
			strlcpy_u(also, e->where, sizeof(also));
		if (e->via_file != via_file)
			problem(cfg, CONFIG_ERROR, where,
			        "%s has both %s and %s_file (also on %s); keep one", label, sp->key,
			        sp->key, also);
		else
			problem(cfg, CONFIG_ERROR, where,
			        "%s %s is set twice (also on %s); keep one", label, sp->key, also);
		free(label);
		return;
	}
	free(label);
	if (e == NULL) {
		s->entries = xrealloc(s->entries, (s->nentries + 1) * sizeof(*s->entries));
		e = &s->entries[s->nentries++];
		memset(e, 0, sizeof(*e));
		e->spec = sp;
	} else {
		free(e->value);
		free(e->where);
	}
	/* Relative paths in the file mean "next to the config". */
	if (sp->type == T_PATH && src == SRC_FILE && value[0] != '\0')
		e->value = resolve_path(cfg, value);
	else
		e->value = xstrdup(value);
	e->where = xstrdup(where);
	e->source = src;
	e->via_file = via_file;
	e->line = src == SRC_FILE ? cfg->line : 0;
}

/* Reads a K_file value. Returns a new trimmed string, or NULL after
 * recording the problem. */
static char *
read_value_file(struct config *cfg, const char *where, const char *setting, const char *path)
{
	char *full = cfg->dir && path[0] != '/' ? resolve_path(cfg, path) : xstrdup(path);
	char *data = file_read_all(full, CONFIG_SECRET_MAX, NULL);

	if (data == NULL) {
		problem(cfg, CONFIG_ERROR, where, "cannot read %s '%s': %s", setting, full,
		        strerror(errno));
		free(full);
		return NULL;
	}
	str_trim(data);
	if (*data == '\0') {
		problem(cfg, CONFIG_ERROR, where, "%s '%s' is empty; put the value in it", setting,
		        full);
		free(data);
		data = NULL;
	}
	free(full);
	return data;
}

/* ---- the file ---- */

static void
flag_line(struct config *cfg, int line)
{
	cfg->flagged_lines =
	    xrealloc(cfg->flagged_lines, (cfg->nflagged + 1) * sizeof(*cfg->flagged_lines));
	cfg->flagged_lines[cfg->nflagged++] = line;
}

static void
known_sections(char *out, size_t outlen)
{
	const char *last = NULL;
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NSCHEMA && used < outlen; i++) {
		if (last && strcmp(last, schema[i].section) == 0)
			continue;
		last = schema[i].section;
		used += (size_t)snprintf(out + used, outlen - used, "%s[%s%s]", used ? ", " : "",
		                         last, strcmp(last, "person") == 0 ? " NAME" : "");
	}
}

static void
header_line(struct config *cfg, const char *inner)
{
	char *text = xstrdup(inner), *kind, *name, *where = here(cfg);

	str_trim(text);
	kind = text;
	name = kind + strcspn(kind, " \t");
	if (*name) {
		*name++ = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
	}
	str_lower(kind);
	cfg->cur = NULL;
	cfg->cur_rejected = true;
	if (!kind_known(kind) || (*name && strcmp(kind, "person") != 0)) {
		struct nearest n;
		char known[512];

		nearest_init(&n);
		for (size_t i = 0; i < NSCHEMA; i++)
			nearest_offer(&n, inner, schema[i].section, false);
		if (n.best) {
			problem(cfg, CONFIG_ERROR, where,
			        "unknown section [%s]; did you mean [%s]?", inner, n.best);
		} else {
			known_sections(known, sizeof(known));
			problem(cfg, CONFIG_ERROR, where, "unknown section [%s]; usher knows %s",
			        inner, known);
		}
	} else if (strcmp(kind, "person") == 0 && *name == '\0') {
		problem(cfg, CONFIG_ERROR, where,
		        "[person] needs the person's name: write it as [person alice]");
	} else if (strcmp(kind, "person") == 0 && !person_name_valid(name)) {
		problem(cfg, CONFIG_ERROR, where,
		        "[person %s]: a name may have only letters, digits, '-' and '_' (at most "
		        "32), e.g. [person alice]",
		        name);
	} else {
		cfg->cur = section_add(cfg, kind, *name ? name : NULL, where);
		cfg->cur_rejected = false;
	}
	free(where);
	free(text);
}

/* Checks a line the way inih will parse it, so that every bad line is
 * reported (inih reports only the first) and headers are seen. */
static void
classify_line(struct config *cfg, char *line)
{
	char *where;

	if (cfg->line == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
	    (unsigned char)line[2] == 0xBF)
		line += 3;
	str_trim(line);
	if (line[0] == '\0' || line[0] == ';' || line[0] == '#')
		return;
	if (line[0] == '[') {
		char *end = strchr(line, ']');

		if (end == NULL) {
			where = here(cfg);
			problem(cfg, CONFIG_ERROR, where,
			        "the section header '%s' is missing its closing ']'", line);
			free(where);
			flag_line(cfg, cfg->line);
			cfg->cur = NULL;
			cfg->cur_rejected = true;
			return;
		}
		*end = '\0';
		header_line(cfg, line + 1);
		return;
	}
	if (strcspn(line, "=:") == strlen(line)) {
		where = here(cfg);
		problem(cfg, CONFIG_ERROR, where,
		        "cannot understand '%s'; settings are written as key = value", line);
		free(where);
		flag_line(cfg, cfg->line);
	}
}

/* The ini_reader: one line per call, numbered. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config *cfg = stream;
	size_t end, n;
	char *copy;

	if (cfg->pos >= cfg->len)
		return NULL;
	end = cfg->pos;
	while (end < cfg->len && cfg->text[end] != '\n')
		end++;
	if (end < cfg->len)
		end++; /* keep the newline, as fgets would */
	n = end - cfg->pos;
	cfg->line++;
	copy = xstrndup(cfg->text + cfg->pos, n);
	if (n >= (size_t)num) {
		char *where = here(cfg);

		problem(cfg, CONFIG_ERROR, where, "this line is longer than %d characters",
		        num - 3);
		free(where);
		flag_line(cfg, cfg->line);
		n = 0; /* hand inih an empty line: nothing of it is used */
	}
	memcpy(str, cfg->text + cfg->pos, n);
	str[n] = '\0';
	cfg->pos = end;
	classify_line(cfg, copy);
	free(copy);
	return str;
}

static void
key_list(const char *kind, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NSCHEMA && used < outlen; i++)
		if (strcmp(schema[i].section, kind) == 0)
			used += (size_t)snprintf(out + used, outlen - used, "%s%s",
			                         used ? ", " : "", schema[i].key);
}

static void
unknown_key(struct config *cfg, const struct section *s, const char *key, const char *where)
{
	char *label = section_label(s), known[512];
	struct nearest n;

	nearest_init(&n);
	for (size_t i = 0; i < NSCHEMA; i++)
		if (strcmp(schema[i].section, s->kind) == 0)
			nearest_offer(&n, key, schema[i].key, false);
	if (n.best) {
		problem(cfg, CONFIG_ERROR, where, "unknown key '%s' in %s; did you mean '%s'?", key,
		        label, n.best);
	} else {
		key_list(s->kind, known, sizeof(known));
		problem(cfg, CONFIG_ERROR, where, "unknown key '%s' in %s; %s knows %s", key, label,
		        label, known);
	}
	free(label);
}

/* Matches a lower-cased key ("api_key", "api_key_file") to the schema of
 * `kind`; returns the spec and whether it was the K_file form. */
static const struct spec *
spec_match(const char *kind, const char *rest, bool *via_file)
{
	const struct spec *sp = spec_find(kind, rest);
	size_t len = strlen(rest);

	*via_file = false;
	if (sp == NULL && len > 5 && strcmp(rest + len - 5, "_file") == 0) {
		char *base = xstrndup(rest, len - 5);

		sp = spec_find(kind, base);
		*via_file = sp != NULL;
		free(base);
	}
	return sp;
}

static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config *cfg = user;
	char *key = xstrdup(name), *where = here(cfg), *content;
	const struct spec *sp;
	bool via_file;

	(void)section; /* the reader tracks sections, including rejected ones */
	str_lower(key);
	if (cfg->cur == NULL) {
		if (!cfg->cur_rejected)
			problem(cfg, CONFIG_ERROR, where,
			        "'%s' comes before any [section]; move it under the section it "
			        "belongs to",
			        name);
	} else if (*key == '\0') {
		problem(cfg, CONFIG_ERROR, where, "a setting needs a name before '='");
	} else if ((sp = spec_match(cfg->cur->kind, key, &via_file)) == NULL) {
		unknown_key(cfg, cfg->cur, key, where);
	} else if (!via_file) {
		if (sp->type == T_SECRET && *value && strcmp(value, placeholder) != 0 &&
		    cfg->first_inline_secret_line == 0)
			cfg->first_inline_secret_line = cfg->line;
		entry_set(cfg, cfg->cur, sp, value, where, SRC_FILE, false);
	} else if ((content = read_value_file(cfg, where, key, value)) != NULL) {
		entry_set(cfg, cfg->cur, sp, content, where, SRC_FILE, true);
		free(content);
	}
	free(where);
	free(key);
	return 1;
}

static void
config_read_file(struct config *cfg)
{
	struct stat st;
	char *text;
	size_t len;
	bool saved_multiline = ini_allow_multiline;
	int saved_max = ini_max_line, rc;

	text = file_read_all(cfg->path, CONFIG_FILE_MAX, &len);
	if (text == NULL) {
		problem(cfg, CONFIG_ERROR, cfg->path, "cannot read the config file %s: %s%s",
		        cfg->path, strerror(errno),
		        errno == ENOENT ? "; check the path, or copy contrib/usher.conf.example"
		                        : "");
		return;
	}
	cfg->text = text;
	cfg->len = len;
	ini_allow_multiline = false;
	ini_max_line = CONFIG_LINE_MAX + 3;
	rc = ini_parse_stream(config_reader, cfg, config_handler, cfg);
	ini_allow_multiline = saved_multiline;
	ini_max_line = saved_max;
	if (rc > 0) {
		bool seen = false;

		for (size_t i = 0; i < cfg->nflagged; i++)
			seen |= cfg->flagged_lines[i] == rc;
		if (!seen) {
			char *where = xasprintf("%s:%d", cfg->path, rc);
			problem(cfg, CONFIG_ERROR, where, "cannot understand this line");
			free(where);
		}
	}
	cfg->text = NULL;
	free(text);

	if (cfg->first_inline_secret_line && stat(cfg->path, &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IROTH)))
		problem(cfg, CONFIG_WARNING, cfg->path,
		        "%s holds secrets (line %d) and is readable by others; chmod 600 %s, or "
		        "move the secrets to *_file settings",
		        cfg->path, cfg->first_inline_secret_line, cfg->path);
}

/* ---- the environment ---- */

static void
env_suggest(struct config *cfg, const char *var)
{
	struct nearest n;
	const char *at = strchr(var, '=');
	char *name = xstrndup(var, (size_t)(at - var));

	nearest_init(&n);
	for (size_t i = 0; i < NSCHEMA; i++) {
		char *cand;

		if (strcmp(schema[i].section, "person") == 0) {
			/* USHER_PERSON_<NAME>_<KEY>: try each '_' as the end of
			 * the name. */
			const char *from = name + strlen("USHER_PERSON_");

			if (!str_starts_with(name, "USHER_PERSON_"))
				continue;
			for (const char *u = strchr(from, '_'); u; u = strchr(u + 1, '_')) {
				cand = xasprintf("USHER_PERSON_%.*s_%s", (int)(u - from), from,
				                 schema[i].key);
				str_upper(cand);
				nearest_offer(&n, name, cand, true);
				free(cand);
			}
			continue;
		}
		cand = xasprintf("USHER_%s_%s", schema[i].section, schema[i].key);
		str_upper(cand);
		nearest_offer(&n, name, cand, true);
		free(cand);
	}
	if (n.best)
		problem(cfg, CONFIG_WARNING, name,
		        "%s is not a setting usher knows, so it is ignored; did you mean %s?", name,
		        n.best);
	else
		problem(cfg, CONFIG_WARNING, name,
		        "%s is not a setting usher knows, so it is ignored; settings are named "
		        "USHER_<SECTION>_<KEY>, e.g. USHER_SEERR_API_KEY, or "
		        "USHER_PERSON_<NAME>_<KEY>",
		        name);
	free(n.owned);
	free(name);
}

/* USHER_PERSON_<NAME>_<KEY>: names may hold '_', so match the key from the
 * end. `rest` is lower-cased. Returns the spec and a new name. */
static const struct spec *
env_person_key(const char *rest, char **name, bool *via_file)
{
	size_t len = strlen(rest);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NSCHEMA; i++) {
			char *suffix;
			size_t sl;

			if (strcmp(schema[i].section, "person") != 0)
				continue;
			suffix = xasprintf("_%s%s", schema[i].key, pass == 0 ? "_file" : "");
			sl = strlen(suffix);
			if (len > sl && strcmp(rest + len - sl, suffix) == 0) {
				free(suffix);
				*name = xstrndup(rest, len - sl);
				*via_file = pass == 0;
				return &schema[i];
			}
			free(suffix);
		}
	}
	return NULL;
}

static void
env_one(struct config *cfg, const char *var)
{
	const char *eq = strchr(var, '='), *value;
	char *name, *rest = NULL, *person = NULL, *content = NULL;
	const struct spec *sp = NULL;
	struct section *s;
	bool via_file = false;

	if (eq == NULL)
		return;
	name = xstrndup(var, (size_t)(eq - var));
	value = eq + 1;
	for (size_t i = 0; i < sizeof(env_not_settings) / sizeof(env_not_settings[0]); i++)
		if (strcmp(name, env_not_settings[i]) == 0)
			goto out;
	/* An empty variable is how compose files spell "not set". */
	if (*value == '\0')
		goto out;
	rest = xstrdup(name + strlen("USHER_"));
	str_lower(rest);
	for (size_t i = 0; i < NSCHEMA && sp == NULL; i++) {
		size_t kl = strlen(schema[i].section);

		if (strncmp(rest, schema[i].section, kl) != 0 || rest[kl] != '_')
			continue;
		if (strcmp(schema[i].section, "person") == 0)
			sp = env_person_key(rest + kl + 1, &person, &via_file);
		else
			sp = spec_match(schema[i].section, rest + kl + 1, &via_file);
		break;
	}
	if (sp == NULL || (person && !person_name_valid(person))) {
		env_suggest(cfg, var);
		goto out;
	}
	if (via_file) {
		content = read_value_file(cfg, name, name, value);
		if (content == NULL)
			goto out;
		value = content;
	}
	s = section_add(cfg, sp->section, person, name);
	{
		struct entry *e = entry_find(s, sp->key);

		if (e && e->source == SRC_ENV) {
			problem(cfg, CONFIG_ERROR, name, "%s and %s both set %s; keep one",
			        e->where, name, sp->key);
			goto out;
		}
	}
	entry_set(cfg, s, sp, value, name, SRC_ENV, via_file);
out:
	free(content);
	free(person);
	free(rest);
	free(name);
}

/* ---- checks once everything is read ---- */

static bool
parse_long(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return false;
	*out = v;
	return true;
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (str_eq_nocase(s, yes[i]))
			return 1;
		if (str_eq_nocase(s, no[i]))
			return 0;
	}
	return -1;
}

static bool
enum_has(const char *values, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = values; *p;) {
		size_t l = strcspn(p, "|");

		if (l == n && strncmp(p, v, n) == 0)
			return true;
		p += l + (p[l] == '|');
	}
	return false;
}

/* "admin or member", "refuse, read-only or default" */
static char *
enum_words(const char *values)
{
	char *s = xstrdup(values), *last = strrchr(s, '|'), *out;
	struct buf b;

	buf_init(&b, 0);
	for (char *p = s; *p; p++) {
		if (p == last)
			buf_append_str(&b, " or ");
		else if (*p == '|')
			buf_append_str(&b, ", ");
		else
			buf_append(&b, p, 1);
	}
	out = buf_steal(&b);
	free(s);
	return out;
}

static bool
url_valid(const char *v)
{
	const char *host;
	size_t hl;

	if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return false;
	hl = strcspn(host, ":/?#");
	if (host[0] == '[')
		hl = strcspn(host, "]") + 1;
	if (hl == 0 || strpbrk(v, " \t") != NULL)
		return false;
	if (host[hl] == ':') {
		long port;
		char *p = xstrndup(host + hl + 1, strcspn(host + hl + 1, "/?#"));
		bool ok = parse_long(p, &port) && port >= 1 && port <= 65535;

		free(p);
		return ok;
	}
	return true;
}

static bool
hostport_valid(const char *v)
{
	const char *colon = strrchr(v, ':');
	long port;

	if (colon == NULL || colon == v || !parse_long(colon + 1, &port) || port < 1 ||
	    port > 65535)
		return false;
	if (v[0] == '[')
		return colon[-1] == ']' && colon - v > 2;
	return memchr(v, ':', (size_t)(colon - v)) == NULL;
}

static struct section *
person_find(struct config *cfg, const char *name)
{
	return section_find(cfg, "person", name);
}

static void
person_missing(struct config *cfg, const struct entry *e, const char *label)
{
	struct buf names;
	size_t n = 0;

	buf_init(&names, 0);
	for (size_t i = 0; i < cfg->nsections; i++) {
		if (cfg->sections[i].person == NULL)
			continue;
		buf_printf(&names, "%s%s", n++ ? ", " : "", cfg->sections[i].person);
	}
	if (n)
		problem(cfg, CONFIG_ERROR, e->where,
		        "%s %s '%s' is not a configured person; add a [person %s] section or use "
		        "one of: %s",
		        label, e->spec->key, e->value, e->value, names.data);
	else
		problem(cfg, CONFIG_ERROR, e->where,
		        "%s %s '%s' is not a configured person; add a [person %s] section", label,
		        e->spec->key, e->value, e->value);
	buf_free(&names);
}

static void
check_value(struct config *cfg, const struct section *s, const struct entry *e)
{
	const struct spec *sp = e->spec;
	char *label = section_label(s), *words;
	const char *v = e->value;
	long n;

	if (*v == '\0')
		goto out;
	switch (sp->type) {
	case T_URL:
		if (!url_valid(v))
			problem(cfg, CONFIG_ERROR, e->where,
			        "%s %s '%s' is not a URL; write it as http://host:port", label,
			        sp->key, v);
		break;
	case T_INT:
		if (!parse_long(v, &n) || n < sp->min || n > sp->max)
			problem(cfg, CONFIG_ERROR, e->where,
			        "%s %s '%s' must be a number from %ld to %ld", label, sp->key, v,
			        sp->min, sp->max);
		break;
	case T_BOOL:
		if (parse_bool(v) < 0)
			problem(cfg, CONFIG_ERROR, e->where, "%s %s '%s' must be true or false",
			        label, sp->key, v);
		break;
	case T_ENUM:
		if (!enum_has(sp->values, v)) {
			words = enum_words(sp->values);
			problem(cfg, CONFIG_ERROR, e->where, "%s %s '%s' must be %s", label,
			        sp->key, v, words);
			free(words);
		}
		break;
	case T_SECRET:
		if (strcmp(v, placeholder) == 0)
			problem(cfg, CONFIG_ERROR, e->where,
			        "%s %s is still the placeholder %s; put the real one here or in "
			        "%s_file (%s)",
			        label, sp->key, placeholder, sp->key, sp->hint);
		break;
	case T_HOSTPORT:
		if (!hostport_valid(v))
			problem(cfg, CONFIG_ERROR, e->where,
			        "%s %s '%s' must be host:port, e.g. 127.0.0.1:8765", label, sp->key,
			        v);
		break;
	case T_PATH:
		if ((sp->flags & F_MUST_EXIST) && access(v, R_OK) != 0) {
			problem(cfg, CONFIG_ERROR, e->where, "%s %s: cannot read '%s': %s", label,
			        sp->key, v, strerror(errno));
		} else if (sp->flags & F_FOLDER_EXISTS) {
			char *folder = xstrdup(v), *slash = strrchr(folder, '/');
			struct stat st;

			if (slash && slash != folder) {
				*slash = '\0';
				if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
					problem(
					    cfg, CONFIG_ERROR, e->where,
					    "%s %s '%s': the folder %s does not exist; create it "
					    "or choose another place",
					    label, sp->key, v, folder);
			}
			free(folder);
		}
		break;
	case T_PERSON:
		if (person_find(cfg, v) == NULL)
			person_missing(cfg, e, label);
		break;
	case T_STRING:
	case T_LIST:
		break;
	}
out:
	free(label);
}

static bool
has_value(const struct section *s, const char *key)
{
	const struct entry *e = entry_find(s, key);

	return e && e->value[0] != '\0';
}

static void
check_section(struct config *cfg, const struct section *s)
{
	char *label = section_label(s);

	for (size_t i = 0; i < s->nentries; i++)
		check_value(cfg, s, &s->entries[i]);
	for (size_t i = 0; i < NSCHEMA; i++) {
		const struct spec *sp = &schema[i];

		if (strcmp(sp->section, s->kind) == 0 && (sp->flags & F_REQUIRED) &&
		    !has_value(s, sp->key))
			problem(cfg, CONFIG_ERROR, s->where, "%s needs %s (%s)", label, sp->key,
			        sp->hint);
	}
	if (strcmp(s->kind, "matrix") == 0 && !has_value(s, "access_token") &&
	    !has_value(s, "password"))
		problem(cfg, CONFIG_ERROR, s->where,
		        "%s needs access_token or password (the bot account's access token from "
		        "Element -> Settings -> Help & About, or its password)",
		        label);
	if (strcmp(s->kind, "usher") == 0) {
		const struct entry *e = entry_find(s, "unknown_users");

		if (e && strcmp(e->value, "default") == 0 && !has_value(s, "default_person"))
			problem(
			    cfg, CONFIG_ERROR, e->where,
			    "[usher] unknown_users = default needs default_person, the [person] "
			    "unknown senders act as");
	}
	free(label);
}

/* One identity, one person: two people with the same JID would make every
 * message from it ambiguous. */
static void
check_identities(struct config *cfg)
{
	for (size_t k = 0; k < sizeof(identity_keys) / sizeof(identity_keys[0]); k++) {
		const char *net = identity_keys[k];

		for (size_t i = 0; i < cfg->nsections; i++) {
			const struct entry *ei;
			char *list, *save = NULL;

			if (cfg->sections[i].person == NULL ||
			    (ei = entry_find(&cfg->sections[i], net)) == NULL)
				continue;
			list = xstrdup(ei->value);
			for (char *id = strtok_r(list, ",", &save); id;
			     id = strtok_r(NULL, ",", &save)) {
				str_trim(id);
				if (*id == '\0')
					continue;
				for (size_t j = 0; j < i; j++) {
					const struct entry *ej;
					char *other, *osave = NULL;
					bool clash = false;

					if (cfg->sections[j].person == NULL ||
					    (ej = entry_find(&cfg->sections[j], net)) == NULL)
						continue;
					other = xstrdup(ej->value);
					for (char *o = strtok_r(other, ",", &osave); o && !clash;
					     o = strtok_r(NULL, ",", &osave))
						clash = str_eq_nocase(str_trim(o), id);
					free(other);
					if (clash)
						problem(cfg, CONFIG_ERROR, ei->where,
						        "%s identity '%s' is listed for both %s "
						        "and %s; "
						        "an identity belongs to one person",
						        net, id, cfg->sections[j].person,
						        cfg->sections[i].person);
				}
			}
			free(list);
		}
	}
}

static void
resolve_defaults(struct config *cfg)
{
	for (size_t i = 0; i < NSCHEMA; i++) {
		const struct spec *sp = &schema[i];

		if (sp->type != T_PATH)
			continue;
		if (strcmp(sp->section, "usher") == 0 && strcmp(sp->key, "grammars") == 0)
			cfg->defaults[i] = paths_data("grammars");
		else if (strcmp(sp->section, "usher") == 0 && strcmp(sp->key, "prompts") == 0)
			cfg->defaults[i] = paths_data("prompts");
		else if (sp->def)
			cfg->defaults[i] = resolve_path(cfg, sp->def);
	}
}

struct config *
config_load(const char *path, char *const *envp)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	char *const *env = envp ? envp : environ;

	if (path) {
		const char *slash = strrchr(path, '/');

		cfg->path = xstrdup(path);
		cfg->dir =
		    slash ? (slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path)))
		          : xstrdup(".");
		config_read_file(cfg);
	} else {
		cfg->dir = xstrdup(".");
	}
	for (size_t i = 0; env && env[i]; i++)
		if (str_starts_with(env[i], "USHER_"))
			env_one(cfg, env[i]);
	resolve_defaults(cfg);
	for (size_t i = 0; i < cfg->nsections; i++)
		check_section(cfg, &cfg->sections[i]);
	check_identities(cfg);
	free(cfg->flagged_lines);
	cfg->flagged_lines = NULL;
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct section *s = &cfg->sections[i];

		for (size_t j = 0; j < s->nentries; j++) {
			if (s->entries[j].spec->type == T_SECRET)
				memset(s->entries[j].value, 0, strlen(s->entries[j].value));
			free(s->entries[j].value);
			free(s->entries[j].where);
		}
		free(s->entries);
		free(s->kind);
		free(s->person);
		free(s->where);
	}
	free(cfg->sections);
	for (size_t i = 0; i < cfg->nproblems; i++) {
		free((char *)cfg->problems[i].where);
		free((char *)cfg->problems[i].message);
	}
	free(cfg->problems);
	for (size_t i = 0; i < NSCHEMA; i++)
		free(cfg->defaults[i]);
	free(cfg->flagged_lines);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
}

bool
config_ok(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nproblems; i++)
		if (cfg->problems[i].severity == CONFIG_ERROR)
			return false;
	return true;
}

size_t
config_problem_count(const struct config *cfg)
{
	return cfg->nproblems;
}

const struct config_problem *
config_problem_at(const struct config *cfg, size_t i)
{
	return i < cfg->nproblems ? &cfg->problems[i] : NULL;
}

const char *
config_path(const struct config *cfg)
{
	return cfg->path;
}

const char *
config_dir(const struct config *cfg)
{
	return cfg->dir;
}

/* Finds "seerr" or "person alice". */
static const struct section *
section_lookup(const struct config *cfg, const char *id)
{
	size_t kl = strcspn(id, " ");
	const char *person = id[kl] ? id + kl + 1 : NULL;

	for (size_t i = 0; i < cfg->nsections; i++) {
		const struct section *s = &cfg->sections[i];

		if (strlen(s->kind) != kl || strncasecmp(s->kind, id, kl) != 0)
			continue;
		if (person == NULL || (s->person && str_eq_nocase(s->person, person)))
			return s;
	}
	return NULL;
}

bool
config_has_section(const struct config *cfg, const char *section)
{
	return section_lookup(cfg, section) != NULL;
}

static const char *
value_or_default(const struct config *cfg, const struct section *s, const char *kind,
                 const char *key)
{
	const struct entry *e = s ? entry_find(s, key) : NULL;

	if (e && e->value[0] != '\0')
		return e->value;
	for (size_t i = 0; i < NSCHEMA; i++)
		if (strcmp(schema[i].section, kind) == 0 && strcmp(schema[i].key, key) == 0)
			return cfg->defaults[i] ? cfg->defaults[i] : schema[i].def;
	return NULL;
}

const char *
config_get(const struct config *cfg, const char *section, const char *key)
{
	char kind[32];

	strlcpy_u(kind, section, sizeof(kind));
	kind[strcspn(kind, " ")] = '\0';
	str_lower(kind);
	return value_or_default(cfg, section_lookup(cfg, section), kind, key);
}

long
config_get_int(const struct config *cfg, const char *section, const char *key)
{
	const char *v = config_get(cfg, section, key);
	long n;

	return v && parse_long(v, &n) ? n : 0;
}

bool
config_get_bool(const struct config *cfg, const char *section, const char *key)
{
	const char *v = config_get(cfg, section, key);

	return v && parse_bool(v) == 1;
}

size_t
config_person_count(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nsections; i++)
		n += cfg->sections[i].person != NULL;
	return n;
}

const char *
config_person_name(const struct config *cfg, size_t i)
{
	for (size_t j = 0; j < cfg->nsections; j++)
		if (cfg->sections[j].person && i-- == 0)
			return cfg->sections[j].person;
	return NULL;
}

const char *
config_person_get(const struct config *cfg, const char *name, const char *key)
{
	const struct section *s = NULL;

	for (size_t i = 0; i < cfg->nsections && s == NULL; i++)
		if (cfg->sections[i].person && str_eq_nocase(cfg->sections[i].person, name))
			s = &cfg->sections[i];
	if (s == NULL)
		return NULL;
	return value_or_default(cfg, s, "person", key);
}

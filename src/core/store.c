#include "core/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/util.h"

#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * The schema, one step per entry: migrations[i] takes a database from
 * user_version i to i + 1. Append only (see store.h).
 */
static const char *const migrations[] = {
    /* 1: small cursors and flags */
    "CREATE TABLE kv ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");",
    /* 2: conversations waiting for an answer, and the requests usher has
     * taken from people (the exactly-once outbox towards Seerr) */
    "CREATE TABLE dialogue ("
    "  network TEXT NOT NULL,"
    "  room TEXT NOT NULL,"
    "  person TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  PRIMARY KEY (network, room, person)"
    ");"
    "CREATE TABLE requests ("
    "  id INTEGER PRIMARY KEY,"
    "  network TEXT NOT NULL,"
    "  room TEXT NOT NULL,"
    "  person TEXT NOT NULL,"
    "  reply_to TEXT,"
    "  seerr_user INTEGER NOT NULL DEFAULT 0,"
    "  kind TEXT NOT NULL,"
    "  tmdb_id INTEGER NOT NULL,"
    "  title TEXT NOT NULL,"
    "  year INTEGER NOT NULL DEFAULT 0,"
    "  seasons TEXT NOT NULL DEFAULT '',"
    "  is_4k INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL,"
    "  seerr_request_id INTEGER,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  told_waiting INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX requests_by_state ON requests (state);",
    /* 3: requests followed until they are ready, and who to tell */
    "CREATE TABLE tracked ("
    "  id INTEGER PRIMARY KEY,"
    "  seerr_request_id INTEGER NOT NULL DEFAULT 0,"
    "  kind TEXT NOT NULL,"
    "  tmdb_id INTEGER NOT NULL,"
    "  is_4k INTEGER NOT NULL DEFAULT 0,"
    "  label TEXT NOT NULL,"
    "  network TEXT NOT NULL,"
    "  room TEXT NOT NULL,"
    "  person TEXT NOT NULL,"
    "  mention TEXT,"
    "  progress_msg TEXT,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  text TEXT NOT NULL DEFAULT '',"
    "  step INTEGER NOT NULL DEFAULT -1,"
    "  done INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE followers ("
    "  tracked_id INTEGER NOT NULL REFERENCES tracked (id) ON DELETE CASCADE,"
    "  network TEXT NOT NULL,"
    "  room TEXT NOT NULL,"
    "  person TEXT NOT NULL,"
    "  mention TEXT,"
    "  PRIMARY KEY (tracked_id, network, room, person)"
    ");",
    /* 4: what a settled request's person is to be told, until it is said:
     * a crash between settling and speaking must not lose the answer */
    "ALTER TABLE requests ADD COLUMN reply TEXT;"
    "ALTER TABLE requests ADD COLUMN told INTEGER NOT NULL DEFAULT 1;",
    /* 5: where "ready" reaches each person, a show's TVDB id (Sonarr v3
     * knows no TMDB ids), and the highest percent shown, so a bar never
     * goes back after a restart */
    "ALTER TABLE tracked ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tracked ADD COLUMN tvdb_id INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE tracked ADD COLUMN percent INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE followers ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;",
};

#define STORE_SCHEMA_LATEST ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* A statement kept for store_stmt(): found by the hash of its SQL, then
 * the text itself. `busy` while a caller holds it. */
struct cached_stmt {
	uint64_t hash;
	sqlite3_stmt *q;
	bool busy;
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *kv_get;
	sqlite3_stmt *kv_set;
	sqlite3_stmt *kv_delete;
	struct cached_stmt *cache;
	size_t cache_len, cache_cap;
	char err[512];
};

static void __attribute__((format(printf, 2, 3))) store_fail(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
}

/* strerror() in the middle of a sentence: "permission denied". */
static void
lower_strerror(int errnum, char *out, size_t outlen)
{
	strlcpy_u(out, strerror(errnum), outlen);
	if (out[0] && isupper((unsigned char)out[0]) && !isupper((unsigned char)out[1]))
		out[0] = (char)tolower((unsigned char)out[0]);
}

static int
exec_sql(struct store *st, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_fail(st, "%s %s: %s", what, st->path, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Reads a one-row, one-column pragma. Returns 0 or -1. */
static int
pragma_text(struct store *st, const char *sql, char *out, size_t outlen, int *rc_out)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(stmt, 0);
			strlcpy_u(out, t ? (const char *)t : "", outlen);
			rc = SQLITE_OK;
		}
		sqlite3_finalize(stmt);
	}
	*rc_out = rc;
	return rc == SQLITE_OK ? 0 : -1;
}

int
store_schema_version(struct store *st)
{
	char v[32];
	int rc;

	if (pragma_text(st, "PRAGMA user_version", v, sizeof(v), &rc) < 0)
		return -1;
	return atoi(v);
}

int
store_schema_latest(void)
{
	return STORE_SCHEMA_LATEST;
}

static int
store_migrate(struct store *st, int from)
{
	for (int v = from; v < STORE_SCHEMA_LATEST; v++) {
		char sql[64], what[64];

		/* One transaction per step: a crash mid-upgrade leaves the
		 * database at the last complete version. */
		snprintf(what, sizeof(what), "cannot upgrade to schema %d:", v + 1);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec_sql(st, "BEGIN IMMEDIATE", what) < 0)
			return -1;
		if (exec_sql(st, migrations[v], what) < 0 || exec_sql(st, sql, what) < 0 ||
		    exec_sql(st, "COMMIT", what) < 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

static int
store_prepare(struct store *st, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) !=
	    SQLITE_OK) {
		store_fail(st, "cannot prepare a statement on %s: %s", st->path,
		           sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

/* Opens and configures the connection; the messages are the ones
 * store_open() promises. */
static int
store_connect(struct store *st)
{
	char mode[32], why[128];
	int rc, version;

	rc =
	    sqlite3_open_v2(st->path, &st->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int sys = st->db ? sqlite3_system_errno(st->db) : 0;

		if (sys != 0)
			lower_strerror(sys, why, sizeof(why));
		else
			strlcpy_u(why, st->db ? sqlite3_errmsg(st->db) : "out of memory",
			          sizeof(why));
		store_fail(st, "cannot open %s: %s", st->path, why);
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);

	/* The first statement that reads the file is where a foreign file
	 * or a permission problem shows. */
	if (pragma_text(st, "PRAGMA journal_mode=WAL", mode, sizeof(mode), &rc) < 0) {
		int sys = sqlite3_system_errno(st->db);

		if ((rc & 0xff) == SQLITE_NOTADB)
			store_fail(st, "%s is not an SQLite database", st->path);
		else if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY ||
		         (rc & 0xff) == SQLITE_IOERR) {
			if (sys != 0)
				lower_strerror(sys, why, sizeof(why));
			else
				strlcpy_u(why, sqlite3_errmsg(st->db), sizeof(why));
			store_fail(st, "cannot open %s: %s", st->path, why);
		} else
			store_fail(st, "cannot open %s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (strcmp(mode, "wal") != 0) {
		store_fail(st,
		           "cannot use write-ahead logging for %s (journal mode stays '%s'); "
		           "put the database on a local file system",
		           st->path, mode);
		return -1;
	}
	/* WAL with NORMAL: every commit survives usher crashing or being
	 * killed at any moment, without a disk flush that would stall the
	 * loop on each write; [store] sync = full adds the flush (store_open_config). */
	if (exec_sql(st, "PRAGMA synchronous=NORMAL", "cannot configure") < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys=ON", "cannot configure") < 0)
		return -1;

	version = store_schema_version(st);
	if (version < 0) {
		store_fail(st, "cannot read the schema version of %s: %s", st->path,
		           sqlite3_errmsg(st->db));
		return -1;
	}
	if (version > STORE_SCHEMA_LATEST) {
		store_fail(st, "%s was written by a newer usher (schema %d, this one knows %d)",
		           st->path, version, STORE_SCHEMA_LATEST);
		return -1;
	}
	if (store_migrate(st, version) < 0)
		return -1;

	if (store_prepare(st, "SELECT value FROM kv WHERE key = ?1", &st->kv_get) < 0 ||
	    store_prepare(st,
	                  "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) "
	                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
	                  "updated_at = excluded.updated_at",
	                  &st->kv_set) < 0 ||
	    store_prepare(st, "DELETE FROM kv WHERE key = ?1", &st->kv_delete) < 0)
		return -1;
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->path = xstrdup(path);
	if (store_connect(st) < 0) {
		if (err && errlen)
			strlcpy_u(err, st->err, errlen);
		store_close(st);
		return NULL;
	}
	st->err[0] = '\0';
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->cache_len; i++)
		sqlite3_finalize(st->cache[i].q);
	free(st->cache);
	sqlite3_finalize(st->kv_get);
	sqlite3_finalize(st->kv_set);
	sqlite3_finalize(st->kv_delete);
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int
store_begin(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db)) {
		store_fail(st, "a transaction is already open on %s", st->path);
		return -1;
	}
	/* IMMEDIATE takes the write lock now, so a later write in this
	 * transaction cannot fail with SQLITE_BUSY half-way. */
	return exec_sql(st, "BEGIN IMMEDIATE", "cannot start a transaction on");
}

int
store_commit(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		store_fail(st, "no transaction is open on %s", st->path);
		return -1;
	}
	if (exec_sql(st, "COMMIT", "cannot commit to") < 0) {
		/* A busy or failed COMMIT can leave the transaction open;
		 * the contract is that nothing of it is kept. */
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		store_fail(st, "no transaction is open on %s", st->path);
		return -1;
	}
	return exec_sql(st, "ROLLBACK", "cannot roll back on");
}

/* FNV-1a: the statements are a few dozen literals, so a linear walk
 * comparing hashes finds one faster than SQLite could parse it. */
static uint64_t
sql_hash(const char *sql)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql)
{
	uint64_t hash = sql_hash(sql);
	struct cached_stmt *c;
	sqlite3_stmt *q;
	bool in_use = false;

	for (size_t i = 0; i < st->cache_len; i++) {
		c = &st->cache[i];
		if (c->hash != hash || strcmp(sqlite3_sql(c->q), sql) != 0)
			continue;
		if (!c->busy) {
			c->busy = true;
			return c->q;
		}
		in_use = true;
		break;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, in_use ? 0 : SQLITE_PREPARE_PERSISTENT, &q, NULL) !=
	    SQLITE_OK) {
		store_fail(st, "cannot prepare a statement on %s: %s", st->path,
		           sqlite3_errmsg(st->db));
		return NULL;
	}
	/* The same query still being stepped by an outer caller: this one
	 * is used once and finalized by store_stmt_done(). */
	if (in_use)
		return q;
	if (st->cache_len == st->cache_cap) {
		st->cache_cap = st->cache_cap ? st->cache_cap * 2 : 16;
		st->cache = xrealloc(st->cache, st->cache_cap * sizeof(*st->cache));
	}
	st->cache[st->cache_len++] = (struct cached_stmt){.hash = hash, .q = q, .busy = true};
	return q;
}

void
store_stmt_done(struct store *st, sqlite3_stmt *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < st->cache_len; i++) {
		if (st->cache[i].q == q) {
			/* Reset ends the statement's read or write at once: a
			 * SELECT left stepping would pin the WAL snapshot. */
			sqlite3_reset(q);
			sqlite3_clear_bindings(q);
			st->cache[i].busy = false;
			return;
		}
	}
	sqlite3_finalize(q);
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

const char *
store_errmsg(struct store *st)
{
	return st->err[0] ? st->err : "no error";
}

int
store_kv_get(struct store *st, const char *key, char **value)
{
	sqlite3_stmt *s = st->kv_get;
	int rc, ret;

	*value = NULL;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*value = xstrdup((const char *)sqlite3_column_text(s, 0));
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		ret = 1;
	} else {
		store_fail(st, "cannot read '%s' from %s: %s", key, st->path,
		           sqlite3_errmsg(st->db));
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

int
store_kv_set(struct store *st, const char *key, const char *value)
{
	sqlite3_stmt *s = st->kv_set;
	int rc;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		store_fail(st, "cannot write '%s' to %s: %s", key, st->path,
		           sqlite3_errmsg(st->db));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_kv_delete(struct store *st, const char *key)
{
	sqlite3_stmt *s = st->kv_delete;
	int rc, ret;

	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = sqlite3_changes(st->db) > 0 ? 0 : 1;
	} else {
		store_fail(st, "cannot delete '%s' from %s: %s", key, st->path,
		           sqlite3_errmsg(st->db));
		ret = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

int
store_check_writable(struct store *st)
{
	/* A savepoint nests inside a caller's transaction and opens one
	 * outside, so this never commits anything either way. */
	if (exec_sql(st, "SAVEPOINT store_health", "cannot write to") < 0)
		return -1;
	if (exec_sql(st,
	             "INSERT INTO kv (key, value, updated_at) VALUES ('store.health', '', 0) "
	             "ON CONFLICT (key) DO UPDATE SET updated_at = 0",
	             "cannot write to") < 0) {
		sqlite3_exec(st->db, "ROLLBACK TO store_health; RELEASE store_health", NULL, NULL,
		             NULL);
		return -1;
	}
	return exec_sql(st, "ROLLBACK TO store_health; RELEASE store_health", "cannot write to");
}

struct store *
store_open_config(const struct config *cfg, char *err, size_t errlen)
{
	const char *given = config_get(cfg, "store", "path");
	char *path = given[0] == '/' ? xstrdup(given) : xasprintf("%s/%s", config_dir(cfg), given);
	struct store *st = store_open(path, err, errlen);
	const char *sync = config_get(cfg, "store", "sync");

	free(path);
	if (st != NULL && sync != NULL && strcmp(sync, "full") == 0 &&
	    exec_sql(st, "PRAGMA synchronous=FULL", "cannot configure") < 0) {
		if (err && errlen)
			strlcpy_u(err, st->err, errlen);
		store_close(st);
		return NULL;
	}
	return st;
}

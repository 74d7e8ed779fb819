/*
 * store: usher's one SQLite database, where everything that must survive a
 * restart lives (conversations awaiting an answer, tracked requests,
 * gateway cursors, outbound work not yet confirmed).
 *
 * The file is opened in WAL mode with synchronous=NORMAL, so a transaction
 * that store_commit() reported as done survives usher crashing or being
 * killed ([store] sync = full: a power cut too); with foreign_keys=ON and a
 * busy timeout. The store owns the connection, its
 * schema (numbered migrations tracked in PRAGMA user_version) and a small
 * key-value table for cursors and flags.
 *
 * Adding tables for a new module: append one SQL string to the
 * `migrations` array in store.c. Never edit or reorder a migration that has
 * shipped: databases in the field have already run it, and only the ones
 * after their user_version are applied (each in its own transaction).
 * Modules then run statements on their own tables through store_stmt()
 * (prepared once, kept by the store) or prepare their own through
 * store_db() and finalize them before store_close().
 *
 * Every function returns a status; on failure store_errmsg() says what
 * went wrong in plain words. Nothing here prints.
 */
#ifndef USHER_STORE_H
#define USHER_STORE_H

#include <stddef.h>

#include <sqlite3.h>

struct store;
struct config;

/* Opens (creating if needed) and migrates the database at `path`. Returns
 * a new store the caller closes with store_close(), or NULL with a message
 * in err[errlen] such as "cannot open /x/usher.db: permission denied",
 * "/x/usher.db is not an SQLite database" or "/x/usher.db was written by a
 * newer usher (schema 9, this one knows 3)". */
struct store *store_open(const char *path, char *err, size_t errlen);
/* store_open() on the config's [store] path (relative to the config file's
 * folder unless absolute). */
struct store *store_open_config(const struct config *cfg, char *err, size_t errlen);
/* Closes the database; NULL is accepted. A transaction still open is
 * rolled back. Statements prepared by modules must be finalized first. */
void store_close(struct store *st);

/* One write transaction at a time (BEGIN IMMEDIATE); no nesting. Each
 * returns 0 or -1. A failed commit rolls the transaction back: nothing of
 * it is stored, and the caller must not report the work as done. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* The schema version of the open database (its PRAGMA user_version). */
int store_schema_version(struct store *st);
/* The newest schema version this build knows. */
int store_schema_latest(void);

/* The prepared statement for `sql`, kept by the store across calls:
 * parsing a statement costs more than running a one-row one, and a turn
 * runs several. Borrowed: bind, step, then hand it back with
 * store_stmt_done() (never finalize it); it stays valid until then. When
 * the same SQL is still held by an outer caller (stepping through rows),
 * a one-off statement is made instead, and store_stmt_done() frees it.
 * Returns NULL on failure, with store_errmsg() saying why. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* Resets `q` (ending its read or write) and clears its bindings, or
 * finalizes a one-off one. NULL is accepted. */
void store_stmt_done(struct store *st, sqlite3_stmt *q);

/* Borrowed; valid until store_close(). For modules that prepare their own
 * statements on their own tables. */
sqlite3 *store_db(struct store *st);
/* The last failure in plain words. Borrowed; valid until the next call. */
const char *store_errmsg(struct store *st);

/* Key-value, for small cursors and flags (Matrix next_batch, Discord
 * session, Telegram offset). store_kv_get returns 0 and a new string in
 * *value that the caller frees, 1 when the key is absent (*value = NULL),
 * -1 on error. store_kv_set returns 0 or -1. store_kv_delete returns 0
 * when a row was deleted, 1 when there was none, -1 on error. */
int store_kv_get(struct store *st, const char *key, char **value);
int store_kv_set(struct store *st, const char *key, const char *value);
int store_kv_delete(struct store *st, const char *key);

/* Health check: performs a small write and rolls it back, so a full disk,
 * a read-only file system or a lock held elsewhere shows up. Works inside
 * or outside a transaction. Returns 0 or -1. */
int store_check_writable(struct store *st);

#endif

/* Tests for core/store: migrations, durability across a killed process,
 * refusals in plain words, key-value, transactions. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/store.h"

static char dir[256];
static char dbpath[320];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/usher-test-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/usher.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];

	(void)state;
	chmod(dir, 0700);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct store *
open_ok(void)
{
	char err[256] = "";
	struct store *st = store_open(dbpath, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

static void
test_fresh_db_migrates(void **state)
{
	struct store *st;
	char mode[16] = "";
	sqlite3_stmt *s;

	(void)state;
	st = open_ok();
	assert_true(store_schema_latest() >= 1);
	assert_int_equal(store_schema_version(st), store_schema_latest());
	/* WAL, FULL sync and foreign keys as promised */
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "PRAGMA journal_mode", -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	strncpy(mode, (const char *)sqlite3_column_text(s, 0), sizeof(mode) - 1);
	sqlite3_finalize(s);
	assert_string_equal(mode, "wal");
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "PRAGMA synchronous", -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	/* NORMAL: WAL commits survive a crash without a flush on the loop. */
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "PRAGMA foreign_keys", -1, &s, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	store_close(st);
}

static void
test_reopen_keeps_data_no_rerun(void **state)
{
	struct store *st;
	char *v = NULL;

	(void)state;
	st = open_ok();
	assert_int_equal(store_kv_set(st, "matrix.next_batch", "s72594_4483_1934"), 0);
	store_close(st);

	/* A migration re-run would fail on CREATE TABLE kv; so would opening. */
	st = open_ok();
	assert_int_equal(store_schema_version(st), store_schema_latest());
	assert_int_equal(store_kv_get(st, "matrix.next_batch", &v), 0);
	assert_string_equal(v, "s72594_4483_1934");
	free(v);
	store_close(st);
}

/* store_stmt(): one statement per SQL text, reused once handed back; a
 * one-off while the kept one is still being stepped; none left running. */
static void
test_stmt_cache(void **state)
{
	static const char sel[] = "SELECT key, value FROM kv ORDER BY key";
	struct store *st;
	sqlite3_stmt *a, *b, *again, *inner;
	char copy[sizeof(sel)];
	int rows = 0;

	(void)state;
	st = open_ok();
	assert_int_equal(store_kv_set(st, "a", "1"), 0);
	assert_int_equal(store_kv_set(st, "b", "2"), 0);
	a = store_stmt(st, "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, 0)");
	assert_non_null(a);
	sqlite3_bind_text(a, 1, "c", -1, SQLITE_STATIC);
	sqlite3_bind_text(a, 2, "3", -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(a), SQLITE_DONE);
	store_stmt_done(st, a);
	/* Asked again: the same statement, its bindings cleared. */
	b = store_stmt(st, "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, 0)");
	assert_ptr_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_CONSTRAINT_NOTNULL);
	store_stmt_done(st, b);

	memcpy(copy, sel, sizeof(sel));
	a = store_stmt(st, sel);
	assert_non_null(a);
	while (sqlite3_step(a) == SQLITE_ROW) {
		/* The outer query is mid-way: the same SQL (from another
		 * buffer) gets a statement of its own. */
		inner = store_stmt(st, copy);
		assert_non_null(inner);
		assert_ptr_not_equal(inner, a);
		assert_int_equal(sqlite3_step(inner), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(inner, 0), "a");
		store_stmt_done(st, inner);
		rows++;
	}
	assert_int_equal(rows, 3);
	/* Handed back mid-read: the read ends (no statement left running),
	 * and the next caller starts from the first row. */
	assert_int_equal(sqlite3_reset(a), SQLITE_OK);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	store_stmt_done(st, a);
	assert_false(sqlite3_stmt_busy(a));
	again = store_stmt(st, sel);
	assert_ptr_equal(again, a);
	assert_int_equal(sqlite3_step(again), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(again, 0), "a");
	store_stmt_done(st, again);

	assert_null(store_stmt(st, "SELECT x FROM nowhere"));
	if (strstr(store_errmsg(st), "no such table: nowhere") == NULL)
		fail_msg("%s", store_errmsg(st));
	store_stmt_done(st, NULL);
	/* Kept statements are the store's: closing finalizes them. */
	store_close(st);
}

static void
test_kv(void **state)
{
	struct store *st;
	char *v = (char *)"junk";

	(void)state;
	st = open_ok();
	assert_int_equal(store_kv_get(st, "missing", &v), 1);
	assert_null(v);
	assert_int_equal(store_kv_set(st, "k", "one"), 0);
	assert_int_equal(store_kv_set(st, "k", "two"), 0);
	assert_int_equal(store_kv_get(st, "k", &v), 0);
	assert_string_equal(v, "two");
	free(v);
	assert_int_equal(store_kv_set(st, "empty", ""), 0);
	assert_int_equal(store_kv_get(st, "empty", &v), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(store_kv_delete(st, "k"), 0);
	assert_int_equal(store_kv_delete(st, "k"), 1);
	assert_int_equal(store_kv_get(st, "k", &v), 1);
	assert_int_equal(store_check_writable(st), 0);
	/* the health check leaves nothing behind */
	assert_int_equal(store_kv_get(st, "store.health", &v), 1);
	store_close(st);
}

static void
test_transactions(void **state)
{
	struct store *st;
	char *v = NULL;

	(void)state;
	st = open_ok();
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_begin(st), -1); /* no nesting */
	assert_non_null(strstr(store_errmsg(st), "already open"));
	assert_int_equal(store_kv_set(st, "a", "1"), 0);
	assert_int_equal(store_check_writable(st), 0); /* inside a transaction too */
	assert_int_equal(store_rollback(st), 0);
	assert_int_equal(store_kv_get(st, "a", &v), 1);

	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_kv_set(st, "b", "2"), 0);
	assert_int_equal(store_commit(st), 0);
	assert_int_equal(store_kv_get(st, "b", &v), 0);
	assert_string_equal(v, "2");
	free(v);

	assert_int_equal(store_commit(st), -1);
	assert_non_null(strstr(store_errmsg(st), "no transaction"));
	assert_int_equal(store_rollback(st), -1);
	store_close(st);
}

static void
test_commit_failure_rolls_back(void **state)
{
	struct store *st;
	char *v = NULL;
	sqlite3 *db;

	(void)state;
	st = open_ok();
	db = store_db(st);
	/* A deferred foreign key violation makes COMMIT itself fail. */
	assert_int_equal(sqlite3_exec(db,
	                              "CREATE TABLE p (id INTEGER PRIMARY KEY);"
	                              "CREATE TABLE c (pid INTEGER REFERENCES p(id) "
	                              "DEFERRABLE INITIALLY DEFERRED);",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_kv_set(st, "x", "kept?"), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO c VALUES (42)", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(store_commit(st), -1);
	assert_non_null(strstr(store_errmsg(st), "cannot commit"));
	assert_true(sqlite3_get_autocommit(db)); /* not left open */
	assert_int_equal(store_kv_get(st, "x", &v), 1);
	store_close(st);
}

static void
test_crash_keeps_only_committed(void **state)
{
	pid_t pid;
	int status = 0, waited = 0;
	struct store *st;
	char *v = NULL;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		struct store *cst = store_open(dbpath, err, sizeof(err));

		if (cst == NULL)
			_exit(2);
		if (store_kv_set(cst, "acked", "request 17 filed") != 0)
			_exit(3);
		if (store_begin(cst) != 0 || store_kv_set(cst, "pending", "never acked") != 0 ||
		    store_kv_set(cst, "acked", "overwritten") != 0)
			_exit(4);
		raise(SIGKILL);
		_exit(5);
	}
	/* bounded wait: 10 s, then kill and reap */
	for (int i = 0; i < 1000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			waited = 1;
			break;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (!waited) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("child did not finish");
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	st = open_ok();
	assert_int_equal(store_kv_get(st, "acked", &v), 0);
	assert_string_equal(v, "request 17 filed");
	free(v);
	assert_int_equal(store_kv_get(st, "pending", &v), 1);
	store_close(st);
}

static void
test_not_a_database(void **state)
{
	char err[256] = "";
	FILE *f;

	(void)state;
	f = fopen(dbpath, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("[seerr]\nurl = http://localhost:5055\n", f);
	fclose(f);
	assert_null(store_open(dbpath, err, sizeof(err)));
	assert_non_null(strstr(err, dbpath));
	assert_non_null(strstr(err, "is not an SQLite database"));
}

static void
test_newer_schema_refused(void **state)
{
	char err[256] = "", want[64];
	sqlite3 *db;
	char *v = NULL;
	struct store *st;

	(void)state;
	st = open_ok();
	assert_int_equal(store_kv_set(st, "keep", "me"), 0);
	store_close(st);
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_null(store_open(dbpath, err, sizeof(err)));
	snprintf(want, sizeof(want), "(schema 9, this one knows %d)", store_schema_latest());
	assert_non_null(strstr(err, "was written by a newer usher"));
	assert_non_null(strstr(err, want));

	/* refusing did not touch the data */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	snprintf(want, sizeof(want), "PRAGMA user_version = %d", store_schema_latest());
	assert_int_equal(sqlite3_exec(db, want, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = open_ok();
	assert_int_equal(store_kv_get(st, "keep", &v), 0);
	assert_string_equal(v, "me");
	free(v);
	store_close(st);
}

/*
 * Unwritable places. The tests run as root, which ignores permission bits,
 * so the cases that hold for root use paths the kernel itself refuses: a
 * folder that does not exist and a "folder" that is a regular file. The
 * permission case runs only when not root.
 */
static void
test_unwritable_places(void **state)
{
	char err[256] = "", path[400];
	struct store *st;

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-folder/usher.db", dir);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "no such file or directory"));

	st = open_ok(); /* creates dbpath, a regular file */
	store_close(st);
	snprintf(path, sizeof(path), "%s/usher.db", dbpath);
	assert_null(store_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, "not a directory"));

	if (geteuid() != 0) {
		char ro[300];

		snprintf(ro, sizeof(ro), "%s/ro", dir);
		assert_int_equal(mkdir(ro, 0500), 0);
		snprintf(path, sizeof(path), "%s/usher.db", ro);
		assert_null(store_open(path, err, sizeof(err)));
		assert_non_null(strstr(err, "permission denied"));
		chmod(ro, 0700);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fresh_db_migrates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_data_no_rerun, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stmt_cache, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_failure_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_keeps_only_committed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable_places, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

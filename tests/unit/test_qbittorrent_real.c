/*
 * usher's qBittorrent client against a real qbittorrent-nox, started by
 * tests/fakes/qbittorrent_real.py: login, the fields usher reads from
 * maindata, transparent re-login after the session is logged out behind
 * the client's back, and a refused password. Exits 77 (ctest skip) when
 * qbittorrent-nox is not installed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arr_test_util.h"
#include "core/util.h"
#include "services/qbittorrent.h"

static struct {
	pid_t pid;
	int to_helper; /* its stdin: closing it stops qbittorrent-nox */
	int port;
	char user[64], pass[64], seed_hash[64], dl_hash[64];
	long long file_size;
} qbt = {.pid = -1, .to_helper = -1};

static bool skip_all;
static char skip_why[512];

struct fx {
	struct loop *loop;
	struct http *http;
	struct config *cfg;
	struct qbittorrent *qb;
};

struct res {
	int calls;
	struct service_result res;
	char text[64];
};

static void
on_done(const struct service_result *res, void *arg)
{
	struct res *r = arg;

	r->calls++;
	r->res = *res;
}

static void
on_version(const struct service_result *res, const char *version, void *arg)
{
	struct res *r = arg;

	r->calls++;
	r->res = *res;
	snprintf(r->text, sizeof(r->text), "%s", version ? version : "");
}

static struct fx *
fx_new(const char *password)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[128], user[128], pass[128];
	const char *env[] = {url, user, pass, NULL};

	snprintf(url, sizeof(url), "USHER_QBITTORRENT_URL=http://127.0.0.1:%d", qbt.port);
	snprintf(user, sizeof(user), "USHER_QBITTORRENT_USERNAME=%s", qbt.user);
	snprintf(pass, sizeof(pass), "USHER_QBITTORRENT_PASSWORD=%s", password);
	arr_env_open(&f->loop, &f->http, &f->cfg, env);
	f->qb = qbittorrent_new(f->http, f->cfg);
	assert_non_null(f->qb);
	return f;
}

static void
fx_free(struct fx *f)
{
	qbittorrent_free(f->qb);
	arr_env_close(f->loop, f->http, f->cfg);
	free(f);
}

static void
sync_once(struct fx *f, struct res *r)
{
	memset(r, 0, sizeof(*r));
	qbittorrent_sync(f->qb, on_done, r);
	run_until(f->loop, &r->calls, 1, 15000);
	assert_int_equal(r->calls, 1);
}

/* Syncs until both test torrents are in the table with their data known
 * (bounded: 20 s). */
static void
sync_until_both(struct fx *f)
{
	unsigned long long end = fake_now_ms() + 20000;
	struct res r;

	while (fake_now_ms() < end) {
		const struct qbittorrent_torrent *s, *d;

		sync_once(f, &r);
		if (r.res.error != SERVICE_OK)
			fail_msg("sync failed: %s", r.res.message);
		s = qbittorrent_find(f->qb, qbt.seed_hash);
		d = qbittorrent_find(f->qb, qbt.dl_hash);
		if (s && d && s->progress == 1.0 && !qbittorrent_state_is_download(s->state) &&
		    s->state != QBITTORRENT_CHECKING_UP && s->state != QBITTORRENT_UNKNOWN &&
		    qbittorrent_state_is_download(d->state) && d->state != QBITTORRENT_CHECKING_DL)
			return;
		run_for(f->loop, 300);
	}
	fail_msg("the two test torrents did not settle within 20 s");
}

static void
test_login_and_fields(void **state)
{
	struct fx *f;
	struct res r = {0};
	const struct qbittorrent_torrent *s, *d;

	(void)state;
	if (skip_all)
		skip();
	f = fx_new(qbt.pass);
	qbittorrent_version(f->qb, on_version, &r);
	run_until(f->loop, &r.calls, 1, 15000);
	assert_int_equal(r.calls, 1);
	if (r.res.error != SERVICE_OK)
		fail_msg("version: %s", r.res.message);
	assert_true(r.text[0] == 'v');
	assert_non_null(qbittorrent_session_cookie(f->qb));
	assert_true(str_starts_with(qbittorrent_session_cookie(f->qb), "SID=") ||
	            str_starts_with(qbittorrent_session_cookie(f->qb), "QBT_SID_"));

	sync_until_both(f);
	assert_true(qbittorrent_rid(f->qb) > 0);
	/* Upper-case, the way Radarr's downloadId carries it. */
	for (char *p = qbt.seed_hash; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
	s = qbittorrent_find(f->qb, qbt.seed_hash);
	d = qbittorrent_find(f->qb, qbt.dl_hash);
	assert_non_null(s);
	assert_non_null(d);
	assert_string_equal(s->name, "usher-test.bin");
	assert_int_equal(s->size, qbt.file_size);
	assert_int_equal(s->amount_left, 0);
	assert_true(s->progress == 1.0);
	assert_true(s->num_seeds >= 0 && s->dlspeed >= 0 && s->upspeed >= 0);
	assert_true(strlen(s->save_path) > 0);
	assert_string_equal(d->name, "usher-missing.bin");
	assert_int_equal(d->size, 50000);
	assert_true(d->progress == 0.0);
	/* Nobody has the data: qBittorrent's 8640000, read as unknown. */
	assert_int_equal(d->eta, -1);
	assert_int_equal(d->num_seeds, 0);
	assert_int_equal(d->dlspeed, 0);
	assert_true(
	    strcmp(d->state_name, "stalledDL") == 0 || strcmp(d->state_name, "metaDL") == 0 ||
	    strcmp(d->state_name, "downloading") == 0 || strcmp(d->state_name, "queuedDL") == 0);
	fx_free(f);
}

struct raw {
	int calls;
	long status;
};

static void
on_raw(const struct http_response *resp, void *arg)
{
	struct raw *r = arg;

	r->calls++;
	r->status = resp->result == HTTP_OK ? resp->status : -1;
}

/* A request with `cookie`, outside the client. Returns the status. */
static long
raw_call(struct fx *f, const char *method, const char *path, const char *cookie)
{
	char url[128], header[512];
	const char *headers[] = {header, NULL};
	struct http_opts o = {.method = method, .url = url, .headers = headers};
	struct raw r = {0};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", qbt.port, path);
	snprintf(header, sizeof(header), "Cookie: %s", cookie);
	if (strcmp(method, "POST") == 0) {
		o.body = "";
		o.body_len = 0;
	}
	http_start(f->http, &o, on_raw, &r);
	run_until(f->loop, &r.calls, 1, 10000);
	assert_int_equal(r.calls, 1);
	return r.status;
}

static void
test_relogin_after_logout(void **state)
{
	struct fx *f;
	struct res r;
	char old[512];

	(void)state;
	if (skip_all)
		skip();
	f = fx_new(qbt.pass);
	sync_until_both(f);
	snprintf(old, sizeof(old), "%s", qbittorrent_session_cookie(f->qb));
	assert_int_equal(raw_call(f, "GET", "/api/v2/app/version", old), 200);
	/* Log the session out behind the client's back. */
	assert_int_equal(raw_call(f, "POST", "/api/v2/auth/logout", old), 200);
	assert_int_equal(raw_call(f, "GET", "/api/v2/app/version", old), 403);

	/* The next call logs in again by itself and still sees everything
	 * (the new session starts with a full update). */
	sync_once(f, &r);
	if (r.res.error != SERVICE_OK)
		fail_msg("sync after logout: %s", r.res.message);
	assert_non_null(qbittorrent_session_cookie(f->qb));
	assert_string_not_equal(qbittorrent_session_cookie(f->qb), old);
	assert_non_null(qbittorrent_find(f->qb, qbt.seed_hash));
	assert_non_null(qbittorrent_find(f->qb, qbt.dl_hash));
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_OK);
	assert_int_equal(qbittorrent_count(f->qb), 2);
	fx_free(f);
}

static void
test_wrong_password(void **state)
{
	struct fx *f;
	struct res r;

	(void)state;
	if (skip_all)
		skip();
	f = fx_new("not-the-password");
	sync_once(f, &r);
	assert_int_equal(r.res.error, SERVICE_AUTH);
	assert_non_null(strstr(r.res.message, "rejected the username or password"));
	assert_int_equal(qbittorrent_count(f->qb), 0);
	fx_free(f);
}

static void
stop_helper(void)
{
	int status;

	if (qbt.to_helper >= 0) {
		close(qbt.to_helper);
		qbt.to_helper = -1;
	}
	if (qbt.pid <= 0)
		return;
	for (int i = 0; i < 300; i++) {
		if (waitpid(qbt.pid, &status, WNOHANG) == qbt.pid) {
			qbt.pid = -1;
			return;
		}
		usleep(50 * 1000);
	}
	/* Its qbittorrent-nox dies with it (PR_SET_PDEATHSIG). */
	kill(qbt.pid, SIGKILL);
	waitpid(qbt.pid, &status, 0);
	qbt.pid = -1;
}

static int
group_setup(void **state)
{
	const char *argv[] = {USHER_PYTHON, USHER_TESTS_DIR "/fakes/qbittorrent_real.py", NULL};
	char line[512];

	(void)state;
	if ((qbt.pid = fake_spawn(argv, &qbt.to_helper, line, sizeof(line), 60000)) == -1)
		return -1;
	if (strncmp(line, "SKIP ", 5) == 0) {
		skip_all = true;
		snprintf(skip_why, sizeof(skip_why), "%s", line + 5);
		stop_helper();
		return 0;
	}
	if (sscanf(line, "READY %d %63s %63s %63s %63s %lld", &qbt.port, qbt.user, qbt.pass,
	           qbt.seed_hash, qbt.dl_hash, &qbt.file_size) != 6) {
		fprintf(stderr, "qbittorrent-nox did not start: '%s'\n", line);
		stop_helper();
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	stop_helper();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_and_fields),
	    cmocka_unit_test(test_relogin_after_logout),
	    cmocka_unit_test(test_wrong_password),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	if (skip_all) {
		fprintf(stderr, "skipped: %s\n", skip_why);
		return 77;
	}
	return rc;
}

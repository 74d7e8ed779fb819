/* Tests for core/config: every problem it reports (severity, where, words),
 * *_file values, environment overrides, defaults, typed reads, the
 * permission warning and secret registration. The process environment is
 * never used: each load gets its own envp. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"

static char *const no_env[] = {NULL};

struct fixture {
	char dir[64];
	char path[128]; /* the config file */
	struct config *cfg;
};

static struct fixture fx;

static int
setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	strcpy(fx.dir, "/tmp/usher-test-config-XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	snprintf(fx.path, sizeof(fx.path), "%s/usher.conf", fx.dir);
	log_clear_secrets();
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	config_free(fx.cfg);
	fx.cfg = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	assert_int_equal(system(cmd), 0);
	log_clear_secrets();
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
dump(void)
{
	for (size_t i = 0; i < config_problem_count(fx.cfg); i++) {
		const struct config_problem *p = config_problem_at(fx.cfg, i);
		print_message("  %s %s: %s\n", p->severity == CONFIG_ERROR ? "error" : "warning",
		              p->where, p->message);
	}
}

/* Loads `text` as the config (mode 0600) with the environment `env`. */
static struct config *
load(const char *text, char *const *env)
{
	config_free(fx.cfg);
	if (text)
		write_file(fx.path, text, 0600);
	fx.cfg = config_load(text ? fx.path : NULL, env ? env : no_env);
	assert_non_null(fx.cfg);
	return fx.cfg;
}

/* "usher.conf:LINE" for the fixture's file. */
static const char *
at(int line)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "%s:%d", fx.path, line);
	return buf;
}

/* Asserts a problem with this severity and where whose message holds every
 * one of the NULL-terminated words. */
static void
expect(enum config_severity sev, const char *where, ...)
{
	for (size_t i = 0; i < config_problem_count(fx.cfg); i++) {
		const struct config_problem *p = config_problem_at(fx.cfg, i);
		bool all = p->severity == sev && strcmp(p->where, where) == 0;
		va_list ap;
		const char *w;

		va_start(ap, where);
		while (all && (w = va_arg(ap, const char *)) != NULL)
			all = strstr(p->message, w) != NULL;
		va_end(ap);
		if (all)
			return;
	}
	dump();
	fail_msg("no %s at %s with the expected words", sev == CONFIG_ERROR ? "error" : "warning",
	         where);
}

static void
expect_count(size_t n)
{
	if (config_problem_count(fx.cfg) != n) {
		dump();
		fail_msg("expected %zu problems, got %zu", n, config_problem_count(fx.cfg));
	}
}

static const char good[] = "# a family's usher\n"
                           "[usher]\n"
                           "log_level = debug\n"
                           "\n"
                           "[seerr]\n"
                           "url = http://localhost:5055\n"
                           "api_key_file = seerr.key\n"
                           "\n"
                           "[person alice]\n"
                           "role = admin\n"
                           "seerr_user = 1\n"
                           "xmpp = alice@example.org, alice@work.example\n"
                           "[person carol]\n"
                           "seerr_user = 2\n"
                           "[console]\n"
                           "person = alice\n";

static void
write_seerr_key(void)
{
	char kp[160];

	snprintf(kp, sizeof(kp), "%s/seerr.key", fx.dir);
	write_file(kp, "  0123456789abcdef-seerr-key \n\n", 0600);
}

static void
test_good_config(void **state)
{
	(void)state;
	write_seerr_key();
	load(good, NULL);
	expect_count(0);
	assert_true(config_ok(fx.cfg));
	assert_string_equal(config_path(fx.cfg), fx.path);
	assert_string_equal(config_dir(fx.cfg), fx.dir);
	assert_true(config_has_section(fx.cfg, "seerr"));
	assert_true(config_has_section(fx.cfg, "person alice"));
	assert_false(config_has_section(fx.cfg, "radarr"));
	/* K_file: read and trimmed */
	assert_string_equal(config_get(fx.cfg, "seerr", "api_key"), "0123456789abcdef-seerr-key");
	assert_string_equal(config_get(fx.cfg, "usher", "log_level"), "debug");
	/* people, in file order, with defaults */
	assert_int_equal(config_person_count(fx.cfg), 2);
	assert_string_equal(config_person_name(fx.cfg, 0), "alice");
	assert_string_equal(config_person_name(fx.cfg, 1), "carol");
	assert_null(config_person_name(fx.cfg, 2));
	assert_string_equal(config_person_get(fx.cfg, "alice", "role"), "admin");
	assert_string_equal(config_person_get(fx.cfg, "carol", "role"), "member");
	assert_string_equal(config_person_get(fx.cfg, "ALICE", "xmpp"),
	                    "alice@example.org, alice@work.example");
	assert_null(config_person_get(fx.cfg, "alice", "matrix"));
	assert_null(config_person_get(fx.cfg, "nobody", "role"));
	assert_string_equal(config_get(fx.cfg, "person carol", "seerr_user"), "2");
}

static void
test_defaults_and_typed(void **state)
{
	char want[200];

	(void)state;
	load("[seerr]\nurl = https://seerr.example.org/\napi_key = abcdefgh\ntls_verify = no\n"
	     "timeout_ms = 2500\n[xmpp]\njid = usher@example.org\npassword = pppppppp\n"
	     "port = 5223\nrooms = family@rooms.example.org\n",
	     NULL);
	expect_count(0);
	assert_int_equal(config_get_int(fx.cfg, "seerr", "timeout_ms"), 2500);
	assert_false(config_get_bool(fx.cfg, "seerr", "tls_verify"));
	assert_int_equal(config_get_int(fx.cfg, "xmpp", "port"), 5223);
	/* defaults, present section or not */
	assert_string_equal(config_get(fx.cfg, "xmpp", "nick"), "usher");
	assert_string_equal(config_get(fx.cfg, "xmpp", "tls"), "required");
	assert_null(config_get(fx.cfg, "xmpp", "host"));
	assert_string_equal(config_get(fx.cfg, "usher", "unknown_users"), "refuse");
	assert_string_equal(config_get(fx.cfg, "usher", "command_prefix"), "!usher");
	assert_string_equal(config_get(fx.cfg, "usher", "name"), "usher");
	assert_string_equal(config_get(fx.cfg, "usher", "log_level"), "info");
	assert_int_equal(config_get_int(fx.cfg, "radarr", "timeout_ms"), 15000);
	assert_true(config_get_bool(fx.cfg, "radarr", "tls_verify"));
	assert_int_equal(config_get_int(fx.cfg, "llm", "timeout_ms"), 20000);
	assert_int_equal(config_get_int(fx.cfg, "llm", "max_per_person_per_hour"), 30);
	assert_true(config_get_bool(fx.cfg, "llm", "enabled"));
	assert_string_equal(config_get(fx.cfg, "llm", "api"), "openai");
	assert_int_equal(config_get_int(fx.cfg, "progress", "interval_s"), 30);
	assert_int_equal(config_get_int(fx.cfg, "console", "exit_wait_ms"), 30000);
	assert_string_equal(config_get(fx.cfg, "qbittorrent", "username"), "admin");
	assert_non_null(config_get(fx.cfg, "usher", "grammars"));
	assert_null(config_get(fx.cfg, "seerr", "no_such_key"));
	/* the store sits next to the config */
	snprintf(want, sizeof(want), "%s/usher.db", fx.dir);
	assert_string_equal(config_get(fx.cfg, "store", "path"), want);
}

static void
test_no_file_env_only(void **state)
{
	char *const env[] = {"PATH=/usr/bin", "USHER_SEERR_URL=http://127.0.0.1:5055",
	                     "USHER_SEERR_API_KEY=env-key-123", NULL};

	(void)state;
	load(NULL, env);
	expect_count(0);
	assert_null(config_path(fx.cfg));
	assert_string_equal(config_dir(fx.cfg), ".");
	assert_true(config_has_section(fx.cfg, "seerr"));
	assert_string_equal(config_get(fx.cfg, "seerr", "url"), "http://127.0.0.1:5055");
	assert_string_equal(config_get(fx.cfg, "store", "path"), "./usher.db");
}

static void
test_missing_file(void **state)
{
	(void)state;
	fx.cfg = config_load("/nonexistent/usher.conf", no_env);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, "/nonexistent/usher.conf", "cannot read", "/nonexistent/usher.conf",
	       "No such file or directory", NULL);
}

static void
test_unreadable_file(void **state)
{
	(void)state;
	/* A folder where the file should be: unreadable even for root. */
	fx.cfg = config_load(fx.dir, no_env);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, fx.dir, "cannot read", "Is a directory", NULL);
}

static void
test_unknown_key_and_section(void **state)
{
	(void)state;
	load("[seerr]\n"                     /* 1 */
	     "url = http://localhost:5055\n" /* 2 */
	     "apikey = abcdefgh\n"           /* 3 */
	     "[sear]\n"                      /* 4 */
	     "url = http://x\n"              /* 5: ignored with its section */
	     "[frobnicator]\n"               /* 6 */
	     "[radarr]\n"                    /* 7 */
	     "colour = blue\n",              /* 8 */
	     NULL);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, at(3), "unknown key 'apikey' in [seerr]; did you mean 'api_key'?",
	       NULL);
	expect(CONFIG_ERROR, at(4), "unknown section [sear]; did you mean [seerr]?", NULL);
	expect(CONFIG_ERROR, at(6), "unknown section [frobnicator]", "[seerr]", "[person NAME]",
	       NULL);
	expect(CONFIG_ERROR, at(8), "unknown key 'colour' in [radarr]", "url", "api_key", NULL);
	/* api_key was misspelled, so [seerr] lacks it; [radarr] lacks both */
	expect(CONFIG_ERROR, at(1), "[seerr] needs api_key", "Settings", "API Key", NULL);
	expect(CONFIG_ERROR, at(7), "[radarr] needs url", NULL);
	expect(CONFIG_ERROR, at(7), "[radarr] needs api_key", NULL);
	expect_count(7);
}

static void
test_bad_values(void **state)
{
	(void)state;
	load("[seerr]\n"                              /* 1 */
	     "url = overseerr:5055\n"                 /* 2 */
	     "api_key = abcdefgh\n"                   /* 3 */
	     "tls_verify = maybe\n"                   /* 4 */
	     "timeout_ms = 5s\n"                      /* 5 */
	     "[xmpp]\n"                               /* 6 */
	     "jid = usher@example.org\n"              /* 7 */
	     "password = secretpw\n"                  /* 8 */
	     "port = 99999\n"                         /* 9 */
	     "tls = sometimes\n"                      /* 10 */
	     "[person alice]\n"                       /* 11 */
	     "role = boss\n"                          /* 12 */
	     "seerr_user = 0\n"                       /* 13 */
	     "[usher]\n"                              /* 14 */
	     "unknown_users = ignore\n"               /* 15 */
	     "[http]\n"                               /* 16 */
	     "listen = 8765\n"                        /* 17 */
	     "[progress]\n"                           /* 18 */
	     "interval_s = 0\n"                       /* 19 */
	     "[seerr]\n"                              /* 20 */
	     "ca_file = /nonexistent/ca.pem\n"        /* 21 */
	     "[store]\n"                              /* 22 */
	     "path = /nonexistent-folder/usher.db\n", /* 23 */
	     NULL);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, at(2),
	       "[seerr] url 'overseerr:5055' is not a URL; write it as http://host:port", NULL);
	expect(CONFIG_ERROR, at(4), "[seerr] tls_verify 'maybe' must be true or false", NULL);
	expect(CONFIG_ERROR, at(5), "[seerr] timeout_ms '5s' must be a number from 100 to 600000",
	       NULL);
	expect(CONFIG_ERROR, at(9), "[xmpp] port '99999' must be a number from 1 to 65535", NULL);
	expect(CONFIG_ERROR, at(10),
	       "[xmpp] tls 'sometimes' must be required, trust-self-signed or "
	       "off-for-loopback-tests",
	       NULL);
	expect(CONFIG_ERROR, at(12), "[person alice] role 'boss' must be admin or member", NULL);
	expect(CONFIG_ERROR, at(13), "[person alice] seerr_user '0' must be a number from 1 to",
	       NULL);
	expect(CONFIG_ERROR, at(15),
	       "[usher] unknown_users 'ignore' must be refuse, read-only or default", NULL);
	expect(CONFIG_ERROR, at(17), "[http] listen '8765' must be host:port", NULL);
	expect(CONFIG_ERROR, at(19), "[progress] interval_s '0' must be a number from 1 to 3600",
	       NULL);
	expect(CONFIG_ERROR, at(21), "[seerr] ca_file", "/nonexistent/ca.pem",
	       "No such file or directory", NULL);
	expect(CONFIG_ERROR, at(23), "[store] path", "folder /nonexistent-folder does not exist",
	       NULL);
	expect_count(12);
}

static void
test_good_value_forms(void **state)
{
	(void)state;
	load("[http]\nlisten = [::1]:8765\n[seerr]\nurl = http://[::1]:5055/base\n"
	     "api_key=abcdefgh\ntls_verify = off\n[llm]\nenabled = 0\nurl = https://api.x.org/v1\n"
	     "[radarr]\nurl: http://radarr:7878\napi_key = rrrrrrrr\n",
	     NULL);
	expect_count(0);
	assert_false(config_get_bool(fx.cfg, "llm", "enabled"));
	assert_string_equal(config_get(fx.cfg, "radarr", "url"), "http://radarr:7878");
}

static void
test_syntax_and_duplicates(void **state)
{
	(void)state;
	load("stray = 1\n"                   /* 1 */
	     "[seerr]\n"                     /* 2 */
	     "url = http://localhost:5055\n" /* 3 */
	     "this line has no equals\n"     /* 4 */
	     "api_key = abcdefgh\n"          /* 5 */
	     "URL = http://other:5055\n"     /* 6: duplicate, keys are case-insensitive */
	     "[radarr\n"                     /* 7 */
	     "url = http://r:7878\n"         /* 8: ignored */
	     "[person]\n"                    /* 9 */
	     "[person bob smith]\n"          /* 10 */
	     "= nothing\n",                  /* 11 */
	     NULL);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, at(1), "'stray' comes before any [section]", NULL);
	expect(CONFIG_ERROR, at(4), "cannot understand 'this line has no equals'", "key = value",
	       NULL);
	expect(CONFIG_ERROR, at(6), "[seerr] url is set twice (also on line 3); keep one", NULL);
	expect(CONFIG_ERROR, at(7), "missing its closing ']'", NULL);
	expect(CONFIG_ERROR, at(9), "[person] needs the person's name", "[person alice]", NULL);
	expect(CONFIG_ERROR, at(10), "[person bob smith]", "letters, digits", NULL);
	expect_count(6);
	/* the first value is the one kept */
	assert_string_equal(config_get(fx.cfg, "seerr", "url"), "http://localhost:5055");
	assert_false(config_has_section(fx.cfg, "radarr"));
}

static void
test_long_line(void **state)
{
	char *text = malloc(6000);

	(void)state;
	assert_non_null(text);
	strcpy(text, "[seerr]\nurl = http://localhost:5055\napi_key = ");
	memset(text + strlen(text), 'k', 5000);
	strcpy(text + strlen("[seerr]\nurl = http://localhost:5055\napi_key = ") + 5000,
	       "\nbad line\n");
	load(text, NULL);
	free(text);
	expect(CONFIG_ERROR, at(3), "longer than", NULL);
	expect(CONFIG_ERROR, at(4), "cannot understand 'bad line'", NULL);
	expect(CONFIG_ERROR, at(1), "[seerr] needs api_key", NULL);
}

static void
test_file_values(void **state)
{
	char text[512], kp[160];

	(void)state;
	snprintf(kp, sizeof(kp), "%s/radarr.key", fx.dir);
	write_file(kp, "radarr-key-from-file\n", 0600);
	snprintf(text, sizeof(text),
	         "[radarr]\n"                     /* 1 */
	         "url = http://localhost:7878\n"  /* 2 */
	         "api_key_file = %s\n"            /* 3: absolute */
	         "[sonarr]\n"                     /* 4 */
	         "url = http://localhost:8989\n"  /* 5 */
	         "api_key_file = missing.key\n"   /* 6 */
	         "[prowlarr]\n"                   /* 7 */
	         "url = http://localhost:9696\n"  /* 8 */
	         "api_key = inline-prowlarr\n"    /* 9 */
	         "api_key_file = radarr.key\n"    /* 10: relative, and both */
	         "[person alice]\n"               /* 11 */
	         "xmpp_nick_file = radarr.key\n", /* 12: any key may come from a file */
	         kp);
	load(text, NULL);
	assert_string_equal(config_get(fx.cfg, "radarr", "api_key"), "radarr-key-from-file");
	expect(CONFIG_ERROR, at(6), "cannot read api_key_file", "missing.key",
	       "No such file or directory", NULL);
	expect(CONFIG_ERROR, at(10),
	       "[prowlarr] has both api_key and api_key_file (also on line 9)", NULL);
	expect(CONFIG_ERROR, at(4), "[sonarr] needs api_key", NULL);
	assert_string_equal(config_person_get(fx.cfg, "alice", "xmpp_nick"),
	                    "radarr-key-from-file");
	expect_count(3);
}

static void
test_env_overrides(void **state)
{
	char kp[160], var[200];
	char *env[8];

	(void)state;
	snprintf(kp, sizeof(kp), "%s/tg.token", fx.dir);
	write_file(kp, "123456:telegram-token-from-file\n", 0600);
	snprintf(var, sizeof(var), "USHER_TELEGRAM_TOKEN_FILE=%s", kp);
	env[0] = "USHER_SEERR_URL=http://seerr.lan:5055"; /* beats the file */
	env[1] = "USHER_SEERR_TIMEOUT_MS=";               /* empty: not set */
	env[2] = "USHER_PERSON_ALICE_ROLE=member";        /* matched to [person Alice] */
	env[3] = "USHER_PERSON_BOB_SMITH_SEERR_USER=7";   /* creates person bob_smith */
	env[4] = var;                                     /* creates [telegram] */
	env[5] = "USHER_SEERR_CA_FILE=/etc/ssl/certs/ca-certificates.crt"; /* a key ending _file */
	env[6] = "HOME=/root";
	env[7] = NULL;
	load("[seerr]\nurl = http://localhost:5055\napi_key = abcdefgh\ntimeout_ms = 1234\n"
	     "[person Alice]\nrole = admin\n",
	     env);
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		expect_count(0);
	assert_string_equal(config_get(fx.cfg, "seerr", "url"), "http://seerr.lan:5055");
	assert_int_equal(config_get_int(fx.cfg, "seerr", "timeout_ms"), 1234);
	assert_string_equal(config_person_get(fx.cfg, "alice", "role"), "member");
	assert_int_equal(config_person_count(fx.cfg), 2);
	assert_string_equal(config_person_name(fx.cfg, 1), "bob_smith");
	assert_string_equal(config_person_get(fx.cfg, "bob_smith", "seerr_user"), "7");
	assert_true(config_has_section(fx.cfg, "telegram"));
	assert_string_equal(config_get(fx.cfg, "telegram", "token"),
	                    "123456:telegram-token-from-file");
	assert_string_equal(config_get(fx.cfg, "seerr", "ca_file"),
	                    "/etc/ssl/certs/ca-certificates.crt");
}

static void
test_env_problems(void **state)
{
	char key_file[200], kp[160];
	char *env[] = {
	    "USHER_SEERR_APIKEY=abcdefgh", /* typo */
	    "USHER_FROBNICATE=1",          /* nothing like it */
	    "USHER_PERSON_BOB_ROLEE=admin",
	    "USHER_CONFIG=/etc/usher/usher.conf",          /* read elsewhere: no warning */
	    "USHER_DISCORD_TOKEN_FILE=/nonexistent/token", /* unreadable */
	    "USHER_MATRIX_HOMESERVER=matrix.example.org",  /* creates [matrix], bad URL */
	    "USHER_RADARR_API_KEY=abcdefgh",
	    key_file,                              /* both forms */
	    "USHER_SONARR_API_KEY_FILE=/dev/null", /* empty */
	    NULL,
	};

	(void)state;
	snprintf(kp, sizeof(kp), "%s/radarr.key", fx.dir);
	write_file(kp, "radarr-file-key\n", 0600);
	snprintf(key_file, sizeof(key_file), "USHER_RADARR_API_KEY_FILE=%s", kp);
	load(NULL, env);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_WARNING, "USHER_SEERR_APIKEY", "did you mean USHER_SEERR_API_KEY?", NULL);
	expect(CONFIG_WARNING, "USHER_FROBNICATE", "not a setting", "USHER_<SECTION>_<KEY>", NULL);
	expect(CONFIG_ERROR, "USHER_DISCORD_TOKEN_FILE", "cannot read", "/nonexistent/token",
	       "No such file or directory", NULL);
	expect(CONFIG_ERROR, "USHER_MATRIX_HOMESERVER",
	       "[matrix] homeserver 'matrix.example.org' is not a URL", NULL);
	expect(CONFIG_ERROR, "USHER_MATRIX_HOMESERVER", "[matrix] needs user_id", NULL);
	expect(CONFIG_ERROR, "USHER_MATRIX_HOMESERVER", "[matrix] needs access_token or password",
	       NULL);
	expect(CONFIG_ERROR, "USHER_RADARR_API_KEY_FILE", "USHER_RADARR_API_KEY", "keep one", NULL);
	expect(CONFIG_ERROR, "USHER_RADARR_API_KEY", "[radarr] needs url", NULL);
	expect(CONFIG_WARNING, "USHER_PERSON_BOB_ROLEE", "did you mean USHER_PERSON_BOB_ROLE?",
	       NULL);
	expect(CONFIG_ERROR, "USHER_SONARR_API_KEY_FILE", "/dev/null' is empty", NULL);
	expect_count(10);
	assert_false(config_has_section(fx.cfg, "seerr"));
	assert_false(config_has_section(fx.cfg, "sonarr"));
	assert_int_equal(config_person_count(fx.cfg), 0);
	assert_false(config_has_section(fx.cfg, "discord"));
}

static void
test_people_checks(void **state)
{
	(void)state;
	load("[person alice]\n"                              /* 1 */
	     "xmpp = alice@example.org\n"                    /* 2 */
	     "matrix = @alice:example.org\n"                 /* 3 */
	     "[person carol]\n"                              /* 4 */
	     "xmpp = carol@example.org, Alice@Example.org\n" /* 5 */
	     "[console]\n"                                   /* 6 */
	     "person = bob\n"                                /* 7 */
	     "[usher]\n"                                     /* 8 */
	     "unknown_users = default\n"                     /* 9 */
	     "[matrix]\n"                                    /* 10 */
	     "homeserver = https://matrix.example.org\n"     /* 11 */
	     "user_id = @usher:example.org\n"                /* 12 */
	     "access_token = syt_abcdefgh\n",                /* 13 */
	     NULL);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, at(7),
	       "[console] person 'bob' is not a configured person; add a [person bob] section or "
	       "use one of: alice, carol",
	       NULL);
	expect(CONFIG_ERROR, at(5),
	       "xmpp identity 'Alice@Example.org' is listed for both alice and carol", NULL);
	expect(CONFIG_ERROR, at(9), "unknown_users = default needs default_person", NULL);
	expect_count(3);
}

static void
test_console_needs_person(void **state)
{
	(void)state;
	load("[console]\nexit_wait_ms = 10\n[usher]\ndefault_person = dave\n", NULL);
	expect(CONFIG_ERROR, at(1), "[console] needs person", NULL);
	expect(
	    CONFIG_ERROR, at(4),
	    "[usher] default_person 'dave' is not a configured person; add a [person dave] section",
	    NULL);
	expect_count(2);
}

static void
test_permission_warning(void **state)
{
	const char *text = "[seerr]\nurl = http://localhost:5055\napi_key = inline-secret-1\n";

	(void)state;
	write_file(fx.path, text, 0644);
	fx.cfg = config_load(fx.path, no_env);
	assert_true(config_ok(fx.cfg)); /* a warning only */
	expect(CONFIG_WARNING, fx.path, "holds secrets", "readable by others", "chmod 600", fx.path,
	       NULL);
	expect_count(1);

	config_free(fx.cfg);
	write_file(fx.path, text, 0600);
	fx.cfg = config_load(fx.path, no_env);
	expect_count(0);

	/* secrets only through *_file: nothing to warn about */
	config_free(fx.cfg);
	write_seerr_key();
	write_file(fx.path, "[seerr]\nurl = http://localhost:5055\napi_key_file = seerr.key\n",
	           0644);
	fx.cfg = config_load(fx.path, no_env);
	expect_count(0);
}

static void
test_secrets_registered(void **state)
{
	char out[256], kp[160], var[200];
	char *env[3];

	(void)state;
	snprintf(kp, sizeof(kp), "%s/xmpp.pw", fx.dir);
	write_file(kp, "xmpp-pass-from-file\n", 0600);
	snprintf(var, sizeof(var), "USHER_XMPP_PASSWORD_FILE=%s", kp);
	env[0] = var;
	env[1] = "USHER_DISCORD_TOKEN=discord-token-from-env";
	env[2] = NULL;
	load("[seerr]\nurl = http://localhost:5055\napi_key = inline-seerr-key\n"
	     "[xmpp]\njid = usher@example.org\n",
	     env);
	expect_count(0);
	log_redact("a inline-seerr-key b xmpp-pass-from-file c discord-token-from-env d "
	           "usher@example.org",
	           out, sizeof(out));
	assert_string_equal(out, "a [redacted] b [redacted] c [redacted] d usher@example.org");
}

static void
test_placeholder_secret(void **state)
{
	(void)state;
	load("[seerr]\nurl = http://localhost:5055\napi_key = CHANGE-ME\n", NULL);
	assert_false(config_ok(fx.cfg));
	expect(CONFIG_ERROR, at(3), "[seerr] api_key is still the placeholder CHANGE-ME", NULL);
}

/* Every error must be about a placeholder the admin is meant to replace. */
static size_t
only_placeholder_errors(const struct config *cfg)
{
	size_t errors = 0;

	for (size_t i = 0; i < config_problem_count(cfg); i++) {
		const struct config_problem *p = config_problem_at(cfg, i);

		if (p->severity != CONFIG_ERROR)
			continue;
		errors++;
		if (strstr(p->message, "placeholder CHANGE-ME") == NULL)
			fail_msg("unexpected: %s: %s", p->where, p->message);
	}
	return errors;
}

static void
test_example_config(void **state)
{
	const char *example = USHER_TESTS_DIR "/../contrib/usher.conf.example";
	char *text, *p;
	size_t len;
	FILE *f;

	(void)state;
	fx.cfg = config_load(example, no_env);
	assert_true(only_placeholder_errors(fx.cfg) > 0);
	assert_int_equal(config_person_count(fx.cfg), 3);
	assert_true(config_has_section(fx.cfg, "xmpp"));

	/* The same with every ';' setting switched on: still only placeholders. */
	f = fopen(example, "r");
	assert_non_null(f);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	for (p = text; *p; p++)
		if (*p == ';' && (p == text || p[-1] == '\n'))
			*p = ' ';
	load(text, NULL);
	free(text);
	assert_true(only_placeholder_errors(fx.cfg) > 0);
	assert_true(config_has_section(fx.cfg, "matrix"));
	assert_true(config_has_section(fx.cfg, "discord"));
	assert_true(config_has_section(fx.cfg, "telegram"));
	assert_true(config_has_section(fx.cfg, "console"));
	assert_true(config_has_section(fx.cfg, "prowlarr"));
	assert_string_equal(config_get(fx.cfg, "usher", "default_person"), "carol");
	assert_string_equal(config_get(fx.cfg, "http", "listen"), "127.0.0.1:8765");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults_and_typed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_file_env_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key_and_section, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_good_value_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_and_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_people_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_console_needs_person, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_permission_warning, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secrets_registered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_placeholder_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_example_config, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

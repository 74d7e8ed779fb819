/*
 * usher's command line: run, demo, parse, check-config, --version, --help.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/bot.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/store.h"
#include "core/util.h"
#include "demo/demo.h"
#include "mcp/mcp.h"
#include "nlu/parse_cmd.h"
#include "ops/probe.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2
/* Often enough that a burst (a thousand progress posts) does not stay
 * resident for long; each trim costs well under a millisecond. */
#define MEM_TRIM_EVERY_MS 10000

static const char usage_text[] =
    "usage: usher COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  run [--config FILE]           run the bot with the chat networks in FILE\n"
    "  demo [--speed N]              chat in this terminal against bundled demo services\n"
    "  parse [--json] [TEXT...]      show what usher understands (stdin lines when no TEXT)\n"
    "  check-config [--config FILE]  check FILE and say in plain words what is wrong\n"
    "  mcp [--config FILE] [--as PERSON]\n"
    "                                serve MCP tools on stdin/stdout as PERSON\n"
    "  --version                     print the version\n"
    "  --help                        print this help\n"
    "\n"
    "Options for every command:\n"
    "  --log-format text|json        log lines as key=value text (default) or JSON objects\n"
    "\n"
    "FILE defaults to $USHER_CONFIG, then ./usher.conf, then /etc/usher/usher.conf.\n";

/* Set by --log-format, which then wins over [usher] log_format. */
static bool log_format_given;

static const char *
default_config_path(void)
{
	const char *env = getenv("USHER_CONFIG");

	if (env && *env)
		return env;
	if (access("usher.conf", F_OK) == 0)
		return "usher.conf";
	return "/etc/usher/usher.conf";
}

/* Prints every problem; returns true when the config may be used. A log
 * collector reading JSON gets them as log lines instead. */
static bool
report_config(const struct config *cfg)
{
	size_t i, n = config_problem_count(cfg);
	bool json = log_get_format() == LOG_FORMAT_JSON;

	for (i = 0; i < n; i++) {
		const struct config_problem *p = config_problem_at(cfg, i);

		if (json && p->severity == CONFIG_ERROR)
			log_error("%s: %s", p->where, p->message);
		else if (json)
			log_warnx("%s: %s", p->where, p->message);
		else
			fprintf(stderr, "%s: %s: %s\n", p->where,
			        p->severity == CONFIG_ERROR ? "error" : "warning", p->message);
	}
	return config_ok(cfg);
}

/* Takes every "--log-format X" / "--log-format=X" out of argv, wherever it
 * is, so that each command's own option parsing never sees it. Returns the
 * new argc, or -1 after saying what is wrong. */
static int
take_log_format(int argc, char **argv)
{
	enum log_format format;
	const char *value;
	int i, out = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--log-format") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "usher: --log-format needs text or json\n");
				return -1;
			}
			value = argv[++i];
		} else if (strncmp(argv[i], "--log-format=", 13) == 0) {
			value = argv[i] + 13;
		} else {
			argv[out++] = argv[i];
			continue;
		}
		if (log_format_parse(value, &format) == -1) {
			fprintf(stderr, "usher: --log-format takes text or json, not '%s'\n",
			        value);
			return -1;
		}
		log_set_format(format);
		log_format_given = true;
	}
	argv[out] = NULL;
	return out;
}

/* Parses the one option run and check-config take. */
static int
config_option(int argc, char **argv, const char **path)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*path = default_config_path();
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usher %s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}

static void
on_signal(struct loop *loop, int signo, void *arg)
{
	struct bot *bot = arg;

	if (signo == SIGHUP) {
		log_info("SIGHUP: reloading grammars and prompts");
		bot_reload(bot);
		return;
	}
	log_info("%s: stopping", strsignal(signo));
	loop_stop(loop);
}

/* Runs the bot until a signal or the end of console input. */
static int
run_with_config(const struct config *cfg)
{
	struct loop *loop;
	struct store *store;
	struct bot *bot;
	struct mem_trimmer *trim;
	char err[512];
	const char *format_name = config_get(cfg, "usher", "log_format");
	enum log_level level;
	enum log_format format;
	int rc = 0;

	if (log_level_parse(config_get(cfg, "usher", "log_level"), &level) == 0)
		log_set_level(level);
	if (!log_format_given && format_name && log_format_parse(format_name, &format) == 0)
		log_set_format(format);
	store = store_open_config(cfg, err, sizeof(err));
	if (store == NULL) {
		log_warnx("%s", err);
		return EXIT_RUNTIME;
	}
	loop = loop_new();
	if (loop == NULL)
		fatalx("out of memory");
	trim = mem_trim_start(loop, MEM_TRIM_EVERY_MS);
	bot = bot_new(loop, cfg, store, err, sizeof(err));
	if (bot == NULL) {
		log_warnx("%s", err);
		mem_trim_stop(trim);
		loop_free(loop);
		store_close(store);
		return EXIT_USAGE;
	}
	if (loop_handle_signals(loop, on_signal, bot) == -1) {
		log_warn("cannot handle signals");
		rc = EXIT_RUNTIME;
	} else if (bot_start(bot, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		rc = EXIT_RUNTIME;
	} else if (loop_run(loop) == -1) {
		log_warn("event loop failed");
		rc = EXIT_RUNTIME;
	}
	/* Already stopping: a second SIGTERM or Ctrl-C must not kill the
	 * clean-up once loop_free() unblocks the signals. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	bot_free(bot);
	mem_trim_stop(trim);
	loop_free(loop);
	store_close(store);
	return rc;
}

static int
cmd_run(int argc, char **argv)
{
	struct config *cfg;
	const char *path;
	int rc;

	if (config_option(argc, argv, &path) == -1)
		return EXIT_USAGE;
	cfg = config_load(path, NULL);
	if (cfg == NULL)
		fatalx("out of memory");
	if (!report_config(cfg)) {
		if (log_get_format() == LOG_FORMAT_JSON)
			log_error("not starting until the configuration is fixed");
		else
			fprintf(stderr, "usher: not starting until the configuration is fixed "
			                "(usher check-config explains each problem)\n");
		config_free(cfg);
		return EXIT_USAGE;
	}
	rc = run_with_config(cfg);
	config_free(cfg);
	return rc;
}

#define PROBE_TIMEOUT_MS 10000

static void
print_probe_line(bool ok, const char *line, void *arg)
{
	(void)ok;
	(void)arg;
	printf("%s\n", line);
}

static int
cmd_check_config(int argc, char **argv)
{
	struct config *cfg;
	const char *path;
	bool ok;
	int failed = 0;

	if (config_option(argc, argv, &path) == -1)
		return EXIT_USAGE;
	cfg = config_load(path, NULL);
	if (cfg == NULL)
		fatalx("out of memory");
	ok = report_config(cfg);
	if (ok)
		printf("%s: configuration ok (%zu people)\n", path, config_person_count(cfg));
	else
		printf("%s: configuration has problems, see above\n", path);
	/* Only a usable config is worth asking the services about. */
	if (ok) {
		fflush(stdout);
		failed = probe_config(cfg, PROBE_TIMEOUT_MS, print_probe_line, NULL);
	}
	config_free(cfg);
	return !ok ? EXIT_USAGE : failed > 0 ? EXIT_RUNTIME : 0;
}

static int
cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"speed", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct demo *demo;
	struct config *cfg;
	char err[512];
	double speed = 1.0;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			speed = strtod(optarg, NULL);
			if (speed <= 0 || speed > 1000) {
				fprintf(stderr, "usher demo: --speed takes a number from 0.01 to "
				                "1000\n");
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	demo = demo_start(speed, err, sizeof(err));
	if (demo == NULL) {
		fprintf(stderr, "usher demo: %s\n", err);
		return EXIT_RUNTIME;
	}
	cfg = config_load(demo_config_path(demo), NULL);
	if (cfg == NULL)
		fatalx("out of memory");
	if (!report_config(cfg)) {
		config_free(cfg);
		demo_stop(demo);
		return EXIT_RUNTIME;
	}
	if (isatty(STDIN_FILENO))
		printf(
		    "usher demo: you are \"you\", an admin, talking to usher over a pretend media "
		    "server.\nType a message and press Enter; Ctrl-D or Ctrl-C ends the demo.\n");
	fflush(stdout);
	rc = run_with_config(cfg);
	config_free(cfg);
	demo_stop(demo);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	/* A peer that hangs up mid-write (libstrophe sends without
	 * MSG_NOSIGNAL) is a failed write to handle, not a reason to die. */
	signal(SIGPIPE, SIG_IGN);
	mem_tune();
	argc = take_log_format(argc, argv);
	if (argc == -1)
		return EXIT_USAGE;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("usher %s\n", USHER_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 1, argv + 1);
	if (strcmp(cmd, "parse") == 0)
		return parse_cmd_main(argc - 1, argv + 1);
	if (strcmp(cmd, "check-config") == 0)
		return cmd_check_config(argc - 1, argv + 1);
	if (strcmp(cmd, "mcp") == 0)
		return mcp_main(argc - 1, argv + 1);
	fprintf(stderr, "usher: unknown command '%s'\n\n%s", cmd, usage_text);
	return EXIT_USAGE;
}

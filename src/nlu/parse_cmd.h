/*
 * parse_cmd: `usher parse`, the grammar from the command line, so a
 * grammar change can be tried and measured without any server.
 *
 * Each argument, or each line of standard input when there is none, is one
 * utterance; the answer is one line per utterance, in order (one JSON object
 * with --json). Owns nothing past its own call.
 */
#ifndef USHER_PARSE_CMD_H
#define USHER_PARSE_CMD_H

/* argv[0] is "parse". Returns the process exit status: 0, or 2 on a usage
 * error or when the grammars do not load (the file:line error is printed). */
int parse_cmd_main(int argc, char **argv);

#endif

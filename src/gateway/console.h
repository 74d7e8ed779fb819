/*
 * console: the terminal gateway, for the demo, for development and for the
 * integration tests. Lines on an input fd are messages from the person named
 * by [console] person; replies are printed one per line as "usher: TEXT",
 * edits of an earlier reply as "usher (edit): TEXT". Continuation lines of a
 * multi-line reply are indented under the first, so every reply still starts
 * with its prefix. At end of input the gateway tells the bot (on_end).
 *
 * The gateway's ops table is console_gateway_ops (gateway.h).
 */
#ifndef USHER_CONSOLE_H
#define USHER_CONSOLE_H

struct gateway;

/* Reads from `in_fd` and writes to `out_fd` instead of stdin/stdout; both
 * borrowed (not closed by the gateway). Call before gateway_start(). */
void console_set_fds(struct gateway *gw, int in_fd, int out_fd);

/* Longest line taken as one message; the rest of a longer line is dropped. */
#define CONSOLE_LINE_MAX (64 * 1024)

#endif

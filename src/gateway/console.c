#include "gateway/console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "gateway/gateway.h"

/* A send or edit whose completion is still to be reported: completions run
 * from a zero-delay timer so they never call back from inside the send, and
 * the timer is cancelled if the gateway goes away first. */
struct console_done {
	struct console *console;
	loop_timer_id timer;
	gateway_done_cb *done;
	void *arg;
	char msg_id[32];
	struct console_done *next;
};

struct console {
	struct gateway *gw;
	char *person;
	int in_fd;
	int out_fd;
	bool watching;
	bool skipping; /* inside an over-long line, dropping until its end */
	unsigned long next_msg;
	struct buf line;
	struct console_done *pending;
};

static int
console_init(struct gateway *gw, const struct config *cfg, char *err, size_t errlen)
{
	struct console *c;
	const char *person = config_get(cfg, "console", "person");

	if (person == NULL || *person == '\0') {
		snprintf(err, errlen,
		         "[console] needs person = NAME of a configured [person NAME]");
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->gw = gw;
	c->person = xstrdup(person);
	c->in_fd = STDIN_FILENO;
	c->out_fd = STDOUT_FILENO;
	buf_init(&c->line, CONSOLE_LINE_MAX + 1);
	gateway_set_impl(gw, c);
	return 0;
}

void
console_set_fds(struct gateway *gw, int in_fd, int out_fd)
{
	struct console *c = gateway_impl(gw);

	c->in_fd = in_fd;
	c->out_fd = out_fd;
}

static void
console_deliver_line(struct console *c, char *text)
{
	struct chat_msg msg;
	char id[32];

	str_trim(text);
	if (*text == '\0')
		return;
	snprintf(id, sizeof(id), "in%lu", ++c->next_msg);
	memset(&msg, 0, sizeof(msg));
	msg.network = "console";
	msg.room = "console";
	msg.sender = c->person;
	msg.sender_name = c->person;
	msg.text = text;
	msg.msg_id = id;
	msg.direct = true;
	msg.addressed = true;
	gateway_deliver(c->gw, &msg);
}

/* Adds one segment of input that holds no newline to the current line.
 * Past the maximum the line is delivered cut there once, and the rest of it
 * is dropped until its newline. */
static void
console_add_segment(struct console *c, const char *seg, size_t len)
{
	size_t room;

	if (c->skipping)
		return;
	room = CONSOLE_LINE_MAX - c->line.len;
	if (len <= room) {
		buf_append(&c->line, seg, len);
		return;
	}
	buf_append(&c->line, seg, room);
	log_warnx("console: a line longer than %d bytes was cut", CONSOLE_LINE_MAX);
	console_deliver_line(c, c->line.data);
	buf_reset(&c->line);
	c->skipping = true;
}

static void
console_take_input(struct console *c, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t seg = nl ? (size_t)(nl - data) : len;

		console_add_segment(c, data, seg);
		if (nl == NULL)
			return;
		if (!c->skipping && c->line.len > 0)
			console_deliver_line(c, c->line.data);
		buf_reset(&c->line);
		c->skipping = false;
		data += seg + 1;
		len -= seg + 1;
	}
}

static void
console_end(struct console *c)
{
	if (c->watching) {
		loop_unwatch_fd(gateway_loop(c->gw), c->in_fd);
		c->watching = false;
	}
	if (c->line.len > 0 && !c->skipping)
		console_deliver_line(c, c->line.data);
	buf_reset(&c->line);
	gateway_deliver_end(c->gw);
}

static void
console_readable(struct loop *loop, int fd, int events, void *arg)
{
	struct console *c = arg;
	char chunk[4096];
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		log_warn("console: reading input");
		console_end(c);
		return;
	}
	if (n == 0) {
		console_end(c);
		return;
	}
	console_take_input(c, chunk, (size_t)n);
}

static int
console_start(struct gateway *gw)
{
	struct console *c = gateway_impl(gw);

	if (loop_watch_fd(gateway_loop(gw), c->in_fd, LOOP_READ, console_readable, c) == -1)
		return -1;
	c->watching = true;
	return 0;
}

static void
console_stop(struct gateway *gw)
{
	struct console *c = gateway_impl(gw);

	if (c->watching) {
		loop_unwatch_fd(gateway_loop(gw), c->in_fd);
		c->watching = false;
	}
}

static int
console_write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, s, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* "usher: first line" then the other lines indented under it. */
static int
console_print(struct console *c, const char *prefix, const struct chat_out *out)
{
	struct buf b;
	const char *p = out->text ? out->text : "";
	size_t indent = strlen(prefix);
	int rc;

	buf_init(&b, 0);
	buf_append_str(&b, prefix);
	for (; *p; p++) {
		if (*p == '\r')
			continue;
		buf_append(&b, p, 1);
		if (*p == '\n' && p[1] != '\0')
			buf_printf(&b, "%*s", (int)indent, "");
	}
	if (b.data[b.len - 1] != '\n')
		buf_append_str(&b, "\n");
	if (out->image_url)
		buf_printf(&b, "%*s%s\n", (int)indent, "", out->image_url);
	rc = console_write_all(c->out_fd, b.data, b.len);
	buf_free(&b);
	return rc;
}

static void
console_done_fire(struct loop *loop, loop_timer_id id, void *arg)
{
	struct console_done *d = arg, **pp;

	(void)loop;
	(void)id;
	for (pp = &d->console->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	if (d->done)
		d->done(d->arg, 0, d->msg_id, NULL);
	free(d);
}

static void
console_report(struct console *c, const char *msg_id, gateway_done_cb *done, void *arg)
{
	struct console_done *d = xcalloc(1, sizeof(*d));

	d->console = c;
	d->done = done;
	d->arg = arg;
	strlcpy_u(d->msg_id, msg_id, sizeof(d->msg_id));
	d->next = c->pending;
	c->pending = d;
	d->timer = loop_add_timer(gateway_loop(c->gw), 0, console_done_fire, d);
}

static int
console_send(struct gateway *gw, const char *room, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	struct console *c = gateway_impl(gw);
	char id[32];

	(void)room;
	if (console_print(c, "usher: ", out) == -1) {
		log_warn("console: writing a reply");
		return -1;
	}
	snprintf(id, sizeof(id), "out%lu", ++c->next_msg);
	console_report(c, id, done, arg);
	return 0;
}

static int
console_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	struct console *c = gateway_impl(gw);

	(void)room;
	if (console_print(c, "usher (edit): ", out) == -1) {
		log_warn("console: writing an edit");
		return -1;
	}
	console_report(c, msg_id, done, arg);
	return 0;
}

/* The console is one person's terminal: a direct message is an ordinary
 * line, marked so a reader can tell it from the conversation. */
static int
console_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                    gateway_done_cb *done, void *arg)
{
	struct console *c = gateway_impl(gw);
	char id[32];

	(void)user;
	if (console_print(c, "usher (direct): ", out) == -1) {
		log_warn("console: writing a direct message");
		return -1;
	}
	snprintf(id, sizeof(id), "out%lu", ++c->next_msg);
	console_report(c, id, done, arg);
	return 0;
}

static void
console_free_impl(struct gateway *gw)
{
	struct console *c = gateway_impl(gw);
	struct console_done *d, *next;

	if (c == NULL)
		return;
	for (d = c->pending; d != NULL; d = next) {
		next = d->next;
		loop_cancel_timer(gateway_loop(gw), d->timer);
		free(d);
	}
	buf_free(&c->line);
	free(c->person);
	free(c);
	gateway_set_impl(gw, NULL);
}

const struct gateway_ops console_gateway_ops = {
    .name = "console",
    .caps = GATEWAY_CAN_EDIT,
    .init = console_init,
    .start = console_start,
    .stop = console_stop,
    .send = console_send,
    .edit = console_edit,
    .send_direct = console_send_direct,
    .free_impl = console_free_impl,
};

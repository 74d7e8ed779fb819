#include "gateway/gateway.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"

struct gateway {
	const struct gateway_ops *ops;
	struct loop *loop;
	struct gateway_host host;
	void *impl;
	bool started;
};

struct gateway *
gateway_new(const struct gateway_ops *ops, struct loop *loop, const struct config *cfg,
            const struct gateway_host *host, char *err, size_t errlen)
{
	struct gateway *gw = xcalloc(1, sizeof(*gw));

	gw->ops = ops;
	gw->loop = loop;
	gw->host = *host;
	if (ops->init && ops->init(gw, cfg, err, errlen) == -1) {
		if (ops->free_impl)
			ops->free_impl(gw);
		free(gw);
		return NULL;
	}
	return gw;
}

void
gateway_free(struct gateway *gw)
{
	if (gw == NULL)
		return;
	gateway_stop(gw);
	if (gw->ops->free_impl)
		gw->ops->free_impl(gw);
	free(gw);
}

const char *
gateway_name(const struct gateway *gw)
{
	return gw->ops->name;
}

int
gateway_caps(const struct gateway *gw)
{
	return gw->ops->caps;
}

struct loop *
gateway_loop(const struct gateway *gw)
{
	return gw->loop;
}

void *
gateway_impl(const struct gateway *gw)
{
	return gw->impl;
}

struct store *
gateway_store(const struct gateway *gw)
{
	return gw->host.store;
}

void
gateway_set_impl(struct gateway *gw, void *impl)
{
	gw->impl = impl;
}

void
gateway_deliver(struct gateway *gw, const struct chat_msg *msg)
{
	if (gw->host.on_message)
		gw->host.on_message(gw, msg, gw->host.arg);
}

void
gateway_deliver_end(struct gateway *gw)
{
	if (gw->host.on_end)
		gw->host.on_end(gw, gw->host.arg);
}

void *
gateway_suggest(struct gateway *gw, const char *prefix, gateway_suggest_cb *done, void *done_arg)
{
	if (gw->host.suggest == NULL)
		return NULL;
	return gw->host.suggest(gw, prefix, done, done_arg, gw->host.arg);
}

void
gateway_suggest_cancel(struct gateway *gw, void *handle)
{
	if (handle && gw->host.suggest_cancel)
		gw->host.suggest_cancel(handle, gw->host.arg);
}

int
gateway_start(struct gateway *gw)
{
	if (gw->started)
		return 0;
	if (gw->ops->start && gw->ops->start(gw) == -1)
		return -1;
	gw->started = true;
	return 0;
}

void
gateway_stop(struct gateway *gw)
{
	if (!gw->started)
		return;
	gw->started = false;
	if (gw->ops->stop)
		gw->ops->stop(gw);
}

int
gateway_send(struct gateway *gw, const char *room, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	return gw->ops->send(gw, room, out, done, arg);
}

int
gateway_edit(struct gateway *gw, const char *room, const char *msg_id, const struct chat_out *out,
             gateway_done_cb *done, void *arg)
{
	if (!(gw->ops->caps & GATEWAY_CAN_EDIT) || gw->ops->edit == NULL)
		return -1;
	return gw->ops->edit(gw, room, msg_id, out, done, arg);
}

int
gateway_react(struct gateway *gw, const char *room, const char *msg_id, const char *emoji,
              gateway_done_cb *done, void *arg)
{
	if (!(gw->ops->caps & GATEWAY_CAN_REACT) || gw->ops->react == NULL)
		return -1;
	return gw->ops->react(gw, room, msg_id, emoji, done, arg);
}

int
gateway_send_direct(struct gateway *gw, const char *user, const struct chat_out *out,
                    gateway_done_cb *done, void *arg)
{
	if (gw->ops->send_direct == NULL || user == NULL)
		return -1;
	return gw->ops->send_direct(gw, user, out, done, arg);
}

bool
gateway_can_send_direct(const struct gateway *gw)
{
	return gw->ops->send_direct != NULL;
}

void
gateway_typing(struct gateway *gw, const char *room, bool on)
{
	if (gw->ops->typing != NULL && room != NULL)
		gw->ops->typing(gw, room, on);
}

void
gateway_seen(struct gateway *gw, const char *room, const char *msg_id)
{
	if (gw->ops->seen != NULL && room != NULL && msg_id != NULL)
		gw->ops->seen(gw, room, msg_id);
}

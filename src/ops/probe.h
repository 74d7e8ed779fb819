/*
 * probe: the live half of `usher check-config`: asks every configured
 * service and chat network whether usher's settings work, and says in one
 * line each what answered or what to change.
 *
 * Every probe runs at once on a loop of its own with the real clients
 * (seerr, radarr, sonarr, prowlarr, qbittorrent; Matrix's whoami, Discord's
 * /users/@me, a TCP connect to the XMPP server), bounded by one timeout.
 * Lines come out in a fixed order (services, then networks) whatever order
 * the answers arrive in, so the output can be compared in tests.
 */
#ifndef USHER_PROBE_H
#define USHER_PROBE_H

#include <stdbool.h>

struct config;

/* `line` is borrowed for the call: "Radarr ok (version 5.14.0.9383)" or
 * "Radarr: 401 Unauthorized — the api_key is wrong (...)". */
typedef void probe_line_cb(bool ok, const char *line, void *arg);

/* Probes everything `cfg` (borrowed; it must be config_ok()) configures,
 * waiting at most `timeout_ms` in all, and calls `cb` once per probe.
 * Returns the number of probes that failed (0: all worked, or nothing to
 * probe). Blocks: it runs its own loop until done. */
int probe_config(const struct config *cfg, long timeout_ms, probe_line_cb *cb, void *arg);

#endif

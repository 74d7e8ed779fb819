/*
 * demo: the bundled pretend media server behind `usher demo`.
 *
 * Starts contrib/demo/demo_services.py (Seerr, Radarr, Sonarr and
 * qBittorrent API shapes on loopback ports it picks), writes a config in a
 * private temporary folder that points usher at them with the terminal as
 * the chat, and stops and removes all of it in demo_stop(). The services
 * hold a pipe from usher as their standard input and exit when it closes,
 * so they never outlive usher, even one killed with SIGKILL.
 */
#ifndef USHER_DEMO_H
#define USHER_DEMO_H

#include <stddef.h>

struct demo;

/* Returns a running demo the caller ends with demo_stop(), or NULL with
 * `err` filled. `speed` multiplies the pretend download speed. */
struct demo *demo_start(double speed, char *err, size_t errlen);
/* The generated usher.conf; borrowed, valid until demo_stop(). */
const char *demo_config_path(const struct demo *demo);
/* Stops the services, waits for them, removes the temporary folder and
 * frees `demo`. */
void demo_stop(struct demo *demo);

#endif

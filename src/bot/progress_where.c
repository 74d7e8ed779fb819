/*
 * progress_where: "ready to watch", and where. When a title is ready,
 * Radarr (films) or Sonarr (shows) is asked once where it landed: with
 * [filebrowser] configured the ready line links to the title's folder in
 * FileBrowser, else it names the library (the root folder's last part,
 * "in Movies"). A title waiting for that answer is done and saved already;
 * it sits in p->telling, out of the cycle's items, until the answer (or an
 * error, which leaves the plain line) comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/progress_impl.h"
#include "core/util.h"
#include "services/radarr.h"
#include "services/sonarr.h"

static void
telling_drop(struct progress *p, struct tracked *t)
{
	size_t i;

	for (i = 0; i < p->telling_count; i++) {
		if (p->telling[i] == t) {
			p->telling[i] = p->telling[--p->telling_count];
			break;
		}
	}
	t->where_call = NULL;
	if (t->sending)
		t->p = NULL; /* its first message's callback frees it */
	else
		tracked_free(t);
}

/* The last part of a library root: "/media/Movies/" gives "Movies". */
static void
library_name(const char *root, char *out, size_t len)
{
	size_t n = strlen(root);
	const char *start;

	while (n > 0 && root[n - 1] == '/')
		n--;
	start = root + n;
	while (start > root && start[-1] != '/')
		start--;
	snprintf(out, len, "%.*s", (int)(root + n - start), start);
}

/* Says it, with the link or the library when `path`/`root` say where. */
static void
tell_ready_at(struct progress *p, struct tracked *t, const char *path, const char *root)
{
	char *link = NULL, *what = NULL, *html = NULL, lib[128];

	if (p->svc.filebrowser_url && p->svc.path_from && p->svc.path_to && path && path[0])
		link = progress_library_link(p->svc.filebrowser_url, p->svc.path_from,
		                             p->svc.path_to, path);
	lib[0] = '\0';
	if (link == NULL && root && root[0])
		library_name(root, lib, sizeof(lib));
	if (link != NULL) {
		char *esc = progress_html_escape(link);

		what = xasprintf("is ready to watch: %s", link);
		html = xasprintf("is ready to watch: <a href=\"%s\">%s</a>", esc, esc);
		free(esc);
	} else if (lib[0] != '\0') {
		char *esc = progress_html_escape(lib);

		what = xasprintf("is ready to watch in %s.", lib);
		html = xasprintf("is ready to watch in %s.", esc);
		free(esc);
	}
	progress_announce_what(p, t, "ready", what ? what : "is ready to watch.", html);
	free(link);
	free(what);
	free(html);
}

static void
movie_found(const struct service_result *res, const struct radarr_movie *movie, void *arg)
{
	struct tracked *t = arg;
	struct progress *p = t->p;

	(void)res;
	tell_ready_at(p, t, movie ? movie->path : NULL, movie ? movie->root_folder_path : NULL);
	telling_drop(p, t);
}

static void
series_found(const struct service_result *res, const struct sonarr_series *series, void *arg)
{
	struct tracked *t = arg;
	struct progress *p = t->p;

	(void)res;
	tell_ready_at(p, t, series ? series->path : NULL, series ? series->root_folder_path : NULL);
	telling_drop(p, t);
}

void
progress_tell_ready(struct progress *p, struct tracked *t)
{
	progress_remove(p, t);
	p->telling = xrealloc(p->telling, (p->telling_count + 1) * sizeof(*p->telling));
	p->telling[p->telling_count++] = t;
	if (t->kind == SEERR_MOVIE && p->svc.radarr && t->tmdb_id > 0)
		t->where_call = radarr_movie_by_tmdb(p->svc.radarr, t->tmdb_id, movie_found, t);
	else if (t->kind == SEERR_TV && p->svc.sonarr && t->tvdb_id > 0)
		t->where_call = sonarr_series_by_tvdb(p->svc.sonarr, t->tvdb_id, series_found, t);
	if (t->where_call == NULL) {
		tell_ready_at(p, t, NULL, NULL);
		telling_drop(p, t);
	}
}

void
progress_where_free(struct progress *p)
{
	while (p->telling_count > 0) {
		struct tracked *t = p->telling[0];

		arr_cancel(t->where_call);
		telling_drop(p, t);
	}
	free(p->telling);
	p->telling = NULL;
}

#include "core/paths.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "core/util.h"

#ifndef USHER_DATA_INSTALL_DIR
#define USHER_DATA_INSTALL_DIR "/usr/share/usher"
#endif

static int
paths_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
paths_data(const char *name)
{
	const char *env = getenv("USHER_DATA_DIR");
	char *path;

	if (env && *env) {
		path = xasprintf("%s/%s", env, name);
		if (paths_is_dir(path))
			return path;
		free(path);
	}
	path = xasprintf("%s/%s", USHER_SOURCE_DIR, name);
	if (paths_is_dir(path))
		return path;
	free(path);
	return xasprintf("%s/%s", USHER_DATA_INSTALL_DIR, name);
}

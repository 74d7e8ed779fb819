#include "core/paths.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#ifndef USHER_DATA_INSTALL_DIR
#define USHER_DATA_INSTALL_DIR "/usr/share/usher"
#endif
/* The data folder relative to the binary's folder, "../share/usher". */
/* The build tree's top; "" takes every binary for one built in place. */
#ifndef USHER_BUILD_DIR
#define USHER_BUILD_DIR ""
#endif
#ifndef USHER_DATA_FROM_BIN
#define USHER_DATA_FROM_BIN "../share/usher"
#endif

static bool
paths_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder of the running binary, or false when /proc cannot say. */
static bool
paths_exe_dir(char *out, size_t outlen)
{
	ssize_t n = readlink("/proc/self/exe", out, outlen - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= outlen - 1)
		return false;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash == NULL)
		return false;
	*slash = '\0';
	return true;
}

static bool
paths_in_build_tree(const char *exe_dir)
{
	size_t n = strlen(USHER_BUILD_DIR);

	return strncmp(exe_dir, USHER_BUILD_DIR, n) == 0 &&
	       (exe_dir[n] == '\0' || exe_dir[n] == '/');
}

char *
paths_data(const char *name)
{
	const char *env = getenv("USHER_DATA_DIR");
	char exe[PATH_MAX], *path;
	bool have_exe = paths_exe_dir(exe, sizeof(exe));

	if (env && *env) {
		path = xasprintf("%s/%s", env, name);
		if (paths_is_dir(path))
			return path;
		free(path);
	}
	if (have_exe) {
		path = xasprintf("%s/" USHER_DATA_FROM_BIN "/%s", exe, name);
		if (paths_is_dir(path))
			return path;
		free(path);
	}
	/* Without /proc the build tree is the better guess: that is where
	 * tests and developers run. */
	if (!have_exe || paths_in_build_tree(exe)) {
		path = xasprintf("%s/%s", USHER_SOURCE_DIR, name);
		if (paths_is_dir(path))
			return path;
		free(path);
	}
	return xasprintf("%s/%s", USHER_DATA_INSTALL_DIR, name);
}

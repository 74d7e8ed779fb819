/*
 * paths: where usher finds the files it ships (grammars/, prompts/,
 * contrib/demo/). In order:
 *   1. $USHER_DATA_DIR/NAME, so a packager or a test can always point
 *      elsewhere;
 *   2. share/usher/NAME next to the running binary's bin/ folder, so an
 *      install made with `cmake --install --prefix P` works wherever P is;
 *   3. the source tree, when the running binary is in the build tree it was
 *      built in (a build runs without installing);
 *   4. the data folder chosen when it was configured
 *      (CMAKE_INSTALL_FULL_DATADIR/usher).
 * An installed binary never reads the source tree it was built from.
 */
#ifndef USHER_PATHS_H
#define USHER_PATHS_H

/* Returns a new path the caller frees, to the first existing candidate for
 * `name` ("grammars", "contrib/demo"), or to the configured data folder
 * when none exists (so error messages name where it was expected). */
char *paths_data(const char *name);

#endif

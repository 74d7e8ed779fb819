/*
 * paths: where usher finds the files it ships (grammars/, prompts/,
 * contrib/demo/). In order: $USHER_DATA_DIR/NAME, the source tree it was
 * built from (so a build runs without installing), then the installed
 * data folder.
 */
#ifndef USHER_PATHS_H
#define USHER_PATHS_H

/* Returns a new path the caller frees, to the first existing candidate for
 * `name` ("grammars", "contrib/demo"), or to the installed location when
 * none exists (so error messages name where it was expected). */
char *paths_data(const char *name);

#endif

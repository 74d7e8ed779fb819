#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/mem.h"

/* The sanitizers bring their own allocator: glibc's knobs do nothing. */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIBC_MALLOC 0
#endif
#endif
#ifndef GLIBC_MALLOC
#define GLIBC_MALLOC 1
#endif

static uint64_t fake_ms;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_ms;
}

static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* After mem_tune() a large block is mapped on its own, so freeing it gives
 * the memory back at once, however often large blocks came and went. */
static void
test_large_blocks_are_mapped(void **state)
{
	(void)state;
	if (!GLIBC_MALLOC)
		skip();
	mem_tune();
	for (int i = 0; i < 8; i++) {
		size_t before = mallinfo2().hblks;
		char *p = malloc(256 * 1024);

		assert_non_null(p);
		memset(p, 1, 256 * 1024);
		assert_int_equal(mallinfo2().hblks, before + 1);
		free(p);
		assert_int_equal(mallinfo2().hblks, before);
	}
}

#define SMALL  4000
#define SMALLN 4096
/* Every PIN-th block stays: the holes between are free but not at the
 * heap's top, where only a trim can give them back. */
#define PIN 64

static void
fill(char **blocks)
{
	for (int i = 0; i < SMALLN; i++) {
		blocks[i] = malloc(SMALL);
		assert_non_null(blocks[i]);
		memset(blocks[i], 1, SMALL);
	}
}

static void
drain(char **blocks, bool all)
{
	for (int i = 0; i < SMALLN; i++)
		if (all || i % PIN != PIN - 1) {
			free(blocks[i]);
			blocks[i] = NULL;
		}
}

/* Freed memory in the middle of the heap goes back to the kernel when the
 * trimmer runs, and only then. */
static void
test_trimmer_returns_free_pages(void **state)
{
	static char *blocks[SMALLN];
	struct loop *loop = loop_new();
	struct mem_trimmer *t;
	long held, trimmed;

	(void)state;
	if (!GLIBC_MALLOC) {
		loop_free(loop);
		skip();
	}
	mem_tune();
	fake_ms = 1000;
	loop_set_clock(loop, fake_clock, NULL);
	t = mem_trim_start(loop, 10000);
	fill(blocks);
	held = rss_kb();
	drain(blocks, false);
	/* Not yet: the timer has not come due. */
	fake_ms += 9000;
	assert_true(loop_run_once(loop, 0) >= 0);
	assert_true(held - rss_kb() < 2 * 1024);
	fake_ms += 1000;
	assert_true(loop_run_once(loop, 0) >= 0);
	trimmed = rss_kb();
	assert_true(held - trimmed > 8 * 1024);
	/* And again on the next period. */
	drain(blocks, true);
	fill(blocks);
	drain(blocks, false);
	assert_true(rss_kb() - trimmed > 8 * 1024);
	fake_ms += 10000;
	assert_true(loop_run_once(loop, 0) >= 0);
	assert_true(rss_kb() - trimmed < 2 * 1024);
	drain(blocks, true);
	mem_trim_stop(t);
	loop_free(loop);
}

/* Stopping cancels the timer: nothing of it is left on the loop. */
static void
test_stop(void **state)
{
	struct loop *loop = loop_new();
	struct mem_trimmer *t;

	(void)state;
	fake_ms = 1000;
	loop_set_clock(loop, fake_clock, NULL);
	t = mem_trim_start(loop, 10);
	fake_ms += 10;
	assert_true(loop_run_once(loop, 0) >= 0);
	mem_trim_stop(t);
	mem_trim_stop(NULL);
	fake_ms += 100;
	assert_true(loop_run_once(loop, 0) >= 0);
	loop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_large_blocks_are_mapped),
	    cmocka_unit_test(test_trimmer_returns_free_pages),
	    cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

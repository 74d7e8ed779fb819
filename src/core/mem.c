#include "core/mem.h"

#include <stdlib.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

#define MEM_MMAP_THRESHOLD (64 * 1024)
#define MEM_TRIM_THRESHOLD (128 * 1024)

struct mem_trimmer {
	struct loop *loop;
	loop_timer_id timer;
	uint64_t every_ms;
};

void
mem_tune(void)
{
#ifdef __GLIBC__
	/* Setting either threshold also turns off glibc's raising of them. */
	mallopt(M_MMAP_THRESHOLD, MEM_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, MEM_TRIM_THRESHOLD);
	mallopt(M_ARENA_MAX, 1);
#endif
}

static void
mem_on_timer(struct loop *loop, loop_timer_id id, void *arg)
{
	struct mem_trimmer *t = arg;

	(void)id;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	if ((t->timer = loop_add_timer(loop, t->every_ms, mem_on_timer, t)) == 0)
		fatalx("out of memory adding the memory trim timer");
}

struct mem_trimmer *
mem_trim_start(struct loop *loop, uint64_t every_ms)
{
	struct mem_trimmer *t = xcalloc(1, sizeof(*t));

	t->loop = loop;
	t->every_ms = every_ms;
	if ((t->timer = loop_add_timer(loop, every_ms, mem_on_timer, t)) == 0)
		fatalx("out of memory adding the memory trim timer");
	return t;
}

void
mem_trim_stop(struct mem_trimmer *t)
{
	if (t == NULL)
		return;
	loop_cancel_timer(t->loop, t->timer);
	free(t);
}

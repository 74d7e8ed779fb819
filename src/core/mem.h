/*
 * mem: keeps usher's resident memory close to what it actually uses.
 *
 * Left alone, glibc's malloc raises its mmap threshold each time a large
 * block is freed (up to 32 MiB), after which every big short-lived buffer
 * (a JSON body, a serialised list) comes from the heap and leaves holes
 * that are only returned when they happen to sit at its top. In a bot that
 * spends most of its life idle, those holes are most of its resident set.
 * mem_tune() fixes the thresholds; a mem_trimmer hands the free pages
 * inside the heap back to the kernel now and then.
 *
 * A mem_trimmer owns one timer on the loop it was started on.
 */
#ifndef USHER_MEM_H
#define USHER_MEM_H

#include <stdint.h>

struct loop;
struct mem_trimmer;

/* Fixes malloc's thresholds: blocks of 64 KiB and more are mapped (and
 * unmapped when freed), the heap's top is given back past 128 KiB, and
 * one arena serves everything (usher runs one thread). Call
 * once, early. A no-op where the C library is not glibc. */
void mem_tune(void);

/* Returns free memory inside the heap to the kernel every `every_ms`
 * (the first time after `every_ms`). Returns a handle freed with
 * mem_trim_stop(); the loop is borrowed and must outlive it. Fatal on
 * out-of-memory. */
struct mem_trimmer *mem_trim_start(struct loop *loop, uint64_t every_ms);
/* Cancels the timer and frees the handle. NULL is ignored. */
void mem_trim_stop(struct mem_trimmer *t);

#endif

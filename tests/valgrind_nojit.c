/*
 * valgrind_nojit: preloaded into usher for `ctest -L valgrind` only. It
 * makes every PCRE2 JIT compilation fail, so the grammar matches with the
 * interpreter, which usher falls back to on its own. Memcheck cannot follow
 * JIT-generated code (no symbols, no unwind information) and reports its
 * wide reads as uninitialised jumps it cannot place; suppressing those
 * would take suppressing every such report.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

int
pcre2_jit_compile(pcre2_code *code, uint32_t options)
{
	(void)code;
	(void)options;
	return PCRE2_ERROR_JIT_BADOPTION;
}

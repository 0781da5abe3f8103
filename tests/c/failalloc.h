/* failalloc.h — allocation-failure injection of the -DPL_FAIL_ALLOC=ON build (failalloc.c). */
#ifndef PL_FAILALLOC_H
#define PL_FAILALLOC_H

#include <stddef.h>

/* Restart the count: the n-th counted allocation from now fails (n <= 0: none), and with
 * from_then_on every later one too. */
void pl_failalloc_set(long n, int from_then_on);
/* Allocations counted since the start or the last pl_failalloc_set. */
long pl_failalloc_count(void);
/* A lua_Alloc whose growing requests are counted (and may fail); shrinking never fails. */
void *pl_failalloc_lua(void *ud, void *ptr, size_t osize, size_t nsize);

#endif

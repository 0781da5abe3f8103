/* failalloc.c — allocation-failure injection, as SQLite's and Lua's own test suites do.
 *
 * Built only with -DPL_FAIL_ALLOC=ON, into the pedlab executable and pl_ctest, which are then
 * linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup: every allocation
 * of pedlab's own code (core, bindings, host, tests) comes here, and the host creates its Lua
 * state with pl_failalloc_lua. Allocations made inside shared libraries (libc itself, BLAS)
 * are not seen.
 *
 *   PEDLAB_FAIL_ALLOC=N        the N-th counted allocation returns NULL (once; 0 or unset: none)
 *   PEDLAB_FAIL_ALLOC=N+       the N-th and every later one (a lasting shortage: a single
 *                              failure of a Lua allocation is mostly absorbed by Lua's
 *                              emergency collection, a lasting one reaches the error paths)
 *   PEDLAB_FAIL_ALLOC_KIND=K   which allocations count: "c" (malloc/calloc/realloc/strdup),
 *                              "lua" (growth through the Lua allocator) or "all" (default)
 *   PEDLAB_ALLOC_REPORT=1      at exit, print "allocations: C c, L lua" on stderr
 *
 * Shrinking a Lua block never fails (Lua relies on it). */
#ifdef PL_FAIL_ALLOC
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

enum { KIND_ALL, KIND_C, KIND_LUA };
static atomic_long c_count, lua_count, counted;
static long fail_at = -1; /* -1: not read from the environment yet */
static int kind = KIND_ALL, lasting = 0;

static void read_env(void) {
    const char *n = getenv("PEDLAB_FAIL_ALLOC"), *k = getenv("PEDLAB_FAIL_ALLOC_KIND");
    char *end = NULL;
    long v = n ? strtol(n, &end, 10) : 0;
    lasting = end && *end == '+';
    if (k && strcmp(k, "c") == 0) kind = KIND_C;
    else if (k && strcmp(k, "lua") == 0) kind = KIND_LUA;
    fail_at = v > 0 ? v : 0;
}

/* Count one allocation of kind `is_lua`; 1 if it is the one that must fail. */
static int should_fail(int is_lua) {
    if (fail_at < 0) read_env();
    atomic_fetch_add(is_lua ? &lua_count : &c_count, 1);
    if (kind == (is_lua ? KIND_C : KIND_LUA)) return 0;
    long n = atomic_fetch_add(&counted, 1) + 1;
    return fail_at > 0 && (lasting ? n >= fail_at : n == fail_at);
}

void pl_failalloc_set(long n, int from_then_on) {
    if (fail_at < 0) read_env();
    atomic_store(&counted, 0);
    fail_at = n > 0 ? n : 0;
    lasting = from_then_on;
}

long pl_failalloc_count(void) {
    return atomic_load(&counted);
}

void *__wrap_malloc(size_t n) {
    return should_fail(0) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t count, size_t size) {
    return should_fail(0) ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t n) {
    if (n == 0) return __real_realloc(p, n);
    return should_fail(0) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s) {
    return should_fail(0) ? NULL : __real_strdup(s);
}

void *pl_failalloc_lua(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if ((ptr == NULL || nsize > osize) && should_fail(1)) return NULL;
    return __real_realloc(ptr, nsize);
}

__attribute__((destructor)) static void report(void) {
    if (getenv("PEDLAB_ALLOC_REPORT"))
        fprintf(stderr, "allocations: %ld c, %ld lua\n", atomic_load(&c_count),
                atomic_load(&lua_count));
}
#else
typedef int pl_failalloc_unused; /* an empty unit is not valid C */
#endif

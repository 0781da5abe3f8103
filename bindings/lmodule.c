/* lmodule.c — luaopen_pedlab_core: the C half of the pedlab Lua module. */
#include <cblas.h>
#include <errno.h>
#include <stdlib.h>

#include "lpedlab.h"

int lpl_raise(lua_State *L, const pl_err *err) {
    if (err->code == PL_EINTR) return luaL_error(L, "interrupted!");
    return luaL_error(L, "%s", err->msg);
}

int lpl_fail(lua_State *L, const pl_err *err) {
    luaL_pushfail(L);
    lua_pushstring(L, err->msg);
    return 2;
}

typedef struct {
    void *p;
    void (*fn)(void *);
} guard;

static int guard_gc(lua_State *L) {
    guard *g = lua_touserdata(L, 1);
    if (g->p && g->fn) g->fn(g->p);
    g->p = NULL;
    return 0;
}

void **lpl_guard(lua_State *L, void *p, void (*fn)(void *)) {
    guard *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->p = NULL;
    g->fn = fn;
    if (luaL_newmetatable(L, "pedlab.guard")) {
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    g->p = p;
    return &g->p;
}

/* BLAS threads pedlab accepts, from pl.set_threads and from PEDLAB_THREADS alike. */
#define MAX_THREADS 1024

/* pl.set_threads(n): OpenBLAS threads (the only parallelism in pedlab). */
static int l_set_threads(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= MAX_THREADS, 1,
                  lua_pushfstring(L, "threads must be 1..%d", MAX_THREADS));
    openblas_set_num_threads((int)n);
    return 0;
}

static int l_get_threads(lua_State *L) {
    lua_pushinteger(L, openblas_get_num_threads());
    return 1;
}

/* PEDLAB_THREADS: unset or empty leaves OpenBLAS's default; anything else must be 1..MAX_THREADS. */
static void threads_from_env(lua_State *L) {
    const char *env = getenv("PEDLAB_THREADS");
    if (!env || !*env) return;
    char *end;
    errno = 0;
    long n = strtol(env, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (errno || end == env || *end || n < 1 || n > MAX_THREADS)
        luaL_error(L, "PEDLAB_THREADS=%s: expected a whole number of threads 1..%d", env,
                   MAX_THREADS);
    openblas_set_num_threads((int)n);
}

int luaopen_pedlab_core(lua_State *L) {
    threads_from_env(L);
    lua_newtable(L);
    lua_pushcfunction(L, l_set_threads);
    lua_setfield(L, -2, "set_threads");
    lua_pushcfunction(L, l_get_threads);
    lua_setfield(L, -2, "get_threads");
    lua_pushliteral(L, PL_VERSION);
    lua_setfield(L, -2, "version");
    lpl_open_matrix(L);
    lpl_open_dataset(L);
    lpl_open_io(L);
    lpl_open_metrics(L);
    lpl_open_balls(L);
    lpl_open_rank(L);
    return 1;
}

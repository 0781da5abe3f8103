/* laux.c — the helpers every binding calls (declared in laux.h): errors, guards, the options
 * check and "did you mean". Nothing here registers a function; bindings/linit.c does. */
#include <string.h>

#include "laux.h"

int lpl_raise(lua_State *L, const pl_err *err) {
    if (err->code == PL_EINTR) return luaL_error(L, "interrupted!");
    return luaL_error(L, "%s", err->msg);
}

int lpl_fail(lua_State *L, const pl_err *err) {
    luaL_pushfail(L);
    lua_pushstring(L, err->msg);
    return 2;
}

void lpl_pushstrings(lua_State *L, const char *const *list) {
    lua_newtable(L);
    for (lua_Integer i = 0; list[i]; i++) {
        lua_pushstring(L, list[i]);
        lua_seti(L, -2, i + 1);
    }
}

/* ---------- guards ---------- */

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

/* An empty guard on the stack (run protected: making it may fail for want of memory). */
static int guard_new(lua_State *L) {
    guard *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->p = NULL;
    g->fn = NULL;
    if (luaL_newmetatable(L, "pedlab.guard")) {
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return 1;
}

/* p is guarded on return, or already freed by fn when the guard could not be made (the error
 * is then raised): a caller hands p over at once, with no Lua call between acquiring it and
 * guarding it, and nothing leaks on any path. */
void **lpl_guard(lua_State *L, void *p, void (*fn)(void *)) {
    if (!lua_checkstack(L, 2)) {
        if (p && fn) fn(p);
        luaL_error(L, "out of memory");
    }
    lua_pushcfunction(L, guard_new);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        if (p && fn) fn(p);
        lua_error(L); /* the error object pcall left */
    }
    guard *g = lua_touserdata(L, -1);
    g->p = p;
    g->fn = fn;
    return &g->p;
}

/* ---------- "did you mean" ---------- */

/* Edit distance with adjacent transpositions; strings of at most 31 bytes (longer ones are
 * not near any name). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31) return (size_t)-1;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            int swap = i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1];
            if (swap && d[i - 2][j - 2] + 1 < c) c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

const char *lpl_nearest(const char *word, const char *const *names) {
    const char *best = NULL;
    size_t bestd = 3;
    for (; *names; names++) {
        size_t d = edit_distance(word, *names);
        if (d < bestd) bestd = d, best = *names;
    }
    return best;
}

/* ---------- options tables: every API that takes one checks it here ---------- */

static int known_key(const char *k, const char *const *known) {
    for (; *known; known++)
        if (!strcmp(k, *known)) return 1;
    return 0;
}

/* Raise "WHERE: unknown option 'KEY' (did you mean 'K'?); known: a, b, c". */
static int unknown_option(lua_State *L, const char *where, const char *key,
                          const char *const *known) {
    luaL_Buffer b;
    const char *best = lpl_nearest(key, known);
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "%s: unknown option '%s'", where, key);
    luaL_addvalue(&b);
    if (best) {
        lua_pushfstring(L, " (did you mean '%s'?)", best);
        luaL_addvalue(&b);
    }
    luaL_addstring(&b, "; known: ");
    for (const char *const *k = known; *k; k++) {
        if (k != known) luaL_addstring(&b, ", ");
        luaL_addstring(&b, *k);
    }
    luaL_pushresult(&b);
    return lua_error(L);
}

void lpl_check_options(lua_State *L, int idx, const char *where, const char *const *known) {
    if (lua_isnoneornil(L, idx)) return;
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table {key = value}, got a %s", where,
                   luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pushvalue(L, -1);
            const char *k = luaL_tolstring(L, -1, NULL);
            luaL_error(L, "%s: option keys must be names; got the %s key %s", where,
                       luaL_typename(L, -3), k);
        }
        if (!known_key(lua_tostring(L, -1), known))
            unknown_option(L, where, lua_tostring(L, -1), known);
    }
}

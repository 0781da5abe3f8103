/* lsandbox.c — the one sandbox for user Lua: force laws, radius rules, combiners and the
 * top-level code of their files all run under it.
 *
 * While a sandbox is entered: the state's allocator counts growth and refuses it past the
 * memory limit (or past the deadline: a call building huge strings runs few instructions); a
 * count hook stops the code past its instruction or time limit (and keeps raising at every
 * instruction once hit, so a pcall inside the code cannot swallow it); os.exit and
 * debug.sethook are replaced by functions that raise (the host's are put back on leaving).
 * Sandboxes nest (a rule that simulates with a Lua law): the inner one chains to the outer's
 * allocator, and leaving restores the outer's hook.
 *
 * A force law (bindings/lballs.c) runs under it with the limits of lsandbox.h's LPL_LAW_*
 * (law_limit, law_timeout, law_memory: lpl_sandbox_law_options) and lpl_sandbox_law_msgh;
 * radius rules and combiners (scripts/pedlab/radius.lua, combiners.lua) through
 * pl.sandbox_call, with LPL_SANDBOX_* unless they ask for other limits:
 *
 *   pl.sandbox_call(what, opts, f, ...) → f's results; raises "WHAT: message" on failure
 *     opts: nil or {instructions = N, seconds = S, memory = BYTES}
 *   pl.sandbox_env() → a fresh environment for a user file: the base functions and copies of
 *     the standard libraries (a file that sets math.sqrt changes only its own copy), with
 *     os.exit and the debug functions that reach the host (sethook, getregistry, setmetatable,
 *     setupvalue, upvaluejoin, setlocal, setuservalue) left out, and a getmetatable that does
 *     not hand out the strings' metatable. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "linit.h"
#include "lsandbox.h"

/* The allocator reads the clock at a growth of at least CLOCK_GROWTH bytes and at every
 * CLOCK_EVERY-th growth: a call building huge strings runs few instructions. */
#define CLOCK_GROWTH 65536
#define CLOCK_EVERY 256u

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void lpl_sandbox_init(lpl_sandbox *s, const char *what, int law) {
    memset(s, 0, sizeof *s);
    s->what = what;
    s->law = law;
    s->limit = law ? LPL_LAW_INSTRUCTIONS : LPL_SANDBOX_INSTRUCTIONS;
    s->seconds = law ? LPL_LAW_SECONDS : LPL_SANDBOX_SECONDS;
    s->memory = law ? LPL_LAW_MEMORY : LPL_SANDBOX_MEMORY;
}

/* Counts growth during a call and refuses it past the memory limit or the deadline. Shrinking
 * never fails (Lua relies on it). */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    lpl_sandbox *c = ud;
    size_t old = ptr ? osize : 0;
    if (c->active && nsize > old) {
        double grow = (double)(nsize - old);
        if (c->hit == LPL_HIT_TIME || c->hit == LPL_HIT_INSTR) return NULL;   /* stays stopped */
        if (c->used + grow > c->memory) {
            c->hit = LPL_HIT_MEMORY;
            return NULL;
        }
        if ((grow >= CLOCK_GROWTH || ++c->ticks % CLOCK_EVERY == 0) &&
            now_seconds() > c->deadline) {
            c->hit = LPL_HIT_TIME;
            return NULL;
        }
    }
    void *p = c->old_alloc(c->old_ud, ptr, osize, nsize);
    if (c->active && (p || nsize == 0)) c->used += (double)nsize - (double)old;
    return p;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    void *ud;
    (void)ar;
    if (lua_getallocf(L, &ud) != sandbox_alloc) return;
    lpl_sandbox *c = ud;
    if (!c->active) return;
    c->left -= LPL_HOOK_EVERY;
    if (c->hit != LPL_HIT_TIME && (c->left <= 0 || c->hit == LPL_HIT_INSTR)) {
        c->hit = LPL_HIT_INSTR;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s exceeded its instruction limit", c->what);
    }
    if (c->hit == LPL_HIT_TIME || now_seconds() > c->deadline) {
        c->hit = LPL_HIT_TIME;
        lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "%s exceeded its time limit", c->what);
    }
}

static int forbidden(lua_State *L) {
    return luaL_error(L, "%s is not allowed inside %s", lua_tostring(L, lua_upvalueindex(1)),
                      lua_tostring(L, lua_upvalueindex(2)));
}

/* Replace LIB.NAME (a loaded library) by a raising function; pushes the library table and the
 * old value (nil, nil when the library is not loaded). */
static void replace(lua_State *L, const char *lib, const char *name, const char *what) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, lib);
    lua_remove(L, -2);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, name);
        lua_pushfstring(L, "%s.%s", lib, name);
        lua_pushstring(L, what);
        lua_pushcclosure(L, forbidden, 2);
        lua_setfield(L, -3, name);
    } else {
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_pushnil(L);
    }
}

static void restore(lua_State *L, int at, const char *name) {
    if (lua_istable(L, at)) {
        lua_pushvalue(L, at + 1);
        lua_setfield(L, at, name);   /* an existing key: no allocation */
    }
}

void lpl_sandbox_enter(lua_State *L, lpl_sandbox *s) {
    const char *inside = s->law ? "a force law" : s->what;
    replace(L, "os", "exit", inside);
    replace(L, "debug", "sethook", inside);
    s->saved = lua_gettop(L) - 3;
    s->old_hook = lua_gethook(L);
    s->old_mask = lua_gethookmask(L);
    s->old_count = lua_gethookcount(L);
    s->old_alloc = lua_getallocf(L, &s->old_ud);
    s->active = 0;
    lua_setallocf(L, sandbox_alloc, s);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, LPL_HOOK_EVERY);
}

void lpl_sandbox_leave(lua_State *L, lpl_sandbox *s) {
    lua_sethook(L, s->old_hook, s->old_mask, s->old_count);
    lua_setallocf(L, s->old_alloc, s->old_ud);
    restore(L, s->saved, "exit");
    restore(L, s->saved + 2, "sethook");
    lua_settop(L, s->saved - 1);
}

void lpl_sandbox_arm(lua_State *L, lpl_sandbox *s) {
    s->hit = LPL_HIT_NONE;
    s->used = 0;
    s->ticks = 0;
    s->left = s->limit;
    s->deadline = now_seconds() + s->seconds;
    s->active = 1;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, LPL_HOOK_EVERY);
}

int lpl_sandbox_disarm(lua_State *L, lpl_sandbox *s, int status, pl_err *err) {
    s->active = 0;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, LPL_HOOK_EVERY);
    if (status == LUA_OK) return PL_OK;
    const char *pre = s->law ? "law_" : "";
    if (s->hit == LPL_HIT_MEMORY)
        return pl_err_set(err, PL_ECALLBACK, "%s exceeded its memory limit (%s%s = %.0f bytes)",
                          s->what, pre, "memory", s->memory);
    if (s->hit == LPL_HIT_TIME)
        return pl_err_set(err, PL_ECALLBACK, "%s exceeded its time limit (%s%s = %g s)", s->what,
                          pre, s->law ? "timeout" : "seconds", s->seconds);
    if (s->hit == LPL_HIT_INSTR)
        return pl_err_set(err, PL_ECALLBACK, "%s exceeded its instruction limit (%s%s = %lld)",
                          s->what, pre, s->law ? "limit" : "instructions", (long long)s->limit);
    if (status == LUA_ERRMEM) return pl_err_set(err, PL_ECALLBACK, "%s: out of memory", s->what);
    return pl_err_set(err, PL_ECALLBACK, "%s", lua_type(L, -1) == LUA_TSTRING
                      ? lua_tostring(L, -1) : "user code failed");
}

int lpl_sandbox_pcall(lua_State *L, lpl_sandbox *s, int nargs, int nres, int msgh, pl_err *err) {
    lpl_sandbox_arm(L, s);
    int status = lua_pcall(L, nargs, nres, msgh);
    return lpl_sandbox_disarm(L, s, status, err);
}

/* ---------- force laws: their limits and their message handler ---------- */

void lpl_sandbox_law_options(lua_State *L, int t, const char *where, lpl_sandbox *s) {
    if (lua_getfield(L, t, "law_limit") != LUA_TNIL) {
        int ok;
        lua_Integer lim = lua_tointegerx(L, -1, &ok);
        if (!ok || lim <= 0)
            luaL_error(L, "%s: law_limit: expected a whole number of instructions > 0", where);
        s->limit = lim;
    }
    if (lua_getfield(L, t, "law_timeout") != LUA_TNIL) {
        double v = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || !(v > 0) || !isfinite(v))
            luaL_error(L, "%s: law_timeout: expected a number of seconds > 0", where);
        s->seconds = v;
    }
    if (lua_getfield(L, t, "law_memory") != LUA_TNIL) {
        double m = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || !(m >= 1) || !isfinite(m))
            luaL_error(L, "%s: law_memory: expected a number of bytes >= 1", where);
        s->memory = m;
    }
    lua_pop(L, 3);
}

int lpl_sandbox_law_msgh(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "force law raised a %s value", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* ---------- pl.sandbox_call ---------- */

static int opt_number(lua_State *L, int t, const char *key, double *out, double min) {
    if (lua_getfield(L, t, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    double v = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(v >= min) || !isfinite(v))
        return luaL_error(L, "pl.sandbox_call: %s: expected a number >= %g", key, min);
    *out = v;
    lua_pop(L, 1);
    return 1;
}

/* Message handler of pl.sandbox_call: any error value as text (a table's __tostring, else a
 * sentence naming its type); no traceback (the message is one line naming the user code). */
static int plain_msgh(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING) return 1;
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_pushfstring(L, "raised a %s value (error() with a %s; raise a message string instead)",
                    luaL_typename(L, 1), luaL_typename(L, 1));
    return 1;
}

static int l_sandbox_call(lua_State *L) {
    const char *what = luaL_checkstring(L, 1);
    static const char *const keys[] = {"instructions", "seconds", "memory", NULL};
    lpl_check_options(L, 2, "pl.sandbox_call", keys);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    lpl_sandbox s;
    lpl_sandbox_init(&s, what, 0);
    if (lua_istable(L, 2)) {
        double v;
        if (opt_number(L, 2, "instructions", &v, 1)) s.limit = (lua_Integer)v;
        opt_number(L, 2, "seconds", &s.seconds, 0);
        opt_number(L, 2, "memory", &s.memory, 1);
    }
    int nargs = lua_gettop(L) - 3;
    luaL_checkstack(L, nargs + 12, "pl.sandbox_call");
    lua_pushcfunction(L, plain_msgh);
    int h = lua_gettop(L);
    lpl_sandbox_enter(L, &s);                  /* 4 slots from s.saved */
    int base = lua_gettop(L);
    for (int i = 3; i <= 3 + nargs; i++) lua_pushvalue(L, i);
    pl_err err;
    if (lpl_sandbox_pcall(L, &s, nargs, LUA_MULTRET, h, &err)) {
        lpl_sandbox_leave(L, &s);              /* the stack back to the handler */
        size_t wl = strlen(what);
        if (strncmp(err.msg, what, wl) == 0) lua_pushstring(L, err.msg);
        else lua_pushfstring(L, "%s: %s", what, err.msg);
        return lua_error(L);
    }
    int nres = lua_gettop(L) - base;
    lua_rotate(L, s.saved, nres);              /* the results below the saved slots */
    s.saved += nres;
    lpl_sandbox_leave(L, &s);
    return nres;
}

/* ---------- pl.sandbox_env ---------- */

static int safe_getmetatable(lua_State *L) {
    luaL_checkany(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING || !lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");   /* pushed when present: it is the answer */
    return 1;
}

static void copy_table(lua_State *L, int from) {
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, from)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static int l_sandbox_env(lua_State *L) {
    static const char *const libs[] = {"string", "table", "math", "utf8", "os", "io",
                                       "coroutine", "debug", NULL};
    static const char *const dropped[] = {"debug.sethook", "debug.getregistry",
                                          "debug.setmetatable", "debug.getmetatable",
                                          "debug.setupvalue", "debug.upvaluejoin",
                                          "debug.setlocal", "debug.setuservalue", "os.exit",
                                          NULL};
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    copy_table(L, g);
    int env = lua_gettop(L);
    for (int i = 0; libs[i]; i++) {
        if (lua_getfield(L, g, libs[i]) == LUA_TTABLE) {
            copy_table(L, lua_gettop(L));
            lua_setfield(L, env, libs[i]);
        }
        lua_pop(L, 1);
    }
    for (int i = 0; dropped[i]; i++) {
        const char *dot = strchr(dropped[i], '.');
        lua_pushlstring(L, dropped[i], (size_t)(dot - dropped[i]));
        if (lua_rawget(L, env) == LUA_TTABLE) {
            lua_pushstring(L, dropped[i]);
            lua_pushstring(L, "a user file (force law, radius rule or combiner)");
            lua_pushcclosure(L, forbidden, 2);
            lua_setfield(L, -2, dot + 1);
        }
        lua_pop(L, 1);
    }
    lua_pushcfunction(L, safe_getmetatable);
    lua_setfield(L, env, "getmetatable");
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    return 1;
}

static const luaL_Reg funcs[] = {
    {"sandbox_call", l_sandbox_call}, {"sandbox_env", l_sandbox_env}, {NULL, NULL}};

void lpl_open_sandbox(lua_State *L) { luaL_setfuncs(L, funcs, 0); }

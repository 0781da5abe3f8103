/* llaw.c — force laws written in Lua: a law option (a function(d, ri, rj, p), {pair = f},
 * {system = f}, with declared params and law_params) turned into the core's pl_law, whose
 * pair or system callback calls the Lua function under the sandbox's limits
 * (bindings/lsandbox.c) with read-only copies of what it reads; every matrix lent to a call
 * expires after it. The law's contract is documented in lballs.c (the BallSystem's header). */
#include <math.h>
#include <string.h>

#include "llaw.h"
#include "lpedlab.h"
#include "ped_settings.h"

/* The protected part of one call: lend, call, read the result. Arguments: the context, the
 * law, p and the table where the lent matrices are kept (so they expire whatever happens). */
static int law_protected(lua_State *L) {
    lpl_law_ctx *c = lua_touserdata(L, 1);
    if (!c->system) {
        lua_pushvalue(L, 2);
        lua_pushnumber(L, c->d);
        lua_pushnumber(L, c->ri);
        lua_pushnumber(L, c->rj);
        lua_pushvalue(L, 3);
        lua_call(L, 4, 1);
        int ok;
        c->magnitude = lua_tonumberx(L, -1, &ok);
        if (!ok) c->bad = luaL_typename(L, -1);
        return 0;
    }
    /* whole-system: copies, read-only where the law only reads */
    lpl_lendmatrix(L, c->centres, c->C, c->D, 1);
    lua_rawseti(L, 4, 1);
    lpl_lendmatrix(L, c->radii, c->C, 1, 1);
    lua_rawseti(L, 4, 2);
    lpl_lendmatrix(L, c->forces, c->C, c->D, 0);
    lua_rawseti(L, 4, 3);
    lua_pushvalue(L, 2);
    for (int i = 1; i <= 3; i++) lua_rawgeti(L, 4, i);
    lua_pushvalue(L, 3);
    lua_call(L, 4, 0);
    lua_rawgeti(L, 4, 3);
    pl_mat *f = lpl_checkmatrix(L, -1);
    if (f->rows != c->C || f->cols != c->D) luaL_error(L, "force law closed its forces matrix");
    memcpy(c->forces, f->data, c->C * c->D * sizeof(double));
    return 0;
}

/* One call of the law under its limits; the message of a failure goes into err. Nothing
 * here allocates outside the protected call. */
static int call_law(lpl_law_ctx *c, pl_err *err) {
    lua_State *L = c->L;
    if (!lua_checkstack(L, 12)) return pl_err_set(err, PL_ECALLBACK, "Lua stack overflow");
    int base = lua_gettop(L);
    lua_pushcfunction(L, lpl_sandbox_law_msgh);
    lua_pushcfunction(L, law_protected);
    lua_pushlightuserdata(L, c);
    lua_pushvalue(L, c->fn);
    lua_pushvalue(L, c->params);
    lua_pushvalue(L, c->lent);
    c->bad = NULL;
    int rc = lpl_sandbox_pcall(L, &c->sb, 4, 0, base + 1, err);
    lua_settop(L, base);
    /* every matrix lent in this call, and every view of one, expires */
    for (int i = 1; i <= 3; i++) {
        if (lua_rawgeti(L, c->lent, i) == LUA_TUSERDATA) lpl_expirematrix(L, -1);
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, c->lent, i);
    }
    return rc;
}

static int pair_trampoline(void *ud, double d, double ri, double rj, double *mag, pl_err *err) {
    lpl_law_ctx *c = ud;
    c->d = d;
    c->ri = ri;
    c->rj = rj;
    if (call_law(c, err) < 0) return PL_ECALLBACK;
    if (c->bad)
        return pl_err_set(err, PL_ECALLBACK, "force law returned %s (d=%g, ri=%g, rj=%g); "
                          "expected a number", c->bad, d, ri, rj);
    if (!isfinite(c->magnitude))
        return pl_err_set(err, PL_ECALLBACK, "force law returned %g (d=%g, ri=%g, rj=%g); "
                          "expected a finite number", c->magnitude, d, ri, rj);
    *mag = c->magnitude;
    return PL_OK;
}

static int system_trampoline(void *ud, size_t C, size_t D, const double *centres,
                             const double *radii, double *forces, pl_err *err) {
    lpl_law_ctx *c = ud;
    c->C = C;
    c->D = D;
    c->centres = centres;
    c->radii = radii;
    c->forces = forces;
    return call_law(c, err);
}

/* ---------- force laws: options ---------- */

static int ro_newindex(lua_State *L) {
    return luaL_error(L, "force law parameters are read-only (p.%s)",
                      lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

static int ro_next(lua_State *L) {
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(p): the values behind the read-only proxy */
static int ro_pairs(lua_State *L) {
    lua_pushcfunction(L, ro_next);
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
    lua_pushnil(L);
    return 3;
}

/* The string keys of the table at t as "a, b, c" (pushed; in the table's order). */
static const char *key_list(lua_State *L, int t) {
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) continue;
        lua_pushfstring(L, "%s%s", n++ ? ", " : "", lua_tostring(L, -1));
        lua_insert(L, -2);   /* keep the key on top for lua_next */
    }
    lua_concat(L, n);
    return lua_tostring(L, -1);
}

static const char *const law_table_keys[] = {"pair", "system", "params", "name", "doc", NULL};

/* The law at lawidx, a function or a table law: pushes its function and, when the table
 * declares params, that table (its stack index in *declared, else 0); sets c->system. */
static void push_law_function(lua_State *L, int lawidx, const char *where, lpl_law_ctx *c,
                              int *declared) {
    int lt = lua_type(L, lawidx);
    *declared = 0;
    if (lt == LUA_TFUNCTION) {
        lua_pushvalue(L, lawidx);
        return;
    }
    if (lt != LUA_TTABLE) {
        const char *got = lt == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, lawidx))
                                            : luaL_typename(L, lawidx);
        luaL_error(L, "%s: law: expected nil, 'hooke', a function(d, ri, rj, p), {pair = f} or "
                   "{system = f}, got %s", where, got);
    }
    lpl_check_options(L, lawidx, "law", law_table_keys);
    int tp = lua_getfield(L, lawidx, "pair"), ts = lua_getfield(L, lawidx, "system");
    if ((tp == LUA_TFUNCTION) == (ts == LUA_TFUNCTION))
        luaL_error(L, "%s: law: a table law needs exactly one of pair = function(d, ri, rj, "
                   "p) and system = function(centres, radii, forces, p)", where);
    c->system = ts == LUA_TFUNCTION;
    if (c->system) lua_remove(L, -2);
    else lua_pop(L, 1);
    if (lua_getfield(L, lawidx, "params") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            luaL_error(L, "%s: law params: expected a table NAME = default", where);
        *declared = lua_gettop(L);
    } else {
        lua_pop(L, 1);
    }
}

/* law_params (the table at lpidx) over the declared defaults, into the table at vals. */
static void set_law_params(lua_State *L, int lpidx, int declared, int vals, const char *where) {
    lua_pushnil(L);
    while (lua_next(L, lpidx)) {
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (!name) luaL_error(L, "%s: law_params: keys must be parameter names", where);
        if (!strcmp(name, "k"))
            luaL_error(L, "%s: law_params: k is a PED setting: set it with k = ..., not in "
                       "law_params", where);
        if (!declared)
            luaL_error(L, "%s: law_params: '%s' given, but this force law declares no "
                       "parameters; declare params = {%s = ...} in the law", where, name, name);
        if (lua_getfield(L, declared, name) == LUA_TNIL)
            luaL_error(L, "%s: law_params: '%s' is not a parameter of this force law "
                       "(it declares: %s)", where, name, key_list(L, declared));
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: law_params: %s: expected a number, got %s", where, name,
                       luaL_typename(L, -1));
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, vals);
    }
}

/* Push the values of p: the declared defaults (table at declared, 0: none), law_params (table
 * at lpidx, 0: none) over them, k = the system's k (an error when k is not the default and
 * the law does not declare it). */
static int push_law_values(lua_State *L, int declared, int lpidx, double k, const char *where) {
    lua_newtable(L);
    int vals = lua_gettop(L);
    int declares_k = 0;
    if (declared) {
        lua_pushnil(L);
        while (lua_next(L, declared)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "%s: law params: expected NAME = number defaults", where);
            if (!strcmp(lua_tostring(L, -2), "k")) declares_k = 1;
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, vals);
        }
    }
    if (lpidx) set_law_params(L, lpidx, declared, vals, where);
    if (k != pl_ped_setting_default("k") && !declares_k) {
        char kbuf[32];
        snprintf(kbuf, sizeof kbuf, "%g", k);
        luaL_error(L, "%s: k = %s: k has no effect on this force law; declare params = {k = "
                   "...} in the law to use it", where, kbuf);
    }
    lua_pushnumber(L, k);
    lua_setfield(L, vals, "k");
    return vals;
}

/* Push p, an empty table whose reads go to the values at vals and whose writes raise. */
static void push_readonly(lua_State *L, int vals) {
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, vals);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* See llaw.h. */
const pl_law *lpl_opt_law(lua_State *L, int t, const char *where, double k, pl_law *law,
                          lpl_law_ctx *c) {
    memset(law, 0, sizeof *law);
    memset(c, 0, sizeof *c);
    c->L = L;
    lpl_sandbox_init(&c->sb, "force law", 1);
    if (t == 0) return NULL;
    lpl_sandbox_law_options(L, t, where, &c->sb);
    int lt = lua_getfield(L, t, "law");
    int lawidx = lua_gettop(L);
    int has_params = lua_getfield(L, t, "law_params") != LUA_TNIL;
    int lpidx = lua_gettop(L);
    if (has_params && !lua_istable(L, lpidx))
        luaL_error(L, "%s: law_params: expected a table NAME = number", where);
    if (lt == LUA_TNIL || (lt == LUA_TSTRING && !strcmp(lua_tostring(L, lawidx), "hooke"))) {
        if (has_params && (lua_pushnil(L), lua_next(L, lpidx)))
            luaL_error(L, "%s: law_params: the built-in Hooke law has no parameters (its "
                       "constant is the setting k)", where);
        lua_settop(L, lawidx - 1);
        return NULL;
    }
    int declared;
    push_law_function(L, lawidx, where, c, &declared);
    c->fn = declared ? declared - 1 : lua_gettop(L);
    int vals = push_law_values(L, declared, has_params ? lpidx : 0, k, where);
    push_readonly(L, vals);
    c->params = lua_gettop(L);
    lua_createtable(L, 3, 0);
    c->lent = lua_gettop(L);
    law->kind = c->system ? PL_LAW_SYSTEM : PL_LAW_PAIR;
    law->pair = c->system ? NULL : pair_trampoline;
    law->system = c->system ? system_trampoline : NULL;
    law->ud = c;
    return law;
}

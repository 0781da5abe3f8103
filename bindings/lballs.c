/* lballs.c — the BallSystem userdata (PED's class balls, steps and simulation) and PED's one
 * pipeline (pl.ped_run) and settings table (pl.ped_settings); the law option's Lua side is
 * bindings/llaw.c.
 *
 *   local sys = pl.balls(ds, {radius = 0.6, k = 1, eps = 1e-3, mass = "unit"|"count",
 *                             standardise = false, ref = PATH|Matrix|Dataset})
 *   sys:step{dt = 0.1, law = L, ...} or sys:step(dt)   → change (Σ|move|, rescaled space)
 *   sys:simulate{dt = 0.1, exit_ratio = 0.5, max_steps = 6, law = L, ...}  → run record
 *   sys:reset()                                          → sys, back to its initial centres
 *   sys.centres, sys.radii, sys.masses, sys.scale, sys.offset, sys.k, sys.steps,
 *   sys:shift(), sys:energy(), sys:overlaps()
 *   local moved, run, sys = pl.ped_run(ds, {SETTINGS..., ref, law, law_params, needs, ...})
 *
 * Run record: steps, shift (this run's, C×D, original units), changes, energies, energy0 (of
 * this run), total_steps and total_shift (the system's since it was built or reset).
 *
 * A law is nil/"hooke" (built in, uses k), a function(d, ri, rj, p) → magnitude (one call
 * per overlapping pair), {pair = f}, or {system = function(centres, radii, forces, p)}
 * filling the C×D forces in one call; a table law may declare the parameters it reads,
 * params = {k = 1, alpha = 0.5}. p is read-only: p.k is the system's k, the others the
 * declared defaults overridden by law_params. law_params naming an undeclared parameter, or
 * a k other than the default with a law that does not declare k, is an error.
 * Centres and radii are lent as read-only copies and every matrix lent to a law (and any
 * view of one) expires after the call. A law runs in the sandbox of bindings/lsandbox.c, with
 * an instruction limit, a time limit and a memory limit per call (law_limit, law_timeout and
 * law_memory; defaults LPL_LAW_* in lsandbox.h); os.exit raises inside it. A failing law stops
 * the step with its message; the system stays as before. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metric.h"
#include "ped.h"
#include "linit.h"
#include "lpedlab.h"
#include "llaw.h"
#include "lsandbox.h"

typedef struct {
    pl_balls b;
    int ready;
} lpl_balls;

static lpl_balls *checkballs(lua_State *L, int idx) {
    lpl_balls *u = luaL_checkudata(L, idx, LPL_BALLS);
    if (!u->ready) luaL_argerror(L, idx, "ball system was closed");
    return u;
}

/* ---------- options ---------- */

#define LAW_KEYS "law", "law_params", "law_limit", "law_timeout", "law_memory"
static const char *const balls_keys[] = {"radius", "k", "eps", "mass", "standardise", "ref",
                                         NULL};
static const char *const step_keys[] = {"dt", LAW_KEYS, NULL};
static const char *const sim_keys[] = {"dt", "exit_ratio", "max_steps", LAW_KEYS, NULL};
static const char *const run_keys[] = {"radius", "k", "eps", "mass", "standardise", "dt",
                                       "exit_ratio", "max_steps", "ref", "needs", LAW_KEYS,
                                       NULL};

/* A value checked against the settings table, or a raise naming where and the option. */
static void check_value(lua_State *L, const char *where, const char *name, double v) {
    pl_err err;
    if (pl_ped_setting_check(name, v, &err) < 0) luaL_error(L, "%s: %s", where, err.msg);
}

/* pl.ped_check(name, number) → true, or nil and what was expected ("expected a whole number in
 * [0, 10000]"): the core's one range check, for the Lua layer's messages (choices and
 * booleans arrive as their index / 0 or 1). */
static int l_ped_check(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    double v = luaL_checknumber(L, 2);
    pl_err err;
    if (pl_ped_setting_check(name, v, &err) == PL_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    const char *exp = strstr(err.msg, ": expected ");
    luaL_pushfail(L);
    lua_pushstring(L, exp ? exp + 2 : err.msg);
    return 2;
}

/* Setting name of the options table at t into *v (left alone when absent). */
static void opt_setting(lua_State *L, int t, const char *where, const char *name, double *v) {
    const pl_ped_setting *s = pl_ped_setting_find(name);
    int type = lua_getfield(L, t, name);
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (s->kind == PL_SET_BOOL) {
        if (type != LUA_TBOOLEAN)
            luaL_error(L, "%s: %s: expected true or false, got %s", where, name,
                       luaL_typename(L, -1));
        *v = lua_toboolean(L, -1);
    } else if (s->kind == PL_SET_CHOICE) {
        const char *c = lua_tostring(L, -1);
        int found = -1;
        for (int i = 0; type == LUA_TSTRING && s->choices[i]; i++)
            if (!strcmp(c, s->choices[i])) found = i;
        if (found < 0 && type == LUA_TSTRING && !strcmp(name, "mass") && !strcmp(c, "one"))
            found = PL_BALLS_MASS_ONE;
        if (found < 0) {
            char list[256];
            pl_join(list, sizeof list, s->choices, " or ", "'");
            const char *shown = luaL_tolstring(L, -1, NULL);
            luaL_error(L, "%s: %s = %s: expected %s", where, name, shown, list);
        }
        *v = found;
    } else {
        if (type != LUA_TNUMBER)
            luaL_error(L, "%s: %s: expected a number, got %s", where, name, luaL_typename(L, -1));
        *v = lua_tonumber(L, -1);
        check_value(L, where, name, *v);
    }
    lua_pop(L, 1);
}

static void opt_balls(lua_State *L, int t, const char *where, pl_balls_opts *o) {
    double mass = o->mass_mode, std = o->scale_mode;
    opt_setting(L, t, where, "radius", &o->radius);
    opt_setting(L, t, where, "k", &o->k);
    opt_setting(L, t, where, "eps", &o->eps);
    opt_setting(L, t, where, "mass", &mass);
    opt_setting(L, t, where, "standardise", &std);
    o->mass_mode = (int)mass;
    o->scale_mode = std != 0 ? PL_BALLS_SCALE_SELF : PL_BALLS_SCALE_NONE;
}

static void opt_sim(lua_State *L, int t, const char *where, pl_sim_opts *o) {
    double ms = o->max_steps;
    opt_setting(L, t, where, "dt", &o->dt);
    opt_setting(L, t, where, "exit_ratio", &o->exit_ratio);
    opt_setting(L, t, where, "max_steps", &ms);
    o->max_steps = (int)ms;
}

static void release_source(void *p) { pl_source_release(p); }

/* The ref option of the table at t as a retained source (NULL when absent), guarded on the
 * stack; *slot is the guard's slot. */
static pl_source *opt_ref(lua_State *L, int t, const char *where, void ***slot) {
    pl_source *ref = NULL;
    pl_err err;
    int type = lua_getfield(L, t, "ref");
    if (type == LUA_TSTRING) {
        if (pl_source_open_array(lua_tostring(L, -1), &ref, &err)) lpl_raise(L, &err);
    } else if (type == LUA_TUSERDATA && luaL_testudata(L, -1, LPL_MATRIX)) {
        if (pl_source_from_mat(lpl_checkmatrix(L, -1), "ref", &ref, &err)) lpl_raise(L, &err);
    } else if (type == LUA_TUSERDATA && luaL_testudata(L, -1, LPL_DATASET)) {
        ref = pl_data_source(lpl_checkdata(L, -1));
        pl_source_retain(ref);
    } else if (type != LUA_TNIL) {
        luaL_error(L, "%s: ref: expected a path, a Matrix or a Dataset, got %s", where,
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    *slot = lpl_guard(L, ref, release_source);
    return ref;
}

/* ---------- pl.balls ---------- */

static int l_balls(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    pl_balls_opts o = pl_balls_opts_default();
    pl_err err;
    void **g = NULL;
    lpl_check_options(L, 2, "pl.balls", balls_keys);
    int t = lua_istable(L, 2) ? 2 : 0;
    if (t) opt_balls(L, t, "pl.balls", &o);
    pl_source *ref = t ? opt_ref(L, t, "pl.balls", &g) : NULL;
    lpl_balls *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, LPL_BALLS);
    int rc = ref ? pl_balls_init_ref(&u->b, d, ref, &o, &err)
                 : pl_balls_init(&u->b, d, NULL, NULL, &o, &err);
    if (ref) *g = NULL;
    pl_source_release(ref);
    if (rc) return lpl_raise(L, &err);
    u->ready = 1;
    return 1;
}

/* ---------- steps and runs ---------- */

static void push_array(lua_State *L, const double *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_seti(L, -2, i + 1);
    }
}

static void push_run(lua_State *L, const pl_sim_result *r) {
    lua_createtable(L, 0, 7);
    pl_mat *s = lpl_newmatrix(L, r->C, r->D);
    memcpy(s->data, r->shift, r->C * r->D * sizeof(double));
    lua_setfield(L, -2, "shift");
    s = lpl_newmatrix(L, r->C, r->D);
    memcpy(s->data, r->total_shift, r->C * r->D * sizeof(double));
    lua_setfield(L, -2, "total_shift");
    lua_pushinteger(L, r->steps);
    lua_setfield(L, -2, "steps");
    lua_pushinteger(L, (lua_Integer)r->total_steps);
    lua_setfield(L, -2, "total_steps");
    push_array(L, r->changes, r->computed);
    lua_setfield(L, -2, "changes");
    push_array(L, r->energies, r->computed);
    lua_setfield(L, -2, "energies");
    lua_pushnumber(L, r->energy0);
    lua_setfield(L, -2, "energy0");
}

static void release_result(void *p) {
    pl_sim_result_release(p);
    free(p);
}

static pl_sim_result *new_result(lua_State *L) {
    pl_sim_result *r = calloc(1, sizeof *r);
    if (!r) luaL_error(L, "out of memory");
    lpl_guard(L, r, release_result);
    return r;
}

static int b_step(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    double dt = pl_sim_opts_default().dt;
    int t = 0;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        dt = lua_tonumber(L, 2);
        check_value(L, "sys:step", "dt", dt);
    } else if (!lua_isnoneornil(L, 2)) {
        lpl_check_options(L, 2, "sys:step", step_keys);
        t = 2;
        opt_setting(L, t, "sys:step", "dt", &dt);
    }
    pl_law law;
    lpl_law_ctx ctx;
    const pl_law *lp = lpl_opt_law(L, t, "sys:step", u->b.k, &law, &ctx);
    double change;
    pl_err err;
    if (lp) lpl_sandbox_enter(L, &ctx.sb);
    int rc = pl_balls_step(&u->b, dt, lp, &change, &err);
    if (lp) lpl_sandbox_leave(L, &ctx.sb);
    if (rc) return lpl_raise(L, &err);
    lua_pushnumber(L, change);
    return 1;
}

static int b_simulate(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    pl_sim_opts o = pl_sim_opts_default();
    lpl_check_options(L, 2, "sys:simulate", sim_keys);
    int t = lua_istable(L, 2) ? 2 : 0;
    if (t) opt_sim(L, t, "sys:simulate", &o);
    pl_law law;
    lpl_law_ctx ctx;
    const pl_law *lp = lpl_opt_law(L, t, "sys:simulate", u->b.k, &law, &ctx);
    pl_sim_result *r = new_result(L);
    pl_err err;
    if (lp) lpl_sandbox_enter(L, &ctx.sb);
    int rc = pl_balls_simulate(&u->b, &o, lp, r, &err);
    if (lp) lpl_sandbox_leave(L, &ctx.sb);
    if (rc) return lpl_raise(L, &err);
    push_run(L, r);
    return 1;
}

static int b_reset(lua_State *L) {
    pl_balls_reset(&checkballs(L, 1)->b);
    lua_settop(L, 1);
    return 1;
}

/* ---------- pl.ped_run ---------- */

/* The needs option: an array of metric names (or {name = ...} specs) → PL_NEED_* flags. */
static unsigned opt_needs(lua_State *L, int t, const char *where) {
    unsigned needs = 0;
    int type = lua_getfield(L, t, "needs");
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (type != LUA_TTABLE) luaL_error(L, "%s: needs: expected an array of metric names", where);
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, -1, i) == LUA_TTABLE) {
            lua_getfield(L, -1, "name");
            lua_remove(L, -2);
        }
        const char *name = lua_tostring(L, -1);
        const pl_metric *m = name ? pl_metric_find(name) : NULL;
        if (!m)
            luaL_error(L, "%s: needs: unknown metric '%s'", where, name ? name : "?");
        needs |= m->needs;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return needs;
}

static void release_data(void *p) { pl_data_release(p); }

static int l_ped_run(lua_State *L) {
    static const char *where = "pl.ped_run";
    pl_data *d = lpl_checkdata(L, 1);
    pl_ped_opts o = pl_ped_opts_default();
    void **refslot;
    lpl_check_options(L, 2, where, run_keys);
    int t = lua_istable(L, 2) ? 2 : 0;
    if (t) {
        opt_balls(L, t, where, &o.balls);
        opt_sim(L, t, where, &o.sim);
    }
    unsigned needs = t ? opt_needs(L, t, where) : 0;
    pl_source *ref = t ? opt_ref(L, t, where, &refslot) : NULL;
    pl_law law;
    lpl_law_ctx ctx;
    const pl_law *lp = lpl_opt_law(L, t, where, o.balls.k, &law, &ctx);
    pl_sim_result *r = new_result(L);
    lpl_balls *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, LPL_BALLS);
    int sysidx = lua_gettop(L);
    void **movedslot = lpl_guard(L, NULL, release_data);
    pl_data *moved = NULL;
    pl_err err;
    if (lp) lpl_sandbox_enter(L, &ctx.sb);
    int rc = pl_ped_run(d, ref, &o, needs, lp, &moved, r, &u->b, &err);
    if (lp) lpl_sandbox_leave(L, &ctx.sb);
    if (ref) *refslot = NULL;
    pl_source_release(ref);
    if (rc) return lpl_raise(L, &err);
    u->ready = 1;
    *movedslot = moved;
    lpl_pushdata(L, moved);
    *movedslot = NULL;
    push_run(L, r);
    lua_pushvalue(L, sysidx);
    return 3;
}

/* pl.ped_settings() → array of {name, kind, default, min, max, min_open, choices, doc} */
static int l_ped_settings(lua_State *L) {
    static const char *const kinds[] = {"number", "integer", "choice", "boolean"};
    size_t n;
    const pl_ped_setting *s = pl_ped_settings(&n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 8);
        lua_pushstring(L, s[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, kinds[s[i].kind]);
        lua_setfield(L, -2, "kind");
        if (s[i].kind == PL_SET_CHOICE) {
            lua_pushstring(L, s[i].choices[(int)s[i].def]);
            lua_setfield(L, -2, "default");
            lpl_pushstrings(L, s[i].choices);
            lua_setfield(L, -2, "choices");
        } else if (s[i].kind == PL_SET_BOOL) {
            lua_pushboolean(L, s[i].def != 0);
            lua_setfield(L, -2, "default");
        } else {
            if (s[i].kind == PL_SET_INT) lua_pushinteger(L, (lua_Integer)s[i].def);
            else lua_pushnumber(L, s[i].def);
            lua_setfield(L, -2, "default");
            if (!isnan(s[i].min)) {
                if (s[i].kind == PL_SET_INT) lua_pushinteger(L, (lua_Integer)s[i].min);
                else lua_pushnumber(L, s[i].min);
                lua_setfield(L, -2, "min");
            }
            if (!isnan(s[i].max)) {
                if (s[i].kind == PL_SET_INT) lua_pushinteger(L, (lua_Integer)s[i].max);
                else lua_pushnumber(L, s[i].max);
                lua_setfield(L, -2, "max");
            }
            lua_pushboolean(L, s[i].min_open);
            lua_setfield(L, -2, "min_open");
        }
        lua_pushstring(L, s[i].doc);
        lua_setfield(L, -2, "doc");
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ---------- the rest of the BallSystem ---------- */

static int b_energy(lua_State *L) {
    lua_pushnumber(L, pl_balls_energy(&checkballs(L, 1)->b));
    return 1;
}

static int b_overlaps(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    pl_mat *m = lpl_newmatrix(L, u->b.C, u->b.C);
    pl_balls_overlaps(&u->b, m->data);
    return 1;
}

static int b_shift(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    pl_mat *m = lpl_newmatrix(L, u->b.C, u->b.D);
    pl_balls_shift_orig(&u->b, m->data);
    return 1;
}

static int b_gc(lua_State *L) {
    lpl_balls *u = luaL_checkudata(L, 1, LPL_BALLS);
    pl_balls_release(&u->b);   /* idempotent; zeroed when a run failed */
    u->ready = 0;
    return 0;
}

static int b_tostring(lua_State *L) {
    lpl_balls *u = luaL_checkudata(L, 1, LPL_BALLS);
    if (!u->ready) lua_pushliteral(L, "BallSystem (closed)");
    else lua_pushfstring(L, "BallSystem: %d classes in %d dimensions, %d steps, energy %f",
                         (int)u->b.C, (int)u->b.D, (int)u->b.steps, pl_balls_energy(&u->b));
    return 1;
}

static void copy_out(lua_State *L, const double *v, size_t r, size_t c) {
    pl_mat *m = lpl_newmatrix(L, r, c);
    memcpy(m->data, v, r * c * sizeof(double));
}

static const luaL_Reg methods[] = {
    {"step", b_step}, {"simulate", b_simulate}, {"reset", b_reset}, {"energy", b_energy},
    {"overlaps", b_overlaps}, {"shift", b_shift}, {"close", b_gc}, {NULL, NULL}};

static int b_index(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    const char *k = luaL_checkstring(L, 2);
    pl_balls *b = &u->b;
    if (!strcmp(k, "centres") || !strcmp(k, "centers")) copy_out(L, b->centre, b->C, b->D);
    else if (!strcmp(k, "radii")) copy_out(L, b->radius, b->C, 1);
    else if (!strcmp(k, "masses")) copy_out(L, b->mass, b->C, 1);
    else if (!strcmp(k, "scale")) copy_out(L, b->scale, 1, b->D);
    else if (!strcmp(k, "offset")) copy_out(L, b->offset, 1, b->D);
    else if (!strcmp(k, "classes")) lua_pushinteger(L, (lua_Integer)b->C);
    else if (!strcmp(k, "dim")) lua_pushinteger(L, (lua_Integer)b->D);
    else if (!strcmp(k, "steps")) lua_pushinteger(L, (lua_Integer)b->steps);
    else if (!strcmp(k, "k")) lua_pushnumber(L, b->k);
    else {
        luaL_getmetafield(L, 1, "__methods");
        lua_getfield(L, -1, k);
    }
    return 1;
}

static const luaL_Reg meta[] = {
    {"__index", b_index}, {"__gc", b_gc}, {"__close", b_gc}, {"__tostring", b_tostring},
    {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"balls", l_balls}, {"ped_run", l_ped_run}, {"ped_settings", l_ped_settings},
    {"ped_check", l_ped_check},
    {NULL, NULL}};

void lpl_open_balls(lua_State *L) {
    if (luaL_newmetatable(L, LPL_BALLS)) {
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}

/* lballs.c — the BallSystem userdata: PED's class balls, steps and simulation, with force laws
 * written in Lua.
 *
 *   local sys = pl.balls(ds, {radius = 0.6, ref = REF, k = 1, eps = 1e-3, mass = "unit"|"count",
 *                             standardise = false})
 *   sys:step{dt = 0.1, law = L}                → change (Σ|move| in the rescaled space)
 *   sys:simulate{dt = 0.1, exit_ratio = 0.5, max_steps = 6, law = L}
 *                                              → {shift = C×D Matrix, steps, changes, energies, energy0}
 *   sys.centres, sys.radii, sys.masses, sys.scale, sys.offset, sys:shift(), sys:energy(), sys:overlaps()
 *
 * A law is nil/"hooke" (built in), a function(d, ri, rj) → magnitude (one call per overlapping
 * pair), or {system = function(centres, radii, forces) ... end} filling the C×D forces Matrix in
 * one call. A law runs under lua_pcall with a traceback, an instruction limit (law_limit,
 * default 1e8 instructions per call) and a time limit (law_timeout, default 10 s per call): an
 * error, a nil or NaN result, or a runaway law stops the step with its message, and the system
 * stays as it was before the step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balls.h"
#include "lpedlab.h"

typedef struct {
    pl_balls b;
    int ready;
} lpl_balls;

static lpl_balls *checkballs(lua_State *L, int idx) {
    lpl_balls *u = luaL_checkudata(L, idx, LPL_BALLS);
    if (!u->ready) luaL_argerror(L, idx, "ball system was closed");
    return u;
}

static double optnum(lua_State *L, int t, const char *k, double def) {
    double v = def;
    if (lua_getfield(L, t, k) != LUA_TNIL) {
        int ok;
        v = lua_tonumberx(L, -1, &ok);
        if (!ok || !isfinite(v)) luaL_error(L, "option '%s' must be a finite number", k);
    }
    lua_pop(L, 1);
    return v;
}

static void release_source(void *p) { pl_source_release(p); }

/* pl.balls(ds [, opts]) */
static int l_balls(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    pl_balls_opts o = pl_balls_opts_default();
    pl_source *ref = NULL;
    pl_err err;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        o.radius = optnum(L, 2, "radius", o.radius);
        o.k = optnum(L, 2, "k", o.k);
        o.eps = optnum(L, 2, "eps", o.eps);
        if (lua_getfield(L, 2, "mass") != LUA_TNIL) {
            const char *m = luaL_checkstring(L, -1);
            if (!strcmp(m, "count")) o.mass_mode = PL_BALLS_MASS_COUNT;
            else if (!strcmp(m, "unit") || !strcmp(m, "one")) o.mass_mode = PL_BALLS_MASS_ONE;
            else return luaL_error(L, "option mass='%s': expected 'unit' or 'count'", m);
        }
        lua_pop(L, 1);
        lua_getfield(L, 2, "standardise");
        if (lua_toboolean(L, -1)) o.scale_mode = PL_BALLS_SCALE_SELF;
        lua_pop(L, 1);
        int t = lua_getfield(L, 2, "ref");
        if (t == LUA_TSTRING) {
            if (pl_source_open_npy(lua_tostring(L, -1), &ref, &err)) return lpl_raise(L, &err);
        } else if (t == LUA_TUSERDATA && lpl_testmatrix(L, -1)) {
            if (pl_source_from_mat(lpl_testmatrix(L, -1), "ref", &ref, &err)) return lpl_raise(L, &err);
        } else if (t == LUA_TUSERDATA && luaL_testudata(L, -1, LPL_DATASET)) {
            ref = pl_data_source(lpl_checkdata(L, -1));
            pl_source_retain(ref);
        } else if (t != LUA_TNIL) {
            return luaL_error(L, "option ref: expected a path, a Matrix or a Dataset");
        }
        lua_pop(L, 1);
    }
    void **g = lpl_guard(L, ref, release_source);
    lpl_balls *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, LPL_BALLS);
    int rc = ref ? pl_balls_init_ref(&u->b, d, ref, &o, &err) : pl_balls_init(&u->b, d, NULL, NULL, &o, &err);
    pl_source_release(ref);
    *g = NULL;
    if (rc) return lpl_raise(L, &err);
    u->ready = 1;
    return 1;
}

/* ---------- Lua force laws ---------- */
typedef struct {
    lua_State *L;
    int fn;            /* stack index of the Lua function */
    lua_Integer limit; /* instruction budget per call */
    double seconds;    /* wall-clock budget per call (a law may spend its time in C calls) */
} law_ctx;

static int traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

static lua_Integer budget_left;
static double budget_deadline;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    budget_left -= 1000;
    if (budget_left <= 0) luaL_error(L, "force law exceeded its instruction limit (law_limit)");
    if (now_seconds() > budget_deadline) luaL_error(L, "force law exceeded its time limit (law_timeout)");
}

/* Call the function at ctx->fn with nargs arguments already pushed; 1 result. */
static int call_law(law_ctx *ctx, int nargs, pl_err *err) {
    lua_State *L = ctx->L;
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, traceback);
    lua_pushvalue(L, ctx->fn);
    lua_rotate(L, base + 1, 2); /* traceback, fn, args... */
    budget_left = ctx->limit;
    budget_deadline = now_seconds() + ctx->seconds;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1000);
    int st = lua_pcall(L, nargs, 1, base + 1);
    lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base + 1);
    if (st != LUA_OK) {
        pl_err_set(err, PL_ECALLBACK, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "force law failed");
        lua_pop(L, 1);
        return PL_ECALLBACK;
    }
    return PL_OK;
}

static int pair_trampoline(void *ud, double d, double ri, double rj, double *mag, pl_err *err) {
    law_ctx *ctx = ud;
    lua_State *L = ctx->L;
    if (!lua_checkstack(L, 6)) return pl_err_set(err, PL_ECALLBACK, "Lua stack overflow");
    lua_pushnumber(L, d);
    lua_pushnumber(L, ri);
    lua_pushnumber(L, rj);
    if (call_law(ctx, 3, err)) return PL_ECALLBACK;
    int ok;
    double v = lua_tonumberx(L, -1, &ok);
    int t = lua_type(L, -1);
    lua_pop(L, 1);
    if (!ok)
        return pl_err_set(err, PL_ECALLBACK, "force law returned %s (d=%g, ri=%g, rj=%g); expected a number",
                          lua_typename(L, t), d, ri, rj);
    if (!isfinite(v))
        return pl_err_set(err, PL_ECALLBACK, "force law returned %g (d=%g, ri=%g, rj=%g); expected a finite number",
                          v, d, ri, rj);
    *mag = v;
    return PL_OK;
}

/* A Matrix that borrows C memory for the duration of one call; closed afterwards. */
static lpl_matrix *lend(lua_State *L, double *data, size_t r, size_t c) {
    lpl_matrix *m = lua_newuserdatauv(L, sizeof *m, 1);
    memset(m, 0, sizeof *m);
    luaL_setmetatable(L, LPL_MATRIX);
    m->m = pl_mat_wrap(data, r, c);
    return m;
}

static int system_trampoline(void *ud, size_t C, size_t D, const double *centres,
                             const double *radii, double *forces, pl_err *err) {
    law_ctx *ctx = ud;
    lua_State *L = ctx->L;
    if (!lua_checkstack(L, 8)) return pl_err_set(err, PL_ECALLBACK, "Lua stack overflow");
    lpl_matrix *mc = lend(L, (double *)centres, C, D);
    lpl_matrix *mr = lend(L, (double *)radii, C, 1);
    lpl_matrix *mf = lend(L, forces, C, D);
    /* the centres and radii are read-only for the law: hand it copies' worth of safety by
     * lending them; pl_balls copies nothing back from them */
    int rc = call_law(ctx, 3, err);
    if (rc == PL_OK) lua_pop(L, 1);
    mc->m.data = mr->m.data = mf->m.data = NULL; /* a law that keeps them gets closed matrices */
    mc->m.rows = mr->m.rows = mf->m.rows = 1;
    return rc;
}

/* Resolve the law option of the table at idx into law/ctx; may push the function. */
static const pl_law *get_law(lua_State *L, int idx, pl_law *law, law_ctx *ctx) {
    memset(law, 0, sizeof *law);
    ctx->L = L;
    ctx->limit = 100000000;
    ctx->seconds = 10.0;
    if (lua_isnoneornil(L, idx)) return NULL;
    lua_Integer lim = 0;
    if (lua_getfield(L, idx, "law_limit") != LUA_TNIL) lim = luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (lim > 0) ctx->limit = lim;
    if (lua_getfield(L, idx, "law_timeout") != LUA_TNIL) {
        double t = luaL_checknumber(L, -1);
        if (!(t > 0)) luaL_error(L, "option law_timeout must be > 0 seconds");
        ctx->seconds = t;
    }
    lua_pop(L, 1);
    int t = lua_getfield(L, idx, "law");
    if (t == LUA_TNIL || (t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "hooke"))) {
        lua_pop(L, 1);
        return NULL;
    }
    if (t == LUA_TFUNCTION) {
        ctx->fn = lua_gettop(L);
        law->kind = PL_LAW_PAIR;
        law->pair = pair_trampoline;
        law->ud = ctx;
        return law;
    }
    if (t == LUA_TTABLE) {
        if (lua_getfield(L, -1, "system") == LUA_TFUNCTION) {
            ctx->fn = lua_gettop(L);
            law->kind = PL_LAW_SYSTEM;
            law->system = system_trampoline;
            law->ud = ctx;
            return law;
        }
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "pair") == LUA_TFUNCTION) {
            ctx->fn = lua_gettop(L);
            law->kind = PL_LAW_PAIR;
            law->pair = pair_trampoline;
            law->ud = ctx;
            return law;
        }
    }
    luaL_error(L, "law: expected 'hooke', a function(d, ri, rj) or {system = function(centres, radii, forces)}");
    return NULL;
}

static int b_step(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    double dt = 0.1;
    if (lua_istable(L, 2)) dt = optnum(L, 2, "dt", dt);
    else if (!lua_isnoneornil(L, 2)) dt = luaL_checknumber(L, 2);
    pl_law law;
    law_ctx ctx;
    const pl_law *lp = get_law(L, lua_istable(L, 2) ? 2 : 0, &law, &ctx);
    double change;
    pl_err err;
    if (pl_balls_step(&u->b, dt, lp, &change, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, change);
    return 1;
}

static void push_array(lua_State *L, const double *v, int n) {
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_seti(L, -2, i + 1);
    }
}

static void release_result(void *p) {
    pl_sim_result_release(p);
    free(p);
}

static int b_simulate(lua_State *L) {
    lpl_balls *u = checkballs(L, 1);
    pl_sim_opts o = pl_sim_opts_default();
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        o.dt = optnum(L, 2, "dt", o.dt);
        o.exit_ratio = optnum(L, 2, "exit_ratio", o.exit_ratio);
        double ms = optnum(L, 2, "max_steps", o.max_steps);
        if (ms < 0 || ms != floor(ms) || ms > 1e6) return luaL_error(L, "option max_steps must be a whole number >= 0");
        o.max_steps = (int)ms;
    }
    pl_law law;
    law_ctx ctx;
    const pl_law *lp = get_law(L, lua_istable(L, 2) ? 2 : 0, &law, &ctx);
    pl_sim_result *r = calloc(1, sizeof *r);
    if (!r) return luaL_error(L, "out of memory");
    lpl_guard(L, r, release_result);
    pl_err err;
    if (pl_balls_simulate(&u->b, &o, lp, r, &err)) return lpl_raise(L, &err);
    lua_newtable(L);
    pl_mat *s = lpl_newmatrix(L, r->C, r->D);
    memcpy(s->data, r->shift, r->C * r->D * sizeof(double));
    lua_setfield(L, -2, "shift");
    lua_pushinteger(L, r->steps);
    lua_setfield(L, -2, "steps");
    push_array(L, r->changes, r->computed);
    lua_setfield(L, -2, "changes");
    push_array(L, r->energies, r->computed);
    lua_setfield(L, -2, "energies");
    lua_pushnumber(L, r->energy0);
    lua_setfield(L, -2, "energy0");
    return 1;
}

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
    if (u->ready) pl_balls_release(&u->b);
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
    {"step", b_step}, {"simulate", b_simulate}, {"energy", b_energy}, {"overlaps", b_overlaps},
    {"shift", b_shift}, {"close", b_gc}, {NULL, NULL}};

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
    else {
        luaL_getmetafield(L, 1, "__methods");
        lua_getfield(L, -1, k);
    }
    return 1;
}

void lpl_open_balls(lua_State *L) {
    if (luaL_newmetatable(L, LPL_BALLS)) {
        lua_pushcfunction(L, b_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, b_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, b_gc);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, b_tostring);
        lua_setfield(L, -2, "__tostring");
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_balls);
    lua_setfield(L, -2, "balls");
}

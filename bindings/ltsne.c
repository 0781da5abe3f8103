/* ltsne.c — pl.tsne(m_or_ds [, opts]) → N×2 Matrix, info; pl.pca_embedding(m_or_ds [, opts])
 * → N×2 Matrix (two principal scores); pl.trustworthiness(x, y [, k]).
 *
 * opts (checked against the known keys): perplexity (30), early_exaggeration (12),
 * learning_rate ("auto" or a number > 0), max_iter (1000), exaggeration_iter (250, at most
 * max_iter when not given),
 * theta (0.5), method ("barnes_hut" | "exact"), init ("pca" | "random"), seed (0), rows (an
 * array of 1-based row numbers: embed only those, in that order; pl.pca_embedding takes only
 * this option).
 * info = {kl, iterations, neighbours, learning_rate} (core/tsne.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linit.h"
#include "lpedlab.h"
#include "tsne.h"

static void free_ptr(void *p) { free(p); }

static const char *const tsne_keys[] = {"perplexity", "early_exaggeration", "learning_rate",
                                        "max_iter", "exaggeration_iter", "theta", "method",
                                        "init", "seed", "rows", NULL};
static const char *const pca_keys[] = {"rows", NULL};

static double opt_number(lua_State *L, int t, const char *key, double def) {
    double v = def;
    if (lua_getfield(L, t, key) != LUA_TNIL) {
        int ok;
        v = lua_tonumberx(L, -1, &ok);
        if (!ok || lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "pl.tsne: option %s must be a number, got a %s", key,
                       luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return v;
}

static lua_Integer opt_int(lua_State *L, int t, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi) {
    lua_Integer v = def;
    if (lua_getfield(L, t, key) != LUA_TNIL) {
        int ok;
        v = lua_tointegerx(L, -1, &ok);
        if (!ok || lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "pl.tsne: option %s must be a whole number, got %s", key,
                       luaL_tolstring(L, -1, NULL));
        if (v < lo || v > hi)
            luaL_error(L, "pl.tsne: option %s = %I: expected %I..%I", key, v, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

/* A string option among choices (NULL-terminated); returns its index, def when absent. */
static int opt_choice(lua_State *L, int t, const char *key, const char *const *choices,
                      int def) {
    int r = def;
    if (lua_getfield(L, t, key) != LUA_TNIL) {
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        r = -1;
        for (int i = 0; s && choices[i]; i++)
            if (!strcmp(s, choices[i])) r = i;
        if (r < 0)
            luaL_error(L, "pl.tsne: option %s = %s: expected %s or %s", key,
                       luaL_tolstring(L, -1, NULL), choices[0], choices[1]);
    }
    lua_pop(L, 1);
    return r;
}

/* opts.rows (a Lua array or a vector Matrix of row numbers 1..n) → a guarded 0-based array in
 * in->rows; none: all rows. */
static void read_rows(lua_State *L, int t, const char *where, size_t n, pl_tsne_input *in) {
    in->rows = NULL;
    in->nrows = 0;
    if (lua_isnoneornil(L, t) || lua_getfield(L, t, "rows") == LUA_TNIL) {
        if (!lua_isnoneornil(L, t)) lua_pop(L, 1);
        return;
    }
    int idx = lua_gettop(L);
    pl_mat *m = lpl_testmatrix(L, idx);
    size_t len = 0;
    if (m && (m->rows == 1 || m->cols == 1)) len = m->rows * m->cols;
    else if (!m && lua_istable(L, idx)) len = (size_t)luaL_len(L, idx);
    else luaL_error(L, "%s: option rows must be an array of row numbers", where);
    if (len < 1) luaL_error(L, "%s: option rows is empty", where);
    size_t *r = malloc(len * sizeof *r);
    if (!r) luaL_error(L, "out of memory");
    lpl_guard(L, r, free_ptr); /* stays on the stack until the call returns */
    for (size_t i = 0; i < len; i++) {
        double v;
        if (m) {
            v = m->rows == 1 ? PL_AT(m, 0, i) : PL_AT(m, i, 0);
        } else {
            lua_geti(L, idx, (lua_Integer)i + 1);
            int ok;
            v = lua_tonumberx(L, -1, &ok);
            if (!ok) v = -1;
            lua_pop(L, 1);
        }
        if (!(v >= 1 && v <= (double)n && v == floor(v)))
            luaL_error(L, "%s: option rows: entry %d is %s; expected a row number 1..%d", where,
                       (int)i + 1, v == -1 ? "not a number" : lua_pushfstring(L, "%f", v),
                       (int)n);
        r[i] = (size_t)v - 1;
    }
    in->rows = r;
    in->nrows = len;
}

/* Argument 1: a Matrix or a Dataset. */
static void read_input(lua_State *L, const char *where, pl_tsne_input *in, size_t *n) {
    memset(in, 0, sizeof *in);
    pl_mat *m = lpl_testmatrix(L, 1);
    pl_data *d = m ? NULL : (luaL_testudata(L, 1, LPL_DATASET) ? lpl_checkdata(L, 1) : NULL);
    if (!m && !d)
        luaL_error(L, "%s: argument #1 must be a Matrix or a Dataset, got a %s", where,
                   luaL_typename(L, 1));
    in->matrix = m;
    in->data = d;
    *n = m ? m->rows : pl_data_rows(d);
}

static void read_opts(lua_State *L, int t, pl_tsne_opts *o) {
    static const char *const methods[] = {"barnes_hut", "exact", NULL};
    static const char *const inits[] = {"pca", "random", NULL};
    pl_tsne_defaults(o);
    lpl_check_options(L, t, "pl.tsne", tsne_keys);
    if (lua_isnoneornil(L, t)) return;
    o->perplexity = opt_number(L, t, "perplexity", o->perplexity);
    o->early_exaggeration = opt_number(L, t, "early_exaggeration", o->early_exaggeration);
    int lr = lua_getfield(L, t, "learning_rate");
    if (lr == LUA_TSTRING) {
        if (strcmp(lua_tostring(L, -1), "auto"))
            luaL_error(L, "pl.tsne: option learning_rate = %s: expected \"auto\" or a number > 0",
                       lua_tostring(L, -1));
        lua_pop(L, 1);
    } else if (lr == LUA_TNIL) {
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        o->learning_rate = opt_number(L, t, "learning_rate", 0.0);
        if (!(o->learning_rate > 0.0))
            luaL_error(L, "pl.tsne: option learning_rate = %f: expected \"auto\" or a number > 0",
                       o->learning_rate);
    }
    o->max_iter = (int)opt_int(L, t, "max_iter", o->max_iter, 1, 1000000);
    /* unset: 250, or every step when there are fewer */
    int ex = o->exaggeration_iter < o->max_iter ? o->exaggeration_iter : o->max_iter;
    o->exaggeration_iter = (int)opt_int(L, t, "exaggeration_iter", ex, 0, 1000000);
    o->theta = opt_number(L, t, "theta", o->theta);
    o->exact = opt_choice(L, t, "method", methods, 0);
    o->init = opt_choice(L, t, "init", inits, PL_TSNE_INIT_PCA);
    o->seed = (uint64_t)opt_int(L, t, "seed", 0, 0, LUA_MAXINTEGER);
}

/* pl.tsne(m_or_ds [, opts]) → N×2 Matrix, {kl, iterations, neighbours, learning_rate} */
static int l_tsne(lua_State *L) {
    pl_tsne_input in;
    size_t n;
    read_input(L, "pl.tsne", &in, &n);
    pl_tsne_opts o;
    read_opts(L, 2, &o);
    read_rows(L, 2, "pl.tsne", n, &in);
    pl_err err;
    if (pl_tsne_check(&o, in.rows ? in.nrows : n, &err)) return lpl_raise(L, &err);
    pl_mat y = {0};
    pl_tsne_info info;
    if (pl_tsne(&in, &o, &y, &info, &err)) return lpl_raise(L, &err);
    void **slot = lpl_guard(L, y.data, free_ptr); /* pushing may raise */
    lpl_pushmatrix_take(L, &y);
    *slot = NULL;
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, info.kl);
    lua_setfield(L, -2, "kl");
    lua_pushinteger(L, info.iterations);
    lua_setfield(L, -2, "iterations");
    lua_pushinteger(L, (lua_Integer)info.neighbours);
    lua_setfield(L, -2, "neighbours");
    lua_pushnumber(L, info.learning_rate);
    lua_setfield(L, -2, "learning_rate");
    return 2;
}

/* pl.pca_embedding(m_or_ds [, {rows = ...}]) → N×2 Matrix of the first two principal scores */
static int l_pca_embedding(lua_State *L) {
    pl_tsne_input in;
    size_t n;
    read_input(L, "pl.pca_embedding", &in, &n);
    lpl_check_options(L, 2, "pl.pca_embedding", pca_keys);
    read_rows(L, 2, "pl.pca_embedding", n, &in);
    pl_err err;
    pl_mat y = {0};
    if (pl_tsne_pca(&in, &y, &err)) return lpl_raise(L, &err);
    void **slot = lpl_guard(L, y.data, free_ptr);
    lpl_pushmatrix_take(L, &y);
    *slot = NULL;
    return 1;
}

/* pl.trustworthiness(x, y [, k = 10]) → scikit-learn's trustworthiness of embedding y of x */
static int l_trust(lua_State *L) {
    pl_mat *x = lpl_checkmatrix(L, 1), *y = lpl_checkmatrix(L, 2);
    lua_Integer k = luaL_optinteger(L, 3, 10);
    luaL_argcheck(L, k >= 1, 3, "k must be >= 1");
    double t;
    pl_err err;
    if (pl_tsne_trustworthiness(x, y, (size_t)k, &t, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, t);
    return 1;
}

static const luaL_Reg funcs[] = {{"tsne", l_tsne},
                                   {"pca_embedding", l_pca_embedding},
                                   {"trustworthiness", l_trust},
                                   {NULL, NULL}};

void lpl_open_tsne(lua_State *L) { luaL_setfuncs(L, funcs, 0); }

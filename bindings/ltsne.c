/* ltsne.c — pl.tsne(m_or_ds [, opts]) → N×2 Matrix, info; pl.trustworthiness(x, y [, k]).
 *
 * opts (checked against the known keys): perplexity (30), early_exaggeration (12),
 * learning_rate ("auto" or a number > 0), max_iter (1000), exaggeration_iter (250, at most
 * max_iter when not given),
 * theta (0.5), method ("barnes_hut" | "exact"), init ("pca" | "random"), seed (0).
 * info = {kl, iterations, neighbours, learning_rate} (core/tsne.h). */
#include <stdlib.h>
#include <string.h>

#include "lpedlab.h"
#include "tsne.h"

static void free_ptr(void *p) { free(p); }

static const char *const tsne_keys[] = {"perplexity", "early_exaggeration", "learning_rate",
                                        "max_iter", "exaggeration_iter", "theta", "method",
                                        "init", "seed", NULL};

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
    pl_mat *m = lpl_testmatrix(L, 1);
    pl_data *d = m ? NULL : (luaL_testudata(L, 1, LPL_DATASET) ? lpl_checkdata(L, 1) : NULL);
    if (!m && !d)
        return luaL_error(L, "pl.tsne: argument #1 must be a Matrix or a Dataset, got a %s",
                          luaL_typename(L, 1));
    pl_tsne_opts o;
    read_opts(L, 2, &o);
    pl_err err;
    if (pl_tsne_check(&o, m ? m->rows : pl_data_rows(d), &err)) return lpl_raise(L, &err);
    pl_mat y = {0};
    pl_tsne_info info;
    int rc = m ? pl_tsne_matrix(m, &o, &y, &info, &err) : pl_tsne_data(d, &o, &y, &info, &err);
    if (rc) return lpl_raise(L, &err);
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

static const luaL_Reg funcs[] = {{"tsne", l_tsne}, {"trustworthiness", l_trust}, {NULL, NULL}};

void lpl_open_tsne(lua_State *L) { luaL_setfuncs(L, funcs, 0); }

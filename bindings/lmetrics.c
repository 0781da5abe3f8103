/* lmetrics.c — pl.metrics.<name>(ds [, opts]), pl.metrics.score(name, ds, opts),
 * pl.metrics.list(), pl.metrics.logme_targets(ds, Y). */
#include <stdlib.h>
#include <string.h>

#include "linit.h"
#include "lpedlab.h"
#include "metrics/metric.h"

/* The options table at opt_idx as key=value strings in kv (at most 16); the strings are kept
 * referenced by a holder table pushed on the stack. */
static size_t opts_kv(lua_State *L, const char *name, int opt_idx, pl_kv *kv, uint64_t *seedp) {
    uint64_t seed;
    lua_newtable(L);
    int holder = lua_gettop(L);
    size_t n = 0;
    seed = 0;
    if (!lua_isnoneornil(L, opt_idx)) {
        luaL_checktype(L, opt_idx, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, opt_idx)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return luaL_error(L, "%s: option keys must be strings", name);
            const char *k = lua_tostring(L, -2);
            if (!strcmp(k, "seed")) {
                seed = (uint64_t)luaL_checkinteger(L, -1);
                lua_pop(L, 1);
                continue;
            }
            if (n == 16) return luaL_error(L, "%s: too many options", name);
            if (lua_isboolean(L, -1)) lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
            else luaL_tolstring(L, -1, NULL);
            kv[n].val = lua_tostring(L, -1);
            lua_seti(L, holder, (lua_Integer)(2 * n + 1));
            lua_pushvalue(L, -2);
            kv[n].key = lua_tostring(L, -1);
            lua_seti(L, holder, (lua_Integer)(2 * n + 2));
            n++;
            lua_pop(L, 1);
        }
    }
    *seedp = seed;
    return n;
}

static int score_named(lua_State *L, const char *name, int ds_idx, int opt_idx) {
    pl_data *d = lpl_checkdata(L, ds_idx);
    pl_kv kv[16];
    uint64_t seed;
    size_t n = opts_kv(L, name, opt_idx, kv, &seed);
    pl_opts o = {kv, n, seed};
    double v;
    pl_err err;
    if (pl_metric_score(name, d, &o, &v, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, v);
    return 1;
}

static int l_metric(lua_State *L) {
    return score_named(L, lua_tostring(L, lua_upvalueindex(1)), 1, 2);
}

static int l_score(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    return score_named(L, name, 2, 3);
}

/* Push the inputs a metric needs (PL_NEED_* flags) as an array of names, labels last.
 * PL_NEED_GRAM is the core's business (which statistics one pass computes), not an input a
 * user supplies: `needs` lists inputs only. */
static void push_needs(lua_State *L, unsigned needs) {
    static const struct {
        unsigned flag;
        const char *name;
    } inputs[] = {{PL_NEED_FEATURES, "features"},
                  {PL_NEED_SOURCE_PROBS, "source_probs"},
                  {PL_NEED_SOURCE_LABELS, "source_labels"}};
    lua_Integer k = 1;
    lua_newtable(L);
    for (size_t j = 0; j < sizeof inputs / sizeof *inputs; j++) {
        if (!(needs & inputs[j].flag)) continue;
        lua_pushstring(L, inputs[j].name);
        lua_seti(L, -2, k++);
    }
    lua_pushliteral(L, "labels");
    lua_seti(L, -2, k);
}

static int l_list(lua_State *L) {
    size_t n;
    const pl_metric *m = pl_metric_all(&n);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_newtable(L);
        lua_pushstring(L, m[i].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, m[i].summary);
        lua_setfield(L, -2, "summary");
        lua_pushboolean(L, m[i].higher_better);
        lua_setfield(L, -2, "higher_better");
        push_needs(L, m[i].needs);
        lua_setfield(L, -2, "needs");
        lpl_pushstrings(L, m[i].keys);
        lua_setfield(L, -2, "options");
        lua_newtable(L); /* option_docs: key → "default V; range: meaning" */
        for (size_t j = 0; m[i].key_docs && m[i].keys[j] && m[i].key_docs[j]; j++) {
            lua_pushstring(L, m[i].key_docs[j]);
            lua_setfield(L, -2, m[i].keys[j]);
        }
        lua_setfield(L, -2, "option_docs");
        if (m[i].cost) {
            lua_pushstring(L, m[i].cost);
            lua_setfield(L, -2, "cost");
        }
        lua_pushboolean(L, m[i].fn == NULL);
        lua_setfield(L, -2, "zoo_level");
        if (m[i].parts) {
            lpl_pushstrings(L, m[i].parts);
            lua_setfield(L, -2, "parts");
            lua_pushstring(L, m[i].combine);
            lua_setfield(L, -2, "combine");
        }
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* pl.metrics.seconds(name, N, D, C [, opts]) → the registry's estimate of one score's seconds */
static int l_seconds(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    double N = luaL_checknumber(L, 2), D = luaL_checknumber(L, 3), C = luaL_checknumber(L, 4);
    if (!pl_metric_find(name))
        return luaL_error(L, "pl.metrics.seconds: unknown metric '%s'", name);
    pl_kv kv[16];
    uint64_t seed;
    size_t n = opts_kv(L, name, 5, kv, &seed);
    pl_opts o = {kv, n, seed};
    lua_pushnumber(L, pl_metric_seconds(name, N, D, C, &o));
    return 1;
}

static int l_logme_targets(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    pl_mat *t = lpl_checkmatrix(L, 2);
    double v;
    pl_err err;
    if (pl_logme_targets(d, t, &v, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, v);
    return 1;
}

void lpl_open_metrics(lua_State *L) {
    size_t n;
    const pl_metric *m = pl_metric_all(&n);
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, m[i].name);
        lua_pushcclosure(L, l_metric, 1);
        lua_setfield(L, -2, m[i].name);
    }
    lua_pushcfunction(L, l_score);
    lua_setfield(L, -2, "score");
    lua_pushcfunction(L, l_list);
    lua_setfield(L, -2, "list");
    lua_pushcfunction(L, l_seconds);
    lua_setfield(L, -2, "seconds");
    lua_pushcfunction(L, l_logme_targets);
    lua_setfield(L, -2, "logme_targets");
    lua_setfield(L, -2, "metrics");
}

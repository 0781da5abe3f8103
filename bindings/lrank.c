/* lrank.c — pl.rank.*: weighted_tau, kendall_tau, spearman, pearson (two arrays or vectors)
 * and rel_at_k, recall_at_k, regret_at_k (scores, accuracies [, k = 1]). */
#include <stdlib.h>

#include "linit.h"
#include "lpedlab.h"
#include "rank.h"

static void free_ptr(void *p) { free(p); }

/* A Lua array of numbers or a vector Matrix at idx → guarded double array. */
static double *vec_arg(lua_State *L, int idx, size_t *n) {
    pl_mat *m = lpl_testmatrix(L, idx);
    if (m) {
        if (m->rows != 1 && m->cols != 1) luaL_argerror(L, idx, "expected a vector");
        *n = m->rows * m->cols;
    } else {
        luaL_checktype(L, idx, LUA_TTABLE);
        *n = (size_t)luaL_len(L, idx);
    }
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    if (!v) luaL_error(L, "out of memory");
    lpl_guard(L, v, free_ptr);
    for (size_t i = 0; i < *n; i++) {
        if (m) {
            v[i] = m->rows == 1 ? PL_AT(m, 0, i) : PL_AT(m, i, 0);
            continue;
        }
        lua_geti(L, idx, (lua_Integer)i + 1);
        int ok;
        v[i] = lua_tonumberx(L, -1, &ok);
        if (!ok) luaL_error(L, "argument #%d: element %d is not a number", idx, (int)i + 1);
        lua_pop(L, 1);
    }
    return v;
}

typedef int (*corr_fn)(const double *, const double *, size_t, double *, pl_err *);
typedef int (*atk_fn)(const double *, const double *, size_t, size_t, double *, pl_err *);

static int differ(lua_State *L, size_t nx, size_t ny) {
    return luaL_error(L, "the two arrays differ in length (%d and %d)", (int)nx, (int)ny);
}

static int corr(lua_State *L, corr_fn f) {
    size_t nx, ny;
    double *x = vec_arg(L, 1, &nx), *y = vec_arg(L, 2, &ny);
    if (nx != ny) return differ(L, nx, ny);
    double v;
    pl_err err;
    if (f(x, y, nx, &v, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, v);
    return 1;
}

static int atk(lua_State *L, atk_fn f) {
    size_t nx, ny;
    double *x = vec_arg(L, 1, &nx), *y = vec_arg(L, 2, &ny);
    lua_Integer k = luaL_optinteger(L, 3, 1);
    if (nx != ny) return differ(L, nx, ny);
    if (k < 1) return luaL_argerror(L, 3, "k must be >= 1");
    double v;
    pl_err err;
    if (f(x, y, nx, (size_t)k, &v, &err)) return lpl_raise(L, &err);
    lua_pushnumber(L, v);
    return 1;
}

static int l_wtau(lua_State *L) { return corr(L, pl_rank_weighted_tau); }
static int l_ktau(lua_State *L) { return corr(L, pl_rank_kendall_tau); }
static int l_spearman(lua_State *L) { return corr(L, pl_rank_spearman); }
static int l_pearson(lua_State *L) { return corr(L, pl_rank_pearson); }
static int l_rel(lua_State *L) { return atk(L, pl_rank_rel_at_k); }
static int l_recall(lua_State *L) { return atk(L, pl_rank_recall_at_k); }
static int l_regret(lua_State *L) { return atk(L, pl_rank_regret_at_k); }

static const luaL_Reg funcs[] = {
    {"weighted_tau", l_wtau}, {"kendall_tau", l_ktau}, {"spearman", l_spearman},
    {"pearson", l_pearson}, {"rel_at_k", l_rel}, {"recall_at_k", l_recall},
    {"regret_at_k", l_regret}, {NULL, NULL}};

void lpl_open_rank(lua_State *L) {
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "rank");
}

/* ldataset.c — the Dataset userdata: features (streamed .npy, .npz member, .safetensors
 * tensor, CSV or a Matrix) + labels (numbers or strings), optional source-model inputs, and
 * moved datasets (PED) that share the original's data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "linit.h"
#include "lpedlab.h"
#include "linalg.h"
#include "npy.h"
#include "pca.h"
#include "tensorfile.h"

typedef struct {
    pl_data *d;
} lpl_data;

pl_data *lpl_checkdata(lua_State *L, int idx) {
    lpl_data *u = luaL_checkudata(L, idx, LPL_DATASET);
    if (!u->d) luaL_argerror(L, idx, "dataset was closed");
    return u->d;
}

void lpl_pushdata(lua_State *L, pl_data *d) {
    lpl_data *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->d = d;
    luaL_setmetatable(L, LPL_DATASET);
}

static const char *ext(const char *path) {
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

/* A matrix from a path (.npy or .csv) or a Matrix/table at idx, into *out (owned). */
static void matrix_arg(lua_State *L, int idx, pl_mat *out) {
    pl_err err;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *path = lua_tostring(L, idx);
        int rc = !strcmp(ext(path), "csv") ? pl_csv_load(path, out, NULL, &err)
                                           : pl_npy_load_mat(path, out, &err);
        if (rc) lpl_raise(L, &err);
        return;
    }
    lpl_tomatrix(L, idx, out);
}

static void free_ptr(void *p) { free(p); }
static void release_source(void *p) { pl_source_release(p); }
static void release_mat(void *p) {
    pl_mat_release(p);
    free(p);
}

/* A matrix from a path (.npy or .csv) or a Matrix/table at idx, guarded on the stack. */
static pl_mat *guarded_matrix(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    pl_mat *m = calloc(1, sizeof *m);
    if (!m) luaL_error(L, "out of memory");
    lpl_guard(L, m, release_mat);
    matrix_arg(L, idx, m);
    return m;
}

typedef struct {
    char **names;
    size_t n;
} name_list;

static void free_name_list(void *p) {
    name_list *l = p;
    pl_array_free_names(l->names, l->n);
    free(l);
}

/* Labels from a path (role: PL_ARRAY_LABELS, with flags) or a Matrix/table, guarded on the
 * stack; *name for messages. String labels give ids 0..K-1 and, when names is not NULL,
 * *names their K names (guarded too; NULL for numeric labels). With missing, a file that
 * does not exist returns NULL and its message in *missing instead of raising. */
static int64_t *labels_arg(lua_State *L, int idx, int role, size_t *n, const char **name,
                           name_list **names, pl_err *missing) {
    pl_err err;
    int64_t *y = NULL;
    idx = lua_absindex(L, idx);
    if (names) *names = NULL;
    if (lua_type(L, idx) == LUA_TSTRING && strcmp(ext(lua_tostring(L, idx)), "csv")) {
        *name = lua_tostring(L, idx);
        name_list *nl = calloc(1, sizeof *nl);
        if (!nl) luaL_error(L, "out of memory");
        lpl_guard(L, nl, free_name_list);
        int rc = pl_array_load_labels(*name, role, &y, n, &nl->names, &nl->n, &err);
        if (rc == PL_ENOENT && missing) {
            *missing = err;
            return NULL;
        }
        if (rc) lpl_raise(L, &err);
        lpl_guard(L, y, free_ptr);
        if (names && nl->names) *names = nl;
        return y;
    }
    *name = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : "labels";
    pl_mat *m = guarded_matrix(L, idx);
    if (m->rows != 1 && m->cols != 1)
        luaL_error(L, "%s: labels must be a vector; got %dx%d", *name, (int)m->rows, (int)m->cols);
    *n = m->rows * m->cols;
    y = malloc((*n ? *n : 1) * sizeof *y);
    if (!y) luaL_error(L, "out of memory");
    lpl_guard(L, y, free_ptr);
    for (size_t i = 0; i < *n; i++) {
        double v = m->rows == 1 ? PL_AT(m, 0, i) : PL_AT(m, i, 0);
        char num[32];
        snprintf(num, sizeof num, "%.17g", v);
        if (!isfinite(v) || v != floor(v))
            luaL_error(L, "%s: row %d holds %s; labels must be whole numbers", *name, (int)i + 1,
                       num);
        /* from 2^53 on, a double no longer holds every whole number: ids may have merged */
        if (fabs(v) >= 9007199254740992.0)
            luaL_error(L, "%s: row %d holds %s, a label beyond 2^53 where distinct ids may have "
                       "been rounded together; store labels as int64 (.npy)", *name, (int)i + 1,
                       num);
        y[i] = (int64_t)v;
    }
    return y;
}

/* A path at idx that core reads as an array (.npy, .npz, .safetensors; not .csv). */
static int is_array_path(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TSTRING && strcmp(ext(lua_tostring(L, idx)), "csv") != 0;
}

/* The dataset of features (1) and labels (2) of which one at least is a Matrix, a table or a
 * .csv file, into u; 0, or the count of results to return (nil, message when a file is
 * missing). Labels given as nil are read from the features' own file. */
static int data_from_values(lua_State *L, lpl_data *u) {
    pl_err err;
    pl_source *src = NULL;
    size_t n = 0;
    const char *lname;
    name_list *names;
    int64_t *y;
    int lidx = 2, role = PL_ARRAY_LABELS;
    if (lua_isnil(L, 2)) { /* from the features' own file */
        lua_pushvalue(L, 1);
        lidx = lua_gettop(L);
        role |= PL_ARRAY_SIBLING;
    }
    y = labels_arg(L, lidx, role, &n, &lname, &names, &err);
    if (!y) return lpl_fail(L, &err);
    int rc;
    if (is_array_path(L, 1)) {
        rc = pl_source_open_array(lua_tostring(L, 1), &src, &err);
        if (rc == PL_ENOENT) return lpl_fail(L, &err);
    } else {
        pl_mat *m = guarded_matrix(L, 1);
        const char *fname = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : "features";
        rc = pl_source_from_mat(m, fname, &src, &err);
    }
    if (rc) return lpl_raise(L, &err);
    void **sg = lpl_guard(L, src, release_source);
    if (names && names->n < 2)
        return luaL_error(L, "%s: all %d labels are '%s'; needs at least 2 classes", lname,
                          (int)n, names->n ? names->names[0] : "");
    rc = pl_data_new(src, y, n, lname, &u->d, &err);
    if (rc) return lpl_raise(L, &err);
    pl_source_release(src);
    *sg = NULL;
    if (names && pl_data_set_class_names(u->d, names->names, names->n, &err))
        return lpl_raise(L, &err);
    return 0;
}

/* The options {source_probs = P, source_labels = S} of the table at t, onto d. */
static void source_options(lua_State *L, int t, pl_data *d) {
    pl_err err;
    if (lua_getfield(L, t, "source_probs") != LUA_TNIL) {
        const char *pname = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                            : "source_probs";
        pl_mat *p = guarded_matrix(L, -1);
        if (pl_data_set_source_probs(d, p, pname, &err)) lpl_raise(L, &err);
    }
    if (lua_getfield(L, t, "source_labels") != LUA_TNIL) {
        const char *sname;
        size_t n;
        int64_t *s2 = labels_arg(L, -1, PL_ARRAY_LABELS, &n, &sname, NULL, NULL);
        if (pl_data_set_source_labels(d, s2, n, sname, &err)) lpl_raise(L, &err);
    }
}

/* pl.dataset(features [, labels] [, {source_probs = P, source_labels = S}]): labels may be
 * left out (nil) when features names an array of an .npz or .safetensors file that holds the
 * labels too (under labels or y). Two array paths are opened by core's pl_data_open, as the
 * C callers do; a missing file returns nil, message. */
static int l_dataset(lua_State *L) {
    luaL_checkany(L, 1);
    lua_settop(L, 3);
    if (lua_isnil(L, 2) && lua_type(L, 1) != LUA_TSTRING)
        return luaL_error(L, "pl.dataset: labels missing: give labels, or features from an "
                          ".npz or .safetensors file that holds them");
    lpl_pushdata(L, NULL);
    lpl_data *u = lua_touserdata(L, 4);
    if (is_array_path(L, 1) && (lua_isnil(L, 2) || is_array_path(L, 2))) {
        pl_err err;
        int rc = pl_data_open(lua_tostring(L, 1), lua_tostring(L, 2), &u->d, &err);
        if (rc == PL_ENOENT) return lpl_fail(L, &err);
        if (rc) return lpl_raise(L, &err);
    } else {
        int nret = data_from_values(L, u);
        if (nret) return nret;
    }
    if (lua_istable(L, 3)) source_options(L, 3, u->d);
    lua_settop(L, 4);
    return 1;
}

static int d_gc(lua_State *L) {
    lpl_data *u = luaL_checkudata(L, 1, LPL_DATASET);
    pl_data_release(u->d);
    u->d = NULL;
    return 0;
}

static int d_rows(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)pl_data_rows(lpl_checkdata(L, 1)));
    return 1;
}

static int d_dim(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)pl_data_dim(lpl_checkdata(L, 1)));
    return 1;
}

static int d_classes(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)pl_data_classes(lpl_checkdata(L, 1)));
    return 1;
}

static int d_counts(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    size_t C = pl_data_classes(d);
    lua_createtable(L, (int)C, 0);
    for (size_t c = 0; c < C; c++) {
        lua_pushinteger(L, (lua_Integer)pl_data_counts(d)[c]);
        lua_seti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

static int d_class_ids(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    size_t C = pl_data_classes(d);
    lua_createtable(L, (int)C, 0);
    for (size_t c = 0; c < C; c++) {
        lua_pushinteger(L, (lua_Integer)pl_data_class_ids(d)[c]);
        lua_seti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

/* ds:class_names() → the C class names in class order: the labels' strings for string
 * labels, the ids as decimal text for numeric ones (what legends and listings print). */
static int d_class_names(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    size_t C = pl_data_classes(d);
    const char *const *names = pl_data_class_names(d);
    lua_createtable(L, (int)C, 0);
    for (size_t c = 0; c < C; c++) {
        if (names) lua_pushstring(L, names[c]);
        else lua_pushfstring(L, "%I", (lua_Integer)pl_data_class_ids(d)[c]);
        lua_seti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

/* ds:labels() → N×1 Matrix of encoded labels 1..C (Lua's 1-based convention) */
static int d_labels(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    size_t N = pl_data_rows(d);
    pl_mat *m = lpl_newmatrix(L, N, 1);
    for (size_t i = 0; i < N; i++) m->data[i] = pl_data_y(d)[i] + 1;
    return 1;
}

static int d_name(lua_State *L) {
    lua_pushstring(L, pl_data_name(lpl_checkdata(L, 1)));
    return 1;
}

static int d_moved(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    pl_mat *s = lpl_checkmatrix(L, 2);
    size_t C = pl_data_classes(d), D = pl_data_dim(d);
    if (s->rows != C || s->cols != D)
        return luaL_error(L, "moved: shift is %dx%d; expected classes×dim = %dx%d", (int)s->rows,
                          (int)s->cols, (int)C, (int)D);
    pl_mat flat;
    pl_err err;
    lpl_pushdata(L, NULL); /* the result first: nothing may raise between copy and release */
    lpl_data *u = lua_touserdata(L, -1);
    if (pl_mat_copy(&flat, s, &err)) return lpl_raise(L, &err);
    int rc = pl_data_moved(d, flat.data, &u->d, &err);
    pl_mat_release(&flat);
    if (rc) return lpl_raise(L, &err);
    return 1;
}

static int d_shift(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    const double *sh = pl_data_shift(d);
    size_t C = pl_data_classes(d), D = pl_data_dim(d);
    pl_mat *m = lpl_newmatrix(L, C, D);
    if (sh) memcpy(m->data, sh, C * D * sizeof(double));
    return 1;
}

static int d_dense(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    pl_mat m;
    pl_err err;
    if (pl_data_dense(d, &m, &err)) return lpl_raise(L, &err);
    void **slot = lpl_guard(L, m.data, free_ptr); /* pushing may raise */
    lpl_pushmatrix_take(L, &m);
    *slot = NULL;
    return 1;
}

/* ds:stats([gram]) → {n=C×1, sums=C×D, sumsq=C×D, means=C×D, vars=C×D, gram=D×D?} */
static int d_stats(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    int gram = lua_toboolean(L, 2);
    const pl_stats *st;
    pl_err err;
    if (pl_data_stats(d, gram, &st, &err)) return lpl_raise(L, &err);
    size_t C = st->C, D = st->D;
    lua_newtable(L);
    pl_mat *n = lpl_newmatrix(L, C, 1);
    memcpy(n->data, st->n, C * sizeof(double));
    lua_setfield(L, -2, "n");
    pl_mat *S = lpl_newmatrix(L, C, D);
    memcpy(S->data, st->S, C * D * sizeof(double));
    lua_setfield(L, -2, "sums");
    pl_mat *Q = lpl_newmatrix(L, C, D);
    for (size_t c = 0; c < C; c++)   /* raw Σ x² = Qc + 2·o·Sc + n·o² */
        for (size_t j = 0; j < D; j++) {
            double o = st->origin[j], sc = st->Sc[c * D + j];
            Q->data[c * D + j] = st->Qc[c * D + j] + 2.0 * o * sc + st->n[c] * o * o;
        }
    lua_setfield(L, -2, "sumsq");
    /* means and variances from the sums about the statistics' origin (exact far from 0) */
    pl_mat *mu = lpl_newmatrix(L, C, D);
    pl_stats_class_means(st, mu->data);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) mu->data[c * D + j] += st->origin[j];
    lua_setfield(L, -2, "means");
    pl_mat *var = lpl_newmatrix(L, C, D);
    pl_stats_class_vars(st, var->data);
    lua_setfield(L, -2, "vars");
    if (st->G) {
        pl_mat *G = lpl_newmatrix(L, D, D);
        if (pl_data_gram_upper(d, G, &err)) return lpl_raise(L, &err);
        pl_symmetrize_upper(G);
        lua_setfield(L, -2, "gram");
    }
    return 1;
}

/* ds:pca([k]) → {mean = 1×D, axes = k×D (rows, unit, largest variance first),
 * variances = k×1 (explained variance, ddof 1)}, from core's PCA (pca.h); k defaults to
 * min(N, D). Axis signs are the eigensolver's (no sample-based flip). */
static int d_pca(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    size_t N = pl_data_rows(d), D = pl_data_dim(d), nall = N < D ? N : D;
    lua_Integer k = luaL_optinteger(L, 2, (lua_Integer)nall);
    if (k < 1 || (lua_Unsigned)k > nall)
        return luaL_error(L, "ds:pca(k): k = %d: expected 1..%d (min(N, D) of %s)", (int)k,
                          (int)nall, pl_data_name(d));
    lua_newtable(L);
    pl_mat *mean = lpl_newmatrix(L, 1, D);
    lua_setfield(L, -2, "mean");
    pl_mat *axes = lpl_newmatrix(L, (size_t)k, D);
    lua_setfield(L, -2, "axes");
    pl_mat *var = lpl_newmatrix(L, (size_t)k, 1);
    lua_setfield(L, -2, "variances");
    pl_pca p;
    pl_err err;
    if (pl_pca_fit(d, (size_t)k, &p, &err)) return lpl_raise(L, &err);
    memcpy(mean->data, p.mean, D * sizeof(double));
    memcpy(axes->data, p.components, (size_t)k * D * sizeof(double));
    memcpy(var->data, p.variance, (size_t)k * sizeof(double));
    pl_pca_release(&p);
    return 1;
}

/* ds:prepare([gram]): compute and cache the statistics now (with the Gram when asked), so
 * that PED and the metrics after it share one pass over the data. */
static int d_prepare(lua_State *L) {
    pl_data *d = lpl_checkdata(L, 1);
    const pl_stats *st;
    pl_err err;
    if (pl_data_stats(d, lua_toboolean(L, 2), &st, &err)) return lpl_raise(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int d_tostring(lua_State *L) {
    lpl_data *u = luaL_checkudata(L, 1, LPL_DATASET);
    if (!u->d) {
        lua_pushliteral(L, "Dataset (closed)");
        return 1;
    }
    lua_pushfstring(L, "Dataset %s: N=%d D=%d C=%d%s", pl_data_name(u->d), (int)pl_data_rows(u->d),
                    (int)pl_data_dim(u->d), (int)pl_data_classes(u->d),
                    pl_data_shift(u->d) ? " (moved)" : "");
    return 1;
}

static const luaL_Reg methods[] = {
    {"rows", d_rows}, {"dim", d_dim}, {"classes", d_classes}, {"counts", d_counts},
    {"class_ids", d_class_ids}, {"class_names", d_class_names}, {"labels", d_labels},
    {"name", d_name}, {"moved", d_moved},
    {"shift", d_shift}, {"dense", d_dense}, {"stats", d_stats}, {"pca", d_pca},
    {"prepare", d_prepare}, {"close", d_gc}, {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", d_gc}, {"__close", d_gc}, {"__tostring", d_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"dataset", l_dataset}, {NULL, NULL}};

void lpl_open_dataset(lua_State *L) {
    if (luaL_newmetatable(L, LPL_DATASET)) {
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}

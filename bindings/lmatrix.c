/* lmatrix.c — the Matrix userdata: dense float64, row-major, views that share memory.
 *
 * Indices are 1-based in Lua. m[i] on a matrix with more than one row is row i as a view;
 * on a single-row matrix (a row vector or a row view) it is element i, so m[i][j] reads an
 * element. A view keeps its root (the matrix that owns the memory) alive through its user
 * value, whatever it was taken from.
 *
 * Matrices lent to a force law (lpl_lendmatrix) own a copy of what they show, may be
 * read-only, and expire after the call (lpl_expirematrix): every use of one, or of any view
 * of it, then raises; the memory stays until the collector frees it, so nothing a law kept
 * can reach freed memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "linit.h"
#include "lpedlab.h"

/* Matrix userdata: the struct is the object; user value 1 holds a view's root (the matrix that
 * owns the memory), so a view never outlives the memory it reads. */
enum { LPL_MAT_READONLY = 1, LPL_MAT_EXPIRED = 2 };
typedef struct lpl_matrix {
    pl_mat m;
    int views;                /* live views of this matrix: a close leaves their memory alone */
    unsigned flags;           /* LPL_MAT_*, of a root; a view reads its root's */
    struct lpl_matrix *root;  /* itself for a matrix that owns its memory */
} lpl_matrix;

#define EXPIRED_MSG "matrix lent to a force law is only valid during the call"

static lpl_matrix *newud(lua_State *L) {
    lpl_matrix *u = lua_newuserdatauv(L, sizeof *u, 1);
    memset(u, 0, sizeof *u);
    u->root = u;
    luaL_setmetatable(L, LPL_MATRIX);
    return u;
}

/* The flags that apply to the matrix u (its root's). */
static unsigned flagsof(const lpl_matrix *u) { return u->root ? u->root->flags : 0; }

static int isclosed(const lpl_matrix *u) { return !u->m.data && (u->m.rows || u->m.cols); }

/* A matrix must be open and not expired to be touched (a closed view's root may be gone:
 * the closed check comes first). */
static lpl_matrix *checklive(lua_State *L, int idx, lpl_matrix *u) {
    if (isclosed(u)) luaL_argerror(L, idx, "matrix was closed");
    if (flagsof(u) & LPL_MAT_EXPIRED) luaL_error(L, EXPIRED_MSG);
    return u;
}

static pl_mat *checkwritable(lua_State *L, int idx) {
    lpl_matrix *u = checklive(L, idx, luaL_checkudata(L, idx, LPL_MATRIX));
    if (flagsof(u) & LPL_MAT_READONLY)
        luaL_error(L, "read-only matrix: the centres and radii lent to a force law cannot be "
                   "written (write the forces)");
    return &u->m;
}

pl_mat *lpl_testmatrix(lua_State *L, int idx) {
    lpl_matrix *u = luaL_testudata(L, idx, LPL_MATRIX);
    return u ? &checklive(L, idx, u)->m : NULL;
}

pl_mat *lpl_checkmatrix(lua_State *L, int idx) {
    return &checklive(L, idx, luaL_checkudata(L, idx, LPL_MATRIX))->m;
}

/* A rows×cols matrix owning a copy of data (row-major), optionally read-only, pushed. */
pl_mat *lpl_lendmatrix(lua_State *L, const double *data, size_t rows, size_t cols,
                       int readonly) {
    lpl_matrix *u = newud(L);
    pl_err err;
    if (pl_mat_init(&u->m, rows, cols, &err)) lpl_raise(L, &err);
    if (rows && cols) memcpy(u->m.data, data, rows * cols * sizeof(double));
    if (readonly) u->flags |= LPL_MAT_READONLY;
    return &u->m;
}

/* The matrix at idx (lent) and every view of it raise from now on. */
void lpl_expirematrix(lua_State *L, int idx) {
    lpl_matrix *u = luaL_checkudata(L, idx, LPL_MATRIX);
    if (u->root) u->root->flags |= LPL_MAT_EXPIRED;
}

pl_mat *lpl_newmatrix(lua_State *L, size_t rows, size_t cols) {
    lpl_matrix *u = newud(L);
    pl_err err;
    if (pl_mat_init(&u->m, rows, cols, &err)) lpl_raise(L, &err);
    return &u->m;
}

void lpl_pushmatrix_take(lua_State *L, pl_mat *m) {
    /* the data is guarded while the userdata is made: out of memory there frees it */
    void **g = m->owned ? lpl_guard(L, m->data, free) : NULL;
    lpl_matrix *u = newud(L);
    u->m = *m;
    memset(m, 0, sizeof *m);
    if (g) {
        *g = NULL;
        lua_remove(L, -2);
    }
}

static size_t checksize(lua_State *L, int idx) {
    lua_Integer v = luaL_checkinteger(L, idx);
    luaL_argcheck(L, v >= 0, idx, "size must be >= 0");
    return (size_t)v;
}

/* 1-based Lua index → 0-based, with a bounds check. */
static size_t checkindex(lua_State *L, int idx, size_t n, const char *what) {
    lua_Integer v = luaL_checkinteger(L, idx);
    if (v < 1 || (size_t)v > n)
        luaL_error(L, "%s index %d out of range 1..%d", what, (int)v, (int)n);
    return (size_t)(v - 1);
}

void lpl_tomatrix(lua_State *L, int idx, pl_mat *out) {
    pl_err err;
    pl_mat *m = lpl_testmatrix(L, idx);
    memset(out, 0, sizeof *out);
    if (m) {
        if (pl_mat_copy(out, m, &err)) lpl_raise(L, &err);
        return;
    }
    luaL_argexpected(L, lua_type(L, idx) == LUA_TTABLE, idx, "Matrix or table");
    idx = lua_absindex(L, idx);
    size_t rows = (size_t)luaL_len(L, idx), cols = 1;
    int nested = 0;
    if (rows > 0) {
        lua_geti(L, idx, 1);
        if (lua_istable(L, -1)) {
            nested = 1;
            cols = (size_t)luaL_len(L, -1);
        }
        lua_pop(L, 1);
    }
    pl_mat t;
    if (pl_mat_init(&t, rows, cols, &err)) lpl_raise(L, &err);
    for (size_t i = 0; i < rows; i++) {
        lua_geti(L, idx, (lua_Integer)i + 1);
        if (nested) {
            if (!lua_istable(L, -1) || (size_t)luaL_len(L, -1) != cols) {
                pl_mat_release(&t);
                luaL_error(L, "row %d has %s; expected %d numbers", (int)i + 1,
                           lua_istable(L, -1) ? "a different length" : "no table", (int)cols);
            }
            for (size_t j = 0; j < cols; j++) {
                lua_geti(L, -1, (lua_Integer)j + 1);
                int ok;
                double v = lua_tonumberx(L, -1, &ok);
                lua_pop(L, 1);
                if (!ok) {
                    pl_mat_release(&t);
                    luaL_error(L, "row %d, column %d is not a number", (int)i + 1, (int)j + 1);
                }
                PL_AT(&t, i, j) = v;
            }
        } else {
            int ok;
            double v = lua_tonumberx(L, -1, &ok);
            if (!ok) {
                pl_mat_release(&t);
                luaL_error(L, "element %d is not a number", (int)i + 1);
            }
            t.data[i] = v;
        }
        lua_pop(L, 1);
    }
    *out = t;
}

static int m_zeros(lua_State *L) {
    lpl_newmatrix(L, checksize(L, 1), checksize(L, 2));
    return 1;
}

static int m_ones(lua_State *L) {
    pl_mat *m = lpl_newmatrix(L, checksize(L, 1), checksize(L, 2));
    for (size_t i = 0; i < m->rows * m->cols; i++) m->data[i] = 1.0;
    return 1;
}

static int m_eye(lua_State *L) {
    size_t n = checksize(L, 1);
    pl_mat *m = lpl_newmatrix(L, n, n);
    for (size_t i = 0; i < n; i++) PL_AT(m, i, i) = 1.0;
    return 1;
}

static int m_matrix(lua_State *L) {
    pl_mat t;
    lpl_tomatrix(L, 1, &t);
    lpl_pushmatrix_take(L, &t);
    return 1;
}

/* splitmix64 + Box–Muller: a fixed, documented stream so the same seed gives the same bits. */
static uint64_t sm64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int m_randn(lua_State *L) {
    size_t r = checksize(L, 1), c = checksize(L, 2);
    uint64_t s = (uint64_t)luaL_optinteger(L, 3, 0);
    pl_mat *m = lpl_newmatrix(L, r, c);
    size_t n = r * c;
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((double)(sm64(&s) >> 11) + 0.5) * 0x1.0p-53;
        double u2 = (double)(sm64(&s) >> 11) * 0x1.0p-53;
        double rad = sqrt(-2.0 * log(u1)), th = 6.283185307179586 * u2;
        m->data[i] = rad * cos(th);
        if (i + 1 < n) m->data[i + 1] = rad * sin(th);
    }
    return 1;
}

static int m_rows(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)lpl_checkmatrix(L, 1)->rows);
    return 1;
}

static int m_cols(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)lpl_checkmatrix(L, 1)->cols);
    return 1;
}

static int m_shape(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    lua_pushinteger(L, (lua_Integer)m->rows);
    lua_pushinteger(L, (lua_Integer)m->cols);
    return 2;
}

static int m_get(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    size_t i = checkindex(L, 2, m->rows, "row");
    size_t j = lua_isnoneornil(L, 3) && m->cols == 1 ? 0 : checkindex(L, 3, m->cols, "column");
    lua_pushnumber(L, PL_AT(m, i, j));
    return 1;
}

static int m_set(lua_State *L) {
    pl_mat *m = checkwritable(L, 1);
    size_t i = checkindex(L, 2, m->rows, "row");
    size_t j = checkindex(L, 3, m->cols, "column");
    PL_AT(m, i, j) = luaL_checknumber(L, 4);
    lua_settop(L, 1);
    return 1;
}

/* A view of the matrix at parent (a root or a view): it holds the root, so closing the matrix
 * it was taken from (when that is a view) leaves it valid. */
static void pushview(lua_State *L, int parent, pl_mat v) {
    lpl_matrix *p = lua_touserdata(L, parent);
    if (lua_getiuservalue(L, parent, 1) != LUA_TUSERDATA) {
        lua_pop(L, 1);
        lua_pushvalue(L, parent);
    }
    lpl_matrix *root = lua_touserdata(L, -1);
    lpl_matrix *u = newud(L);
    u->m = v;
    u->root = p->root;
    root->views++;
    lua_rotate(L, -2, 1);   /* view, root */
    lua_setiuservalue(L, -2, 1);
}

static int m_row(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    size_t i = checkindex(L, 2, m->rows, "row");
    pushview(L, 1, pl_mat_view(m, i, 0, 1, m->cols));
    return 1;
}

static int m_col(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    size_t j = checkindex(L, 2, m->cols, "column");
    pushview(L, 1, pl_mat_view(m, 0, j, m->rows, 1));
    return 1;
}

static int m_view(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    size_t r0 = checkindex(L, 2, m->rows, "row"), c0 = checkindex(L, 3, m->cols, "column");
    size_t nr = checksize(L, 4), nc = checksize(L, 5);
    if (nr > m->rows - r0 || nc > m->cols - c0) return luaL_error(L, "view exceeds the matrix");
    pushview(L, 1, pl_mat_view(m, r0, c0, nr, nc));
    return 1;
}

static int m_copy(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    pl_mat *c = lpl_newmatrix(L, m->rows, m->cols);
    for (size_t i = 0; i < m->rows; i++)
        memcpy(c->data + i * c->ld, m->data + i * m->ld, m->cols * sizeof(double));
    return 1;
}

static int m_t(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    pl_mat *c = lpl_newmatrix(L, m->cols, m->rows);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++) PL_AT(c, j, i) = PL_AT(m, i, j);
    return 1;
}

static int m_matmul(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1), *b = lpl_checkmatrix(L, 2);
    if (a->cols != b->rows)
        return luaL_error(L, "matmul: %dx%d times %dx%d: inner sizes differ", (int)a->rows,
                          (int)a->cols, (int)b->rows, (int)b->cols);
    pl_mat *c = lpl_newmatrix(L, a->rows, b->cols);
    pl_err err;
    if (pl_gemm(0, 0, 1.0, a, b, 0.0, c, &err)) return lpl_raise(L, &err);
    return 1;
}

typedef double (*binop)(double, double);
static double op_add(double a, double b) { return a + b; }
static double op_sub(double a, double b) { return a - b; }
static double op_mul(double a, double b) { return a * b; }
static double op_div(double a, double b) { return a / b; }

static int arith(lua_State *L, binop f, const char *name) {
    pl_mat *a = lpl_testmatrix(L, 1), *b = lpl_testmatrix(L, 2);
    pl_mat *shape = a ? a : b;
    if (a && b && (a->rows != b->rows || a->cols != b->cols))
        return luaL_error(L, "%s: shapes %dx%d and %dx%d differ", name, (int)a->rows,
                          (int)a->cols, (int)b->rows, (int)b->cols);
    double sa = a ? 0 : luaL_checknumber(L, 1), sb = b ? 0 : luaL_checknumber(L, 2);
    pl_mat *c = lpl_newmatrix(L, shape->rows, shape->cols);
    for (size_t i = 0; i < c->rows; i++)
        for (size_t j = 0; j < c->cols; j++)
            PL_AT(c, i, j) = f(a ? PL_AT(a, i, j) : sa, b ? PL_AT(b, i, j) : sb);
    return 1;
}

static int m_add(lua_State *L) { return arith(L, op_add, "+"); }
static int m_sub(lua_State *L) { return arith(L, op_sub, "-"); }
static int m_mul(lua_State *L) { return arith(L, op_mul, "*"); }
static int m_div(lua_State *L) { return arith(L, op_div, "/"); }

static int m_unm(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1);
    pl_mat *c = lpl_newmatrix(L, a->rows, a->cols);
    for (size_t i = 0; i < c->rows; i++)
        for (size_t j = 0; j < c->cols; j++) PL_AT(c, i, j) = -PL_AT(a, i, j);
    return 1;
}

/* Column means (1×D); with ddof, column variances. */
static int colstat(lua_State *L, int variance) {
    pl_mat *a = lpl_checkmatrix(L, 1);
    lua_Integer ddof = variance ? luaL_optinteger(L, 2, 0) : 0;
    if (variance && (ddof < 0 || (size_t)ddof >= a->rows))
        return luaL_error(L, "var: needs more than ddof=%d rows", (int)ddof);
    if (a->rows == 0) return luaL_error(L, "mean of an empty matrix");
    pl_mat *c = lpl_newmatrix(L, 1, a->cols);
    for (size_t j = 0; j < a->cols; j++) {
        double s = 0;
        for (size_t i = 0; i < a->rows; i++) s += PL_AT(a, i, j);
        double mu = s / (double)a->rows;
        if (!variance) {
            c->data[j] = mu;
            continue;
        }
        double q = 0;
        for (size_t i = 0; i < a->rows; i++) q += (PL_AT(a, i, j) - mu) * (PL_AT(a, i, j) - mu);
        c->data[j] = q / (double)(a->rows - (size_t)ddof);
    }
    return 1;
}

static int m_mean(lua_State *L) { return colstat(L, 0); }
static int m_var(lua_State *L) { return colstat(L, 1); }

static int m_sum(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1);
    double s = 0;
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++) s += PL_AT(a, i, j);
    lua_pushnumber(L, s);
    return 1;
}

static int m_totable(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1);
    int flat = a->rows == 1 || a->cols == 1;
    lua_createtable(L, (int)(flat ? a->rows * a->cols : a->rows), 0);
    for (size_t i = 0; i < a->rows; i++) {
        if (flat) {
            for (size_t j = 0; j < a->cols; j++) {
                lua_pushnumber(L, PL_AT(a, i, j));
                lua_seti(L, -2, (lua_Integer)(i * a->cols + j + 1));
            }
            continue;
        }
        lua_createtable(L, (int)a->cols, 0);
        for (size_t j = 0; j < a->cols; j++) {
            lua_pushnumber(L, PL_AT(a, i, j));
            lua_seti(L, -2, (lua_Integer)j + 1);
        }
        lua_seti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int m_len(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1);
    lua_pushinteger(L, (lua_Integer)(a->rows == 1 ? a->cols : a->rows));
    return 1;
}

static int m_tostring(lua_State *L) {
    lpl_matrix *u = luaL_checkudata(L, 1, LPL_MATRIX);
    pl_mat *m = &u->m;
    luaL_Buffer b;
    if (isclosed(u)) {
        lua_pushliteral(L, "Matrix (closed)");
        return 1;
    }
    if (flagsof(u) & LPL_MAT_EXPIRED) {
        lua_pushliteral(L, "Matrix (lent to a force law; expired)");
        return 1;
    }
    luaL_buffinit(L, &b);
    char line[64];
    snprintf(line, sizeof line, "Matrix %zux%zu", m->rows, m->cols);
    luaL_addstring(&b, line);
    size_t rr = m->rows < 6 ? m->rows : 5, cc = m->cols < 7 ? m->cols : 6;
    for (size_t i = 0; i < rr; i++) {
        luaL_addstring(&b, "\n ");
        for (size_t j = 0; j < cc; j++) {
            snprintf(line, sizeof line, " %11.5g", PL_AT(m, i, j));
            luaL_addstring(&b, line);
        }
        if (cc < m->cols) luaL_addstring(&b, "  ...");
    }
    if (rr < m->rows) luaL_addstring(&b, "\n  ...");
    luaL_pushresult(&b);
    return 1;
}

/* __gc frees; close/__close frees too unless views of it are alive (then the collector frees
 * it once they are gone). A view only drops its parent. Idempotent. */
static int release(lua_State *L, int collecting) {
    lpl_matrix *u = luaL_checkudata(L, 1, LPL_MATRIX);
    lua_getiuservalue(L, 1, 1);
    lpl_matrix *parent = luaL_testudata(L, -1, LPL_MATRIX);
    lua_pop(L, 1);
    if (parent) {
        if (parent->views > 0) parent->views--;
        u->m.data = NULL;
    } else if (!collecting && u->views > 0) {
        return 0;
    } else {
        pl_mat_release(&u->m);
    }
    u->m.rows = 1; /* closed marker: data NULL with a nonzero shape */
    lua_pushnil(L);
    lua_setiuservalue(L, 1, 1);
    return 0;
}

static int m_gc(lua_State *L) { return release(L, 1); }
static int m_close(lua_State *L) { return release(L, 0); }

static int m_index(lua_State *L) {
    pl_mat *m = lpl_checkmatrix(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        if (m->rows == 1) {
            size_t j = checkindex(L, 2, m->cols, "column");
            lua_pushnumber(L, PL_AT(m, 0, j));
            return 1;
        }
        size_t i = checkindex(L, 2, m->rows, "row");
        pushview(L, 1, pl_mat_view(m, i, 0, 1, m->cols));
        return 1;
    }
    luaL_getmetafield(L, 1, "__methods");
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int m_newindex(lua_State *L) {
    pl_mat *m = checkwritable(L, 1);
    if (m->rows != 1) return luaL_error(L, "assign elements with m:set(i, j, v) or m[i][j] = v");
    size_t j = checkindex(L, 2, m->cols, "column");
    PL_AT(m, 0, j) = luaL_checknumber(L, 3);
    return 0;
}

static int m_eq(lua_State *L) {
    pl_mat *a = lpl_checkmatrix(L, 1), *b = lpl_checkmatrix(L, 2);
    int eq = a->rows == b->rows && a->cols == b->cols;
    for (size_t i = 0; eq && i < a->rows; i++)
        for (size_t j = 0; eq && j < a->cols; j++) eq = PL_AT(a, i, j) == PL_AT(b, i, j);
    lua_pushboolean(L, eq);
    return 1;
}

static const luaL_Reg methods[] = {
    {"rows", m_rows}, {"cols", m_cols}, {"shape", m_shape}, {"get", m_get}, {"set", m_set},
    {"row", m_row},   {"col", m_col},   {"view", m_view},   {"copy", m_copy}, {"t", m_t},
    {"matmul", m_matmul}, {"mean", m_mean}, {"var", m_var}, {"sum", m_sum},
    {"totable", m_totable}, {"close", m_close}, {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__index", m_index}, {"__newindex", m_newindex}, {"__add", m_add}, {"__sub", m_sub},
    {"__mul", m_mul}, {"__div", m_div}, {"__unm", m_unm}, {"__len", m_len},
    {"__tostring", m_tostring}, {"__gc", m_gc}, {"__close", m_close}, {"__eq", m_eq},
    {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"zeros", m_zeros}, {"ones", m_ones}, {"eye", m_eye}, {"matrix", m_matrix},
    {"randn", m_randn}, {NULL, NULL}};

void lpl_open_matrix(lua_State *L) {
    if (luaL_newmetatable(L, LPL_MATRIX)) {
        luaL_setfuncs(L, meta, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__methods");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}

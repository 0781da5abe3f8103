/* lpedlab.h — the userdata types that other binding files take as arguments: Matrix
 * (bindings/lmatrix.c) and Dataset (bindings/ldataset.c), and the names of every type's
 * metatable. The helpers come with it (laux.h). */
#ifndef LPEDLAB_H
#define LPEDLAB_H

#include "data.h"
#include "laux.h"
#include "mat.h"

#define LPL_MATRIX "pedlab.Matrix"
#define LPL_DATASET "pedlab.Dataset"
#define LPL_BALLS "pedlab.BallSystem"

pl_mat *lpl_checkmatrix(lua_State *L, int idx);
pl_mat *lpl_testmatrix(lua_State *L, int idx);
/* Push a new zeroed rows×cols matrix (raises on allocation failure). */
pl_mat *lpl_newmatrix(lua_State *L, size_t rows, size_t cols);
/* Push a matrix that takes ownership of *m (m is reset). */
void lpl_pushmatrix_take(lua_State *L, pl_mat *m);
/* A Matrix, or a Lua array of numbers (→ n×1), or an array of arrays, at idx: converted
 * into a fresh owned matrix in *out (caller releases). Raises on bad input. */
void lpl_tomatrix(lua_State *L, int idx, pl_mat *out);

/* Matrices lent to a force law: a pushed copy of data (read-only when asked); after the call
 * lpl_expirematrix makes it, and every view of it, raise on any use. */
pl_mat *lpl_lendmatrix(lua_State *L, const double *data, size_t rows, size_t cols,
                       int readonly);
void lpl_expirematrix(lua_State *L, int idx);

pl_data *lpl_checkdata(lua_State *L, int idx);
/* Push a Dataset that takes over the caller's reference to d. */
void lpl_pushdata(lua_State *L, pl_data *d);

#endif

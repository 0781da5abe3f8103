/* lpedlab.h — shared helpers of the Lua bindings (one file per userdata type).
 *
 * Binding order (docs/contributing.md, "Conventions"): check every argument, create the result
 * empty, call the core (which cannot raise), free temporaries, raise last with lpl_raise (the
 * message is never a format). */
#ifndef LPEDLAB_H
#define LPEDLAB_H

#include <lauxlib.h>
#include <lua.h>

#include "data.h"
#include "mat.h"

#define LPL_MATRIX "pedlab.Matrix"
#define LPL_DATASET "pedlab.Dataset"
#define LPL_BALLS "pedlab.BallSystem"

/* Matrix userdata: the struct is the object; user value 1 holds a view's root (the matrix that
 * owns the memory), so a view never outlives the memory it reads. */
enum { LPL_MAT_READONLY = 1, LPL_MAT_EXPIRED = 2 };
typedef struct lpl_matrix {
    pl_mat m;
    int views;                /* live views of this matrix: a close leaves their memory alone */
    unsigned flags;           /* LPL_MAT_*, of a root; a view reads its root's */
    struct lpl_matrix *root;  /* itself for a matrix that owns its memory */
} lpl_matrix;

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

/* Raise err's message as a Lua error (never returns). */
int lpl_raise(lua_State *L, const pl_err *err);
/* Return nil, message (Lua io convention for environmental failures). */
int lpl_fail(lua_State *L, const pl_err *err);

/* A guard: a userdata on the stack whose __gc calls fn(p) unless the slot was cleared. It
 * makes a C resource safe across calls that may raise; clear *slot to take the resource back.
 * If the guard itself cannot be made (out of memory), fn(p) runs before the error is raised. */
void **lpl_guard(lua_State *L, void *p, void (*fn)(void *));

/* Check the options table at idx (nil/none is fine) against a NULL-terminated list of known
 * keys: a non-table, a non-string key or an unknown key raises "WHERE: unknown option 'KEY'
 * (did you mean ...?); known: ...". The one check every options table goes through (also
 * from Lua as pl.check_options(t, where, {keys...})). */
void lpl_check_options(lua_State *L, int idx, const char *where, const char *const *known);

/* Registration of each file's functions into the module table at the top of the stack. */
void lpl_open_matrix(lua_State *L);
void lpl_open_dataset(lua_State *L);
void lpl_open_io(lua_State *L);
void lpl_open_metrics(lua_State *L);
void lpl_open_balls(lua_State *L);
void lpl_open_rank(lua_State *L);
void lpl_open_mpi(lua_State *L);
void lpl_open_sandbox(lua_State *L);
void lpl_open_tsne(lua_State *L);

/* MPI in the host (lmpi.c): start it when launched by mpirun/srun (0, or 1 when MPI_Init
 * failed); end it (failed: abort the other ranks unless they ended). */
int lpl_mpi_start(int *argc, char ***argv);
void lpl_mpi_end(int failed);

int luaopen_pedlab_core(lua_State *L);

#endif

/* linit.h — the module's entry points, as lualib.h is Lua's: luaopen_pedlab_core (what a stock
 * lua5.4 and the host call, bindings/linit.c), each file's registration of its functions into
 * the module table, and MPI's start and end in the host (bindings/lmpi.c). */
#ifndef LINIT_H
#define LINIT_H

#include <lua.h>

int luaopen_pedlab_core(lua_State *L);

/* Registration of each file's functions into the module table at the top of the stack. */
void lpl_open_base(lua_State *L);
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

#endif

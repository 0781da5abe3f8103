/* linit.c — luaopen_pedlab_core: the module table of the C half of pedlab, filled by every
 * binding file in turn (the userdata types register their metatables as they go). */
#include "linit.h"

typedef void (*opener)(lua_State *L);

static const opener openers[] = {
    lpl_open_base, lpl_open_matrix, lpl_open_dataset, lpl_open_io, lpl_open_metrics,
    lpl_open_balls, lpl_open_rank, lpl_open_mpi, lpl_open_sandbox, lpl_open_tsne, NULL};

int luaopen_pedlab_core(lua_State *L) {
    lua_newtable(L);
    for (const opener *o = openers; *o; o++) (*o)(L);
    return 1;
}

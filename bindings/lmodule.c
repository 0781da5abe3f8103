/* lmodule.c — luaopen_pedlab_core: the C half of the pedlab Lua module. */
#include <lauxlib.h>
#include <lua.h>

#include "pl.h"

int luaopen_pedlab_core(lua_State *L);

int luaopen_pedlab_core(lua_State *L) {
    lua_newtable(L);
    lua_pushliteral(L, PL_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

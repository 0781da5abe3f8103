/* lpaths.h — where the host finds pedlab's Lua files (bindings/lpaths.c). */
#ifndef LPATHS_H
#define LPATHS_H

#include <lua.h>

/* package.path starts with the scripts next to the executable (build tree or install),
 * package.pedlab_scripts names them, and require "pedlab.core" finds the built-in module. */
void lpl_setup_paths(lua_State *L);
/* pedlab --lua-path: print the LUA_PATH/LUA_CPATH lines (sh) with which a stock lua5.4 finds
 * this pedlab; 0, or 1 after one line on stderr. */
int lpl_print_lua_path(void);

#endif

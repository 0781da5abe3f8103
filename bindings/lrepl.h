/* lrepl.h — the interactive session (bindings/lrepl.c). */
#ifndef LREPL_H
#define LREPL_H

#include <lua.h>

/* Read, run and print statements until the end of input (readline, history in
 * ~/.pedlab_history). */
void lpl_repl(lua_State *L);

#endif

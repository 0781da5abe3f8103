/* lcall.h — the host's protected calls (bindings/lcall.c). */
#ifndef LCALL_H
#define LCALL_H

#include <lua.h>

/* Call the function below narg arguments with a traceback handler, Ctrl-C stopping it
 * ("interrupted!"); the status of lua_pcall, the message on the stack on failure. */
int lpl_docall(lua_State *L, int narg, int nres);

#endif

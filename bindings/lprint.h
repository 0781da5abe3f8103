/* lprint.h — the REPL's printer of results (bindings/lprint.c). */
#ifndef LPRINT_H
#define LPRINT_H

#include <lua.h>

/* Print every value on the stack (called with them as arguments), tab-separated like print:
 * strings as they are, tables readably, the rest by tostring. */
int lpl_show_results(lua_State *L);

#endif

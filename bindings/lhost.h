/* lhost.h — what the files of the pedlab executable share: the host (lhost.c), where the Lua
 * files are (lpaths.c), its standard output (lstdout.c), the REPL (lrepl.c) and the REPL's
 * value printer (lprint.c). None of them is part of the module a stock lua5.4 loads. */
#ifndef LHOST_H
#define LHOST_H

#include <lua.h>

/* lhost.c: call the function below narg arguments with a traceback handler, Ctrl-C stopping
 * it ("interrupted!"); the status of lua_pcall, the message on the stack on failure. */
int lpl_docall(lua_State *L, int narg, int nres);

/* lpaths.c: package.path starts with the scripts next to the executable (build tree or
 * install), package.pedlab_scripts names them, and require "pedlab.core" finds the built-in
 * module. */
void lpl_setup_paths(lua_State *L);
/* lpaths.c: pedlab --lua-path: print the LUA_PATH/LUA_CPATH lines (sh) with which a stock
 * lua5.4 finds this pedlab; 0, or 1 after one line on stderr. */
int lpl_print_lua_path(void);

/* lstdout.c: keep the reason of a failed write to standard output (when it is not a
 * terminal), and check it again at exit(). */
void lpl_watch_stdout(void);
/* lstdout.c: report a failed write to standard output once per failure; 1 if there was one. */
int lpl_check_stdout(void);
/* lstdout.c: 1 when a write to standard output has failed since the start. */
int lpl_stdout_failed(void);

/* lrepl.c: the interactive session (readline, history in ~/.pedlab_history). */
void lpl_repl(lua_State *L);

/* lprint.c: print every value on the stack (called with them as arguments), tab-separated
 * like print: strings as they are, tables readably, the rest by tostring. */
int lpl_show_results(lua_State *L);

#endif

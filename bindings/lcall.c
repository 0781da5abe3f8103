/* lcall.c — the host's protected calls, as lua.c makes them: a message handler that adds a
 * traceback, and Ctrl-C (SIGINT) sets a hook that stops the running Lua code ("interrupted!")
 * and the core's flag that stops its long loops. */
#include <signal.h>

#include <lauxlib.h>
#include <lua.h>

#include "lcall.h"
#include "pl.h"

static lua_State *global_L = NULL;

static void lstop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

static void laction(int i) {
    int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    signal(i, SIG_DFL);
    pl_interrupted = 1;
    if (global_L) lua_sethook(global_L, lstop, flag, 1);
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lpl_docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    global_L = L;
    pl_interrupted = 0;
    void (*prev)(int) = signal(SIGINT, laction);
    int status = lua_pcall(L, narg, nres, base);
    signal(SIGINT, prev == SIG_ERR ? SIG_DFL : prev);
    lua_sethook(L, NULL, 0, 0);
    pl_interrupted = 0;
    lua_remove(L, base);
    return status;
}

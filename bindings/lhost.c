/* lhost.c — the pedlab executable: a Lua 5.4 host with the pedlab module built in.
 *
 *   pedlab                      interactive REPL (readline, history in ~/.pedlab_history)
 *   pedlab script.lua args...   run a script; `arg` as the stock lua sets it
 *   pedlab -e code | -l mod | -i script | -v | --help
 *   pedlab SUBCOMMAND args...   demo, score, rank, sweep, metrics (scripts/pedlab/cli.lua)
 *
 * Lua modules are found relative to the executable (build tree or install prefix). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "lpedlab.h"

static const char *progname = "pedlab";
static lua_State *global_L = NULL;

static const char *const subcommands[] = {"demo", "score", "rank", "sweep", "metrics", NULL};

static void print_usage(void) {
    fprintf(stderr,
            "usage: pedlab [options] [script [args]]\n"
            "       pedlab COMMAND [args]     (COMMAND: demo, score, rank, sweep, metrics; COMMAND --help)\n"
            "Options:\n"
            "  -e code    execute the string 'code'\n"
            "  -l mod     require library 'mod' into global 'mod'\n"
            "  -i         enter interactive mode after running the script\n"
            "  -v         show version information\n"
            "  --help     show this help\n"
            "  --         stop handling options\n"
            "  -          execute stdin and stop handling options\n"
            "With no arguments and a terminal: an interactive REPL where `pl` is the pedlab module.\n");
}

/* ---------- interruption: SIGINT sets a hook (as lua.c does) and the core's flag ---------- */
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

static int docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    global_L = L;
    pl_interrupted = 0;
    signal(SIGINT, laction);
    int status = lua_pcall(L, narg, nres, base);
    signal(SIGINT, SIG_DFL);
    lua_sethook(L, NULL, 0, 0);
    pl_interrupted = 0;
    lua_remove(L, base);
    return status;
}

static int report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

/* ---------- module path: scripts next to the executable ---------- */
static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_scripts(char *out, size_t cap) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    out[0] = 0;
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        const char *rel[] = {"/share/pedlab/scripts", "/../share/pedlab/scripts", NULL};
        for (int i = 0; rel[i]; i++) {
            char cand[PATH_MAX + 64];
            snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
            if (is_dir(cand)) {
                snprintf(out, cap, "%s", cand);
                return;
            }
        }
    }
#ifdef PL_SOURCE_SCRIPTS
    if (is_dir(PL_SOURCE_SCRIPTS)) {
        snprintf(out, cap, "%s", PL_SOURCE_SCRIPTS);
        return;
    }
#endif
#ifdef PL_INSTALL_SCRIPTS
    snprintf(out, cap, "%s", PL_INSTALL_SCRIPTS);
#endif
}

static void setup_paths(lua_State *L) {
    char dir[PATH_MAX];
    find_scripts(dir, sizeof dir);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", dir, dir);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, dir);
    lua_setfield(L, -2, "pedlab_scripts");
    /* the C module is built in: require "pedlab.core" finds it in package.preload */
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, luaopen_pedlab_core);
    lua_setfield(L, -2, "pedlab.core");
    lua_pop(L, 2);
}

/* ---------- the REPL ---------- */
static const char *get_prompt(lua_State *L, int first) {
    (void)L;
    return first ? "pedlab> " : "    >> ";
}

static int incomplete(lua_State *L, int status) {
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        const char *eof = "<eof>";
        size_t le = strlen(eof);
        if (lmsg >= le && strcmp(msg + lmsg - le, eof) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

static int pushline(lua_State *L, int first) {
    char *b = readline(get_prompt(L, first));
    if (b == NULL) return 0;
    size_t l = strlen(b);
    if (l > 0 && b[l - 1] == '\n') b[--l] = 0;
    if (first && b[0] == '=') lua_pushfstring(L, "return %s", b + 1);
    else lua_pushstring(L, b);
    free(b);
    return 1;
}

static int addreturn(lua_State *L) {
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2);
        if (line[0] != 0) add_history(line);
    } else {
        lua_pop(L, 2);
    }
    return status;
}

static int multiline(lua_State *L) {
    for (;;) {
        size_t len;
        const char *line = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, line, len, "=stdin");
        if (!incomplete(L, status) || !pushline(L, 0)) {
            if (line[0] != 0) add_history(line);
            return status;
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

static int loadline(lua_State *L) {
    lua_settop(L, 0);
    if (!pushline(L, 1)) return -1;
    int status = addreturn(L);
    if (status != LUA_OK) status = multiline(L);
    lua_remove(L, 1);
    return status;
}

static void print_results(lua_State *L) {
    int n = lua_gettop(L);
    if (n > 0) {
        luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
        lua_getglobal(L, "print");
        lua_insert(L, 1);
        if (lua_pcall(L, n, 0, 0) != LUA_OK)
            fprintf(stderr, "%s: error calling 'print' (%s)\n", progname, lua_tostring(L, -1));
    }
}

static char history_path[PATH_MAX];

static void repl(lua_State *L) {
    const char *home = getenv("HOME");
    if (home) {
        snprintf(history_path, sizeof history_path, "%s/.pedlab_history", home);
        read_history(history_path);
    }
    /* the module is at hand as `pl` */
    luaL_dostring(L, "pl = require 'pedlab'");
    lua_settop(L, 0);
    printf("pedlab %s (Lua %s.%s) -- `pl` is the pedlab module; Ctrl-D to quit\n", PL_VERSION,
           LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
    int status;
    const char *old = progname;
    progname = NULL;
    while ((status = loadline(L)) != -1) {
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L);
        else {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error)");
            lua_pop(L, 1);
        }
    }
    lua_settop(L, 0);
    fputc('\n', stdout);
    progname = old;
    if (home) {
        write_history(history_path);
        history_truncate_file(history_path, 1000);
    }
}

/* ---------- running things ---------- */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
    if (script == argc) script = 0;
    lua_createtable(L, argc - (script + 1), script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int pushargs(lua_State *L) {
    if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
    lua_remove(L, -n - 1);
    return n;
}

static int handle_script(lua_State *L, char **argv) {
    const char *fname = argv[0];
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = pushargs(L);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
    int status = luaL_loadbuffer(L, s, strlen(s), name);
    if (status == LUA_OK) status = docall(L, 0, 0);
    return report(L, status);
}

static int dolibrary(lua_State *L, const char *name) {
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    int status = docall(L, 1, 1);
    if (status == LUA_OK) lua_setglobal(L, name);
    return report(L, status);
}

static int is_subcommand(const char *s) {
    for (int i = 0; subcommands[i]; i++)
        if (!strcmp(s, subcommands[i])) return 1;
    return 0;
}

/* A subcommand's error for users: one line, without the traceback and the "file.lua:12: "
 * positions (the message itself names the file and the field); PEDLAB_TRACEBACK=1 keeps both. */
static int report_line(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    char *line = strdup(msg ? msg : "(error)");
    int trim = getenv("PEDLAB_TRACEBACK") == NULL;
    if (line && trim) {
        char *tb = strstr(line, "\nstack traceback:");
        if (tb) *tb = 0;
    }
    char *m = line;
    while (m && trim) {
        char *colon = strchr(m, ':');
        if (!colon || colon == m || memchr(m, ' ', (size_t)(colon - m))) break;
        char *q = colon + 1;
        if (*q < '0' || *q > '9') break;
        while (*q >= '0' && *q <= '9') q++;
        if (q[0] != ':' || q[1] != ' ') break;
        m = q + 2;
    }
    fprintf(stderr, "pedlab: %s\n", m ? m : "(error)");
    free(line);
    lua_pop(L, 1);
    return 1;
}

/* pedlab COMMAND args: require("pedlab.cli").main({COMMAND, args...}); errors print one line. */
static int run_subcommand(lua_State *L, int argc, char **argv) {
    createargtable(L, argv, argc, 0);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pedlab.cli");
    int status = docall(L, 1, 1);
    if (status != LUA_OK) return report_line(L);
    lua_getfield(L, -1, "main");
    lua_newtable(L);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, msghandler);
    lua_insert(L, -3);
    global_L = L;
    signal(SIGINT, laction);
    status = lua_pcall(L, 1, 1, -3);
    signal(SIGINT, SIG_DFL);
    if (status != LUA_OK) return report_line(L);
    int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    return code;
}

static int pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    luaL_checkversion(L);
    luaL_openlibs(L);
    setup_paths(L);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    int code = 0;
    if (argc >= 2 && is_subcommand(argv[1]) && access(argv[1], F_OK) != 0) {
        code = run_subcommand(L, argc - 1, argv + 1);
        lua_pushinteger(L, code);
        return 1;
    }
    int interactive = 0, script = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') { script = i; break; }
        if (!strcmp(a, "--")) { if (i + 1 < argc) script = i + 1; break; }
        if (!strcmp(a, "-")) { script = i; break; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_usage();
            lua_pushinteger(L, 0);
            return 1;
        }
        if (!strcmp(a, "-v")) {
            printf("pedlab %s (Lua %s.%s)\n", PL_VERSION, LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
            if (argc == 2) { lua_pushinteger(L, 0); return 1; }
            continue;
        }
        if (!strcmp(a, "-i")) { interactive = 1; continue; }
        if (!strcmp(a, "-e") || !strcmp(a, "-l")) {
            if (++i >= argc) {
                fprintf(stderr, "pedlab: '%s' needs an argument\n", a);
                print_usage();
                lua_pushinteger(L, 1);
                return 1;
            }
            continue;
        }
        fprintf(stderr, "pedlab: unrecognized option '%s'\n", a);
        print_usage();
        lua_pushinteger(L, 1);
        return 1;
    }
    createargtable(L, argv, argc, script ? script : argc);
    /* -e and -l in order */
    int ran_e = 0;
    for (int k = 1; k < (script ? script : argc); k++) {
        if (!strcmp(argv[k], "-e")) {
            ran_e = 1;
            if (dostring(L, argv[++k], "=(command line)") != LUA_OK) { lua_pushinteger(L, 1); return 1; }
        } else if (!strcmp(argv[k], "-l")) {
            if (dolibrary(L, argv[++k]) != LUA_OK) { lua_pushinteger(L, 1); return 1; }
        }
    }
    if (script && handle_script(L, argv + script) != LUA_OK) code = 1;
    if (code == 0 && (interactive || (!script && !ran_e && argc <= 1 + 0))) {
        if (interactive || isatty(0)) repl(L);
        else if (!script && !ran_e) code = dostring(L, "local f = assert(load(io.read('a'), '=stdin')) f()", "=stdin") ? 1 : 0;
    }
    lua_pushinteger(L, code);
    return 1;
}

int main(int argc, char **argv) {
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", argv[0]);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : 1;
    if (status != LUA_OK) fprintf(stderr, "pedlab: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return code;
}

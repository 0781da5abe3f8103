/* lhost.c — the pedlab executable: a Lua 5.4 host with the pedlab module built in. It reads
 * the options, then runs a command, a script, code given with -e, or the REPL.
 *
 *   pedlab                      interactive REPL (bindings/lrepl.c)
 *   pedlab script.lua args...   run a script; `arg` as the stock lua sets it
 *   pedlab -e code | -l mod | -i script | -v | --help | --lua-path
 *   pedlab COMMAND args...      a command of scripts/pedlab/commands/init.lua
 *
 * Lua modules are found relative to the executable (build tree or install prefix,
 * bindings/lpaths.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "laux.h"
#include "lcall.h"
#include "linit.h"
#include "lpaths.h"
#include "lrepl.h"
#include "lstdout.h"
#ifdef PL_FAIL_ALLOC
#include <cJSON.h>

#include "failalloc.h"
#endif

/* pedlab rank --strict with undefined cells: every output written, not a failure to abort on */
#define PL_EXIT_UNDEFINED 3

/* ---------- the commands: scripts/pedlab/commands/init.lua, read once ---------- */
#define MAX_COMMANDS 32

static struct {
    int state;                          /* 0: not read yet; 1: read; -1: cannot be read */
    const char *name[MAX_COMMANDS + 1]; /* NULL-terminated */
    const char *summary[MAX_COMMANDS];
    char why[256];                      /* state -1: the first line of the error */
} commands;

/* require "pedlab.commands", a list of {name = "...", summary = "..."}: its strings into
 * commands, kept alive by an array in the registry. Run protected. */
static int read_commands(lua_State *L) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pedlab.commands");
    lua_call(L, 1, 1);
    lua_Integer n = lua_istable(L, 1) ? luaL_len(L, 1) : 0;
    if (n < 1 || n > MAX_COMMANDS)
        return luaL_error(L, "pedlab.commands: expected a list of 1 to %d commands",
                          MAX_COMMANDS);
    lua_createtable(L, 2 * (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 1, i) != LUA_TTABLE || lua_getfield(L, -1, "name") != LUA_TSTRING ||
            lua_getfield(L, -2, "summary") != LUA_TSTRING)
            return luaL_error(L, "pedlab.commands: entry %I: expected {name = \"...\", "
                              "summary = \"...\"}", i);
        commands.summary[i - 1] = lua_tostring(L, -1);
        lua_rawseti(L, 2, 2 * i);
        commands.name[i - 1] = lua_tostring(L, -1);
        lua_rawseti(L, 2, 2 * i - 1);
        lua_pop(L, 1);
    }
    commands.name[n] = NULL;
    lua_setfield(L, LUA_REGISTRYINDEX, "pedlab.host.commands");
    return 0;
}

/* 1 when the list is at hand; 0 when it cannot be read (commands.why says why). */
static int load_commands(lua_State *L) {
    if (commands.state != 0) return commands.state > 0;
    lua_pushcfunction(L, read_commands);
    if (lua_pcall(L, 0, 0, 0) == LUA_OK) {
        commands.state = 1;
        return 1;
    }
    const char *msg = lua_tostring(L, -1);
    size_t len = msg ? strcspn(msg, "\n") : 0;
    while (len > 0 && (msg[len - 1] == ':' || msg[len - 1] == ' ')) len--;
    snprintf(commands.why, sizeof commands.why, "%.*s", (int)len, msg ? msg : "");
    lua_pop(L, 1);
    commands.name[0] = NULL;
    commands.state = -1;
    return 0;
}

/* A first argument that may name a command: not an option, no '/' or '.' (a script's path). */
static int is_word(const char *a) {
    return a[0] != '-' && !strchr(a, '/') && !strchr(a, '.');
}

static int is_subcommand(lua_State *L, const char *s) {
    if (!is_word(s) || !load_commands(L)) return 0;
    for (int i = 0; commands.name[i]; i++)
        if (!strcmp(s, commands.name[i])) return 1;
    return 0;
}

/* A first argument that is neither a command nor a file, and reads as a word: a mistyped
 * command. Says so, with the nearest command when one is within two edits. */
static int not_a_command(lua_State *L, const char *a) {
    if (!is_word(a) || access(a, F_OK) == 0) return 0;
    if (!load_commands(L)) {
        fprintf(stderr, "pedlab: '%s' is not a script file, and pedlab's commands cannot be "
                        "read: %s\n", a, commands.why);
        return 1;
    }
    char list[1024];
    pl_join(list, sizeof list, commands.name, ", ", "");
    const char *best = lpl_nearest(a, commands.name);
    if (best)
        fprintf(stderr, "pedlab: '%s' is not a pedlab command (nor a file); did you mean "
                        "'pedlab %s'? Commands: %s\n", a, best, list);
    else
        fprintf(stderr, "pedlab: '%s' is not a pedlab command (%s) nor a script file\n", a,
                list);
    return 1;
}

static void print_usage(lua_State *L) {
    fprintf(stderr, "usage: pedlab [options] [script [args]]\n"
                    "       pedlab COMMAND [args]     (pedlab COMMAND --help: its options)\n");
    if (load_commands(L)) {
        fprintf(stderr, "Commands:\n");
        for (int i = 0; commands.name[i]; i++)
            fprintf(stderr, "  %-10s %s\n", commands.name[i], commands.summary[i]);
    } else {
        fprintf(stderr, "Commands: cannot be listed: %s\n", commands.why);
    }
    fprintf(stderr,
            "Options:\n"
            "  -e code    execute the string 'code'\n"
            "  -l mod     require library 'mod' into global 'mod'\n"
            "  -i         enter interactive mode after running the script\n"
            "  -v, --version  show version information\n"
            "  --lua-path print the LUA_PATH/LUA_CPATH lines (sh) with which a stock lua5.4\n"
            "             finds this pedlab: eval \"$(pedlab --lua-path)\"\n"
            "  --help     show this help\n"
            "  --         stop handling options\n"
            "  -          execute stdin and stop handling options\n"
            "With no arguments and a terminal: an interactive REPL where `pl` is the pedlab\n"
            "module and help() lists the API.\n");
}

static int report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "pedlab: %s\n", msg ? msg : "(error)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

/* ---------- running scripts, code and commands ---------- */
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
        status = lpl_docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
    int status = luaL_loadbuffer(L, s, strlen(s), name);
    if (status == LUA_OK) status = lpl_docall(L, 0, 0);
    return report(L, status);
}

static int dolibrary(lua_State *L, const char *name) {
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    int status = lpl_docall(L, 1, 1);
    if (status == LUA_OK) lua_setglobal(L, name);
    return report(L, status);
}

/* A subcommand's error for users: one line, without the traceback and the "file.lua:12: "
 * positions (the message itself names the file and the field); PEDLAB_TRACEBACK=1 keeps both. */
static int report_line(lua_State *L) {
    /* no allocation here: the error may be that memory ran out */
    size_t len = 0;
    const char *m = lua_tolstring(L, -1, &len);
    if (m == NULL) {
        m = "(error object is not a string)";
        len = strlen(m);
    }
    if (getenv("PEDLAB_TRACEBACK") == NULL) {
        const char *tb = strstr(m, "\nstack traceback:");
        if (tb) len = (size_t)(tb - m);
        for (;;) { /* "file.lua:12: " positions */
            const char *colon = memchr(m, ':', len);
            if (!colon || colon == m || memchr(m, ' ', (size_t)(colon - m))) break;
            const char *q = colon + 1;
            if (*q < '0' || *q > '9') break;
            while (*q >= '0' && *q <= '9') q++;
            if (q[0] != ':' || q[1] != ' ') break;
            len -= (size_t)(q + 2 - m);
            m = q + 2;
        }
    }
    fprintf(stderr, "pedlab: %.*s\n", (int)(len < INT_MAX ? len : INT_MAX), m);
    lua_pop(L, 1);
    return 1;
}

/* pedlab COMMAND args: require("pedlab.cli").main({COMMAND, args...}); errors print one line. */
static int run_subcommand(lua_State *L, int argc, char **argv) {
    createargtable(L, argv, argc, 0);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "pedlab.cli");
    int status = lpl_docall(L, 1, 1);
    if (status != LUA_OK) return report_line(L);
    lua_getfield(L, -1, "main");
    lua_newtable(L);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    status = lpl_docall(L, 1, 1);
    if (status != LUA_OK) return report_line(L);
    int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : 0;
    return code;
}

/* ---------- the options, in the order lua.c reads them ---------- */
typedef struct {
    int script;      /* argv index of the script, 0 when none */
    int interactive; /* -i */
} host_opts;

/* The options before the script into *o: -1 to go on, or the exit status (after the help,
 * the version alone, --lua-path, or a usage error). */
static int read_options(lua_State *L, int argc, char **argv, host_opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) { o->script = i; break; }
        if (!strcmp(a, "--")) { if (i + 1 < argc) o->script = i + 1; break; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            print_usage(L);
            return 0;
        }
        if (!strcmp(a, "--lua-path")) return lpl_print_lua_path();
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
            printf("pedlab %s (Lua %s.%s)\n", PL_VERSION, LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
            if (argc == 2) return 0;
            continue;
        }
        if (!strcmp(a, "-i")) { o->interactive = 1; continue; }
        if (!strcmp(a, "-e") || !strcmp(a, "-l")) {
            if (++i < argc) continue;
            fprintf(stderr, "pedlab: '%s' needs an argument\n", a);
        } else {
            fprintf(stderr, "pedlab: unrecognized option '%s'\n", a);
        }
        print_usage(L);
        return 1;
    }
    return -1;
}

/* -e and -l in order, then the script, then the REPL or stdin: the exit status. */
static int run_lua(lua_State *L, int argc, char **argv) {
    host_opts o = {0, 0};
    int code = read_options(L, argc, argv, &o);
    if (code >= 0) return code;
    int script = o.script, ran_e = 0;
    createargtable(L, argv, argc, script ? script : argc);
    for (int k = 1; k < (script ? script : argc); k++) {
        if (!strcmp(argv[k], "-e")) {
            ran_e = 1;
            if (dostring(L, argv[++k], "=(command line)") != LUA_OK) return 1;
        } else if (!strcmp(argv[k], "-l")) {
            if (dolibrary(L, argv[++k]) != LUA_OK) return 1;
        }
    }
    code = script && handle_script(L, argv + script) != LUA_OK;
    if (code == 0 && (o.interactive || (!script && !ran_e && argc <= 1))) {
        if (o.interactive || isatty(0)) lpl_repl(L);
        else if (!script && !ran_e)
            code = dostring(L, "assert(load(io.read('a'), '=stdin'))()", "=stdin") ? 1 : 0;
    }
    return code;
}

static int pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    luaL_checkversion(L);
    luaL_openlibs(L);
    lpl_setup_paths(L);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    int code;
    if (argc >= 2 && is_subcommand(L, argv[1]) && access(argv[1], F_OK) != 0)
        code = run_subcommand(L, argc - 1, argv + 1);
    else if (argc >= 2 && not_a_command(L, argv[1]))
        code = 1;
    else
        code = run_lua(L, argc, argv);
    lua_pushinteger(L, code);
    return 1;
}

/* A closed standard descriptor would be reused by the next file opened (print() would then
 * write into it): hold 0-2 open; a closed stdout holds a read-only descriptor, so writing to
 * it fails (EBADF) and is reported at exit. */
static void hold_std_fds(void) {
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nfd = open("/dev/null", O_RDONLY);
            if (nfd >= 0 && nfd != fd) {
                dup2(nfd, fd);
                close(nfd);
            }
        }
}

#ifdef PL_FAIL_ALLOC
static int host_panic(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "pedlab: unprotected error: %s\n", msg ? msg : "(error object)");
    return 0;
}

/* The test build: the Lua state and cJSON allocate through the counting allocator too. */
static lua_State *new_state(void) {
    static cJSON_Hooks hooks = {malloc, free};
    cJSON_InitHooks(&hooks);
    lua_State *L = lua_newstate(pl_failalloc_lua, NULL);
    if (L) lua_atpanic(L, host_panic);
    return L;
}
#else
static lua_State *new_state(void) {
    return luaL_newstate();
}
#endif

/* os.exit() under MPI: MPI_Finalize (no-op when MPI was not started or has ended) */
static void mpi_end_at_exit(void) {
    lpl_mpi_end(0);
}

int main(int argc, char **argv) {
    hold_std_fds();
    lpl_watch_stdout();
    if (lpl_mpi_start(&argc, &argv)) return EXIT_FAILURE;
    atexit(mpi_end_at_exit);
    lua_State *L = new_state();
    if (L == NULL) {
        fprintf(stderr, "pedlab: cannot create the Lua state: not enough memory\n");
        lpl_mpi_end(1);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : 1;
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "pedlab: %s\n", msg ? msg : "(error object is not a string)");
    }
    lua_close(L);
    lpl_mpi_end(code != 0 && code != PL_EXIT_UNDEFINED);
    /* print() and io.write() ignore a full disk or a closed stdout: say it once, here */
    if (lpl_check_stdout() || lpl_stdout_failed()) return code ? code : EXIT_FAILURE;
    return code;
}

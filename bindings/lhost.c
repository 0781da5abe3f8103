/* lhost.c — the pedlab executable: a Lua 5.4 host with the pedlab module built in.
 *
 *   pedlab                      interactive REPL (readline, history in ~/.pedlab_history)
 *   pedlab script.lua args...   run a script; `arg` as the stock lua sets it
 *   pedlab -e code | -l mod | -i script | -v | --help | --lua-path
 *   pedlab SUBCOMMAND args...   demo, score, rank, sweep, metrics (scripts/pedlab/cli.lua)
 *
 * Lua modules are found relative to the executable (build tree or install prefix). */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "lpedlab.h"
#ifdef PL_FAIL_ALLOC
#include <cJSON.h>

#include "failalloc.h"
#endif

static const char *progname = "pedlab";
/* pedlab rank --strict with undefined cells: every output written, not a failure to abort on */
#define PL_EXIT_UNDEFINED 3
static lua_State *global_L = NULL;

static const char *const subcommands[] = {"demo", "score", "rank", "sweep", "metrics", NULL};

static void print_usage(void) {
    fprintf(stderr,
            "usage: pedlab [options] [script [args]]\n"
            "       pedlab COMMAND [args]     (COMMAND: demo, score, rank, sweep, metrics;\n"
            "                                  COMMAND --help)\n"
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
    void (*prev)(int) = signal(SIGINT, laction);
    int status = lua_pcall(L, narg, nres, base);
    signal(SIGINT, prev == SIG_ERR ? SIG_DFL : prev);
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
            if (is_dir(cand) && (size_t)snprintf(out, cap, "%s", cand) < cap) return;
            out[0] = 0;
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

/* ---------- pedlab --lua-path: the environment lines a stock lua5.4 needs ---------- */
/* The install layout relative to its prefix (GNUInstallDirs; an absolute directory is used as
 * it is). The prefix is the executable's own directory less PL_INSTALL_BINDIR, so a moved
 * install prints its new place. */
#ifndef PL_INSTALL_BINDIR
#define PL_INSTALL_BINDIR "bin"
#endif
#ifndef PL_INSTALL_LUA_DIR
#define PL_INSTALL_LUA_DIR "share/lua/5.4"
#endif
#ifndef PL_INSTALL_LUA_CDIR
#define PL_INSTALL_LUA_CDIR "lib/lua/5.4"
#endif

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* prefix + "/" + dir, or dir alone when it is absolute: 0, or -1 when it does not fit */
static int install_dir(char *out, size_t cap, const char *prefix, const char *dir) {
    int n = dir[0] == '/' ? snprintf(out, cap, "%s", dir)
                          : snprintf(out, cap, "%s/%s", prefix, dir);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* s in single quotes for sh: ' becomes '\'' */
static void put_quoted(const char *s) {
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", stdout);
        else putchar(*s);
    }
    putchar('\'');
}

/* The Lua directory (ldir: pedlab/init.lua below it) and the C one (cdir: pedlab/core.so),
 * as sh lines that put them before what LUA_PATH/LUA_CPATH already hold, ";;" (Lua's own
 * defaults) when unset. 0, or 1 after one line on stderr. */
static int print_lua_path(void) {
    char exe[PATH_MAX], prefix[PATH_MAX], ldir[PATH_MAX], cdir[PATH_MAX], probe[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "pedlab: --lua-path: cannot read /proc/self/exe (%s)\n", strerror(errno));
        return 1;
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    int found = 0;
    /* an install: EXEDIR is PREFIX/PL_INSTALL_BINDIR */
    size_t lexe = strlen(exe), lbin = strlen(PL_INSTALL_BINDIR);
    if (PL_INSTALL_BINDIR[0] != '/' && lexe > lbin + 1 && exe[lexe - lbin - 1] == '/' &&
        strcmp(exe + lexe - lbin, PL_INSTALL_BINDIR) == 0) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(lexe - lbin - 1), exe);
        if (install_dir(ldir, sizeof ldir, prefix, PL_INSTALL_LUA_DIR) == 0 &&
            install_dir(cdir, sizeof cdir, prefix, PL_INSTALL_LUA_CDIR) == 0) {
            snprintf(probe, sizeof probe, "%s/pedlab/init.lua", ldir);
            found = is_file(probe);
            snprintf(probe, sizeof probe, "%s/pedlab/core.so", cdir);
            found = found && is_file(probe);
        }
    }
#ifdef PL_SOURCE_SCRIPTS
    /* the build tree: EXEDIR/lib/pedlab/core.so and the source's scripts */
    if (!found && (size_t)snprintf(cdir, sizeof cdir, "%s/lib", exe) < sizeof cdir) {
        snprintf(probe, sizeof probe, "%s/pedlab/core.so", cdir);
        snprintf(ldir, sizeof ldir, "%s", PL_SOURCE_SCRIPTS);
        found = is_file(probe) && is_dir(PL_SOURCE_SCRIPTS);
    }
#endif
    if (!found) {
        fprintf(stderr,
                "pedlab: --lua-path: no Lua module installed with %s/pedlab (expected "
                "pedlab/init.lua in PREFIX/%s and pedlab/core.so in PREFIX/%s, PREFIX being "
                "the folder above %s)\n",
                exe, PL_INSTALL_LUA_DIR, PL_INSTALL_LUA_CDIR, PL_INSTALL_BINDIR);
        return 1;
    }
    /* ';' separates Lua's path templates and '?' stands for the module name */
    if (strpbrk(ldir, ";?") || strpbrk(cdir, ";?")) {
        fprintf(stderr, "pedlab: --lua-path: %s cannot be written in LUA_PATH/LUA_CPATH: it "
                        "holds ';' or '?'\n", strpbrk(ldir, ";?") ? ldir : cdir);
        return 1;
    }
    char line[2 * PATH_MAX + 32];
    snprintf(line, sizeof line, "%s/?.lua;%s/?/init.lua;", ldir, ldir);
    fputs("export LUA_PATH=", stdout);
    put_quoted(line);
    fputs("\"${LUA_PATH:-;}\"\n", stdout);
    snprintf(line, sizeof line, "%s/?.so;", cdir);
    fputs("export LUA_CPATH=", stdout);
    put_quoted(line);
    fputs("\"${LUA_CPATH:-;}\"\n", stdout);
    return 0;
}

/* ---------- the REPL ---------- */
/* Ctrl-C at the prompt drops the line being typed (or the whole statement at a `>>`
 * continuation) and never ends the session, as in bash and Python. readline's blocking
 * readline() cannot be woken by a handled signal, so the REPL drives its callback interface
 * from pselect(): SIGINT is blocked except inside pselect, whose EINTR is the Ctrl-C. */
static volatile sig_atomic_t prompt_sigint = 0;
static char *rl_got;
static int rl_have;

static void on_prompt_sigint(int sig) {
    (void)sig;
    prompt_sigint = 1;
}

static void on_rl_line(char *line) {
    rl_got = line;
    rl_have = 1;
    rl_callback_handler_remove();
}

/* One line: 1 (*out malloc'd), 0 at end of input, -1 when Ctrl-C dropped it. */
static int read_line(const char *prompt, char **out) {
    struct sigaction sa, old_sa;
    sigset_t block, old_mask;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old_mask);
    sigaction(SIGINT, &sa, &old_sa);
    prompt_sigint = 0;
    rl_have = 0;
    rl_got = NULL;
    rl_callback_handler_install(prompt, on_rl_line);
    int rc = 0, fd = fileno(rl_instream ? rl_instream : stdin);
    while (!rl_have) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int r = pselect(fd + 1, &fds, NULL, NULL, NULL, &old_mask);
        if (r < 0 && errno == EINTR) {
            if (!prompt_sigint) continue;
            rl_echo_signal_char(SIGINT);
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_cleanup_after_signal();
            rl_callback_handler_remove();
            fputc('\n', rl_outstream ? rl_outstream : stdout);
            rc = -1;
            break;
        }
        if (r < 0) {
            rl_callback_handler_remove();
            break;
        }
        rl_callback_read_char();
    }
    sigaction(SIGINT, &old_sa, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
    if (rl_have && rl_got) {
        *out = rl_got;
        rc = 1;
    }
    return rc;
}

/* 1 when the chunk failed only for lack of its end: the message is left on the stack. */
static int incomplete(lua_State *L, int status) {
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        const char *eof = "<eof>";
        size_t le = strlen(eof);
        if (lmsg >= le && strcmp(msg + lmsg - le, eof) == 0) return 1;
    }
    return 0;
}

/* Push the next line: 1, or 0 at end of input, or -1 when Ctrl-C dropped it. */
static int pushline(lua_State *L, int first) {
    char *b = NULL;
    int rc = read_line(first ? "pedlab> " : "    >> ", &b);
    if (rc <= 0) return rc;
    size_t l = strlen(b);
    if (l > 0 && b[l - 1] == '\n') b[--l] = 0;
    void **slot = lpl_guard(L, b, free); /* pushing may raise: the guard frees the line */
    if (first && b[0] == '=') lua_pushfstring(L, "return %s", b + 1);
    else lua_pushstring(L, b);
    free(b);
    *slot = NULL;
    lua_remove(L, -2);
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

#define LINE_DROPPED (-2) /* Ctrl-C: nothing to run, prompt again */

static int multiline(lua_State *L) {
    for (;;) {
        size_t len;
        const char *line = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, line, len, "=stdin");
        if (!incomplete(L, status)) {
            if (line[0] != 0) add_history(line);
            return status;
        }
        int more = pushline(L, 0);
        if (more <= 0) {
            if (more < 0) {
                lua_pop(L, 1);
                return LINE_DROPPED;
            }
            return status; /* end of input inside a statement: its syntax error */
        }
        lua_remove(L, -2); /* the "<eof>" message */
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* The next statement compiled on the stack: LUA_OK, an error status (message on the
 * stack), LINE_DROPPED, or -1 at end of input. */
static int loadline(lua_State *L) {
    lua_settop(L, 0);
    int got = pushline(L, 1);
    if (got == 0) return -1;
    if (got < 0) return LINE_DROPPED;
    int status = addreturn(L);
    if (status != LUA_OK) status = multiline(L);
    if (status == LINE_DROPPED) lua_settop(L, 0);
    else lua_remove(L, 1);
    return status;
}

/* ---------- results, readably: arrays, records with sorted keys, nested to SHOW_DEPTH ------- */
#define SHOW_DEPTH 3     /* a table nested deeper prints as {…} */
#define SHOW_ITEMS 30    /* entries shown per table, then "… (N more)" */
#define SHOW_WIDTH 100   /* a record wider than this prints one entry per line */
#define SHOW_STRING 120  /* a string inside a table longer than this is cut */

/* indent < 0: on one line; else the column the value starts at, for one entry per line */
static void show(lua_State *L, int idx, int depth, int indent);

static int is_name(const char *s, size_t n) {
    static const char *const reserved[] = {
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
        NULL};
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '_') return 0;
    }
    for (int i = 0; reserved[i]; i++)
        if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0) return 0;
    return 1;
}

/* The string at idx quoted, escaped, cut after SHOW_STRING bytes (at a character boundary). */
static void push_quoted(lua_State *L, int idx) {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    size_t keep = n;
    if (n > SHOW_STRING) {
        keep = SHOW_STRING - 20;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addchar(&b, '"');
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"': luaL_addstring(&b, "\\\""); break;
        case '\\': luaL_addstring(&b, "\\\\"); break;
        case '\n': luaL_addstring(&b, "\\n"); break;
        case '\t': luaL_addstring(&b, "\\t"); break;
        case '\r': luaL_addstring(&b, "\\r"); break;
        default:
            if (c < 32 || c == 127) {
                snprintf(esc, sizeof esc, "\\%u", (unsigned)c);
                luaL_addstring(&b, esc);
            } else {
                luaL_addchar(&b, (char)c);
            }
        }
    }
    luaL_addchar(&b, '"');
    if (keep < n) {
        lua_pushfstring(L, "… (%I bytes)", (lua_Integer)n);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
}

/* __tostring or __name: the value describes itself (matrices, datasets, ball systems). */
static int has_own_text(lua_State *L, int idx) {
    if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

/* Key order: numbers, then strings, then booleans, each ascending; other keys last. */
static int key_rank(lua_State *L, int i) {
    switch (lua_type(L, i)) {
    case LUA_TNUMBER: return 0;
    case LUA_TSTRING: return 1;
    case LUA_TBOOLEAN: return 2;
    default: return 3;
    }
}

static int key_less(lua_State *L) {
    int ra = key_rank(L, 1), rb = key_rank(L, 2);
    if (ra != rb) lua_pushboolean(L, ra < rb);
    else if (ra <= 1) lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
    else if (ra == 2) lua_pushboolean(L, !lua_toboolean(L, 1) && lua_toboolean(L, 2));
    else lua_pushboolean(L, 0);
    return 1;
}

static void add_newline(luaL_Buffer *b, int indent) {
    luaL_addchar(b, '\n');
    for (int i = 0; i < indent; i++) luaL_addchar(b, ' ');
}

/* Push the text of the table at t, `{1, 2, k = v}`: on one line when it fits in SHOW_WIDTH
 * from column `indent` (or indent < 0), else one entry per line, each indented two more. */
static void show_table(lua_State *L, int t, int depth, int indent) {
    if (depth > SHOW_DEPTH) {
        lua_pushliteral(L, "{…}");
        return;
    }
    luaL_checkstack(L, 10, "table nested too deep to print");
    lua_Integer n = 0;
    while (lua_rawgeti(L, t, n + 1) != LUA_TNIL) {
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    lua_newtable(L); /* the other keys, sorted */
    int keys = lua_gettop(L);
    lua_Integer nk = 0;
    int nested = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -1) == LUA_TTABLE) nested = 1;
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= n)
            continue;
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, ++nk);
    }
    if (nk > 1) {
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
        lua_getfield(L, -1, LUA_TABLIBNAME);
        lua_getfield(L, -1, "sort");
        lua_pushvalue(L, keys);
        lua_pushcfunction(L, key_less);
        lua_call(L, 2, 0);
        lua_pop(L, 2);
    }
    /* one line first; a flat array stays on one line whatever its width */
    for (int lines = 0; lines <= 1; lines++) {
        int inner = lines ? indent + 2 : -1;
        const char *sep = lines ? "," : ", ";
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addchar(&b, '{');
        lua_Integer shown = 0;
        for (lua_Integer i = 1; i <= n && shown < SHOW_ITEMS; i++, shown++) {
            if (shown) luaL_addstring(&b, sep);
            if (lines) add_newline(&b, inner);
            lua_rawgeti(L, t, i);
            show(L, -1, depth + 1, inner);
            lua_remove(L, -2);
            luaL_addvalue(&b);
        }
        for (lua_Integer j = 1; j <= nk && shown < SHOW_ITEMS; j++, shown++) {
            if (shown) luaL_addstring(&b, sep);
            if (lines) add_newline(&b, inner);
            lua_rawgeti(L, keys, j);
            size_t kl;
            const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &kl) : NULL;
            if (k && is_name(k, kl)) {
                luaL_addvalue(&b);
            } else {
                lua_pop(L, 1);
                luaL_addchar(&b, '[');
                lua_rawgeti(L, keys, j);
                show(L, -1, depth + 1, -1);
                lua_remove(L, -2);
                luaL_addvalue(&b);
                luaL_addchar(&b, ']');
            }
            luaL_addstring(&b, " = ");
            lua_rawgeti(L, keys, j);
            lua_rawget(L, t);
            show(L, -1, depth + 1, inner);
            lua_remove(L, -2);
            luaL_addvalue(&b);
        }
        if (n + nk > shown) {
            if (shown) luaL_addstring(&b, sep);
            if (lines) add_newline(&b, inner);
            lua_pushfstring(L, "… (%I more)", (lua_Integer)(n + nk - shown));
            luaL_addvalue(&b);
        }
        if (lines) add_newline(&b, indent);
        luaL_addchar(&b, '}');
        luaL_pushresult(&b);
        if (lines || indent < 0 || (nk == 0 && !nested) ||
            lua_rawlen(L, -1) + (size_t)indent <= SHOW_WIDTH)
            break;
        lua_pop(L, 1);
    }
    lua_remove(L, keys);
}

/* Push the text of the value at idx inside a table: strings quoted, a value with its own
 * __tostring by the first line of it. */
static void show(lua_State *L, int idx, int depth, int indent) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        push_quoted(L, idx);
    } else if (lua_type(L, idx) == LUA_TTABLE && !has_own_text(L, idx)) {
        show_table(L, idx, depth, indent);
    } else {
        size_t n;
        const char *s = luaL_tolstring(L, idx, &n);
        const char *nl = memchr(s, '\n', n);
        if (nl) {
            lua_pushlstring(L, s, (size_t)(nl - s));
            lua_remove(L, -2);
        }
    }
}

/* Print every value on the stack (called with them as arguments), tab-separated like
 * print: strings as they are, tables readably, the rest by tostring. */
static int show_results(lua_State *L) {
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (lua_type(L, i) == LUA_TTABLE && !has_own_text(L, i)) show_table(L, i, 1, 0);
        else luaL_tolstring(L, i, NULL);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (i > 1) fputc('\t', stdout);
        fwrite(s, 1, len, stdout);
        lua_pop(L, 1);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

static int stdout_failed = 0; /* a write to standard output failed: the exit status says so */
static int stdout_errno = 0;  /* the first errno of a failed write to fd 1 */

/* print() flushes and io.write() may flush in mid-run: the reason of a failure (a full disk)
 * is gone by the time the host looks at ferror(stdout). When stdout is not a terminal it is
 * reopened as a stream whose writer keeps the first errno. */
static ssize_t stdout_write(void *cookie, const char *buf, size_t n) {
    (void)cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!stdout_errno) stdout_errno = w < 0 ? errno : EIO;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int stdout_seek(void *cookie, off64_t *pos, int whence) {
    (void)cookie;
    off_t at = lseek(STDOUT_FILENO, (off_t)*pos, whence);
    if (at < 0) return -1;
    *pos = at;
    return 0;
}

static void watch_stdout(void) {
    if (isatty(STDOUT_FILENO)) return;
    cookie_io_functions_t io = {NULL, stdout_write, stdout_seek, NULL};
    FILE *f = fopencookie(NULL, "w", io);
    if (f == NULL) return;
    fflush(stdout);
    setvbuf(f, NULL, _IOFBF, BUFSIZ);
    stdout = f;
}

/* Report a failed write to standard output once per failure; 1 if there was one. */
static int check_stdout(void) {
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = stdout_errno ? stdout_errno : errno;
    if (!bad && !ferror(stdout)) return 0;
    fprintf(stderr, "pedlab: cannot write standard output: %s\n",
            e ? strerror(e) : "write error");
    stdout_errno = 0;
    fflush(stderr);
    clearerr(stdout);
    stdout_failed = 1;
    return 1;
}

/* os.exit() leaves without returning to main: the same check, and a failure is the status */
static void check_stdout_at_exit(void) {
    if (check_stdout()) _exit(EXIT_FAILURE);
}

static void print_results(lua_State *L) {
    int n = lua_gettop(L);
    if (n > 0) {
        lua_pushcfunction(L, show_results);
        lua_insert(L, 1);
        if (docall(L, n, 0) != LUA_OK) {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "error printing the results: %s\n", msg ? msg : "(error)");
            lua_pop(L, 1);
        }
    }
    check_stdout();
}

static char history_path[PATH_MAX];

static void repl(lua_State *L) {
    const char *home = getenv("HOME");
    if (home) {
        snprintf(history_path, sizeof history_path, "%s/.pedlab_history", home);
        read_history(history_path);
    }
    /* the module is at hand as `pl`, and help() */
    if (luaL_dostring(L, "pl = require 'pedlab'; help = require('pedlab.help').help"))
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_settop(L, 0);
    rl_catch_signals = 0;
    /* between statements too, a Ctrl-C must not end the session */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prompt_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    printf("pedlab %s (Lua %s.%s) -- `pl` is the pedlab module; Ctrl-D to quit\n", PL_VERSION,
           LUA_VERSION_MAJOR, LUA_VERSION_MINOR);
    int status;
    const char *old = progname;
    progname = NULL;
    while ((status = loadline(L)) != -1) {
        if (status == LINE_DROPPED) continue;
        if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) print_results(L);
        else {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error)");
            lua_pop(L, 1);
        }
    }
    lua_settop(L, 0);
    signal(SIGINT, SIG_DFL);
    fputc('\n', stdout);
    check_stdout();
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

/* Edit distance with adjacent transpositions ("scroe" is one from "score"); strings of at most
 * 31 bytes (longer ones are not near any command). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 31 || lb > 31) return (size_t)-1;
    size_t d[32][32];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            int swap = i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1];
            if (swap && d[i - 2][j - 2] + 1 < c) c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

/* A first argument that is neither a command nor a file, and reads as a word (no '/' or '.'):
 * a mistyped command. Says so, with the nearest command when one is within two edits. */
static int not_a_command(const char *a) {
    if (a[0] == '-' || strchr(a, '/') || strchr(a, '.') || access(a, F_OK) == 0) return 0;
    const char *best = NULL;
    size_t bd = 3;
    for (int i = 0; subcommands[i]; i++) {
        size_t d = edit_distance(a, subcommands[i]);
        if (d < bd) bd = d, best = subcommands[i];
    }
    if (best)
        fprintf(stderr, "pedlab: '%s' is not a pedlab command (nor a file); did you mean "
                        "'pedlab %s'? Commands: demo, score, rank, sweep, metrics\n", a, best);
    else
        fprintf(stderr, "pedlab: '%s' is not a pedlab command (demo, score, rank, sweep, metrics) "
                        "nor a script file\n", a);
    return 1;
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
    if (argc >= 2 && not_a_command(argv[1])) {
        lua_pushinteger(L, 1);
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
        if (!strcmp(a, "--lua-path")) {
            lua_pushinteger(L, print_lua_path());
            return 1;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--version")) {
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
            if (dostring(L, argv[++k], "=(command line)") != LUA_OK) {
                lua_pushinteger(L, 1);
                return 1;
            }
        } else if (!strcmp(argv[k], "-l")) {
            if (dolibrary(L, argv[++k]) != LUA_OK) { lua_pushinteger(L, 1); return 1; }
        }
    }
    if (script && handle_script(L, argv + script) != LUA_OK) code = 1;
    if (code == 0 && (interactive || (!script && !ran_e && argc <= 1 + 0))) {
        if (interactive || isatty(0)) repl(L);
        else if (!script && !ran_e)
            code = dostring(L, "assert(load(io.read('a'), '=stdin'))()", "=stdin") ? 1 : 0;
    }
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
    watch_stdout();
    atexit(check_stdout_at_exit);
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
    if (check_stdout() || stdout_failed) return code ? code : EXIT_FAILURE;
    return code;
}

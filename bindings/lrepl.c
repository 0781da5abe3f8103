/* lrepl.c — pedlab's interactive session: a prompt read with readline (history in
 * ~/.pedlab_history), `=expr` and bare expressions print their values (bindings/lprint.c),
 * statements continue over lines, and Ctrl-C drops the line being typed, never the session. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <lauxlib.h>
#include <lua.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "laux.h"
#include "lcall.h"
#include "lprint.h"
#include "lrepl.h"
#include "lstdout.h"


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


static void print_results(lua_State *L) {
    int n = lua_gettop(L);
    if (n > 0) {
        lua_pushcfunction(L, lpl_show_results);
        lua_insert(L, 1);
        if (lpl_docall(L, n, 0) != LUA_OK) {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "error printing the results: %s\n", msg ? msg : "(error)");
            lua_pop(L, 1);
        }
    }
    lpl_check_stdout();
}

static char history_path[PATH_MAX];

void lpl_repl(lua_State *L) {
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
    while ((status = loadline(L)) != -1) {
        if (status == LINE_DROPPED) continue;
        if (status == LUA_OK) status = lpl_docall(L, 0, LUA_MULTRET);
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
    lpl_check_stdout();
    if (home) {
        write_history(history_path);
        history_truncate_file(history_path, 1000);
    }
}

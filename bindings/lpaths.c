/* lpaths.c — where the host finds pedlab's Lua files: the scripts next to the executable (build
 * tree or install prefix) for its own package.path, and `pedlab --lua-path`, the lines with
 * which a stock lua5.4 finds the installed module. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>

#include "linit.h"
#include "lpaths.h"


/* The folder of the running executable into out (PATH_MAX bytes): 0, or -1 (errno set). */
static int exe_dir(char *out) {
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    char *slash = strrchr(out, '/');
    if (slash) *slash = 0;
    return 0;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_scripts(char *out, size_t cap) {
    char exe[PATH_MAX];
    out[0] = 0;
    if (exe_dir(exe) == 0) {
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

void lpl_setup_paths(lua_State *L) {
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
int lpl_print_lua_path(void) {
    char exe[PATH_MAX], prefix[PATH_MAX], ldir[PATH_MAX], cdir[PATH_MAX], probe[PATH_MAX + 32];
    if (exe_dir(exe) != 0) {
        fprintf(stderr, "pedlab: --lua-path: cannot read /proc/self/exe (%s)\n", strerror(errno));
        return 1;
    }
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

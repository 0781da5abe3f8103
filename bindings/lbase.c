/* lbase.c — the module's functions that belong to no userdata type, as lbaselib.c is Lua's:
 * pl.check_options (the Lua face of lpl_check_options), BLAS threads (pl.set_threads,
 * pl.get_threads, PEDLAB_THREADS), pl.build_info, pl.version, pl.hostname, pl.isatty and the
 * progress line of long passes (pl.progress). */
#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "laux.h"
#include "linit.h"

/* pl.check_options(t, where, {known...}) → t: the Lua layers' options tables, same helper. */
static int l_check_options(lua_State *L) {
    const char *where = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3);
    luaL_argcheck(L, n >= 0 && n < 256, 3, "at most 255 known keys");
    const char *known[256];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 3, i); /* the string stays referenced by the table */
        known[i - 1] = lua_tostring(L, -1);
        if (!known[i - 1]) return luaL_argerror(L, 3, "known keys must be strings");
        lua_pop(L, 1);
    }
    known[n] = NULL;
    lpl_check_options(L, 1, where, known);
    lua_settop(L, 1);
    return 1;
}

/* BLAS threads pedlab accepts, from pl.set_threads and from PEDLAB_THREADS alike. */
#define MAX_THREADS 1024

/* pl.set_threads(n): pedlab's threads: OpenBLAS's count, which PED's pair loops read too. */
static int l_set_threads(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= MAX_THREADS, 1,
                  lua_pushfstring(L, "threads must be 1..%d", MAX_THREADS));
    openblas_set_num_threads((int)n);
    return 0;
}

static int l_get_threads(lua_State *L) {
    lua_pushinteger(L, openblas_get_num_threads());
    return 1;
}

#ifndef PL_GIT_COMMIT
#define PL_GIT_COMMIT "unknown"
#endif

/* pl.build_info() → {version, commit (git, at configure time; "unknown" outside a clone), blas
 * (OpenBLAS's configuration line), threads (BLAS threads now)}. */
static int l_build_info(lua_State *L) {
    const char *blas = openblas_get_config();
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, PL_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushliteral(L, PL_GIT_COMMIT);
    lua_setfield(L, -2, "commit");
    lua_pushstring(L, blas ? blas : "unknown");
    lua_setfield(L, -2, "blas");
    lua_pushinteger(L, openblas_get_num_threads());
    lua_setfield(L, -2, "threads");
    return 1;
}

/* pl.hostname() → this machine's name ("unknown" when it cannot be read). */
static int l_hostname(lua_State *L) {
    char name[256];
    if (gethostname(name, sizeof name) != 0) strcpy(name, "unknown");
    name[sizeof name - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

/* pl.isatty(fd) → whether fd (0, 1 or 2) is a terminal: progress is drawn only on one. */
static int l_isatty(lua_State *L) {
    lua_Integer fd = luaL_checkinteger(L, 1);
    luaL_argcheck(L, fd >= 0 && fd <= 2, 1, "expected 0, 1 or 2");
    lua_pushboolean(L, isatty((int)fd));
    return 1;
}

/* ---------- progress of long passes, on a terminal ---------- */

typedef struct {
    char label[64];
    char unit[48];
    double t0, pass_t0, last; /* when enabled, when this pass began, when last drawn */
    size_t last_done, last_total, pass;
    int drawn;
} progress_state;

static progress_state progress;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void hms(char *out, size_t cap, double s) {
    long v = (long)(s + 0.5);
    if (v >= 3600) snprintf(out, cap, "%ldh%02ldm", v / 3600, v % 3600 / 60);
    else if (v >= 60) snprintf(out, cap, "%ldm%02lds", v / 60, v % 60);
    else snprintf(out, cap, "%lds", v);
}

/* The line drawn: label pass N [####....] done/total unit  elapsed E  ETA T (one line, redrawn
 * in place, whatever reports: block loops or a metric's own loop) */
static void block_progress(void *ud, const char *unit, size_t done, size_t total) {
    progress_state *p = ud;
    double t = now_s();
    if (p->pass == 0 || done <= p->last_done || total != p->last_total ||
        strcmp(unit, p->unit) != 0) { /* a new pass */
        p->pass++;
        p->pass_t0 = t;
        snprintf(p->unit, sizeof p->unit, "%s", unit);
        p->last = 0; /* a new pass is drawn at once */
    }
    p->last_done = done;
    p->last_total = total;
    if (done < total && t - p->last < 0.1) return;
    p->last = t;
    char el[32], eta[32], bar[25];
    int fill = total ? (int)(24.0 * (double)done / (double)total) : 24;
    for (int i = 0; i < 24; i++) bar[i] = i < fill ? '#' : '.';
    bar[24] = 0;
    hms(el, sizeof el, t - p->t0);
    hms(eta, sizeof eta, done ? (t - p->pass_t0) / (double)done * (double)(total - done) : 0);
    fprintf(stderr, "\r%s pass %zu [%s] %zu/%zu %s  elapsed %s  ETA %s  \033[K", p->label, p->pass,
            bar, done, total, p->unit, el, eta);
    fflush(stderr);
    p->drawn = 1;
}

/* pl.progress(label): draw the progress of every pass over rows on stderr (the caller checks
 * that stderr is a terminal); pl.progress(false) stops, ending the line. */
static int l_progress(lua_State *L) {
    if (lua_toboolean(L, 1)) {
        const char *label = luaL_checkstring(L, 1);
        memset(&progress, 0, sizeof progress);
        snprintf(progress.label, sizeof progress.label, "%s", label);
        progress.t0 = now_s();
        pl_set_progress(block_progress, &progress);
    } else {
        pl_set_progress(NULL, NULL);
        if (progress.drawn) fputc('\n', stderr);
        progress.drawn = 0;
    }
    return 0;
}

/* PEDLAB_THREADS: unset or empty leaves OpenBLAS's default; anything else must be
 * 1..MAX_THREADS. */
static void threads_from_env(lua_State *L) {
    const char *env = getenv("PEDLAB_THREADS");
    if (!env || !*env) return;
    char *end;
    errno = 0;
    long n = strtol(env, &end, 10);
    while (*end == ' ' || *end == '\t') end++;
    if (errno || end == env || *end || n < 1 || n > MAX_THREADS)
        luaL_error(L, "PEDLAB_THREADS=%s: expected a whole number of threads 1..%d", env,
                   MAX_THREADS);
    openblas_set_num_threads((int)n);
}

static const luaL_Reg funcs[] = {
    {"set_threads", l_set_threads}, {"get_threads", l_get_threads},
    {"check_options", l_check_options}, {"build_info", l_build_info}, {"hostname", l_hostname},
    {"isatty", l_isatty}, {"progress", l_progress}, {NULL, NULL}};

/* Raises when PEDLAB_THREADS is not a number of threads. */
void lpl_open_base(lua_State *L) {
    threads_from_env(L);
    luaL_setfuncs(L, funcs, 0);
    lua_pushliteral(L, PL_VERSION);
    lua_setfield(L, -2, "version");
}

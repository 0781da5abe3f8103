/* lmodule.c — luaopen_pedlab_core: the C half of the pedlab Lua module. */
#include <cblas.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data.h"

#include "lpedlab.h"

int lpl_raise(lua_State *L, const pl_err *err) {
    if (err->code == PL_EINTR) return luaL_error(L, "interrupted!");
    return luaL_error(L, "%s", err->msg);
}

int lpl_fail(lua_State *L, const pl_err *err) {
    luaL_pushfail(L);
    lua_pushstring(L, err->msg);
    return 2;
}

typedef struct {
    void *p;
    void (*fn)(void *);
} guard;

static int guard_gc(lua_State *L) {
    guard *g = lua_touserdata(L, 1);
    if (g->p && g->fn) g->fn(g->p);
    g->p = NULL;
    return 0;
}

/* An empty guard on the stack (run protected: making it may fail for want of memory). */
static int guard_new(lua_State *L) {
    guard *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->p = NULL;
    g->fn = NULL;
    if (luaL_newmetatable(L, "pedlab.guard")) {
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, guard_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    return 1;
}

/* p is guarded on return, or already freed by fn when the guard could not be made (the error
 * is then raised): a caller hands p over at once, with no Lua call between acquiring it and
 * guarding it, and nothing leaks on any path. */
void **lpl_guard(lua_State *L, void *p, void (*fn)(void *)) {
    if (!lua_checkstack(L, 2)) {
        if (p && fn) fn(p);
        luaL_error(L, "out of memory");
    }
    lua_pushcfunction(L, guard_new);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        if (p && fn) fn(p);
        lua_error(L); /* the error object pcall left */
    }
    guard *g = lua_touserdata(L, -1);
    g->p = p;
    g->fn = fn;
    return &g->p;
}

/* ---------- options tables: every API that takes one checks it here ---------- */
/* Levenshtein distance, capped (names are short): for "did you mean". */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la >= 63 || lb >= 63) return 99;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static int known_key(const char *k, const char *const *known) {
    for (; *known; known++)
        if (!strcmp(k, *known)) return 1;
    return 0;
}

/* Raise "WHERE: unknown option 'KEY' (did you mean 'K'?); known: a, b, c". */
static int unknown_option(lua_State *L, const char *where, const char *key,
                          const char *const *known) {
    luaL_Buffer b;
    const char *best = NULL;
    size_t bestd = 3;
    for (const char *const *k = known; *k; k++) {
        size_t d = edit_distance(key, *k);
        if (d < bestd) bestd = d, best = *k;
    }
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "%s: unknown option '%s'", where, key);
    luaL_addvalue(&b);
    if (best) {
        lua_pushfstring(L, " (did you mean '%s'?)", best);
        luaL_addvalue(&b);
    }
    luaL_addstring(&b, "; known: ");
    for (const char *const *k = known; *k; k++) {
        if (k != known) luaL_addstring(&b, ", ");
        luaL_addstring(&b, *k);
    }
    luaL_pushresult(&b);
    return lua_error(L);
}

void lpl_check_options(lua_State *L, int idx, const char *where, const char *const *known) {
    if (lua_isnoneornil(L, idx)) return;
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: options must be a table {key = value}, got a %s", where,
                   luaL_typename(L, idx));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pushvalue(L, -1);
            const char *k = luaL_tolstring(L, -1, NULL);
            luaL_error(L, "%s: option keys must be names; got the %s key %s", where,
                       luaL_typename(L, -3), k);
        }
        if (!known_key(lua_tostring(L, -1), known))
            unknown_option(L, where, lua_tostring(L, -1), known);
    }
}

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

/* PEDLAB_THREADS: unset or empty leaves OpenBLAS's default; anything else must be 1..MAX_THREADS. */
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

int luaopen_pedlab_core(lua_State *L) {
    threads_from_env(L);
    lua_newtable(L);
    lua_pushcfunction(L, l_set_threads);
    lua_setfield(L, -2, "set_threads");
    lua_pushcfunction(L, l_get_threads);
    lua_setfield(L, -2, "get_threads");
    lua_pushcfunction(L, l_check_options);
    lua_setfield(L, -2, "check_options");
    lua_pushliteral(L, PL_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushcfunction(L, l_build_info);
    lua_setfield(L, -2, "build_info");
    lua_pushcfunction(L, l_hostname);
    lua_setfield(L, -2, "hostname");
    lua_pushcfunction(L, l_isatty);
    lua_setfield(L, -2, "isatty");
    lua_pushcfunction(L, l_progress);
    lua_setfield(L, -2, "progress");
    lpl_open_matrix(L);
    lpl_open_dataset(L);
    lpl_open_io(L);
    lpl_open_metrics(L);
    lpl_open_balls(L);
    lpl_open_rank(L);
    lpl_open_mpi(L);
    lpl_open_sandbox(L);
    lpl_open_tsne(L);
    return 1;
}

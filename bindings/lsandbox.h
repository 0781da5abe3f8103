/* lsandbox.h — the one sandbox for user Lua (bindings/lsandbox.c): force laws, radius rules,
 * combiners and the top-level code of their files. Limits are per call. */
#ifndef LSANDBOX_H
#define LSANDBOX_H

#include "laux.h"

/* A force law: called once per overlapping pair or step, many times per run. */
#define LPL_LAW_INSTRUCTIONS 100000000        /* VM instructions (about 0.5 s) */
#define LPL_LAW_SECONDS 10.0                  /* wall-clock seconds (also spent in C calls) */
#define LPL_LAW_MEMORY (512.0 * 1024 * 1024)  /* bytes of growth */
/* A radius rule, a combiner, a user file's top-level code: called once per model or task. */
#define LPL_SANDBOX_INSTRUCTIONS 1000000000   /* VM instructions (about 5 s) */
#define LPL_SANDBOX_SECONDS 60.0
#define LPL_SANDBOX_MEMORY (1024.0 * 1024 * 1024)
/* The hook runs every this many instructions. */
#define LPL_HOOK_EVERY 1000

enum { LPL_HIT_NONE = 0, LPL_HIT_INSTR, LPL_HIT_TIME, LPL_HIT_MEMORY };

typedef struct lpl_sandbox {
    const char *what;    /* "force law", "radius rule auto:r.lua": messages start with it */
    int law;             /* 1: limits and messages of a force law (law_limit, ...) */
    lua_Integer limit;   /* instructions per call */
    double seconds;      /* wall-clock seconds per call */
    double memory;       /* bytes of growth per call */
    /* private */
    int saved;           /* stack index of the saved os table, exit, debug table, sethook */
    lua_Alloc old_alloc;
    void *old_ud;
    lua_Hook old_hook;
    int old_mask, old_count;
    int active, hit;
    double used, deadline;
    lua_Integer left;
    unsigned ticks;
} lpl_sandbox;

/* Default limits (law: a force law's). what is borrowed. */
void lpl_sandbox_init(lpl_sandbox *s, const char *what, int law);
/* Install the allocator and hook and replace os.exit and debug.sethook; pushes 4 stack slots
 * (s->saved is the first). Nothing raises once the allocator is installed. */
void lpl_sandbox_enter(lua_State *L, lpl_sandbox *s);
/* Undo enter: the previous hook and allocator, os.exit and debug.sethook back; the stack cut
 * to s->saved − 1. */
void lpl_sandbox_leave(lua_State *L, lpl_sandbox *s);
/* Around one call: arm resets the counters and the deadline; disarm ends the call and turns a
 * failed status into err ("WHAT exceeded its time limit (...)", or the error message at the
 * top of the stack). Returns PL_OK or PL_ECALLBACK. */
void lpl_sandbox_arm(lua_State *L, lpl_sandbox *s);
int lpl_sandbox_disarm(lua_State *L, lpl_sandbox *s, int status, pl_err *err);
/* One call under the limits, between enter and leave: arm, lua_pcall(L, nargs, nres, msgh),
 * disarm. PL_OK, or PL_ECALLBACK with the message in err (the stack as lua_pcall left it). */
int lpl_sandbox_pcall(lua_State *L, lpl_sandbox *s, int nargs, int nres, int msgh, pl_err *err);

/* A force law's limits from the options table at t (law_limit, law_timeout, law_memory; the
 * defaults LPL_LAW_* when absent) into s, made by lpl_sandbox_init(s, ..., 1); a bad value
 * raises "WHERE: law_limit: expected ...". */
void lpl_sandbox_law_options(lua_State *L, int t, const char *where, lpl_sandbox *s);
/* Message handler of a force law's call: the error as text (a table's __tostring, else its
 * type) plus a traceback; it runs inside the protected call, so its allocations count too. */
int lpl_sandbox_law_msgh(lua_State *L);
#endif

/* llaw.h — force laws written in Lua (bindings/llaw.c): the pl_law that a law option of
 * sys:step, sys:simulate or pl.ped_run gives, each call run in the sandbox of lsandbox.c. */
#ifndef LPL_LLAW_H
#define LPL_LLAW_H

#include "balls.h"
#include "lsandbox.h"

/* One Lua law's state for the calls of a step or a run: its stack slots, its limits, and the
 * arguments and results of the call in progress. */
typedef struct {
    lua_State *L;
    int fn;              /* stack index of the law function */
    int params;          /* stack index of the read-only parameter table p */
    int lent;            /* stack index of a table holding the matrices lent in a call */
    int system;          /* 1: a whole-system law */
    lpl_sandbox sb;      /* limits (law_limit, law_timeout, law_memory) and their counters */
    /* arguments and results of one call */
    double d, ri, rj, magnitude;
    size_t C, D;
    const double *centres, *radii;
    double *forces;
    const char *bad;     /* a bad result's description, for the message */
} lpl_law_ctx;

/* Resolve the law options of the table at t (0: none) for a system whose k is k. Pushes the
 * law function and the read-only parameter table p when there is a Lua law (c refers to their
 * stack slots; run the simulation between lpl_sandbox_enter and lpl_sandbox_leave of c->sb);
 * returns NULL for the built-in Hooke law. A bad option raises, naming where. */
const pl_law *lpl_opt_law(lua_State *L, int t, const char *where, double k, pl_law *law,
                          lpl_law_ctx *c);

#endif

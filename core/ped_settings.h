/* ped_settings.h — the one table of PED's settings: for each, its name, kind, default, range
 * and a one-line description. The defaults of pl_balls_opts and pl_sim_opts (balls.c), every
 * range check of the core (pl_ped_setting_check) and the Lua layer's checks
 * (pl.ped_settings()) read it. It depends on nothing but pl.h, so the ball system and the
 * pipeline (ped.c) both read it from below. */
#ifndef PL_PED_SETTINGS_H
#define PL_PED_SETTINGS_H

#include "pl.h"

enum { PL_SET_NUMBER = 0, PL_SET_INT = 1, PL_SET_CHOICE = 2, PL_SET_BOOL = 3 };

typedef struct pl_ped_setting {
    const char *name;     /* "radius", "k", "eps", "mass", "standardise", "dt", "exit_ratio",
                             "max_steps" */
    int kind;             /* PL_SET_NUMBER, PL_SET_INT, PL_SET_CHOICE, PL_SET_BOOL */
    double def, min, max; /* numbers: default and inclusive range (NAN = unbounded side);
                             choices: def is the index; booleans: def is 0 or 1 */
    int min_open;         /* 1: value must be > min (dt > 0) */
    const char *const *choices; /* PL_SET_CHOICE: NULL-terminated; def is the index */
    const char *doc;      /* one line */
} pl_ped_setting;

/* The table, in a fixed order; *n receives its length (n may be NULL). */
const pl_ped_setting *pl_ped_settings(size_t *n);
/* The entry called name, or NULL. */
const pl_ped_setting *pl_ped_setting_find(const char *name);
/* Check one value of a number, integer or boolean setting (a choice: its index) against the
 * table. On failure (PL_EINVAL) the message is "NAME = VALUE: expected RANGE", e.g.
 * "max_steps = 1e+09: expected a whole number in [0, 10000]"; callers prefix their context.
 * A name that is not in the table is an error too. */
int pl_ped_setting_check(const char *name, double v, pl_err *err);
/* The default of a setting (its index for a choice); NAN for an unknown name. */
double pl_ped_setting_default(const char *name);

#endif

/* ped.h — PED (Potential Energy Decline) as one pipeline: reference statistics → class-ball
 * system → simulation → moved dataset, and the one table of its settings.
 *
 * Every PED setting lives in one table (pl_ped_settings): its name, kind, default, range and
 * a one-line description. The defaults of pl_balls_opts and pl_sim_opts, every range check
 * of the core (pl_ped_setting_check) and the Lua layer's checks (pl.ped_settings()) read it. */
#ifndef PL_PED_H
#define PL_PED_H

#include "balls.h"

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

/* Every setting of one run. */
typedef struct pl_ped_opts {
    pl_balls_opts balls;
    pl_sim_opts sim;
} pl_ped_opts;

pl_ped_opts pl_ped_opts_default(void);
/* Ranges of every field, from the table; the first bad one is reported ("ped: ..."). */
int pl_ped_opts_check(const pl_ped_opts *o, pl_err *err);

/* The whole of PED on dataset d: reference statistics of ref (ref may be NULL: then
 * o->balls.scale_mode decides) → ball system → simulation under law (NULL = Hooke with the
 * system's k) → the moved dataset (d with the run's shift; never a copy of the features).
 * needs: the union of the PL_NEED_* flags of the metrics that will be scored on the moved
 * dataset; the pipeline decides what the root's one statistics pass computes (the Gram too
 * when any of them reads it, so no metric streams the features a second time).
 * Before allocating the ball system, the memory it will need (O(C·D + C²)) is checked: a
 * dataset with too many classes fails with a message naming PED, the dataset, the need and
 * how many classes would fit.
 * On success *moved is a new reference (caller releases), r is filled (release with
 * pl_sim_result_release) and, when sys is not NULL, the ball system is handed over (caller
 * releases with pl_balls_release). On failure nothing is left allocated, *moved is NULL, r
 * and sys are zeroed. o NULL = defaults. */
int pl_ped_run(pl_data *d, pl_source *ref, const pl_ped_opts *o, unsigned needs,
               const pl_law *law, pl_data **moved, pl_sim_result *r, pl_balls *sys,
               pl_err *err);

/* The memory check of pl_ped_run, for C classes in D dimensions of the dataset called name:
 * PL_ENOMEM with "ped: NAME has C classes: ..." when the system and its simulation would not
 * fit in physical memory. */
int pl_ped_check_size(size_t C, size_t D, const char *name, pl_err *err);

#endif

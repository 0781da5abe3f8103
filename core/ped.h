/* ped.h — PED (Potential Energy Decline) as one pipeline: reference statistics → class-ball
 * system → simulation → moved dataset. Its settings are in one table (ped_settings.h). */
#ifndef PL_PED_H
#define PL_PED_H

#include "balls.h"
#include "ped_settings.h"

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

#endif

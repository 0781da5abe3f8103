/* ped.c — PED's one pipeline (see ped.h). */
#include "ped.h"

#include <string.h>

#include "metrics/metric.h"

pl_ped_opts pl_ped_opts_default(void) {
    pl_ped_opts o;
    o.balls = pl_balls_opts_default();
    o.sim = pl_sim_opts_default();
    return o;
}

int pl_ped_opts_check(const pl_ped_opts *o, pl_err *err) {
    int rc;
    if (!o) return PL_OK;
    if ((rc = pl_balls_opts_check(&o->balls, err)) < 0) return rc;
    return pl_sim_opts_check(&o->sim, err);
}

/* ---------- the pipeline ---------- */

int pl_ped_run(pl_data *d, pl_source *ref, const pl_ped_opts *o, unsigned needs,
               const pl_law *law, pl_data **moved, pl_sim_result *r, pl_balls *sys,
               pl_err *err) {
    int rc;
    pl_balls b;
    pl_ped_opts def = pl_ped_opts_default();
    memset(&b, 0, sizeof b);
    if (sys) memset(sys, 0, sizeof *sys);
    if (r) memset(r, 0, sizeof *r);
    if (!moved || !r) return pl_err_set(err, PL_EINVAL, "ped: no place for the results");
    *moved = NULL;
    if (!d) return pl_err_set(err, PL_EINVAL, "ped: no dataset");
    if (!o) o = &def;
    if ((rc = pl_ped_opts_check(o, err)) < 0) return rc;
    if ((rc = pl_ped_check_size(pl_data_classes(d), pl_data_dim(d), pl_data_name(d), err)) < 0)
        return rc;
    /* The one pass over the features: class statistics for the balls, and the Gram in the
     * same pass when a metric scored afterwards reads it (the moved dataset derives its own
     * from it). */
    const pl_stats *st;
    if ((rc = pl_data_stats(d, (needs & PL_NEED_GRAM) != 0, &st, err)) < 0) goto cleanup;
    rc = ref ? pl_balls_init_ref(&b, d, ref, &o->balls, err)
             : pl_balls_init(&b, d, NULL, NULL, &o->balls, err);
    if (rc < 0) goto cleanup;
    if ((rc = pl_balls_simulate(&b, &o->sim, law, r, err)) < 0) goto cleanup;
    if ((rc = pl_data_moved(d, r->shift, moved, err)) < 0) goto cleanup;
    if (sys) {
        *sys = b;
        memset(&b, 0, sizeof b);
    }

cleanup:
    if (rc < 0) {
        pl_sim_result_release(r);
        *moved = NULL;
    }
    pl_balls_release(&b);
    return rc;
}

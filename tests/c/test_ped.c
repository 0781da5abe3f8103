/* test_ped.c — PED's settings table and its one pipeline (pl_ped_run). */
#include <stdlib.h>

#include "test.h"
#include "metrics/metric.h"
#include "ped.h"

TEST(ped_settings_table) {
    size_t n;
    const pl_ped_setting *s = pl_ped_settings(&n);
    ASSERT(n == 8);
    static const char *const names[] = {"radius", "k", "eps", "mass", "standardise", "dt",
                                        "exit_ratio", "max_steps"};
    for (size_t i = 0; i < n; i++) {
        ASSERT(!strcmp(s[i].name, names[i]));
        ASSERT(s[i].doc && s[i].doc[0]);
        ASSERT(pl_ped_setting_find(names[i]) == &s[i]);
    }
    /* the defaults of the option structs are the table's */
    pl_ped_opts o = pl_ped_opts_default();
    ASSERT(o.balls.radius == 0.6 && o.balls.k == 1 && o.balls.eps == 1e-3);
    ASSERT(o.balls.mass_mode == PL_BALLS_MASS_ONE && o.balls.scale_mode == PL_BALLS_SCALE_NONE);
    ASSERT(o.sim.dt == 0.1 && o.sim.exit_ratio == 0.5 && o.sim.max_steps == 6);
    pl_err err = {0};
    ASSERT_OK(pl_ped_opts_check(&o, &err), &err);
    /* one message per range, naming the setting, the value and the range */
    ASSERT_FAILS(pl_ped_setting_check("radius", -1, &err), &err,
                 "radius = -1: expected a finite number >= 0");
    ASSERT_FAILS(pl_ped_setting_check("eps", 0, &err), &err,
                 "eps = 0: expected a finite number > 0");
    ASSERT_FAILS(pl_ped_setting_check("max_steps", 2.5, &err), &err, "whole number in [0, 10000]");
    ASSERT_FAILS(pl_ped_setting_check("k", (double)INFINITY, &err), &err, "k = inf");
    ASSERT_FAILS(pl_ped_setting_check("mass", 2, &err), &err, "'unit' or 'count'");
    ASSERT_FAILS(pl_ped_setting_check("standardise", 0.5, &err), &err, "true or false");
    ASSERT_FAILS(pl_ped_setting_check("nsigma", 1, &err), &err, "unknown PED setting 'nsigma'");
    ASSERT_OK(pl_ped_setting_check("max_steps", 10000, &err), &err);
    ASSERT_OK(pl_ped_setting_check("exit_ratio", 1, &err), &err);
    o.sim.dt = 0;
    ASSERT_FAILS(pl_ped_opts_check(&o, &err), &err, "ped: dt = 0: expected a finite number > 0");
}

/* pl_ped_run equals the steps it replaces (stats, balls with ref, simulate, moved), bit for
 * bit, and hands over the system. */
TEST(ped_run_pipeline) {
    pl_err err = {0};
    pl_data *d = tf_load("overlap", 0, &err), *moved = NULL, *m2 = NULL;
    ASSERT(d);
    pl_source *ref = NULL;
    ASSERT_OK(pl_source_open_array(tf_path("overlap", "ref_features.npy"), &ref, &err), &err);
    pl_ped_opts o = pl_ped_opts_default();
    pl_sim_result r, r2;
    pl_balls sys, b;
    ASSERT_OK(pl_ped_run(d, ref, &o, PL_NEED_GRAM, NULL, &moved, &r, &sys, &err), &err);
    const pl_stats *st;
    ASSERT_OK(pl_data_stats(d, 0, &st, &err), &err);
    ASSERT(st->G != NULL); /* the Gram came in the same pass */
    ASSERT_OK(pl_balls_init_ref(&b, d, ref, &o.balls, &err), &err);
    ASSERT_OK(pl_balls_simulate(&b, &o.sim, NULL, &r2, &err), &err);
    size_t cd = r.C * r.D;
    ASSERT(r.steps == r2.steps && r.computed == r2.computed && r.steps > 0);
    ASSERT(memcmp(r.shift, r2.shift, cd * sizeof(double)) == 0);
    ASSERT(memcmp(r.shift, r.total_shift, cd * sizeof(double)) == 0);
    ASSERT(memcmp(pl_data_shift(moved), r.shift, cd * sizeof(double)) == 0);
    ASSERT(sys.steps == (size_t)r.steps && sys.C == r.C);
    ASSERT(memcmp(sys.centre, b.centre, cd * sizeof(double)) == 0);
    /* reset: back to the initial centres; a second run from there is the first again */
    pl_balls_reset(&sys);
    ASSERT(sys.steps == 0 && memcmp(sys.centre, sys.centre0, cd * sizeof(double)) == 0);
    pl_sim_result_release(&r2);
    ASSERT_OK(pl_balls_simulate(&sys, &o.sim, NULL, &r2, &err), &err);
    ASSERT(memcmp(r.shift, r2.shift, cd * sizeof(double)) == 0);
    pl_sim_result_release(&r2);

    /* failures leave nothing: bad settings, a reference of another width */
    pl_balls_release(&b);
    o.sim.max_steps = 20000;
    ASSERT_FAILS(pl_ped_run(d, ref, &o, 0, NULL, &m2, &r2, &b, &err), &err,
                 "max_steps = 20000: expected a whole number in [0, 10000]");
    ASSERT(m2 == NULL && r2.shift == NULL && b.centre == NULL);
    pl_source *bad = NULL;
    double x[] = {1, 2, 3, 4};
    pl_mat m = pl_mat_wrap(x, 2, 2);
    ASSERT_OK(pl_source_from_mat(&m, "<ref2>", &bad, &err), &err);
    o = pl_ped_opts_default();
    ASSERT_FAILS(pl_ped_run(d, bad, &o, 0, NULL, &m2, &r2, NULL, &err), &err, "columns");
    ASSERT(m2 == NULL && r2.shift == NULL);
    pl_source_release(bad);

    pl_sim_result_release(&r);
    pl_balls_release(&sys);
    pl_balls_release(&b);
    pl_data_release(moved);
    pl_source_release(ref);
    pl_data_release(d);
}

/* Too many classes: refused before allocating, naming PED, the dataset and what fits. */
TEST(ped_too_many_classes) {
    pl_err err = {0};
    ASSERT_OK(pl_ped_check_size(1000, 100, "f.npy", &err), &err);
    ASSERT_FAILS(pl_ped_check_size(100000000, 10, "features.npy", &err), &err,
                 "ped: features.npy has 100000000 classes: PED would need");
    ASSERT(err.code == PL_ENOMEM);
    ASSERT(strstr(err.msg, "classes of 10 dimensions fit"));
    ASSERT_FAILS(pl_ped_check_size(SIZE_MAX / 2, 1, "x", &err), &err, "at most about");
}

/* ped.c — PED's settings table and its one pipeline (see ped.h). */
#include "ped.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metric.h"

/* The one bound on steps: a run keeps two numbers per computed step, and every step costs
 * O(C²·D); the official code runs 6. */
#define PL_PED_MAX_STEPS 10000

static const char *const mass_choices[] = {"unit", "count", NULL};

static const pl_ped_setting settings[] = {
    {"radius", PL_SET_NUMBER, 0.6, 0, NAN, 0, NULL,
     "radius coefficient (nsigma): radius_c = radius * sqrt(sum of the class's variances)"},
    {"k", PL_SET_NUMBER, 1.0, 0, NAN, 0, NULL,
     "force constant of the Hooke law (F = k * overlap); for Hooke only k * dt^2 matters"},
    {"eps", PL_SET_NUMBER, 1e-3, 0, NAN, 1, NULL,
     "floor of the per-dimension scale max(std, eps) of the rescaled space"},
    {"mass", PL_SET_CHOICE, 0, NAN, NAN, 0, mass_choices,
     "mass of a class ball: unit (official) or count (its number of samples)"},
    {"standardise", PL_SET_BOOL, 0, 0, 1, 0, NULL,
     "without a reference set, rescale by the task's own mean and std (else no rescaling)"},
    {"dt", PL_SET_NUMBER, 0.1, 0, NAN, 1, NULL,
     "time step: a class moves 1/2 * (F / mass) * dt^2 per step (capped at the overlap)"},
    {"exit_ratio", PL_SET_NUMBER, 0.5, 0, 1, 0, NULL,
     "step k is accepted while change_k / change_1 > exit_ratio"},
    {"max_steps", PL_SET_INT, 6, 0, PL_PED_MAX_STEPS, 0, NULL,
     "at most this many accepted steps"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

const pl_ped_setting *pl_ped_settings(size_t *n) {
    if (n) *n = NSETTINGS;
    return settings;
}

const pl_ped_setting *pl_ped_setting_find(const char *name) {
    for (size_t i = 0; name && i < NSETTINGS; i++)
        if (!strcmp(settings[i].name, name)) return &settings[i];
    return NULL;
}

double pl_ped_setting_default(const char *name) {
    const pl_ped_setting *s = pl_ped_setting_find(name);
    return s ? s->def : (double)NAN;
}

int pl_ped_setting_check(const char *name, double v, pl_err *err) {
    const pl_ped_setting *s = pl_ped_setting_find(name);
    if (!s) return pl_err_set(err, PL_EINVAL, "unknown PED setting '%s'", name ? name : "");
    if (s->kind == PL_SET_BOOL) {
        if (v == 0 || v == 1) return PL_OK;
        return pl_err_set(err, PL_EINVAL, "%s = %g: expected true or false", name, v);
    }
    if (s->kind == PL_SET_CHOICE) {
        size_t n = 0;
        while (s->choices[n]) n++;
        if (v >= 0 && v < (double)n && v == floor(v)) return PL_OK;
        char list[256] = "";
        for (size_t i = 0; i < n; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s'%s'", i ? " or " : "", s->choices[i]);
        }
        return pl_err_set(err, PL_EINVAL, "%s = %g: expected %s", name, v, list);
    }
    const char *what = s->kind == PL_SET_INT ? "a whole number" : "a finite number";
    int lo = !isnan(s->min), hi = !isnan(s->max);
    int ok = isfinite(v) && (s->kind != PL_SET_INT || v == floor(v));
    if (ok && lo) ok = s->min_open ? v > s->min : v >= s->min;
    if (ok && hi) ok = v <= s->max;
    if (ok) return PL_OK;
    if (lo && hi)
        return pl_err_set(err, PL_EINVAL, "%s = %g: expected %s in %s%g, %g]", name, v, what,
                          s->min_open ? "(" : "[", s->min, s->max);
    if (lo)
        return pl_err_set(err, PL_EINVAL, "%s = %g: expected %s %s %g", name, v, what,
                          s->min_open ? ">" : ">=", s->min);
    if (hi) return pl_err_set(err, PL_EINVAL, "%s = %g: expected %s <= %g", name, v, what, s->max);
    return pl_err_set(err, PL_EINVAL, "%s = %g: expected %s", name, v, what);
}

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

/* ---------- the memory a system needs ---------- */

static double physical_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

/* Doubles a system of C classes in D dimensions and its simulation hold at once: the C×D
 * arrays (class statistics, centres, shifts, scratch, the run's record: 13 in all), the two
 * C×C pair-distance tables of a simulation, and O(C + D) small ones. */
static double need_doubles(double C, double D) { return 13 * C * D + 2 * C * C + 8 * C + 4 * D; }

int pl_ped_check_size(size_t C, size_t D, const char *name, pl_err *err) {
    double have = physical_bytes();
    double need = 8 * need_doubles((double)C, (double)D);
    size_t cc;
    int overflow = pl_mul_overflows(C, C, &cc) || pl_mul_overflows(cc, 2 * sizeof(double), &cc);
    if (!overflow && (have == 0 || need <= have)) return PL_OK;
    /* largest C with 8 * need_doubles(C, D) <= have: 2C² + (13D + 8)C + 4D − have/8 = 0 */
    double b = 13.0 * (double)D + 8, m = have / 8 - 4.0 * (double)D;
    double fit = m > 0 ? floor((-b + sqrt(b * b + 8 * m)) / 4) : 0;
    if (fit < 0) fit = 0;
    return pl_err_set(err, PL_ENOMEM, "ped: %s has %zu classes: PED would need %.3g GB (two "
                      "C×C pair-distance tables and the C×D class balls), more than this "
                      "machine's %.3g GB of memory; at most about %.0f classes of %zu "
                      "dimensions fit", name ? name : "the dataset", C, need / 1e9, have / 1e9,
                      fit, D);
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

/* ped_settings.c — PED's settings table and its checks (see ped_settings.h). */
#include "ped_settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The one bound on steps: a run keeps two numbers per computed step, and every step costs
 * O(C²·D); the official code runs 6. */
#define PL_PED_MAX_STEPS 10000

static const char *const mass_choices[] = {"unit", "count", NULL};

static const pl_ped_setting settings[] = {
    {"radius", PL_SET_NUMBER, 0.6, 0, (double)NAN, 0, NULL,
     "radius coefficient (nsigma): radius_c = radius * sqrt(sum of the class's variances)"},
    {"k", PL_SET_NUMBER, 1.0, 0, (double)NAN, 0, NULL,
     "force constant of the Hooke law (F = k * overlap); for Hooke only k * dt^2 matters"},
    {"eps", PL_SET_NUMBER, 1e-3, 0, (double)NAN, 1, NULL,
     "floor of the per-dimension scale max(std, eps) of the rescaled space"},
    {"mass", PL_SET_CHOICE, 0, (double)NAN, (double)NAN, 0, mass_choices,
     "mass of a class ball: unit (official) or count (its number of samples)"},
    {"standardise", PL_SET_BOOL, 0, 0, 1, 0, NULL,
     "without a reference set, rescale by the task's own mean and std (else no rescaling)"},
    {"dt", PL_SET_NUMBER, 0.1, 0, (double)NAN, 1, NULL,
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
        char list[256];
        pl_join(list, sizeof list, s->choices, " or ", "'");
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

/* balls.h — PED's class-ball system: Potential Energy Decline (Li et al., ICCV 2023).
 *
 * Each class c of a dataset is a ball in a rescaled feature space z = (x − offset) / scale:
 *   centre_c = class mean in z-space,
 *   radius_c = coef · sqrt(Σ_d var_c,d)        (var ddof = 0, in z-space; coef = "nsigma")
 *   mass_c   = 1 (official) or the class count.
 * offset/scale come from a reference feature set (pl_balls_ref_stats: mean and
 * max(std, eps), std with ddof = 0), from the task itself, or are 0/1 (no rescaling).
 * Everything is built from class statistics (pl_data_stats: n, S, Q); a step costs O(C²·D)
 * time and O(C·D) memory (the official code allocates C×C×D).
 *
 * Step (released for dt). For every pair i < j with overlap o = r_i + r_j − |m_i − m_j| > 0:
 *   F = force magnitude (Hooke: k·o; or a pairwise callback),
 *   displacement of class c ∈ {i, j}: s_c = clamp(½·(F/mass_c)·dt², −o, o)
 *   (the "maximum-phase" cap min(½·a·dt², o) of the official code; a negative magnitude —
 *   attraction — is capped at −o the same way),
 *   class i moves by s_i along u = (m_i − m_j)/|m_i − m_j|, class j by s_j along −u.
 * HOOKE: move = min(½·k·o·dt²/mass, o): only the product k·dt² matters (k = 2 with dt = 0.1
 * moves exactly as k = 1 with dt = 0.1·√2); a custom law decides itself whether it reads k.
 * A class's move is the sum over its partners, accumulated in partner order 0..C−1 (the
 * official np.sum order). Non-overlapping pairs never reach the force law.
 * A whole-system law returns a force per class (C×D); there are no pairs and no cap:
 *   move_c = ½·(F_c/mass_c)·dt².
 * The step's change is Σ_c Σ_d |move_c,d| in z-space (the official `sum(abs(overall_coulomb))`
 * sums over classes, not samples). Centres move, radii and masses do not (a class moves
 * rigidly, so its variance is unchanged).
 *
 * COINCIDENT CENTRES (the official code yields NaN): when |m_i − m_j| is exactly 0 (or
 * underflows to 0), the pair is treated as distance 0 (so o = r_i + r_j, and the pairwise law
 * is called with d = 0) and the direction is the fixed unit vector u = (1, 1, …, 1)/√D: class
 * i (the lower index) moves along +u, class j along −u. Two zero-radius classes at the same
 * point do not overlap (o = 0) and stay put.
 *
 * Errors: functions return PL_OK or a negative status and fill err ("ped: ..."). A failing
 * step (callback status < 0 → PL_ECALLBACK with "ped: force law: <callback message>"; a
 * non-finite magnitude/force → PL_ECALLBACK; a non-finite move → PL_ENUMERIC; interruption →
 * PL_EINTR) leaves the system exactly as it was before the step; a failing simulate leaves it
 * as it was before the simulate call. */
#ifndef PL_BALLS_H
#define PL_BALLS_H

#include "data.h"

/* ---------- options ----------
 * Defaults and ranges come from PED's one settings table (ped_settings.h). */
enum { PL_BALLS_MASS_ONE = 0, PL_BALLS_MASS_COUNT = 1 };
/* Only used when no reference statistics are given. SELF: offset = overall mean of the task's
 * features, scale = max(overall std (ddof 0), eps), from the same class statistics. */
enum { PL_BALLS_SCALE_NONE = 0, PL_BALLS_SCALE_SELF = 1 };

typedef struct pl_balls_opts {
    double radius;   /* radius coefficient ("nsigma"), finite, >= 0; default 0.6 */
    double k;        /* Hooke constant ("constant"), finite, >= 0; default 1 */
    double eps;      /* floor of the scale, finite, > 0; default 1e-3 (SELF mode) */
    int mass_mode;   /* PL_BALLS_MASS_*; default ONE */
    int scale_mode;  /* PL_BALLS_SCALE_*; default NONE */
} pl_balls_opts;

pl_balls_opts pl_balls_opts_default(void);
/* Every field against the settings table; the message names the setting and its range
 * ("ped: radius = -1: expected a finite number >= 0"). */
int pl_balls_opts_check(const pl_balls_opts *o, pl_err *err);

/* ---------- force laws ---------- */
/* Pairwise law: called once per overlapping pair (i < j) with the centre distance d >= 0 and
 * the two radii; writes the repulsive force magnitude (negative = attraction). Return < 0 on
 * failure, optionally with a message in err (err is never NULL). */
typedef int (*pl_pair_law_fn)(void *ud, double d, double ri, double rj, double *magnitude,
                              pl_err *err);
/* Whole-system law: centres (C×D, z-space, current), radii (C); writes forces (C×D, zeroed on
 * entry). Called once per step. Same failure convention. */
typedef int (*pl_system_law_fn)(void *ud, size_t C, size_t D, const double *centres,
                                const double *radii, double *forces, pl_err *err);

enum { PL_LAW_HOOKE = 0, PL_LAW_PAIR = 1, PL_LAW_SYSTEM = 2 };

typedef struct pl_law {
    int kind;                 /* PL_LAW_* */
    pl_pair_law_fn pair;      /* for PL_LAW_PAIR */
    pl_system_law_fn system;  /* for PL_LAW_SYSTEM */
    void *ud;                 /* handed to the callback */
} pl_law;
/* Everywhere a law is taken, NULL means the built-in Hooke law with the system's k. */

/* ---------- the system ---------- */
/* A plain caller-owned struct; fields are read-only for callers (the Lua bindings read them).
 * All arrays are owned by the struct and freed by pl_balls_release. */
typedef struct pl_balls {
    size_t C, D;
    double *offset;   /* D   z = (x − offset) / scale */
    double *scale;    /* D   (> 0) */
    double *centre0;  /* C×D initial centres (z-space) */
    double *centre;   /* C×D current centres (= centre0 + shift up to rounding: each applied
                         move is added to both, as the official code moves X step by step) */
    double *shift;    /* C×D accumulated move (z-space) */
    double *radius;   /* C   radius_c = coef · sqrt(Σ_d var) */
    double *mass;     /* C */
    double *count;    /* C   class sizes */
    int64_t *ids;     /* C   original class ids (for messages) */
    double k;         /* Hooke constant (also used by pl_balls_energy) */
    size_t steps;     /* steps applied since init or the last reset (pl_balls_step and
                         accepted simulate steps) */
    double *work;     /* C×D scratch: the proposed move */
    double *work2;    /* C×D scratch: candidate centres / forces */
} pl_balls;

/* Reference statistics in one streaming pass over ref (blocks of ~8 MB, block-wise two-pass
 * moments merged with Chan's formula): mean[d] and scale[d] = max(std_d, eps), std with
 * ddof = 0. mean and scale are caller arrays of pl_source_cols(ref) doubles. ref needs at
 * least one row; eps finite and > 0. */
int pl_balls_ref_stats(pl_source *ref, double eps, double *mean, double *scale, pl_err *err);

/* The memory check of pl_balls_init and pl_ped_run, for C classes in D dimensions of the
 * dataset called name: PL_ENOMEM with "ped: NAME has C classes: ..." when the system and its
 * simulation would not fit in physical memory. */
int pl_ped_check_size(size_t C, size_t D, const char *name, pl_err *err);

/* Build the system of dataset d (its shift, if any, is part of the features). ref_mean and
 * ref_scale (D doubles each, copied; scale finite and > 0) are both given or both NULL; when
 * NULL, o->scale_mode decides. o NULL = defaults. b is overwritten (not released first); on
 * failure b is left zeroed. Reads pl_data_stats(d, 0, ...): may stream d once. */
int pl_balls_init(pl_balls *b, pl_data *d, const double *ref_mean, const double *ref_scale,
                  const pl_balls_opts *o, pl_err *err);
/* Same with the reference statistics computed from ref (pl_balls_ref_stats with o->eps);
 * ref's column count must equal d's dimension. */
int pl_balls_init_ref(pl_balls *b, pl_data *d, pl_source *ref, const pl_balls_opts *o,
                      pl_err *err);
/* Frees everything; idempotent; zeroes b. */
void pl_balls_release(pl_balls *b);
/* Back to the initial state: centres = centre0, shift 0, steps 0 (radii, masses, scale and k
 * unchanged). */
void pl_balls_reset(pl_balls *b);

/* One step of length dt (the "dt" setting's range: finite, > 0) under law (NULL = Hooke),
 * always applied on success.
 * change (may be NULL) receives Σ|move| in z-space. */
int pl_balls_step(pl_balls *b, double dt, const pl_law *law, double *change, pl_err *err);

/* Potential energy Σ_{i<j} ½·k·overlap² of the current centres (the Hooke spring energy with
 * the system's k, whatever law moved the system). O(C²·D). */
double pl_balls_energy(const pl_balls *b);
/* Overlaps max(r_i + r_j − |m_i − m_j|, 0) of the current centres into out (C×C, symmetric,
 * zero diagonal, caller array). */
void pl_balls_overlaps(const pl_balls *b, double *out);
/* The accumulated shift in ORIGINAL units (Δx = Δz · scale) into out (C×D, caller array);
 * feed it to pl_data_moved. */
void pl_balls_shift_orig(const pl_balls *b, double *out);

/* ---------- simulation (the official PED loop) ---------- */
typedef struct pl_sim_opts {
    double dt;          /* "time_step", default 0.1, > 0 */
    double exit_ratio;  /* default 0.5, in [0, 1] */
    int max_steps;      /* default 6, in [0, 10000] */
} pl_sim_opts;

pl_sim_opts pl_sim_opts_default(void);
/* Every field against the settings table (as pl_balls_opts_check). */
int pl_sim_opts_check(const pl_sim_opts *o, pl_err *err);

typedef struct pl_sim_result {
    size_t C, D;
    double *shift;      /* C×D: this run's move (its accepted steps), ORIGINAL units */
    double *total_shift;/* C×D: the system's total shift after the run (since init or the
                           last reset), ORIGINAL units; equals shift for a fresh system */
    int steps;          /* accepted steps of this run */
    size_t total_steps; /* the system's steps after the run (since init or the last reset) */
    int computed;       /* steps computed = length of changes / energies (accepted, plus the
                           rejected one if the ratio rule stopped the loop) */
    double *changes;    /* computed: Σ|move| of each computed step (like position_change) */
    double *energies;   /* computed: energy of the state each step produced (for the
                           rejected step: of the discarded state) */
    double energy0;     /* energy before this run's first step */
} pl_sim_result;

/* Runs the official loop from b's current state: step k (k = 1, 2, ...) is accepted iff
 * change_k / change_1 > exit_ratio, so step 1 is accepted (ratio 1) unless its change is 0
 * (no overlap: 0/0, zero steps) or exit_ratio >= 1; the first rejected step is computed and
 * discarded and ends the loop; at most max_steps steps are accepted (then none is rejected).
 * Accepted steps are applied to b. r is overwritten (release it with pl_sim_result_release);
 * on failure r is zeroed and b is as before the call. Polls pl_check_interrupt per step. */
int pl_balls_simulate(pl_balls *b, const pl_sim_opts *o, const pl_law *law,
                      pl_sim_result *r, pl_err *err);
void pl_sim_result_release(pl_sim_result *r);

#endif

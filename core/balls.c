/* balls.c — PED's class-ball system (see balls.h for the model, the rules and the errors). */
#include "balls.h"
#include "ped_settings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

pl_balls_opts pl_balls_opts_default(void) {
    pl_balls_opts o;
    o.radius = pl_ped_setting_default("radius");
    o.k = pl_ped_setting_default("k");
    o.eps = pl_ped_setting_default("eps");
    o.mass_mode = (int)pl_ped_setting_default("mass");
    o.scale_mode = (int)pl_ped_setting_default("standardise");
    return o;
}

pl_sim_opts pl_sim_opts_default(void) {
    pl_sim_opts o;
    o.dt = pl_ped_setting_default("dt");
    o.exit_ratio = pl_ped_setting_default("exit_ratio");
    o.max_steps = (int)pl_ped_setting_default("max_steps");
    return o;
}

/* One setting against the table, the message prefixed "ped: ". */
static int check_setting(const char *name, double v, pl_err *err) {
    int rc = pl_ped_setting_check(name, v, err);
    if (rc < 0) pl_err_prefix(err, "ped");
    return rc;
}

int pl_balls_opts_check(const pl_balls_opts *o, pl_err *err) {
    int rc;
    if ((rc = check_setting("radius", o->radius, err)) < 0) return rc;
    if ((rc = check_setting("k", o->k, err)) < 0) return rc;
    if ((rc = check_setting("eps", o->eps, err)) < 0) return rc;
    if ((rc = check_setting("mass", o->mass_mode, err)) < 0) return rc;
    return check_setting("standardise", o->scale_mode, err);
}

int pl_sim_opts_check(const pl_sim_opts *o, pl_err *err) {
    int rc;
    if ((rc = check_setting("dt", o->dt, err)) < 0) return rc;
    if ((rc = check_setting("exit_ratio", o->exit_ratio, err)) < 0) return rc;
    return check_setting("max_steps", o->max_steps, err);
}

/* ---------- the memory a system needs ---------- */

/* Doubles a system of C classes in D dimensions and its simulation hold at once: the C×D
 * arrays (class statistics, centres, shifts, scratch, the run's record: 13 in all), the two
 * C×C pair-distance tables of a simulation, and O(C + D) small ones. */
static double need_doubles(double C, double D) { return 13 * C * D + 2 * C * C + 8 * C + 4 * D; }

int pl_ped_check_size(size_t C, size_t D, const char *name, pl_err *err) {
    double have = pl_physical_bytes();
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

/* ---------- reference statistics ---------- */

/* Per block: exact two-pass moments; blocks merged with Chan et al.'s pairwise update.
 * scale holds the running sum of squared deviations (M2) until the end. */
typedef struct {
    size_t D;
    double n, *mean, *m2, *bmean, *bm2;
} ref_acc;

static int ref_block(void *ud, size_t r0, size_t nb, double *x, pl_err *err) {
    ref_acc *a = ud;
    size_t D = a->D;
    (void)r0;
    (void)err;
    memset(a->bmean, 0, D * sizeof *a->bmean);
    memset(a->bm2, 0, D * sizeof *a->bm2);
    for (size_t i = 0; i < nb; i++)
        for (size_t d = 0; d < D; d++) a->bmean[d] += x[i * D + d];
    for (size_t d = 0; d < D; d++) a->bmean[d] /= (double)nb;
    for (size_t i = 0; i < nb; i++)
        for (size_t d = 0; d < D; d++) {
            double t = x[i * D + d] - a->bmean[d];
            a->bm2[d] += t * t;
        }
    double m = (double)nb;
    if (a->n == 0) {
        memcpy(a->mean, a->bmean, D * sizeof *a->mean);
        memcpy(a->m2, a->bm2, D * sizeof *a->m2);
    } else {
        double tot = a->n + m;
        for (size_t d = 0; d < D; d++) {
            double delta = a->bmean[d] - a->mean[d];
            a->mean[d] += delta * (m / tot);
            a->m2[d] += a->bm2[d] + delta * delta * (a->n * m / tot);
        }
    }
    a->n += m;
    return PL_OK;
}

int pl_balls_ref_stats(pl_source *ref, double eps, double *mean, double *scale, pl_err *err) {
    int rc = PL_OK;
    if (!ref || !mean || !scale)
        return pl_err_set(err, PL_EINVAL, "ped: reference statistics need a source and outputs");
    size_t N = pl_source_rows(ref), D = pl_source_cols(ref);
    if (N == 0 || D == 0)
        return pl_err_set(err, PL_EINVAL, "ped: reference features %s are empty (%zu×%zu)",
                          pl_source_name(ref), N, D);
    if ((rc = check_setting("eps", eps, err)) < 0) return rc;
    ref_acc a = {D, 0, mean, scale, NULL, NULL};
    a.bmean = pl_alloc(D, sizeof *a.bmean, err);
    a.bm2 = pl_alloc(D, sizeof *a.bm2, err);
    if (!a.bmean || !a.bm2) {
        rc = PL_ENOMEM;
        goto cleanup;
    }
    if ((rc = pl_source_foreach_block(ref, ref_block, &a, err)) < 0) {
        if (rc != PL_EINTR) pl_err_prefix(err, "ped: reference statistics");
        goto cleanup;
    }
    for (size_t d = 0; d < D; d++) {
        double sd = sqrt(scale[d] / a.n);
        scale[d] = sd > eps ? sd : eps;
    }

cleanup:
    free(a.bmean);
    free(a.bm2);
    return rc;
}

/* ---------- construction ---------- */

void pl_balls_release(pl_balls *b) {
    if (!b) return;
    free(b->offset);
    free(b->scale);
    free(b->centre0);
    free(b->centre);
    free(b->shift);
    free(b->radius);
    free(b->mass);
    free(b->count);
    free(b->ids);
    free(b->work);
    free(b->work2);
    memset(b, 0, sizeof *b);
}

void pl_balls_reset(pl_balls *b) {
    if (!b || !b->centre) return;
    size_t cd = b->C * b->D;
    memcpy(b->centre, b->centre0, cd * sizeof *b->centre);
    memset(b->shift, 0, cd * sizeof *b->shift);
    b->steps = 0;
}

/* The arrays of a system of C classes in D dimensions (cd = C·D); on failure some are NULL
 * (pl_balls_release frees the others). */
static int balls_alloc(pl_balls *b, size_t C, size_t D, size_t cd, pl_err *err) {
    b->offset = pl_alloc(D, sizeof(double), err);
    b->scale = pl_alloc(D, sizeof(double), err);
    b->centre0 = pl_alloc(cd, sizeof(double), err);
    b->centre = pl_alloc(cd, sizeof(double), err);
    b->shift = pl_alloc(cd, sizeof(double), err);
    b->radius = pl_alloc(C, sizeof(double), err);
    b->mass = pl_alloc(C, sizeof(double), err);
    b->count = pl_alloc(C, sizeof(double), err);
    b->ids = pl_alloc(C, sizeof(int64_t), err);
    b->work = pl_alloc(cd, sizeof(double), err);
    b->work2 = pl_alloc(cd, sizeof(double), err);
    if (!b->offset || !b->scale || !b->centre0 || !b->centre || !b->shift || !b->radius ||
        !b->mass || !b->count || !b->ids || !b->work || !b->work2) {
        return pl_err_prefix(err, "ped: ball system of %zu classes × %zu dimensions", C, D);
    }
    return PL_OK;
}

/* offset and scale of z-space: the reference's, the task's own (SELF) or 0 and 1. */
static int balls_scale(pl_balls *b, const pl_stats *st, const double *ref_mean,
                       const double *ref_scale, const pl_balls_opts *o, pl_err *err) {
    size_t C = b->C, D = b->D;
    if (ref_mean) {
        for (size_t j = 0; j < D; j++) {
            if (!isfinite(ref_mean[j]) || !isfinite(ref_scale[j]) || !(ref_scale[j] > 0)) {
                return pl_err_set(err, PL_EINVAL, "ped: reference mean/scale of dimension %zu "
                                  "is (%g, %g); need finite values and scale > 0", j,
                                  ref_mean[j], ref_scale[j]);
            }
            b->offset[j] = ref_mean[j];
            b->scale[j] = ref_scale[j];
        }
    } else if (o->scale_mode == PL_BALLS_SCALE_SELF) {
        /* Overall moments from the class sums about the origin (no cancellation when the
         * features sit far from 0): mean = o + Σ Sc / N, var = Σ Qc / N − (Σ Sc / N)². */
        double N = 0;
        for (size_t c = 0; c < C; c++) N += st->n[c];
        for (size_t j = 0; j < D; j++) {
            double s = 0, q = 0;
            for (size_t c = 0; c < C; c++) {
                s += st->Sc[c * D + j];
                q += st->Qc[c * D + j];
            }
            double m = s / N, v = q / N - m * m;
            if (!(v > 0)) v = 0;
            double sd = sqrt(v);
            b->offset[j] = st->origin[j] + m;
            b->scale[j] = sd > o->eps ? sd : o->eps;
        }
    } else {
        for (size_t j = 0; j < D; j++) b->scale[j] = 1.0;
    }
    return PL_OK;
}

/* Centres, radii, counts and masses of the classes in z-space. */
static int balls_classes(pl_balls *b, const pl_stats *st, pl_data *d, const pl_balls_opts *o,
                         pl_err *err) {
    size_t C = b->C, D = b->D, cd = C * D;
    /* Class means (relative to the origin) and variances from the centred sums, in the
     * scratch arrays (free until the first step). */
    for (size_t c = 0; c < C; c++)
        if (!(st->n[c] >= 1)) {
            return pl_err_set(err, PL_EINVAL, "ped: class %lld of %s has no samples",
                              (long long)b->ids[c], pl_data_name(d));
        }
    pl_stats_class_means(st, b->work2);
    pl_stats_class_vars(st, b->work);
    for (size_t c = 0; c < C; c++) {
        double n = st->n[c];
        double vsum = 0;
        for (size_t j = 0; j < D; j++) {
            double sc = b->scale[j];
            b->centre0[c * D + j] = ((st->origin[j] - b->offset[j]) + b->work2[c * D + j]) / sc;
            vsum += b->work[c * D + j] / (sc * sc);
        }
        b->radius[c] = o->radius * sqrt(vsum);
        b->count[c] = n;
        b->mass[c] = o->mass_mode == PL_BALLS_MASS_COUNT ? n : 1.0;
        if (!isfinite(b->radius[c])) {
            return pl_err_set(err, PL_ENUMERIC, "ped: class %lld of %s has a non-finite "
                              "radius (features too large?)", (long long)b->ids[c],
                              pl_data_name(d));
        }
    }
    for (size_t i = 0; i < cd; i++) {
        if (!isfinite(b->centre0[i])) {
            return pl_err_set(err, PL_ENUMERIC, "ped: class %lld of %s has a non-finite centre",
                              (long long)b->ids[i / D], pl_data_name(d));
        }
    }
    memcpy(b->centre, b->centre0, cd * sizeof(double));
    return PL_OK;
}

int pl_balls_init(pl_balls *b, pl_data *d, const double *ref_mean, const double *ref_scale,
                  const pl_balls_opts *o, pl_err *err) {
    int rc = PL_OK;
    if (!b) return pl_err_set(err, PL_EINVAL, "ped: no ball system to initialise");
    memset(b, 0, sizeof *b);
    if (!d) return pl_err_set(err, PL_EINVAL, "ped: no dataset");
    pl_balls_opts def = pl_balls_opts_default();
    if (!o) o = &def;
    if ((rc = pl_balls_opts_check(o, err)) < 0) return rc;
    if ((ref_mean == NULL) != (ref_scale == NULL))
        return pl_err_set(err, PL_EINVAL, "ped: give both reference mean and scale, or neither");

    /* before anything is allocated: a system of this size must fit in memory */
    if ((rc = pl_ped_check_size(pl_data_classes(d), pl_data_dim(d), pl_data_name(d), err)) < 0)
        return rc;
    const pl_stats *st = NULL;
    if ((rc = pl_data_stats(d, 0, &st, err)) < 0) return rc;
    size_t C = st->C, D = st->D, cd;
    if (C == 0 || D == 0)
        return pl_err_set(err, PL_EINVAL, "ped: dataset %s has %zu classes and %zu dimensions",
                          pl_data_name(d), C, D);
    if (pl_mul_overflows(C, D, &cd))
        return pl_err_set(err, PL_ENOMEM, "ped: %zu classes × %zu dimensions overflows", C, D);

    b->C = C;
    b->D = D;
    b->k = o->k;
    if ((rc = balls_alloc(b, C, D, cd, err)) < 0) goto cleanup;
    const int64_t *ids = pl_data_class_ids(d);
    for (size_t c = 0; c < C; c++) b->ids[c] = ids ? ids[c] : (int64_t)c;

    if ((rc = balls_scale(b, st, ref_mean, ref_scale, o, err)) < 0) goto cleanup;
    rc = balls_classes(b, st, d, o, err);

cleanup:
    if (rc < 0) pl_balls_release(b);
    return rc;
}

int pl_balls_init_ref(pl_balls *b, pl_data *d, pl_source *ref, const pl_balls_opts *o,
                      pl_err *err) {
    int rc;
    double *mean = NULL, *scale = NULL;
    if (b) memset(b, 0, sizeof *b);
    if (!d || !ref) return pl_err_set(err, PL_EINVAL, "ped: need a dataset and a reference");
    pl_balls_opts def = pl_balls_opts_default();
    if (!o) o = &def;
    size_t D = pl_data_dim(d);
    if (pl_source_cols(ref) != D)
        return pl_err_set(err, PL_EINVAL, "ped: reference features %s have %zu columns; the "
                          "features %s have %zu", pl_source_name(ref), pl_source_cols(ref),
                          pl_data_name(d), D);
    mean = pl_alloc(D, sizeof *mean, err);
    scale = pl_alloc(D, sizeof *scale, err);
    if (!mean || !scale) { rc = PL_ENOMEM; goto cleanup; }
    if ((rc = pl_balls_ref_stats(ref, o->eps, mean, scale, err)) < 0) goto cleanup;
    rc = pl_balls_init(b, d, mean, scale, o, err);
cleanup:
    free(mean);
    free(scale);
    return rc;
}

/* ---------- geometry ---------- */

static double dist_between(const double *a, const double *b, size_t D) {
    return sqrt(pl_sqdist(a, b, D));
}

/* ---------- threads ----------
 * The pair loops run over blocks of PAIR_TILE rows; the blocks are fixed by C, not by the
 * thread count. A block's results (the distances of its rows' pairs, its rows' moves) are
 * written by the one thread that takes it, in the plain loop's order, and nothing is summed
 * across blocks: results have the same bits for any number of threads (pl_par_run). */
#define PAIR_TILE 32

static size_t pair_blocks(size_t C) { return (C + PAIR_TILE - 1) / PAIR_TILE; }

/* ---------- pair distances ---------- */

typedef struct dist_ctx {
    size_t C, D;
    const double *centres;
    double *dist;
    size_t partners;  /* rows j read together: 4 with the wide kernel, else 1 */
} dist_ctx;

/* Four and eight doubles as one value (GCC and clang vector extension), read from any
 * address: the kernels below keep their accumulators in registers, which compilers do not do
 * for arrays of partial sums. */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4d_u __attribute__((vector_size(32), aligned(8), may_alias));
typedef double v8d __attribute__((vector_size(64)));
typedef double v8d_u __attribute__((vector_size(64), aligned(8), may_alias));
#define LOAD4(p) (*(const v4d_u *)(p))
#define LOAD8(p) (*(const v8d_u *)(p))

/* pl_sqdist's final order over its eight partial sums. */
#define SUM8(s) ((((s)[0] + (s)[1]) + ((s)[2] + (s)[3])) + (((s)[4] + (s)[5]) + ((s)[6] + (s)[7])))

/* Squared distances of rows a[0..3] to row r, each as pl_sqdist computes it (eight partial
 * sums, lanes u = 0..3 in lo and 4..7 in hi, and the same final order: the same bits),
 * reading r once for the four. */
PL_SIMD_CLONES
static void sqdist4(const double *const a[4], const double *r, size_t n, double out[4]) {
    v4d lo[4] = {{0}}, hi[4] = {{0}};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v4d r0 = LOAD4(r + j), r1 = LOAD4(r + j + 4);
        for (int k = 0; k < 4; k++) {
            v4d t0 = LOAD4(a[k] + j) - r0, t1 = LOAD4(a[k] + j + 4) - r1;
            lo[k] += t0 * t0;
            hi[k] += t1 * t1;
        }
    }
    for (; j < n; j++)
        for (int k = 0; k < 4; k++) {
            double t = a[k][j] - r[j];
            lo[k][0] += t * t;
        }
    for (int k = 0; k < 4; k++)
        out[k] = ((lo[k][0] + lo[k][1]) + (lo[k][2] + lo[k][3])) +
                 ((hi[k][0] + hi[k][1]) + (hi[k][2] + hi[k][3]));
}

/* The wide kernel: squared distances of rows a[0..3] to rows r[0..3] into out[t·4 + k], each
 * with pl_sqdist's bits (lane u of an accumulator is its partial sum u), every row read once
 * for the sixteen pairs. Sixteen accumulators of eight doubles: for 32 vector registers. */
PL_SIMD_CLONES
static void sqdist4x4(const double *const a[4], const double *const r[4], size_t n,
                      double out[16]) {
    v8d s[4][4] = {{{0}}};
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8d x[4] = {LOAD8(r[0] + j), LOAD8(r[1] + j), LOAD8(r[2] + j), LOAD8(r[3] + j)};
        for (int k = 0; k < 4; k++) {
            v8d ak = LOAD8(a[k] + j);
            for (int t = 0; t < 4; t++) {
                v8d d = ak - x[t];
                s[t][k] += d * d;
            }
        }
    }
    for (; j < n; j++)
        for (int t = 0; t < 4; t++)
            for (int k = 0; k < 4; k++) {
                double d = a[k][j] - r[t][j];
                s[t][k][0] += d * d;
            }
    for (int t = 0; t < 4; t++)
        for (int k = 0; k < 4; k++) out[t * 4 + k] = SUM8(s[t][k]);
}

/* Block k: the distances of rows i of the block to every j > i (upper triangle of dist); the
 * block's rows stay in cache while the rows j are read in groups of x->partners, each once for
 * four rows i. */
static void dist_block(const void *vctx, size_t k) {
    const dist_ctx *x = vctx;
    size_t C = x->C, D = x->D, i0 = k * PAIR_TILE, P = x->partners;
    size_t i1 = i0 + PAIR_TILE < C ? i0 + PAIR_TILE : C;
    const double *m = x->centres;
    double *dist = x->dist;
    for (size_t j = i0 + 1; j < C; j += P) {
        size_t np = C - j < P ? C - j : P;
        const double *r[4];
        for (size_t t = 0; t < np; t++) r[t] = m + (j + t) * D;
        /* rows i < j pair with every row of the group */
        size_t iend = i1 < j ? i1 : j, i = i0;
        for (; i + 4 <= iend; i += 4) {
            const double *a[4] = {m + i * D, m + (i + 1) * D, m + (i + 2) * D, m + (i + 3) * D};
            double q[16];
            if (np == 4)
                sqdist4x4(a, r, D, q);
            else
                for (size_t t = 0; t < np; t++) sqdist4(a, r[t], D, q + 4 * t);
            for (size_t t = 0; t < np; t++)
                for (size_t u = 0; u < 4; u++) dist[(i + u) * C + j + t] = sqrt(q[t * 4 + u]);
        }
        for (; i < iend; i++)
            for (size_t t = 0; t < np; t++)
                dist[i * C + j + t] = dist_between(m + i * D, r[t], D);
        /* rows of the group that are in the block pair with the group's later rows */
        for (size_t g = j; g < j + np && g < i1; g++)
            for (size_t t = g + 1; t < j + np; t++)
                dist[g * C + t] = dist_between(m + g * D, m + t * D, D);
    }
}

/* Every pair distance of centres into dist (C×C, upper triangle). */
static void pair_distances(size_t C, size_t D, const double *centres, double *dist) {
    dist_ctx x = {C, D, centres, dist, pl_simd_wide() ? 4 : 1};
    pl_par_run(dist_block, &x, pair_blocks(C), C * C / 2 * D);
}

/* Spring energy of the given centres; when dist is given (C×C), the pair distances are
 * computed there first (upper triangle, over the threads) so the next step of a simulation
 * need not compute them again. The sum runs in the plain pair order. */
static double energy_of(const pl_balls *b, const double *centres, double *dist) {
    size_t C = b->C, D = b->D;
    if (dist) pair_distances(C, D, centres, dist);
    double e = 0;
    for (size_t i = 0; i < C; i++)
        for (size_t j = i + 1; j < C; j++) {
            double d = dist ? dist[i * C + j] : dist_between(centres + i * D, centres + j * D, D);
            double ov = b->radius[i] + b->radius[j] - d;
            if (ov > 0) e += 0.5 * b->k * ov * ov;
        }
    return e;
}

double pl_balls_energy(const pl_balls *b) {
    return b && b->centre ? energy_of(b, b->centre, NULL) : 0.0;
}

void pl_balls_overlaps(const pl_balls *b, double *out) {
    size_t C = b->C, D = b->D;
    for (size_t i = 0; i < C; i++) {
        out[i * C + i] = 0;
        for (size_t j = i + 1; j < C; j++) {
            double ov = b->radius[i] + b->radius[j] -
                        dist_between(b->centre + i * D, b->centre + j * D, D);
            if (!(ov > 0)) ov = 0;
            out[i * C + j] = out[j * C + i] = ov;
        }
    }
}

void pl_balls_shift_orig(const pl_balls *b, double *out) {
    size_t C = b->C, D = b->D;
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) out[c * D + j] = b->shift[c * D + j] * b->scale[j];
}

/* ---------- one step ---------- */

static int callback_failed(pl_err *err, const pl_err *cbe, int status, const char *what) {
    if (cbe->msg[0]) return pl_err_set(err, PL_ECALLBACK, "ped: force law: %s", cbe->msg);
    return pl_err_set(err, PL_ECALLBACK, "ped: force law failed (status %d) %s", status, what);
}

/* The magnitudes of a pairwise law, one call per overlapping pair in the plain order (i < j,
 * row by row), on the calling thread (a Lua law cannot run on another): into dist's lower
 * triangle, dist[j·C + i], beside the distances. */
static int pair_magnitudes(const pl_balls *b, const pl_law *law, double *dist, pl_err *err) {
    size_t C = b->C;
    for (size_t i = 0; i < C; i++) {
        for (size_t j = i + 1; j < C; j++) {
            double d = dist[i * C + j], ov = b->radius[i] + b->radius[j] - d, f;
            if (!(ov > 0)) continue;
            pl_err cbe;
            cbe.code = 0;
            cbe.msg[0] = 0;
            int st = law->pair(law->ud, d, b->radius[i], b->radius[j], &f, &cbe);
            if (st < 0) {
                char what[96];
                snprintf(what, sizeof what, "for classes %lld and %lld", (long long)b->ids[i],
                         (long long)b->ids[j]);
                return callback_failed(err, &cbe, st, what);
            }
            if (!isfinite(f))
                return pl_err_set(err, PL_ECALLBACK, "ped: force law returned a non-finite "
                                  "magnitude (%g) for classes %lld and %lld", f,
                                  (long long)b->ids[i], (long long)b->ids[j]);
            dist[j * C + i] = f;
        }
        int rc = pl_check_interrupt(err);
        if (rc < 0) return rc;
    }
    return PL_OK;
}

typedef struct move_ctx {
    const pl_balls *b;
    const double *dist;   /* distances (upper triangle); a pairwise law's magnitudes (lower) */
    int hooke;            /* 1: magnitude k·overlap */
    double half, unit;    /* ½·dt², 1/√D */
    double *move;         /* C×D, zeroed */
    size_t rows;          /* rows of a block moved together: MOVE_ROWS (wide kernel) or 1 */
} move_ctx;

/* The partners p of row c among [p0, p1) with the coefficient of their term, in order:
 * a = s_c/d (the term (m_c − m_p)·a) or, for coincident centres, u = ±s_c/√D (the term u).
 * Returns the count. */
static size_t row_partners(const move_ctx *x, size_t c, size_t p0, size_t p1, size_t *ps,
                           double *coef, int *coincident) {
    const pl_balls *b = x->b;
    size_t C = b->C, n = 0;
    for (size_t p = p0; p < p1; p++) {
        if (p == c) continue;
        size_t i = c < p ? c : p, j = c < p ? p : c;
        double d = x->dist[i * C + j];
        double ov = b->radius[i] + b->radius[j] - d;
        if (!(ov > 0)) continue;
        double f = x->hooke ? b->k * ov : x->dist[j * C + i];
        /* Maximum-phase cap: a class never moves further than the overlap in one step. */
        double s = x->half * (f / b->mass[c]);
        s = s < ov ? (s > -ov ? s : -ov) : ov;
        ps[n] = p;
        coincident[n] = !(d > 0);
        /* the unit vector's scale folded into the step length: one multiply per component
         * instead of a division (within an ulp of (m_c − m_p)/d·s); coincident centres move
         * along (1, ..., 1)/√D, the lower index along +u (see balls.h) */
        coef[n] = d > 0 ? s / d : c < p ? x->unit * s : -(x->unit * s);
        n++;
    }
    return n;
}

#define PARTNER_GROUP 4
#define MOVE_ROWS 4

/* The wide kernel: rows c..c+3, each with the four partners p..p+3 (none coincident; row r's
 * coefficients a[r][0..3]), each row's four terms added in partner order in one sweep over its
 * components, the partner rows read once for the four rows. Sixteen coefficients of eight
 * doubles in registers: for 32 vector registers. */
PL_SIMD_CLONES
static void move_rows4(const move_ctx *x, size_t c, size_t p, const double a[][4]) {
    size_t D = x->b->D, q = 0;
    const double *m = x->b->centre, *cc = m + c * D;
    const double *q0 = m + p * D, *q1 = q0 + D, *q2 = q1 + D, *q3 = q2 + D;
    double *mm = x->move + c * D;
    v8d A[MOVE_ROWS][4];
    for (int r = 0; r < MOVE_ROWS; r++)
        for (int t = 0; t < 4; t++) {
            v8d z = {0};
            A[r][t] = z + a[r][t];
        }
    for (; q + 8 <= D; q += 8) {
        v8d p0 = LOAD8(q0 + q), p1 = LOAD8(q1 + q), p2 = LOAD8(q2 + q), p3 = LOAD8(q3 + q);
        for (int r = 0; r < MOVE_ROWS; r++) {
            v8d v = LOAD8(cc + r * D + q);
            *(v8d_u *)(mm + r * D + q) = (((LOAD8(mm + r * D + q) + (v - p0) * A[r][0]) +
                                           (v - p1) * A[r][1]) + (v - p2) * A[r][2]) +
                                         (v - p3) * A[r][3];
        }
    }
    for (; q < D; q++)
        for (int r = 0; r < MOVE_ROWS; r++) {
            const double *cr = cc + r * D;
            double *mr = mm + r * D;
            mr[q] = (((mr[q] + (cr[q] - q0[q]) * a[r][0]) + (cr[q] - q1[q]) * a[r][1]) +
                     (cr[q] - q2[q]) * a[r][2]) + (cr[q] - q3[q]) * a[r][3];
        }
}

/* Row c's n terms (partners ps, coefficients a, coincident flags same), added in order. */
PL_SIMD_CLONES
static void move_row(const move_ctx *x, size_t c, size_t n, const size_t *ps, const double *a,
                     const int *same) {
    size_t D = x->b->D;
    const double *m = x->b->centre, *cc = m + c * D;
    double *mc = x->move + c * D;
    int any_same = 0;
    for (size_t t = 0; t < n; t++) any_same |= same[t];
    if (n == 4 && !any_same) {
        const double *q0 = m + ps[0] * D, *q1 = m + ps[1] * D, *q2 = m + ps[2] * D,
                     *q3 = m + ps[3] * D;
        for (size_t q = 0; q < D; q++)
            mc[q] = (((mc[q] + (cc[q] - q0[q]) * a[0]) + (cc[q] - q1[q]) * a[1]) +
                     (cc[q] - q2[q]) * a[2]) + (cc[q] - q3[q]) * a[3];
        return;
    }
    for (size_t t = 0; t < n; t++) {
        const double *cp = m + ps[t] * D;
        double at = a[t];
        if (same[t])
            for (size_t q = 0; q < D; q++) mc[q] += at;
        else
            for (size_t q = 0; q < D; q++) mc[q] += (cc[q] - cp[q]) * at;
    }
}

/* Block k: the move of each of its rows c, the sum over its overlapping partners p in
 * ascending order (the plain loop's order for that row) of (m_c − m_p)·s_c/d. For c > p
 * this is the plain loop's m_c −= (m_p − m_c)·s_c/d with the same bits (a − b = −(b − a)
 * and x + (−y) = x − y exactly). Partners come in groups of PARTNER_GROUP rows, each read
 * once for x->rows rows of the block (the wide kernel, where each of those rows has the whole
 * group as partners: 99.8 % of the pairs overlap at C = 1000 in bench/), else once per row. */
static void move_block(const void *vctx, size_t k) {
    const move_ctx *x = vctx;
    size_t C = x->b->C, c0 = k * PAIR_TILE;
    size_t c1 = c0 + PAIR_TILE < C ? c0 + PAIR_TILE : C;
    for (size_t p0 = 0; p0 < C; p0 += PARTNER_GROUP) {
        size_t p1 = p0 + PARTNER_GROUP < C ? p0 + PARTNER_GROUP : C;
        for (size_t c = c0; c < c1; c += x->rows) {
            size_t ps[MOVE_ROWS][PARTNER_GROUP], n[MOVE_ROWS] = {0};
            double a[MOVE_ROWS][PARTNER_GROUP];
            int same[MOVE_ROWS][PARTNER_GROUP], full = 1;
            size_t rows = c1 - c < x->rows ? c1 - c : x->rows;
            for (size_t r = 0; r < rows; r++) {
                n[r] = row_partners(x, c + r, p0, p1, ps[r], a[r], same[r]);
                full &= n[r] == PARTNER_GROUP &&
                        !(same[r][0] | same[r][1] | same[r][2] | same[r][3]);
            }
            if (rows == MOVE_ROWS && full) {
                move_rows4(x, c, p0, (const double(*)[4])a);
                continue;
            }
            for (size_t r = 0; r < rows; r++)
                if (n[r]) move_row(x, c + r, n[r], ps[r], a[r], same[r]);
        }
    }
}

/* Pairs: the official step, with the force magnitude from Hooke or a pairwise callback.
 * move (C×D) must be zeroed; dist (C×C) holds the current pair distances in its upper
 * triangle (its lower triangle is scratch). */
static int propose_pairs(const pl_balls *b, double dt, const pl_law *law, double *move,
                         double *dist, pl_err *err) {
    size_t C = b->C, D = b->D;
    int pair = law && law->kind == PL_LAW_PAIR, rc;
    if (pair && (rc = pair_magnitudes(b, law, dist, err)) < 0) return rc;
    move_ctx x = {b,    dist, !pair, 0.5 * (dt * dt), 1.0 / sqrt((double)D),
                  move, pl_simd_wide() ? MOVE_ROWS : 1};
    pl_par_run(move_block, &x, pair_blocks(C), C * C * D);
    /* Long passes for large C: stay interruptible inside a step. */
    return pl_check_interrupt(err);
}

static int propose_system(pl_balls *b, double dt, const pl_law *law, double *move,
                          double *forces, pl_err *err) {
    size_t C = b->C, D = b->D;
    pl_err cbe;
    cbe.code = 0;
    cbe.msg[0] = 0;
    memset(forces, 0, C * D * sizeof *forces);
    int st = law->system(law->ud, C, D, b->centre, b->radius, forces, &cbe);
    if (st < 0) return callback_failed(err, &cbe, st, "(whole-system law)");
    double half = 0.5 * (dt * dt);
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) {
            double f = forces[c * D + j];
            if (!isfinite(f))
                return pl_err_set(err, PL_ECALLBACK, "ped: force law returned a non-finite "
                                  "force (%g) for class %lld, dimension %zu", f,
                                  (long long)b->ids[c], j);
            move[c * D + j] = half * (f / b->mass[c]);
        }
    return PL_OK;
}

/* Compute the move of one step into b->work without touching the system; *change = Σ|move|.
 * dist (C×C) holds the current pair distances (upper triangle) for a pair law or Hooke. */
static int propose(pl_balls *b, double dt, const pl_law *law, double *change, double *dist,
                   pl_err *err) {
    size_t cd = b->C * b->D;
    if (!b->centre) return pl_err_set(err, PL_EINVAL, "ped: ball system not initialised");
    int rc = check_setting("dt", dt, err);
    if (rc < 0) return rc;
    if (law && law->kind != PL_LAW_HOOKE) {
        if (law->kind == PL_LAW_PAIR && !law->pair)
            return pl_err_set(err, PL_EINVAL, "ped: pairwise force law without a function");
        if (law->kind == PL_LAW_SYSTEM && !law->system)
            return pl_err_set(err, PL_EINVAL, "ped: whole-system force law without a function");
        if (law->kind != PL_LAW_PAIR && law->kind != PL_LAW_SYSTEM)
            return pl_err_set(err, PL_EINVAL, "ped: unknown force law kind %d", law->kind);
    }
    double *move = b->work;
    memset(move, 0, cd * sizeof *move);
    rc = law && law->kind == PL_LAW_SYSTEM ? propose_system(b, dt, law, move, b->work2, err)
                                           : propose_pairs(b, dt, law, move, dist, err);
    if (rc < 0) return rc;
    double ch = 0;
    for (size_t i = 0; i < cd; i++) ch += fabs(move[i]);
    if (!isfinite(ch))
        return pl_err_set(err, PL_ENUMERIC, "ped: a step produced a non-finite move");
    *change = ch;
    return PL_OK;
}

static void commit(pl_balls *b) {
    size_t cd = b->C * b->D;
    for (size_t i = 0; i < cd; i++) {
        b->centre[i] += b->work[i];
        b->shift[i] += b->work[i];
    }
    b->steps++;
}

int pl_balls_step(pl_balls *b, double dt, const pl_law *law, double *change, pl_err *err) {
    if (!b) return pl_err_set(err, PL_EINVAL, "ped: no ball system");
    if (!b->centre) return pl_err_set(err, PL_EINVAL, "ped: ball system not initialised");
    double ch = 0, *dist = NULL;
    int rc = pl_check_interrupt(err);
    if (rc < 0) return rc;
    if (!(law && law->kind == PL_LAW_SYSTEM)) {
        if (!(dist = pl_alloc(b->C * b->C, sizeof *dist, err)))
            return pl_err_prefix(err, "ped: pair distances of %zu classes", b->C);
        pair_distances(b->C, b->D, b->centre, dist);
    }
    if ((rc = propose(b, dt, law, &ch, dist, err)) < 0) goto cleanup;
    commit(b);
    if (change) *change = ch;
cleanup:
    free(dist);
    return rc;
}

/* ---------- simulation ---------- */

void pl_sim_result_release(pl_sim_result *r) {
    if (!r) return;
    free(r->shift);
    free(r->total_shift);
    free(r->changes);
    free(r->energies);
    memset(r, 0, sizeof *r);
}

int pl_balls_simulate(pl_balls *b, const pl_sim_opts *o, const pl_law *law,
                      pl_sim_result *r, pl_err *err) {
    int rc = PL_OK;
    double *save_centre = NULL, *save_shift = NULL, *dcur = NULL, *dnext = NULL;
    if (!r) return pl_err_set(err, PL_EINVAL, "ped: no result record");
    memset(r, 0, sizeof *r);
    if (!b || !b->centre) return pl_err_set(err, PL_EINVAL, "ped: ball system not initialised");
    pl_sim_opts def = pl_sim_opts_default();
    if (!o) o = &def;
    if ((rc = pl_sim_opts_check(o, err)) < 0) return rc;

    size_t C = b->C, D = b->D, cd = C * D, slots = o->max_steps > 0 ? (size_t)o->max_steps : 1;
    size_t steps0 = b->steps;
    r->C = C;
    r->D = D;
    r->shift = pl_alloc(cd, sizeof(double), err);
    r->total_shift = pl_alloc(cd, sizeof(double), err);
    r->changes = pl_alloc(slots, sizeof(double), err);
    r->energies = pl_alloc(slots, sizeof(double), err);
    /* a fresh system (no step yet: centres = initial centres, shift 0) is restored from
     * centre0; any other is saved first */
    int fresh = steps0 == 0;
    if (!fresh) {
        save_centre = pl_alloc(cd, sizeof(double), err);
        save_shift = pl_alloc(cd, sizeof(double), err);
    }
    /* pair distances of the current and of the proposed state: the proposed state's, computed
     * for its energy, are the next step's current ones (commit adds the same move, same bits) */
    dcur = pl_alloc(C * C, sizeof(double), err);
    dnext = pl_alloc(C * C, sizeof(double), err);
    if (!r->shift || !r->total_shift || !r->changes || !r->energies ||
        (!fresh && (!save_centre || !save_shift)) || !dcur || !dnext) {
        rc = pl_err_prefix(err, "ped: simulation of %zu classes × %zu dimensions", C, D);
        goto cleanup;
    }
    if (!fresh) {
        memcpy(save_centre, b->centre, cd * sizeof(double));
        memcpy(save_shift, b->shift, cd * sizeof(double));
    }
    /* r->shift accumulates this run's accepted moves (z-space until the end), in the order
     * commit adds them to b->shift: for a fresh system the two have the same bits */

    r->energy0 = energy_of(b, b->centre, dcur);
    if ((rc = pl_check_interrupt(err)) < 0) goto cleanup;
    double first = 0;
    while (r->steps < o->max_steps) {
        double ch;
        if ((rc = pl_check_interrupt(err)) < 0) goto cleanup;
        if ((rc = propose(b, o->dt, law, &ch, dcur, err)) < 0) goto cleanup;
        /* Energy of the state this step leads to (work2 is free again here). */
        for (size_t i = 0; i < cd; i++) b->work2[i] = b->centre[i] + b->work[i];
        r->changes[r->computed] = ch;
        r->energies[r->computed] = energy_of(b, b->work2, dnext);
        if ((rc = pl_check_interrupt(err)) < 0) goto cleanup;
        r->computed++;
        if (r->steps == 0) first = ch;
        /* The official rule, ratio to the FIRST change; 0/0 = nan rejects. */
        double ratio = ch / first;
        if (!(ratio > o->exit_ratio)) break;
        for (size_t i = 0; i < cd; i++) r->shift[i] += b->work[i];
        commit(b);
        r->steps++;
        double *t = dcur;
        dcur = dnext;
        dnext = t;
    }
    for (size_t c = 0; c < C; c++)
        for (size_t j = 0; j < D; j++) r->shift[c * D + j] *= b->scale[j];
    pl_balls_shift_orig(b, r->total_shift);
    r->total_steps = b->steps;

cleanup:
    if (rc < 0) {
        if (fresh) {
            pl_balls_reset(b);
        } else if (save_centre && save_shift) {
            memcpy(b->centre, save_centre, cd * sizeof(double));
            memcpy(b->shift, save_shift, cd * sizeof(double));
            b->steps = steps0;
        }
        pl_sim_result_release(r);
    }
    free(save_centre);
    free(save_shift);
    free(dcur);
    free(dnext);
    return rc;
}

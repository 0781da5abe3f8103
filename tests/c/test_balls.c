/* test_balls.c — the PED class-ball system against the official fixtures, plus edge cases. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "test.h"
#include "balls.h"
#include "tensorfile.h"

/* ---------- helpers ---------- */

/* A numeric array from expected.json at a dotted key into out (up to cap); returns length,
 * or -1 when absent. */
static int read_json_array(const char *fixture_case, const char *dotted, double *out, int cap) {
    char *text = tf_read_text(tf_path(fixture_case, "expected.json"));
    if (!text) return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    char key[256];
    snprintf(key, sizeof key, "%s", dotted);
    cJSON *node = root;
    for (char *part = strtok(key, "."); part && node; part = strtok(NULL, "."))
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    int n = -1;
    if (node && cJSON_IsArray(node)) {
        n = 0;
        cJSON *it;
        cJSON_ArrayForEach(it, node) {
            if (n < cap) out[n] = cJSON_IsNumber(it) ? it->valuedouble : (double)NAN;
            n++;
        }
    }
    cJSON_Delete(root);
    return n;
}

/* Dataset of a fixture case (features.npy + labels.npy). */
static int load_case(const char *c, pl_data **d, pl_err *err) {
    *d = tf_load(c, 0, err);
    return *d ? PL_OK : err->code;
}

/* Dataset from a small row-major matrix and labels. */
static int make_data(const double *x, size_t N, size_t D, const int64_t *y, pl_data **d,
                     pl_err *err) {
    pl_mat m = pl_mat_wrap((double *)x, N, D);
    pl_source *src = NULL;
    int rc = pl_source_from_mat(&m, "<test>", &src, err);
    if (!rc) rc = pl_data_new(src, y, N, "<labels>", d, err);
    pl_source_release(src);
    return rc;
}

static pl_balls_opts set_opts(const char *c, const char *set, pl_sim_opts *so) {
    char key[128];
    pl_balls_opts o = pl_balls_opts_default();
    snprintf(key, sizeof key, "ped.%s.params.nsigma", set);
    o.radius = tf_expected(c, key);
    snprintf(key, sizeof key, "ped.%s.params.constant", set);
    o.k = tf_expected(c, key);
    snprintf(key, sizeof key, "ped.%s.params.eps", set);
    o.eps = tf_expected(c, key);
    *so = pl_sim_opts_default();
    snprintf(key, sizeof key, "ped.%s.params.time_step", set);
    so->dt = tf_expected(c, key);
    snprintf(key, sizeof key, "ped.%s.params.exit_ratio", set);
    so->exit_ratio = tf_expected(c, key);
    return o;
}

/* Hooke as a pairwise callback: must give the built-in law's bits. */
static int hooke_cb(void *ud, double d, double ri, double rj, double *mag, pl_err *err) {
    *mag = *(const double *)ud * (ri + rj - d);
    return 0;
}

static int cb_unit_force_calls;
static int unit_force(void *ud, size_t C, size_t D, const double *centres, const double *radii,
                      double *forces, pl_err *err) {
    cb_unit_force_calls++;
    for (size_t i = 0; i < C * D; i++) forces[i] = 1.0;
    return 0;
}

/* ---------- the official fixtures ---------- */

/* The largest error of a displacement against the reference's, relative to the reference's
 * largest entry (entries of ~1e-17 are rounding noise there: no relative bound of their own). */
static double disp_error(const double *got, const pl_mat *want) {
    double dmax = 0, e = 0;
    for (size_t i = 0; i < want->rows * want->cols; i++) dmax = fmax(dmax, fabs(want->data[i]));
    for (size_t i = 0; i < want->rows * want->cols; i++)
        e = fmax(e, fabs(got[i] - want->data[i]) / dmax);
    return e;
}
#define PED_DISP_RTOL 1e-9 /* tests/fixtures/README.md: PED displacements, relative 1e-9 */

/* The bound holds its promise: every case's reference displacement made 2e-7 longer (a move
 * longer by 2e-7 relative) is rejected by the comparison balls_fixtures uses. */
TEST(balls_fixtures_reject_a_longer_move) {
    static const char *const sets[] = {"ped_disp_set1.npy", "ped_disp_set2.npy"};
    for (int ci = 0; tf_cases[ci]; ci++)
        for (int si = 0; si < 2; si++) {
            pl_err err = {0};
            pl_mat disp = {0};
            ASSERT_OK(pl_npy_load_mat(tf_path(tf_cases[ci], sets[si]), &disp, &err), &err);
            double *longer = malloc(disp.rows * disp.cols * sizeof *longer);
            if (!longer) pl_mat_release(&disp);
            ASSERT(longer != NULL);
            for (size_t i = 0; i < disp.rows * disp.cols; i++)
                longer[i] = disp.data[i] * (1 + 2e-7);
            double same = disp_error(disp.data, &disp), e = disp_error(longer, &disp);
            free(longer);
            pl_mat_release(&disp);
            ASSERT(same == 0);
            if (!(e > PED_DISP_RTOL))
                TF_FAIL("%s %s: a move 2e-7 longer passes the bound (error %.3g)", tf_cases[ci],
                        sets[si], e);
        }
}

TEST(balls_fixtures) {
    static const char *const sets[] = {"set1", "set2"};
    for (int ci = 0; tf_cases[ci]; ci++) {
        const char *c = tf_cases[ci];
        pl_err err = {0};
        pl_data *d = NULL;
        pl_source *ref = NULL;
        ASSERT_OK(load_case(c, &d, &err), &err);
        ASSERT_OK(pl_source_open_array(tf_path(c, "ref_features.npy"), &ref, &err), &err);
        for (int si = 0; si < 2; si++) {
            const char *set = sets[si];
            pl_sim_opts so;
            pl_balls_opts o = set_opts(c, set, &so);
            pl_balls b;
            pl_sim_result r;
            char key[128];
            ASSERT_OK(pl_balls_init_ref(&b, d, ref, &o, &err), &err);
            ASSERT_OK(pl_balls_simulate(&b, &so, NULL, &r, &err), &err);

            snprintf(key, sizeof key, "ped.%s.accepted_steps", set);
            ASSERT(r.steps == (int)tf_expected(c, key));
            double pc[16];
            snprintf(key, sizeof key, "ped.%s.position_change", set);
            int npc = read_json_array(c, key, pc, 16);
            ASSERT(npc == r.computed);
            double e_pc = 0;
            for (int k = 0; k < npc; k++) {
                double e = fabs(r.changes[k] - pc[k]) / fabs(pc[k]);
                if (e > e_pc) e_pc = e;
                ASSERT_NEAR(r.changes[k], pc[k], 1e-9);
            }

            pl_mat disp = {0};
            snprintf(key, sizeof key, "ped_disp_%s.npy", set);
            ASSERT_OK(pl_npy_load_mat(tf_path(c, key), &disp, &err), &err);
            ASSERT(disp.rows == r.C && disp.cols == r.D);
            double e_d = disp_error(r.shift, &disp);
            if (!(e_d <= PED_DISP_RTOL)) {
                pl_mat_release(&disp);
                TF_FAIL("%s %s: displacement error %.3g > %g", c, set, e_d, PED_DISP_RTOL);
            }
            /* The shift reported by the system equals the result's. */
            double *s2 = malloc(r.C * r.D * sizeof *s2);
            ASSERT(s2 != NULL);
            pl_balls_shift_orig(&b, s2);
            ASSERT(memcmp(s2, r.shift, r.C * r.D * sizeof *s2) == 0);
            free(s2);
            /* Energies are finite and the decline holds for accepted steps. */
            ASSERT(isfinite(r.energy0) && r.energy0 > 0);
            for (int k = 0; k < r.computed; k++) ASSERT(isfinite(r.energies[k]));
            ASSERT(r.steps == 0 || r.energies[0] < r.energy0);
            if (getenv("PL_TEST_VERBOSE"))
                printf("balls %-12s %s steps %d  max rel err: change %.3g  disp %.3g\n", c, set,
                       r.steps, e_pc, e_d);
            pl_mat_release(&disp);
            pl_sim_result_release(&r);
            pl_balls_release(&b);
        }
        pl_source_release(ref);
        pl_data_release(d);
    }
}

TEST(balls_hooke_callback_bits) {
    const char *cases[] = {"digits", "overlap", "imbalanced"};
    for (int ci = 0; ci < 3; ci++) {
        for (int si = 0; si < 2; si++) {
            const char *set = si ? "set2" : "set1";
            pl_err err = {0};
            pl_data *d = NULL;
            pl_source *ref = NULL;
            ASSERT_OK(load_case(cases[ci], &d, &err), &err);
            ASSERT_OK(pl_source_open_array(tf_path(cases[ci], "ref_features.npy"), &ref, &err),
                      &err);
            pl_sim_opts so;
            pl_balls_opts o = set_opts(cases[ci], set, &so);
            pl_balls b1, b2;
            pl_sim_result r1, r2;
            ASSERT_OK(pl_balls_init_ref(&b1, d, ref, &o, &err), &err);
            ASSERT_OK(pl_balls_init_ref(&b2, d, ref, &o, &err), &err);
            pl_law law = {PL_LAW_PAIR, hooke_cb, NULL, &o.k};
            ASSERT_OK(pl_balls_simulate(&b1, &so, NULL, &r1, &err), &err);
            ASSERT_OK(pl_balls_simulate(&b2, &so, &law, &r2, &err), &err);
            ASSERT(r1.steps == r2.steps && r1.computed == r2.computed);
            ASSERT(memcmp(r1.changes, r2.changes, (size_t)r1.computed * sizeof(double)) == 0);
            ASSERT(memcmp(r1.energies, r2.energies, (size_t)r1.computed * sizeof(double)) == 0);
            ASSERT(memcmp(r1.shift, r2.shift, r1.C * r1.D * sizeof(double)) == 0);
            ASSERT(memcmp(b1.centre, b2.centre, b1.C * b1.D * sizeof(double)) == 0);
            pl_sim_result_release(&r1);
            pl_sim_result_release(&r2);
            pl_balls_release(&b1);
            pl_balls_release(&b2);
            pl_source_release(ref);
            pl_data_release(d);
        }
    }
}

TEST(balls_ref_stats) {
    /* Several blocks (D = 2048 → 512 rows per block): compare with a direct two-pass. */
    size_t N = 1100, D = 2048;
    pl_err err = {0};
    pl_mat m = {0};
    ASSERT_OK(pl_mat_init(&m, N, D, &err), &err);
    unsigned long long s = 12345;
    for (size_t i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        m.data[i] = 100.0 + (double)(s >> 11) / 9007199254740992.0 * ((double)(i % D) / 100.0);
    }
    for (size_t i = 0; i < N; i++) m.data[i * D + 5] = 7.0; /* constant column → eps */
    pl_source *src = NULL;
    ASSERT_OK(pl_source_from_mat(&m, "<ref>", &src, &err), &err);
    double *mean = malloc(D * sizeof *mean), *scale = malloc(D * sizeof *scale);
    if (!mean || !scale) {
        free(mean);
        free(scale);
        pl_source_release(src);
        pl_mat_release(&m);
        TF_FAIL("out of memory");
    }
    ASSERT_OK(pl_balls_ref_stats(src, 1e-3, mean, scale, &err), &err);
    for (size_t j = 0; j < D; j++) {
        double mu = 0, v = 0;
        for (size_t i = 0; i < N; i++) mu += m.data[i * D + j];
        mu /= (double)N;
        for (size_t i = 0; i < N; i++) v += (m.data[i * D + j] - mu) * (m.data[i * D + j] - mu);
        double sd = fmax(sqrt(v / (double)N), 1e-3);
        ASSERT_NEAR(mean[j], mu, 1e-13);
        if (fabs(scale[j] - sd) > 1e-10 * sd) TF_FAIL("scale[%zu] %.17g vs %.17g", j, scale[j], sd);
    }
    ASSERT(scale[5] == 1e-3 && mean[5] == 7.0);
    ASSERT_FAILS(pl_balls_ref_stats(src, 0.0, mean, scale, &err), &err, "eps");
    free(mean);
    free(scale);
    pl_source_release(src);
    pl_mat_release(&m);
}

/* ---------- small hand-made systems ---------- */

/* Two classes in 1-D: class 0 = {-1, 1} (mean 0, var 1), class 1 = {0.5, 2.5} (mean 1.5,
 * var 1), class 2 (id 9) = one sample far away. radius coef 1 → r = 1, 1, 0; overlap of 0/1 is
 * 0.5; dt = 1, k = 1: each moves min(½·0.5, 0.5) = 0.25 apart. */
TEST(balls_two_classes) {
    pl_err err = {0};
    double x[] = {-1, 1, 0.5, 2.5};
    int64_t y[] = {3, 3, 7, 7};
    pl_data *d = NULL;
    ASSERT_OK(make_data(x, 4, 1, y, &d, &err), &err);
    pl_balls b;
    pl_balls_opts o = pl_balls_opts_default();
    o.radius = 1.0;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    ASSERT(b.C == 2 && b.D == 1);
    ASSERT(b.radius[0] == 1.0 && b.radius[1] == 1.0);
    ASSERT(b.centre[0] == 0.0 && b.centre[1] == 1.5);
    ASSERT(b.ids[0] == 3 && b.ids[1] == 7);
    ASSERT_NEAR(pl_balls_energy(&b), 0.125, 1e-15);
    double ov[4];
    pl_balls_overlaps(&b, ov);
    ASSERT(ov[0] == 0 && ov[1] == 0.5 && ov[2] == 0.5 && ov[3] == 0);
    double ch = -1;
    ASSERT_OK(pl_balls_step(&b, 1.0, NULL, &ch, &err), &err);
    ASSERT(ch == 0.5);
    ASSERT(b.centre[0] == -0.25 && b.centre[1] == 1.75);
    ASSERT(b.shift[0] == -0.25 && b.shift[1] == 0.25 && b.steps == 1);
    ASSERT(pl_balls_energy(&b) == 0.0);
    pl_balls_release(&b);

    /* Simulate: step 1 accepted (ratio 1), step 2 has no overlap → change 0, rejected. */
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    pl_sim_opts so = pl_sim_opts_default();
    so.dt = 1.0;
    pl_sim_result r;
    ASSERT_OK(pl_balls_simulate(&b, &so, NULL, &r, &err), &err);
    ASSERT(r.steps == 1 && r.computed == 2);
    ASSERT(r.changes[0] == 0.5 && r.changes[1] == 0.0);
    ASSERT(r.energy0 == 0.125 && r.energies[0] == 0.0 && r.energies[1] == 0.0);
    ASSERT(r.shift[0] == -0.25 && r.shift[1] == 0.25);
    pl_sim_result_release(&r);
    /* From the moved state: change 0 → zero steps (0/0), the system is untouched. */
    ASSERT_OK(pl_balls_simulate(&b, &so, NULL, &r, &err), &err);
    ASSERT(r.steps == 0 && r.computed == 1 && r.changes[0] == 0.0 && b.steps == 1);
    /* the run record: this run moved nothing; the system's total is the first run's */
    ASSERT(r.shift[0] == 0.0 && r.shift[1] == 0.0);
    ASSERT(r.total_shift[0] == -0.25 && r.total_shift[1] == 0.25 && r.total_steps == 1);
    pl_sim_result_release(&r);
    pl_balls_release(&b);

    /* exit_ratio >= 1 rejects even the first step (ratio 1), as the official loop does. */
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    so.exit_ratio = 1.0;
    ASSERT_OK(pl_balls_simulate(&b, &so, NULL, &r, &err), &err);
    ASSERT(r.steps == 0 && r.computed == 1 && r.changes[0] == 0.5 && r.shift[0] == 0.0);
    ASSERT(b.centre[0] == 0.0 && b.steps == 0);
    pl_sim_result_release(&r);
    pl_balls_release(&b);

    /* Mass = class count (2): a = F/2, move ½·0.25 = 0.125 each. */
    o.mass_mode = PL_BALLS_MASS_COUNT;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    ASSERT(b.mass[0] == 2.0);
    ASSERT_OK(pl_balls_step(&b, 1.0, NULL, &ch, &err), &err);
    ASSERT(b.shift[0] == -0.125 && b.shift[1] == 0.125);
    /* Whole-system law with mass 2: move = ½·(F/m)·dt² = ½·(1/2)·4 = 1 per unit force. */
    cb_unit_force_calls = 0;
    pl_law sl = {PL_LAW_SYSTEM, NULL, unit_force, NULL};
    ASSERT_OK(pl_balls_step(&b, 2.0, &sl, &ch, &err), &err);
    ASSERT(cb_unit_force_calls == 1 && ch == 2.0);
    ASSERT(b.shift[0] == 0.875 && b.shift[1] == 1.125 && b.steps == 2);
    pl_balls_release(&b);

    /* Reference scale 2 → z halves: centres 0 and 0.75, radii 0.5 each, overlap 0.25; the
     * shift reported in original units doubles back. */
    o.mass_mode = PL_BALLS_MASS_ONE;
    double rm[] = {0.0}, rs[] = {2.0};
    ASSERT_OK(pl_balls_init(&b, d, rm, rs, &o, &err), &err);
    ASSERT(b.radius[0] == 0.5 && b.centre[1] == 0.75);
    ASSERT_OK(pl_balls_step(&b, 1.0, NULL, &ch, &err), &err);
    ASSERT(ch == 0.25);
    double sh[2];
    pl_balls_shift_orig(&b, sh);
    ASSERT(sh[0] == -0.25 && sh[1] == 0.25);
    pl_balls_release(&b);
    pl_data_release(d);
}

TEST(balls_single_sample_class) {
    pl_err err = {0};
    /* 2-D; class 5 is a single sample inside class 0's ball; class 9 far away. */
    double x[] = {-1, 0, 1, 0, 0.2, 0, 100, 100, 101, 100};
    int64_t y[] = {0, 0, 5, 9, 9};
    pl_data *d = NULL;
    ASSERT_OK(make_data(x, 5, 2, y, &d, &err), &err);
    pl_balls b;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, NULL, &err), &err);
    ASSERT(b.C == 3 && b.radius[1] == 0.0);
    /* statistics about the first block's mean (here ~40 away from class 0): ~1e-13 */
    ASSERT_NEAR(b.radius[0], 0.6, 1e-12);
    pl_sim_result r;
    ASSERT_OK(pl_balls_simulate(&b, NULL, NULL, &r, &err), &err);
    ASSERT(r.steps >= 1);
    /* Class 5 moves away from class 0 along +x; class 9 never moves. */
    ASSERT(r.shift[2] > 0 && r.shift[3] == 0 && r.shift[0] < 0);
    ASSERT(r.shift[4] == 0 && r.shift[5] == 0);
    pl_sim_result_release(&r);
    pl_balls_release(&b);
    pl_data_release(d);
}

TEST(balls_no_overlap) {
    pl_err err = {0};
    double x[] = {0, 0, 1, 0, 10, 10, 11, 10, -10, 5, -11, 5};
    int64_t y[] = {0, 0, 1, 1, 2, 2};
    pl_data *d = NULL;
    ASSERT_OK(make_data(x, 6, 2, y, &d, &err), &err);
    pl_balls b;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, NULL, &err), &err);
    ASSERT(pl_balls_energy(&b) == 0.0);
    pl_sim_result r;
    ASSERT_OK(pl_balls_simulate(&b, NULL, NULL, &r, &err), &err);
    ASSERT(r.steps == 0 && r.computed == 1 && r.changes[0] == 0.0);
    for (size_t i = 0; i < 6; i++) ASSERT(r.shift[i] == 0.0);
    ASSERT(b.steps == 0);
    pl_sim_result_release(&r);
    /* max_steps = 0: nothing computed. exit_ratio >= 1 rejects step 1 as the official does. */
    pl_sim_opts so = pl_sim_opts_default();
    so.max_steps = 0;
    ASSERT_OK(pl_balls_simulate(&b, &so, NULL, &r, &err), &err);
    ASSERT(r.steps == 0 && r.computed == 0);
    pl_sim_result_release(&r);
    pl_balls_release(&b);
    pl_data_release(d);
}

TEST(balls_coincident_centres) {
    pl_err err = {0};
    /* Classes 0 and 1 both centred at the origin (r = 0.6·sqrt(2) and 0.6·sqrt(8)); classes 2
     * and 3 are single samples at the same far point (radius 0: no overlap, no move). */
    double x[] = {-1, 1, 1, -1, -2, 2, 2, -2, 50, 50, 50, 50};
    int64_t y[] = {0, 0, 1, 1, 2, 3};
    pl_data *d = NULL;
    ASSERT_OK(make_data(x, 6, 2, y, &d, &err), &err);
    pl_balls b;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, NULL, &err), &err);
    double ov[16];
    pl_balls_overlaps(&b, ov);
    ASSERT_NEAR(ov[1], b.radius[0] + b.radius[1], 1e-15);
    ASSERT(ov[2 * 4 + 3] == 0.0);
    double ch;
    ASSERT_OK(pl_balls_step(&b, 0.1, NULL, &ch, &err), &err);
    double o01 = b.radius[0] + b.radius[1];
    double s = fmin(0.5 * (0.1 * 0.1) * o01, o01), u = 1.0 / sqrt(2.0);
    ASSERT(b.shift[0] == u * s && b.shift[1] == u * s);
    ASSERT(b.shift[2] == -(u * s) && b.shift[3] == -(u * s));
    for (size_t i = 4; i < 8; i++) ASSERT(b.shift[i] == 0.0);
    ASSERT(isfinite(ch) && ch > 0);
    /* The system keeps working: a simulate from here is finite. */
    pl_sim_result r;
    ASSERT_OK(pl_balls_simulate(&b, NULL, NULL, &r, &err), &err);
    for (size_t i = 0; i < 8; i++) ASSERT(isfinite(r.shift[i]));
    pl_sim_result_release(&r);
    pl_balls_release(&b);
    pl_data_release(d);
}

/* ---------- failing callbacks ---------- */

typedef struct {
    int calls, fail_at, mode; /* mode 0: status -1 with message, 1: NaN, 2: status -3 silent */
    double k;
} cb_state;

static int flaky_pair(void *ud, double d, double ri, double rj, double *mag, pl_err *err) {
    cb_state *s = ud;
    s->calls++;
    *mag = s->k * (ri + rj - d);
    if (s->calls >= s->fail_at) {
        if (s->mode == 0) return pl_err_set(err, PL_ECALLBACK, "boom at call %d", s->calls);
        if (s->mode == 1) *mag = (double)NAN;
        if (s->mode == 2) return -3;
    }
    return 0;
}

static int flaky_system(void *ud, size_t C, size_t D, const double *centres,
                        const double *radii, double *forces, pl_err *err) {
    cb_state *s = ud;
    s->calls++;
    for (size_t i = 0; i < C * D; i++) forces[i] = 1.0;
    if (s->calls >= s->fail_at) {
        if (s->mode == 0) return pl_err_set(err, PL_ECALLBACK, "system boom");
        forces[C * D - 1] = (double)INFINITY;
    }
    return 0;
}

typedef struct {
    double *centre, *shift;
    size_t steps;
} snapshot;

static snapshot snap(const pl_balls *b) {
    snapshot s;
    size_t n = b->C * b->D * sizeof(double);
    s.centre = malloc(n);
    s.shift = malloc(n);
    s.steps = b->steps;
    if (!s.centre || !s.shift) { /* the caller asserts s.centre */
        free(s.centre);
        free(s.shift);
        s.centre = s.shift = NULL;
        return s;
    }
    memcpy(s.centre, b->centre, n);
    memcpy(s.shift, b->shift, n);
    return s;
}

static int same(const pl_balls *b, snapshot *s) {
    size_t n = b->C * b->D * sizeof(double);
    int ok = memcmp(b->centre, s->centre, n) == 0 && memcmp(b->shift, s->shift, n) == 0 &&
             b->steps == s->steps;
    free(s->centre);
    free(s->shift);
    return ok;
}

TEST(balls_callback_failure) {
    pl_err err = {0};
    pl_data *d = NULL;
    pl_source *ref = NULL;
    ASSERT_OK(load_case("overlap", &d, &err), &err);
    ASSERT_OK(pl_source_open_array(tf_path("overlap", "ref_features.npy"), &ref, &err), &err);
    pl_balls b;
    ASSERT_OK(pl_balls_init_ref(&b, d, ref, NULL, &err), &err);
    ASSERT_OK(pl_balls_step(&b, 0.1, NULL, NULL, &err), &err); /* a non-trivial state */

    cb_state st = {0, 3, 0, 1.0};
    pl_law law = {PL_LAW_PAIR, flaky_pair, NULL, &st};
    snapshot s = snap(&b);
    ASSERT(s.centre != NULL);
    int rc = pl_balls_step(&b, 0.1, &law, NULL, &err);
    ASSERT(rc == PL_ECALLBACK);
    ASSERT(strstr(err.msg, "boom at call 3") && strstr(err.msg, "ped: force law"));
    ASSERT(same(&b, &s));

    st = (cb_state){0, 2, 1, 1.0};
    s = snap(&b);
    ASSERT(s.centre != NULL);
    ASSERT_FAILS(pl_balls_step(&b, 0.1, &law, NULL, &err), &err, "non-finite");
    ASSERT(err.code == PL_ECALLBACK);
    ASSERT(same(&b, &s));

    st = (cb_state){0, 1, 2, 1.0};
    s = snap(&b);
    ASSERT(s.centre != NULL);
    ASSERT_FAILS(pl_balls_step(&b, 0.1, &law, NULL, &err), &err, "status -3");
    ASSERT(same(&b, &s));

    /* Simulate failing in its second step (step 1 makes exactly pairs_per_step calls and is
     * accepted): the whole run is undone. */
    int pairs_per_step = 0;
    {
        double ov[100];
        pl_balls_overlaps(&b, ov);
        for (int i = 0; i < 10; i++)
            for (int j = i + 1; j < 10; j++) pairs_per_step += ov[i * 10 + j] > 0;
    }
    ASSERT(pairs_per_step > 0);
    st = (cb_state){0, pairs_per_step + 1, 0, 1.0};
    s = snap(&b);
    ASSERT(s.centre != NULL);
    pl_sim_result r;
    pl_sim_opts so = pl_sim_opts_default();
    ASSERT_FAILS(pl_balls_simulate(&b, &so, &law, &r, &err), &err, "boom");
    ASSERT(st.calls == pairs_per_step + 1);
    ASSERT(r.shift == NULL && r.changes == NULL && r.steps == 0);
    ASSERT(same(&b, &s));

    /* Whole-system law: failure and non-finite forces; then a working one. */
    cb_state ss = {0, 1, 0, 0};
    pl_law sl = {PL_LAW_SYSTEM, NULL, flaky_system, &ss};
    s = snap(&b);
    ASSERT(s.centre != NULL);
    ASSERT_FAILS(pl_balls_step(&b, 0.1, &sl, NULL, &err), &err, "system boom");
    ASSERT(same(&b, &s));
    ss = (cb_state){0, 1, 1, 0};
    s = snap(&b);
    ASSERT(s.centre != NULL);
    ASSERT_FAILS(pl_balls_step(&b, 0.1, &sl, NULL, &err), &err, "non-finite force");
    ASSERT(same(&b, &s));
    ss = (cb_state){0, 100, 0, 0};
    double ch;
    s = snap(&b);
    ASSERT(s.centre != NULL);
    ASSERT_OK(pl_balls_step(&b, 0.5, &sl, &ch, &err), &err);
    ASSERT(b.shift[0] == s.shift[0] + 0.125); /* ½·(1/1)·0.5² */
    ASSERT(ch == 0.125 * (double)(b.C * b.D));
    ASSERT(!same(&b, &s));

    /* Interruption stops a step and leaves the system alone. */
    s = snap(&b);
    ASSERT(s.centre != NULL);
    pl_interrupted = 1;
    ASSERT_FAILS(pl_balls_step(&b, 0.1, NULL, NULL, &err), &err, "interrupted");
    ASSERT(err.code == PL_EINTR);
    ASSERT(same(&b, &s));

    pl_balls_release(&b);
    pl_balls_release(&b); /* idempotent */
    pl_source_release(ref);
    pl_data_release(d);
}

TEST(balls_bad_args) {
    pl_err err = {0};
    double x[] = {0, 1, 2, 3};
    int64_t y[] = {0, 0, 1, 1};
    pl_data *d = NULL;
    ASSERT_OK(make_data(x, 4, 1, y, &d, &err), &err);
    pl_balls b;
    pl_balls_opts o = pl_balls_opts_default();
    o.radius = -1;
    ASSERT_FAILS(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err, "radius");
    o = pl_balls_opts_default();
    o.eps = 0;
    ASSERT_FAILS(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err, "eps");
    o = pl_balls_opts_default();
    o.mass_mode = 7;
    ASSERT_FAILS(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err, "mass = 7: expected 'unit' or "
                 "'count'");
    double rm[] = {0}, rs[] = {0};
    ASSERT_FAILS(pl_balls_init(&b, d, rm, rs, NULL, &err), &err, "scale > 0");
    ASSERT_FAILS(pl_balls_init(&b, d, rm, NULL, NULL, &err), &err, "both");
    ASSERT(b.centre == NULL);

    /* SELF scaling: overall mean 1.5, std sqrt(1.25). */
    o = pl_balls_opts_default();
    o.scale_mode = PL_BALLS_SCALE_SELF;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    ASSERT_NEAR(b.offset[0], 1.5, 1e-15);
    ASSERT_NEAR(b.scale[0], sqrt(1.25), 1e-15);
    ASSERT_NEAR(b.centre[0], -1.0 / sqrt(1.25), 1e-15);
    ASSERT_FAILS(pl_balls_step(&b, (double)NAN, NULL, NULL, &err), &err,
                 "dt = nan: expected a finite number > 0");
    ASSERT_FAILS(pl_balls_step(&b, 0, NULL, NULL, &err), &err, "dt = 0");
    pl_law bad = {PL_LAW_PAIR, NULL, NULL, NULL};
    ASSERT_FAILS(pl_balls_step(&b, 0.1, &bad, NULL, &err), &err, "without a function");
    pl_sim_opts so = pl_sim_opts_default();
    so.max_steps = -1;
    pl_sim_result r;
    ASSERT_FAILS(pl_balls_simulate(&b, &so, NULL, &r, &err), &err, "max_steps");
    so.max_steps = 1000000000;
    ASSERT_FAILS(pl_balls_simulate(&b, &so, NULL, &r, &err), &err,
                 "max_steps = 1e+09: expected a whole number in [0, 10000]");
    so = pl_sim_opts_default();
    so.exit_ratio = 2;
    ASSERT_FAILS(pl_balls_simulate(&b, &so, NULL, &r, &err), &err, "exit_ratio = 2");
    pl_balls_release(&b);

    pl_source *ref = NULL;
    pl_mat m = pl_mat_wrap(x, 2, 2);
    ASSERT_OK(pl_source_from_mat(&m, "<ref2>", &ref, &err), &err);
    ASSERT_FAILS(pl_balls_init_ref(&b, d, ref, NULL, &err), &err, "columns");
    pl_source_release(ref);
    pl_data_release(d);
}

/* ---------- threads ---------- */

/* The official step as a plain loop over pairs i < j (the reference for the threaded,
 * blocked one): move (C×D) of b's current centres under Hooke. */
static void plain_step(const pl_balls *b, double dt, double *move) {
    size_t C = b->C, D = b->D;
    double half = 0.5 * (dt * dt), unit = 1.0 / sqrt((double)D);
    memset(move, 0, C * D * sizeof *move);
    for (size_t i = 0; i < C; i++)
        for (size_t j = i + 1; j < C; j++) {
            const double *ci = b->centre + i * D, *cj = b->centre + j * D;
            double d = sqrt(pl_sqdist(ci, cj, D)), ov = b->radius[i] + b->radius[j] - d;
            if (!(ov > 0)) continue;
            double f = b->k * ov;
            double si = fmin(half * (f / b->mass[i]), ov), sj = fmin(half * (f / b->mass[j]), ov);
            double *mi = move + i * D, *mj = move + j * D;
            for (size_t q = 0; q < D; q++) {
                if (d > 0) {
                    double t = ci[q] - cj[q];
                    mi[q] += t * (si / d);
                    mj[q] -= t * (sj / d);
                } else {
                    mi[q] += unit * si;
                    mj[q] -= unit * sj;
                }
            }
        }
}

/* C classes of 3 rows in D dimensions, random; classes 0 and 1 coincide (the same rows). */
static int threads_data(size_t C, size_t D, pl_data **d, pl_err *err) {
    size_t N = 3 * C;
    double *x = malloc(N * D * sizeof *x);
    int64_t *y = malloc(N * sizeof *y);
    int rc = PL_ENOMEM;
    if (x && y) {
        uint64_t st = 15;
        for (size_t i = 0; i < N; i++) {
            y[i] = (int64_t)(i % C);
            for (size_t j = 0; j < D; j++)
                x[i * D + j] = y[i] == 1 ? x[(i - 1) * D + j] : tf_rand(&st) + 0.01 * (double)y[i];
        }
        rc = make_data(x, N, D, y, d, err);
    }
    free(x);
    free(y);
    return rc;
}

/* A simulation under `threads` threads (the BLAS setting, pedlab's one knob). */
static void sim_threads(pl_data *d, int threads, const pl_law *law, pl_sim_result *r,
                        double **centre) {
    pl_err err = {0};
    pl_balls b;
    pl_balls_opts o = pl_balls_opts_default();
    o.radius = 1.5;
    pl_sim_opts so = pl_sim_opts_default();
    so.dt = 0.5;
    so.exit_ratio = 0;
    so.max_steps = 3;
    int before = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    ASSERT(openblas_get_num_threads() == threads);
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    ASSERT_OK(pl_balls_simulate(&b, &so, law, r, &err), &err);
    openblas_set_num_threads(before);
    size_t n = b.C * b.D * sizeof(double);
    *centre = malloc(n);
    ASSERT(*centre);
    memcpy(*centre, b.centre, n);
    pl_balls_release(&b);
}

static void threads_same_bits(size_t C, size_t D) {
    static const int counts[] = {1, 2, 3, 7};
    pl_err err = {0};
    pl_data *d = NULL;
    ASSERT_OK(threads_data(C, D, &d, &err), &err);
    pl_sim_result r0, r;
    double *c0, *c;
    double k = 1.0;
    pl_law pair = {PL_LAW_PAIR, hooke_cb, NULL, &k};
    sim_threads(d, 1, NULL, &r0, &c0);
    ASSERT(r0.steps == 3 && r0.energy0 > 0);
    for (int t = 0; t < 8; t++) {
        /* Hooke, then the same law as a callback (called on one thread, same bits) */
        sim_threads(d, counts[t % 4], t < 4 ? NULL : &pair, &r, &c);
        ASSERT(r.steps == r0.steps && r.computed == r0.computed);
        ASSERT(memcmp(&r.energy0, &r0.energy0, sizeof r.energy0) == 0);
        ASSERT(memcmp(r.changes, r0.changes, (size_t)r.computed * sizeof(double)) == 0);
        ASSERT(memcmp(r.energies, r0.energies, (size_t)r.computed * sizeof(double)) == 0);
        ASSERT(memcmp(r.shift, r0.shift, C * D * sizeof(double)) == 0);
        ASSERT(memcmp(r.total_shift, r0.total_shift, C * D * sizeof(double)) == 0);
        ASSERT(memcmp(c, c0, C * D * sizeof(double)) == 0);
        pl_sim_result_release(&r);
        free(c);
    }
    pl_sim_result_release(&r0);
    free(c0);
    pl_data_release(d);
}

/* Enough pairs that the pair loops run on threads (2²² element operations and more: 9 blocks
 * of rows for up to 7 threads), and fewer classes than threads. */
TEST(balls_threads_same_bits) {
    threads_same_bits(140, 512);
    threads_same_bits(3, 5);
}

/* The blocked, threaded step has the bits of the plain pair loop (every row's terms in
 * partner order), coincident centres included: whole tiles, a last partial tile and partner
 * group, and a row length that is not a multiple of the kernels' eight lanes. */
static void threads_plain_loop(size_t C, size_t D) {
    pl_err err = {0};
    pl_data *d = NULL;
    ASSERT_OK(threads_data(C, D, &d, &err), &err);
    pl_balls b;
    pl_balls_opts o = pl_balls_opts_default();
    o.radius = 1.5;
    ASSERT_OK(pl_balls_init(&b, d, NULL, NULL, &o, &err), &err);
    double *move = malloc(C * D * sizeof *move);
    ASSERT(move);
    /* classes 0 and 1 coincide */
    ASSERT(memcmp(b.centre, b.centre + D, D * sizeof(double)) == 0);
    int before = openblas_get_num_threads();
    /* 1 and 3 threads, the wide kernels (where the CPU has them) and the narrow ones */
    for (int v = 0; v < 4; v++) {
        openblas_set_num_threads(v % 2 ? 3 : 1);
        pl_simd_set_wide(v < 2);
        pl_balls_reset(&b);
        plain_step(&b, 0.3, move);
        double ch;
        ASSERT_OK(pl_balls_step(&b, 0.3, NULL, &ch, &err), &err);
        ASSERT(memcmp(b.shift, move, C * D * sizeof *move) == 0);
    }
    pl_simd_set_wide(1);
    openblas_set_num_threads(before);
    free(move);
    pl_balls_release(&b);
    pl_data_release(d);
}

TEST(balls_threads_plain_loop) {
    threads_plain_loop(140, 512);
    threads_plain_loop(71, 1035);
    threads_plain_loop(6, 13);
}

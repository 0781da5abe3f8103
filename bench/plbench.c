/* plbench.c — pedlab's benchmark driver (issue 6). Not part of the library: it links
 * libpedlab.a and times the library's own entry points against BLAS/LAPACK "floors" measured in
 * the same process, and prints RATIOS (never absolute seconds as the claim).
 *
 *   plbench gen FEAT.npy LABELS.npy N D C SEED [ref] [decay=A]
 *                                                        synthetic float32 features, block by block
 *   plbench logme FEAT LABELS                            target 1: LogME vs dsyrk + dsyevd
 *   plbench ped FEAT LABELS REF [SWEEP]                  target 2: PED + LogME, a 30-setting sweep
 *   plbench growth N:FEAT:LABELS ...                     target 5a: time against N
 *   plbench steps D C1 C2 ...                            target 5b: PED step time against C
 *   plbench run METRIC FEAT LABELS [REF]                 one metric (PED first when REF is given),
 *                                                        prints score and seconds (peer comparison)
 *   plbench exec CMD ARGS...                             run CMD, print its wall time and max RSS
 *   plbench pcadims FEAT LABELS                          principal components at 80 % variance
 *
 * Wall time is CLOCK_MONOTONIC. Threads: OpenBLAS, PEDLAB_THREADS or 2. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ped.h"
#include "data.h"
#include "linalg.h"
#include "metrics/metric.h"
#include "tensorfile.h"
#include "pca.h"

/* ------------------------------------------------------------------ utilities */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "plbench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void ok(int rc, const pl_err *e, const char *what) {
    if (rc) die("%s: %s", what, e->msg);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

/* Peak resident set of this process (VmHWM, kB), includes file-backed resident pages. */
static long vmhwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double dmin(double a, double b) { return a < b ? a : b; }

/* CPU time of the process (all threads): with one OpenBLAS thread there is no spin-waiting, so
 * this counts the work only, not the time other tenants hold the cores. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One target line: what, measured, target, PASS/FAIL. */
static void verdict(const char *what, double measured, const char *cmp, double target,
                    const char *unit) {
    int pass = !strcmp(cmp, "<=") ? measured <= target : measured >= target;
    printf("TARGET  %-52s %9.3f%s  (target %s %.3g%s)  %s\n", what, measured, unit, cmp, target,
           unit, pass ? "PASS" : "FAIL");
}

/* ------------------------------------------------------------------ generator */

/* splitmix64: one stream per purpose, reproducible from the seed. */
static uint64_t sm64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif01(uint64_t *s) { return (double)(sm64(s) >> 11) * (1.0 / 9007199254740992.0); }

static double gauss(uint64_t *s) {
    double u = unif01(s), v = unif01(s);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Uniform on [-sqrt 3, sqrt 3]: mean 0, variance 1 (rows become near-Gaussian after rotation). */
static float unif_unit(uint64_t *s) {
    return (float)(((double)(sm64(s) >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0) * 1.7320508075688772);
}

/* The feature model, fixed by (D, C, kind, A): X = Z·diag(s)·Q + mu[y] + m0 with s_k ∝ k^-A
 * (A = decay, default 0.8: PCA keeps 8 of 2048 dimensions at 80 % variance; A = 0.6 keeps 82;
 * Σ s_k² = D), Q a random orthogonal matrix, class means mu_c = (w_c∘s)·Q with w_c uniform of
 * std 0.35 on the 32 leading directions and 0 elsewhere (class means ~2.8 within-class std
 * apart in the Mahalanobis metric: classes overlap, as real features' classes do; SFDA is then
 * well below 1), m0 a positive offset (pooled ReLU features are positive). kind 1 = a
 * "reference" set: other class means and m0. */
typedef struct gen_model {
    size_t D, C;
    float *qs;   /* D×D = diag(s)·Q */
    float *mu;   /* C×D */
    float *m0;   /* D */
} gen_model;

static void model_init(gen_model *m, size_t D, size_t C, int kind, double decay) {
    uint64_t sq = 0x5eed0001ull + D, sm = 0x5eed0002ull + 7919u * C + (uint64_t)kind * 104729u;
    double *a = xmalloc(D * D * sizeof *a), *tau = xmalloc(D * sizeof *tau);
    double *s = xmalloc(D * sizeof *s);
    for (size_t i = 0; i < D * D; i++) a[i] = gauss(&sq);
    if (LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (int)D, (int)D, a, (int)D, tau) ||
        LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (int)D, (int)D, (int)D, a, (int)D, tau))
        die("QR of the generator's rotation failed");
    double ss = 0;
    for (size_t k = 0; k < D; k++) {
        s[k] = pow((double)(k + 1), -decay);
        ss += s[k] * s[k];
    }
    for (size_t k = 0; k < D; k++) s[k] *= sqrt((double)D / ss);
    m->D = D;
    m->C = C;
    m->qs = xmalloc(D * D * sizeof *m->qs);
    m->mu = xmalloc(C * D * sizeof *m->mu);
    m->m0 = xmalloc(D * sizeof *m->m0);
    for (size_t k = 0; k < D; k++)
        for (size_t j = 0; j < D; j++) m->qs[k * D + j] = (float)(s[k] * a[k * D + j]);
    float *w = xmalloc(C * D * sizeof *w);
    for (size_t i = 0; i < C * D; i++) w[i] = i % D < 32 ? 0.35f * unif_unit(&sm) : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)C, (int)D, (int)D, 1.0f, w,
                (int)D, m->qs, (int)D, 0.0f, m->mu, (int)D);
    for (size_t j = 0; j < D; j++) m->m0[j] = (float)(2.0 + 0.5 * unif01(&sm) + 0.3 * kind);
    free(w);
    free(a);
    free(tau);
    free(s);
}

static void model_free(gen_model *m) {
    free(m->qs);
    free(m->mu);
    free(m->m0);
}

/* .npy version 1.0 header, padded so the data starts at a multiple of 64 bytes. */
static void npy_header(FILE *f, const char *descr, size_t n, size_t d) {
    char dict[160];
    int len = d ? snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu, %zu), }",
                           descr, n, d)
                : snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%zu,), }",
                           descr, n);
    size_t total = 10 + (size_t)len + 1;
    size_t pad = (64 - total % 64) % 64;
    unsigned short hl = (unsigned short)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    unsigned char hb[2] = {(unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
    fwrite(hb, 1, 2, f);
    fwrite(dict, 1, (size_t)len, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
}

static int cmd_gen(int argc, char **argv) {
    if (argc < 7) die("usage: gen FEAT.npy LABELS.npy N D C SEED [ref] [decay=A]");
    const char *fp = argv[1], *lp = argv[2];
    size_t N = strtoull(argv[3], NULL, 10), D = strtoull(argv[4], NULL, 10),
           C = strtoull(argv[5], NULL, 10);
    uint64_t seed = strtoull(argv[6], NULL, 10);
    int kind = 0;
    double decay = 0.8;
    for (int a = 7; a < argc; a++) {
        if (!strcmp(argv[a], "ref")) kind = 1;
        else if (!strncmp(argv[a], "decay=", 6)) decay = atof(argv[a] + 6);
        else die("gen: unknown argument %s", argv[a]);
    }
    if (!(decay > 0 && decay < 4)) die("gen: decay=A needs 0 < A < 4");
    if (!N || !D || C < 2) die("gen: need N, D >= 1 and C >= 2");
    gen_model m;
    model_init(&m, D, C, kind, decay);
    int64_t *y = xmalloc(N * sizeof *y);
    uint64_t sy = seed * 2654435761u + 17;
    for (size_t i = 0; i < N; i++) y[i] = i < C ? (int64_t)i : (int64_t)(sm64(&sy) % C);
    FILE *f = fopen(fp, "wb");
    if (!f) die("gen: cannot write %s", fp);
    npy_header(f, "<f4", N, D);
    size_t B = 2048;
    float *z = xmalloc(B * D * sizeof *z), *x = xmalloc(B * D * sizeof *x);
    uint64_t sz = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t r0 = 0; r0 < N; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        for (size_t i = 0; i < nr * D; i++) z[i] = unif_unit(&sz);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nr, (int)D, (int)D, 1.0f, z,
                    (int)D, m.qs, (int)D, 0.0f, x, (int)D);
        for (size_t i = 0; i < nr; i++) {
            const float *mu = m.mu + (size_t)y[r0 + i] * D;
            float *r = x + i * D;
            for (size_t j = 0; j < D; j++) r[j] += mu[j] + m.m0[j];
        }
        if (fwrite(x, sizeof *x, nr * D, f) != nr * D) die("gen: write failed on %s (disk full?)", fp);
    }
    if (fclose(f)) die("gen: write failed on %s", fp);
    if (strcmp(lp, "-")) {
        FILE *g = fopen(lp, "wb");
        if (!g) die("gen: cannot write %s", lp);
        npy_header(g, "<i8", N, 0);
        if (fwrite(y, sizeof *y, N, g) != N || fclose(g)) die("gen: write failed on %s", lp);
    }
    free(z);
    free(x);
    free(y);
    model_free(&m);
    return 0;
}

/* ------------------------------------------------------------------ pedlab calls */

static pl_data *open_data(const char *feat, const char *lab) {
    pl_err e;
    pl_data *d;
    ok(pl_data_open(feat, lab, &d, &e), &e, feat);
    return d;
}

static unsigned metric_needs(const char *metric) {
    const pl_metric *m = pl_metric_find(metric);
    if (!m) die("unknown metric %s", metric);
    return m->needs;
}

/* The PED motion through the library's one pipeline (pl_ped_run, as pl.ped_run and the
 * command line run it): returns the moved dataset; *steps gets the accepted steps. */
static pl_data *ped_move(pl_data *d, const char *ref, double radius, double dt, unsigned needs,
                         int *steps) {
    pl_err e;
    pl_source *rs;
    pl_sim_result r;
    pl_data *m;
    pl_ped_opts o = pl_ped_opts_default();
    o.balls.radius = radius;
    o.sim.dt = dt;
    ok(pl_source_open_array(ref, &rs, &e), &e, ref);
    ok(pl_ped_run(d, rs, &o, needs, NULL, &m, &r, NULL, &e), &e, "ped");
    if (steps) *steps = r.steps;
    pl_sim_result_release(&r);
    pl_source_release(rs);
    return m;
}

static double score(const char *metric, pl_data *d) {
    pl_err e;
    double v;
    pl_opts none = {NULL, 0, 0};
    ok(pl_metric_score(metric, d, &none, &v, &e), &e, metric);
    return v;
}

/* LogME from the file with a cold dataset: open, labels, stats pass, spectrum, evidence. */
static double time_logme_file(const char *feat, const char *lab, double *value) {
    double t0 = now();
    pl_data *d = open_data(feat, lab);
    double v = score("logme", d);
    pl_data_release(d);
    double t = now() - t0;
    if (value) *value = v;
    return t;
}

/* PED + LogME from the file, split into: open + the one statistics pass (class sums and the
 * Gram, as pl_ped_run makes it when LogME is to be scored: made first here to time it),
 * the PED motion (ref statistics, balls, simulate, moved), and LogME on the moved dataset
 * (its statistics derived from the base's, then the spectrum and the evidence). */
static double time_ped_logme_file(const char *feat, const char *lab, const char *ref, int *steps,
                                  double *value, double split[3]) {
    pl_err e;
    const pl_stats *st;
    double t0 = now();
    pl_data *d = open_data(feat, lab);
    ok(pl_data_stats(d, 1, &st, &e), &e, "stats");
    double t1 = now();
    pl_data *m = ped_move(d, ref, 0.6, 0.1, metric_needs("logme"), steps);
    double t2 = now();
    double v = score("logme", m);
    pl_data_release(m);
    pl_data_release(d);
    double t3 = now();
    if (value) *value = v;
    if (split) {
        split[0] = t1 - t0;
        split[1] = t2 - t1;
        split[2] = t3 - t2;
    }
    return t3 - t0;
}

/* ------------------------------------------------------------------ floors */

/* The whole file as a row-major float64 N×D matrix (for the floor only). */
static double *load_dense(const char *feat, size_t *N, size_t *D) {
    pl_err e;
    pl_source *s;
    ok(pl_source_open_array(feat, &s, &e), &e, feat);
    *N = pl_source_rows(s);
    *D = pl_source_cols(s);
    double *x = xmalloc(*N * *D * sizeof *x);
    ok(pl_source_read(s, 0, *N, x, &e), &e, feat);
    pl_source_release(s);
    return x;
}

/* One cblas_dsyrk of the whole N×D matrix: G (upper, row-major) = XᵀX. */
static double time_syrk(const double *x, size_t N, size_t D, double *g) {
    double t0 = now();
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)N, 1.0, x, (int)D, 0.0, g, (int)D);
    return now() - t0;
}

/* One LAPACKE_dsyevd (eigenvectors) of the D×D Gram; g is copied first (copy not timed).
 * Row-major upper = column-major lower: no transposing copy inside LAPACKE. */
static double time_eigh(const double *g, size_t D, double *work, double *w) {
    memcpy(work, g, D * D * sizeof *work);
    double t0 = now();
    int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (int)D, work, (int)D, w);
    double t = now() - t0;
    if (info) die("floor dsyevd failed (info %d)", info);
    return t;
}

/* ------------------------------------------------------------------ target 1 */

static int rounds(void) {
    const char *r = getenv("BENCH_ROUNDS");
    int n = r ? atoi(r) : 5;
    return n < 1 ? 1 : n > 20 ? 20 : n;
}

static int cmd_logme(int argc, char **argv) {
    if (argc < 3) die("usage: logme FEAT LABELS");
    const char *feat = argv[1], *lab = argv[2];
    size_t N, D;
    int R = rounds();
    double *x = load_dense(feat, &N, &D);
    double *g = xmalloc(D * D * sizeof *g), *work = xmalloc(D * D * sizeof *work),
           *w = xmalloc(D * sizeof *w);
    printf("# target 1: LogME from the float32 file (cold dataset) vs floor = one dsyrk (N×D "
           "float64, in memory) + one dsyevd (D×D); N=%zu D=%zu; %d rounds, each floor then pedlab; "
           "verdict on the median of the per-round ratios\n",
           N, D, R);
    double fs = INFINITY, fe = INFINITY, pt = INFINITY, ps = INFINITY, pr = INFINITY, v = 0;
    double ratios[20];
    for (int rep = 0; rep < R; rep++) {
        double s1 = time_syrk(x, N, D, g), e1 = time_eigh(g, D, work, w);
        fs = dmin(fs, s1);
        fe = dmin(fe, e1);
        /* a cold run, split: open + the statistics pass, then the rest of LogME (which would
         * call the same pass itself) */
        pl_err e;
        const pl_stats *st;
        double t0 = now();
        pl_data *d = open_data(feat, lab);
        ok(pl_data_stats(d, 1, &st, &e), &e, "stats");
        double t1 = now();
        v = score("logme", d);
        double t2 = now();
        pl_data_release(d);
        double t = now() - t0;
        ps = dmin(ps, t1 - t0);
        pr = dmin(pr, t2 - t1);
        pt = dmin(pt, t);
        ratios[rep] = t / (s1 + e1);
        printf("  round %d: floor %.3f s (dsyrk %.3f + dsyevd %.3f), pedlab LogME %.3f s (statistics "
               "pass %.3f + spectrum/evidence %.3f)  ratio %.3f\n",
               rep + 1, s1 + e1, s1, e1, t, t1 - t0, t2 - t1, ratios[rep]);
    }
    printf("  min over rounds: statistics pass %.3f s = %.2f × dsyrk; spectrum + evidence %.3f s = "
           "%.2f × dsyevd; ratio of the minima %.3f\n",
           ps, ps / fs, pr, pr / fe, pt / (fs + fe));
    printf("  logme = %.10g\n", v);
    verdict("1  LogME(file, cold) / (dsyrk + dsyevd), median", median(ratios, (size_t)R), "<=",
            1.3, "");
    free(x);
    free(g);
    free(work);
    free(w);
    return 0;
}

/* ------------------------------------------------------------------ target 2 */

static int cmd_ped(int argc, char **argv) {
    if (argc < 4) die("usage: ped FEAT LABELS REF [SWEEP]");
    const char *feat = argv[1], *lab = argv[2], *ref = argv[3];
    int nsweep = argc > 4 ? atoi(argv[4]) : 30, R = rounds();
    if (nsweep < 2 || nsweep > 200) die("ped: sweep of 2..200 settings");
    double la = INFINITY, pa = INFINITY, vl = 0, vp = 0, ratios[20];
    int steps = 0;
    printf("# target 2a: PED + LogME from the file vs LogME from the file (each a cold dataset, "
           "%d rounds, each LogME then PED + LogME; verdict on the median of the per-round ratios); "
           "PED = pl_ped_run (statistics with the Gram, balls with ref, simulate dt 0.1 "
           "radius 0.6, moved)\n", R);
    for (int rep = 0; rep < R; rep++) {
        double t1 = time_logme_file(feat, lab, &vl);
        double sp[3];
        double t2 = time_ped_logme_file(feat, lab, ref, &steps, &vp, sp);
        la = dmin(la, t1);
        pa = dmin(pa, t2);
        ratios[rep] = t2 / t1;
        printf("  round %d: LogME %.3f s, PED + LogME %.3f s = open + statistics pass %.3f + PED "
               "motion (%d accepted steps) %.3f + LogME on the moved data (moved class statistics and "
               "Gram, spectrum, evidence) %.3f  ratio %.3f\n",
               rep + 1, t1, t2, sp[0], steps, sp[1], sp[2], ratios[rep]);
    }
    printf("  logme = %.10g, ped+logme = %.10g; ratio of the minima %.3f\n", vl, vp, pa / la);
    verdict("2a PED+LogME / LogME (from the file), median", median(ratios, (size_t)R), "<=", 1.05,
            "");

    /* The sweep: one dataset, nsweep PED settings, each scored with LogME. */
    size_t N, D;
    double *x = load_dense(feat, &N, &D);
    double *g = xmalloc(D * D * sizeof *g), *work = xmalloc(D * D * sizeof *work),
           *w = xmalloc(D * sizeof *w);
    double fs = dmin(time_syrk(x, N, D, g), time_syrk(x, N, D, g));
    free(x);
    static const double radii[] = {0.3, 0.45, 0.6, 0.8, 1.0};
    static const double dts[] = {0.05, 0.1, 0.2, 0.3, 0.5, 1.0};
    double feig[64], tk[200], cp[3][200];
    size_t nfe = 0;
    double tped = 0, tstats = 0, tlogme = 0;
    printf("# target 2b: a sweep of %d PED settings (radius × dt) on ONE dataset (base statistics "
           "computed once, reused by every moved dataset), each scored with LogME; floor = one "
           "dsyrk + %d × dsyevd (a floor dsyevd is timed every 5 settings, outside the sweep's "
           "time)\n", nsweep, nsweep);
    double tsweep = 0;
    pl_data *d = NULL;
    for (int k = 0; k < nsweep; k++) {
        if (k % 5 == 0 && nfe < 64) feig[nfe++] = time_eigh(g, D, work, w);
        double a = now();
        if (!d) d = open_data(feat, lab);   /* counted in the first setting */
        pl_data *m = ped_move(d, ref, radii[k % 5], dts[(k / 5) % 6], metric_needs("logme"),
                              NULL);
        double b = now();
        pl_err e;
        const pl_stats *st;
        ok(pl_data_stats(m, 0, &st, &e), &e, "moved stats");   /* as pl_ped_run leaves it */
        double c = now();
        (void)score("logme", m);
        pl_data_release(m);
        double dd = now();
        tk[k] = dd - a;
        tsweep += tk[k];
        if (k > 0) {
            cp[0][k - 1] = b - a;
            cp[1][k - 1] = c - b;
            cp[2][k - 1] = dd - c;
        }
    }
    pl_data_release(d);
    double fe = median(feig, nfe), eig_min = feig[0];
    double floor = fs + nsweep * fe;
    double first = tk[0];
    double rest = median(tk + 1, (size_t)nsweep - 1);
    tped = median(cp[0], (size_t)nsweep - 1);
    tstats = median(cp[1], (size_t)nsweep - 1);
    tlogme = median(cp[2], (size_t)nsweep - 1);
    double robust = first + (nsweep - 1) * rest;
    printf("  first setting (opens the file; the statistics passes) %.2f s; settings 2..%d: "
           "median %.3f s each = PED motion %.3f + moved class statistics %.3f + LogME (moved "
           "Gram, spectrum, evidence) %.3f (medians)\n",
           first, nsweep, rest, tped, tstats, tlogme);
    printf("  floor: dsyrk %.3f s + %d × dsyevd (median %.3f s, min %.3f s, %zu samples) = %.2f s\n",
           fs, nsweep, fe, eig_min, nfe, floor);
    printf("  sweep as run %.2f s, ratio %.3f (raw, sensitive to load bursts); robust estimate "
           "first + %d × median = %.2f s\n", tsweep, tsweep / floor, nsweep - 1, robust);
    printf("  per setting vs one floor dsyevd (median/median): %.3f; LogME (moved Gram, "
           "spectrum, evidence) alone vs dsyevd: %.3f\n", rest / fe, tlogme / fe);
    char what[64];
    snprintf(what, sizeof what, "2b sweep of %d PED+LogME / (Gram + %d eigh)", nsweep, nsweep);
    verdict(what, robust / floor, "<=", 1.2, "");
    free(g);
    free(work);
    free(w);
    return 0;
}

/* ------------------------------------------------------------------ target 2c */

/* FNV-1a over the bits of n doubles. */
static uint64_t bits_hash(const double *v, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < n * sizeof *v; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* PED's shift (the run's, original units) on a cold dataset, as a hash of its bits. */
static uint64_t ped_shift_hash(const char *feat, const char *lab, const char *ref) {
    pl_err e;
    pl_source *rs;
    pl_sim_result r;
    pl_data *m, *d = open_data(feat, lab);
    pl_ped_opts o = pl_ped_opts_default();
    ok(pl_source_open_array(ref, &rs, &e), &e, ref);
    ok(pl_ped_run(d, rs, &o, 0, NULL, &m, &r, NULL, &e), &e, "ped");
    uint64_t h = bits_hash(r.shift, r.C * r.D) ^ bits_hash(r.energies, (size_t)r.computed);
    pl_sim_result_release(&r);
    pl_data_release(m);
    pl_source_release(rs);
    pl_data_release(d);
    return h;
}

/* Many classes: PED + LogME against LogME with 1 and with 2 threads (pedlab's one setting:
 * OpenBLAS's threads and PED's pair loops), each round LogME then PED + LogME at 1 thread,
 * then the same at 2, verdict on the median of the per-round ratios at 2 threads; and the
 * PED shift's bits at 1 and 2 threads. */
static int cmd_threads(int argc, char **argv) {
    if (argc < 4) die("usage: threads FEAT LABELS REF");
    const char *feat = argv[1], *lab = argv[2], *ref = argv[3];
    int R = rounds();
    double ratio[2][20], motion[2][20], la[2] = {INFINITY, INFINITY}, pa[2] = {INFINITY, INFINITY};
    int steps = 0;
    int before = openblas_get_num_threads();
    printf("# target 2c: PED + LogME vs LogME from the file with many classes, 1 and 2 threads "
           "(BLAS and PED's pair loops), each a cold dataset, %d rounds of (LogME, PED + LogME) "
           "at 1 then 2 threads; verdict on the median of the per-round ratios at 2 threads\n", R);
    for (int rep = 0; rep < R; rep++) {
        for (int t = 0; t < 2; t++) {
            openblas_set_num_threads(t + 1);
            double vl, vp, sp[3];
            double t1 = time_logme_file(feat, lab, &vl);
            double t2 = time_ped_logme_file(feat, lab, ref, &steps, &vp, sp);
            ratio[t][rep] = t2 / t1;
            motion[t][rep] = sp[1];
            la[t] = dmin(la[t], t1);
            pa[t] = dmin(pa[t], t2);
            printf("  round %d, %d thread%s: LogME %.3f s, PED + LogME %.3f s (statistics %.3f + "
                   "PED motion, %d accepted steps, %.3f + LogME on the moved data %.3f)  ratio "
                   "%.3f\n", rep + 1, t + 1, t ? "s" : "", t1, t2, sp[0], steps, sp[1], sp[2],
                   ratio[t][rep]);
        }
    }
    openblas_set_num_threads(1);
    uint64_t h1 = ped_shift_hash(feat, lab, ref);
    openblas_set_num_threads(2);
    uint64_t h2 = ped_shift_hash(feat, lab, ref);
    openblas_set_num_threads(before);
    double m1 = median(motion[0], (size_t)R), m2 = median(motion[1], (size_t)R);
    printf("  PED motion (median) %.3f s at 1 thread, %.3f s at 2 (%.2f ×); ratio of the minima "
           "%.3f at 1 thread, %.3f at 2\n", m1, m2, m1 / m2, pa[0] / la[0], pa[1] / la[1]);
    printf("  PED shift and energies: bits %016llx at 1 thread, %016llx at 2: %s\n",
           (unsigned long long)h1, (unsigned long long)h2, h1 == h2 ? "identical" : "DIFFERENT");
    verdict("2c PED+LogME / LogME, many classes, 1 thread, median", median(ratio[0], (size_t)R),
            "<=", 1.1, "");
    verdict("2c PED+LogME / LogME, many classes, 2 threads, median", median(ratio[1], (size_t)R),
            "<=", 1.1, "");
    printf("TARGET  %-52s %9s   (target identical)  %s\n", "2c PED bits at 1 and 2 threads",
           h1 == h2 ? "same" : "differ", h1 == h2 ? "PASS" : "FAIL");
    return 0;
}

/* ------------------------------------------------------------------ target 5a */

static int cmd_growth(int argc, char **argv) {
    int n = argc - 1;
    if (n < 3) die("usage: growth N:FEAT:LABELS ... (at least 3)");
    static const char *const metrics[] = {"logme", "sfda", "gbc"};
    double ns[16], t[3][16];
    if (n > 16) n = 16;
    printf("# target 5a: time against N (cold dataset from the file), measured as CPU time with ONE "
           "OpenBLAS thread: growth is about the algorithm, and CPU time does not count the time "
           "other tenants hold the cores (wall time with 2 threads swung by 2× here); min of 2 "
           "runs (gbc, sub-second: 5); linear = the least-squares line a + b·N fits every point "
           "within 15 %%\n");
    char *feat[16], *lab[16];
    double wall[3][16];
    for (int i = 0; i < n; i++) {
        char *f = strchr(argv[i + 1], ':'), *l = f ? strchr(f + 1, ':') : NULL;
        if (!f || !l) die("growth: expected N:FEAT:LABELS, got %s", argv[i + 1]);
        *f++ = 0;
        *l++ = 0;
        ns[i] = atof(argv[i + 1]);
        feat[i] = f;
        lab[i] = l;
        for (int m = 0; m < 3; m++) t[m][i] = wall[m][i] = INFINITY;
    }
    openblas_set_num_threads(1);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < n; i++)
            for (int m = 0; m < 3; m++)
                for (int rep = 0; rep < (m == 2 ? 9 : 1); rep++) {
                    double c0 = cpu_now(), t0 = now();
                    pl_data *d = open_data(feat[i], lab[i]);
                    (void)score(metrics[m], d);
                    pl_data_release(d);
                    t[m][i] = dmin(t[m][i], cpu_now() - c0);
                    wall[m][i] = dmin(wall[m][i], now() - t0);
                }
    for (int i = 0; i < n; i++)
        printf("  N=%6.0f  CPU: logme %.3f s  sfda %.3f s  gbc %.3f s   (wall %.3f %.3f %.3f s)\n",
               ns[i], t[0][i], t[1][i], t[2][i], wall[0][i], wall[1][i], wall[2][i]);
    for (int m = 0; m < 3; m++) {
        /* least-squares t = a + b·N; the marginal cost per row over the lower and the upper half */
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            sx += ns[i];
            sy += t[m][i];
            sxx += ns[i] * ns[i];
            sxy += ns[i] * t[m][i];
        }
        double b = (n * sxy - sx * sy) / (n * sxx - sx * sx), a = (sy - b * sx) / n, res = 0;
        for (int i = 0; i < n; i++) res = fmax(res, fabs(t[m][i] - (a + b * ns[i])) / t[m][i]);
        int h = n / 2;
        double blo = (t[m][h] - t[m][0]) / (ns[h] - ns[0]);
        double bhi = (t[m][n - 1] - t[m][h]) / (ns[n - 1] - ns[h]);
        printf("  %s: t = %.3f s + %.3f µs·N (fixed part %.0f%% of t at N=%.0f); marginal cost per "
               "row N %.0f→%.0f vs %.0f→%.0f: %.3f (information)\n",
               metrics[m], a, b * 1e6, 100 * a / t[m][0], ns[0], ns[h], ns[n - 1], ns[0], ns[h],
               bhi / blo);
        char what[80];
        snprintf(what, sizeof what, "5a %s: max residual of the fit a + b·N", metrics[m]);
        verdict(what, res, "<=", 0.15, "");
    }
    return 0;
}

/* ------------------------------------------------------------------ target 5b */

static int cmd_steps(int argc, char **argv) {
    if (argc < 4) die("usage: steps D C1 C2 ...");
    size_t D = strtoull(argv[1], NULL, 10);
    int n = argc - 2;
    if (n > 16) n = 16;
    double cs[16], per[16];
    /* one thread: the growth is the algorithm's (threads start only for long passes, so they
     * would speed up the large C alone) */
    int before = openblas_get_num_threads();
    openblas_set_num_threads(1);
    printf("# target 5b: one PED step (Hooke, every pair overlapping) against C at D=%zu; "
           "in-memory dataset of 20 rows per class; one thread\n", D);
    for (int i = 0; i < n; i++) {
        size_t C = strtoull(argv[i + 2], NULL, 10), N = 20 * C;
        pl_err e;
        pl_mat xm;
        ok(pl_mat_init(&xm, N, D, &e), &e, "matrix");
        int64_t *y = xmalloc(N * sizeof *y);
        uint64_t s = 99 + C;
        for (size_t r = 0; r < N; r++) {
            y[r] = (int64_t)(r % C);
            for (size_t j = 0; j < D; j++) PL_AT(&xm, r, j) = gauss(&s) + 0.05 * (double)(r % C) * (j % 7 == 0);
        }
        pl_source *src;
        pl_data *d;
        ok(pl_source_from_mat(&xm, "steps", &src, &e), &e, "source");
        ok(pl_data_new(src, y, N, "labels", &d, &e), &e, "dataset");
        pl_balls b;
        pl_balls_opts bo = pl_balls_opts_default();
        bo.radius = 50.0;   /* every pair overlaps, and keeps overlapping with dt = 1e-3 */
        ok(pl_balls_init(&b, d, NULL, NULL, &bo, &e), &e, "balls");
        int reps = 0;
        double t0 = now(), el = 0;
        while (el < 0.3 || reps < 3) {
            double ch;
            ok(pl_balls_step(&b, 1e-3, NULL, &ch, &e), &e, "step");
            reps++;
            el = now() - t0;
        }
        cs[i] = (double)C;
        per[i] = el / reps;
        double pairs = 0.5 * (double)C * (double)(C - 1);
        printf("  C=%4zu  %.3f ms/step  %.2f ns per pair·dimension  (%d steps)\n", C, per[i] * 1e3,
               per[i] / (pairs * (double)D) * 1e9, reps);
        pl_balls_release(&b);
        pl_data_release(d);
        pl_source_release(src);
        pl_mat_release(&xm);
        free(y);
    }
    openblas_set_num_threads(before);
    /* log-log slope from the two largest C (small C carries fixed costs) and over all points */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double lx = log(cs[i]), ly = log(per[i]);
        sx += lx;
        sy += ly;
        sxx += lx * lx;
        sxy += lx * ly;
    }
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    double cmax = per[n - 1] / (0.5 * cs[n - 1] * (cs[n - 1] - 1) * (double)D) * 1e9;
    printf("TARGET  %-52s %9.3f   (target 2 ± 0.2)  %s\n", "5b PED step: log-log slope against C",
           slope, fabs(slope - 2) <= 0.2 ? "PASS" : "FAIL");
    verdict("5b PED step: ns per pair·dimension at largest C", cmax, "<=", 5.0, " ns");
    return 0;
}

/* ------------------------------------------------------------------ run / exec */

static int cmd_run(int argc, char **argv) {
    if (argc < 4) die("usage: run METRIC FEAT LABELS [REF]");
    const char *metric = argv[1], *feat = argv[2], *lab = argv[3];
    const char *ref = argc > 4 ? argv[4] : NULL;
    double t0 = now();
    pl_data *d = open_data(feat, lab), *m = NULL;
    int steps = -1;
    if (ref) m = ped_move(d, ref, 0.6, 0.1, metric_needs(metric), &steps);
    double v = score(metric, m ? m : d);
    double t = now() - t0;
    pl_data_release(m);
    pl_data_release(d);
    printf("score=%.12g seconds=%.4f steps=%d vmhwm_kb=%ld\n", v, t, steps, vmhwm_kb());
    return 0;
}

/* How many principal components hold 80 % of the variance (NLEEP's PCA), for the record. */
static int cmd_pcadims(int argc, char **argv) {
    if (argc < 3) die("usage: pcadims FEAT LABELS");
    pl_err e;
    pl_pca p;
    pl_data *d = open_data(argv[1], argv[2]);
    ok(pl_pca_fit(d, 0, &p, &e), &e, "pca");
    printf("%zu\n", pl_pca_count_for_ratio(&p, 0.8));
    pl_pca_release(&p);
    pl_data_release(d);
    return 0;
}

static int cmd_exec(int argc, char **argv) {
    if (argc < 2) die("usage: exec CMD ARGS...");
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) die("wait4 failed");
    double t = now() - t0;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    fprintf(stderr, "exec: status=%d seconds=%.3f maxrss_kb=%ld\n", rc, t, ru.ru_maxrss);
    return rc;
}

int main(int argc, char **argv) {
    const char *th = getenv("PEDLAB_THREADS");
    openblas_set_num_threads(th && atoi(th) > 0 ? atoi(th) : 2);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) die("usage: plbench gen|logme|ped|threads|growth|steps|run|exec|pcadims ...");
    const char *c = argv[1];
    if (!strcmp(c, "gen")) return cmd_gen(argc - 1, argv + 1);
    if (!strcmp(c, "logme")) return cmd_logme(argc - 1, argv + 1);
    if (!strcmp(c, "ped")) return cmd_ped(argc - 1, argv + 1);
    if (!strcmp(c, "threads")) return cmd_threads(argc - 1, argv + 1);
    if (!strcmp(c, "growth")) return cmd_growth(argc - 1, argv + 1);
    if (!strcmp(c, "steps")) return cmd_steps(argc - 1, argv + 1);
    if (!strcmp(c, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(c, "exec")) return cmd_exec(argc - 1, argv + 1);
    if (!strcmp(c, "pcadims")) return cmd_pcadims(argc - 1, argv + 1);
    die("unknown command %s", c);
}

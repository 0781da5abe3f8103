/* registry.c — metric name → function, inputs it needs, direction, options, summary. */
#include <math.h>
#include <string.h>

#include "metric.h"

static const char *const no_keys[] = {NULL};
static const char *const gbc_keys[] = {"type", "pca", NULL};
static const char *const nleep_keys[] = {"ratio", "log", NULL};
static const char *const parc_keys[] = {"dims", NULL};
static const char *const transrate_keys[] = {"eps", NULL};
static const char *const etran_energy_keys[] = {"tail_min", NULL};
static const char *const ncti_keys[] = {"pca_clip", NULL}; /* all in ncti.c's memo key */
static const char *const etran_parts[] = {"etran_energy", "etran_lda", NULL};
static const char *const ncti_parts[] = {"ncti_ncc", "ncti_nuc", "ncti_vc", NULL};

/* Options' defaults and ranges, parallel to the keys (help("gbc"), pedlab metrics). */
static const char *const gbc_docs[] = {
    "default diagonal; diagonal | spherical: the per-class covariance",
    "default 0; 0 (raw features) or K >= 1: project on the top K principal components first",
    NULL};
static const char *const nleep_docs[] = {
    "default 5; whole number >= 1 with ratio*C <= N: mixture components per class",
    "default false; true | false: the paper's log form instead of the official code's", NULL};
static const char *const parc_docs[] = {"default 32; whole number >= 2, <= min(N, D): PCA dims",
                                        NULL};
static const char *const transrate_docs[] = {"default 1e-4; number > 0: the coding-rate epsilon",
                                             NULL};
static const char *const etran_energy_docs[] = {
    "default 0; whole number 0..N: the least number of rows in the 0.5 % tail (1 makes N < 200 "
    "defined)", NULL};
static const char *const ncti_docs[] = {
    "default false; true | false: clip PCA to min(N, D) - 1 components", NULL};

/* ---- cost models (flops; docs/metrics.md's Cost column): stats = the shared pass ---- */
static double gram(double N, double D) { return N * D * D + 10 * D * D * D; }
static long opt_or(const pl_opts *o, const char *m, const char *k, long def) {
    long v = def;
    pl_err e;
    if (pl_opt_int(o, m, k, def, &v, &e)) v = def;
    return v;
}
static double f_logme(double N, double D, double C, const pl_opts *o) {
    (void)o;
    return gram(N, D) + C * D * D;
}
static double f_sfda(double N, double D, double C, const pl_opts *o) {
    (void)o;
    return gram(N, D) + 2 * N * D * (C + D);
}
static double f_gbc(double N, double D, double C, const pl_opts *o) {
    double K = (double)opt_or(o, "gbc", "pca", 0);
    return N * D + C * C * D + (K > 0 ? gram(N, D) + N * D * K : 0);
}
static double f_source(double N, double D, double C, const pl_opts *o) {
    (void)D, (void)o;
    return N * C + N * 20;
}
/* NLEEP: PCA, then k-means and EM on k assumed min(D, 128) dims, K = ratio*C components,
 * about 15 EM iterations of ~2·N·k²·K flops each (at most 100) */
static double f_nleep(double N, double D, double C, const pl_opts *o) {
    double K = (double)opt_or(o, "nleep", "ratio", 5) * C, k = D < 128 ? D : 128;
    return gram(N, D) + N * D * k + 300 * N * K * k + 15 * 2 * N * k * k * K;
}
static double f_hscore(double N, double D, double C, const pl_opts *o) {
    (void)o;
    return gram(N, D) + C * D * D + N * D;
}
/* PARC: rows subsampled to 15000; about four visits of the N² pairs over k dims */
static double f_parc(double N, double D, double C, const pl_opts *o) {
    double k = (double)opt_or(o, "parc", "dims", 32), n = N < 15000 ? N : 15000;
    (void)C;
    return gram(N, D) + N * D * k + 4 * n * n * k + 2 * n * n * 14;
}
static double f_etran_energy(double N, double D, double C, const pl_opts *o) {
    (void)C, (void)o;
    return 3 * N * D;
}
static double f_etran_lda(double N, double D, double C, const pl_opts *o) {
    (void)o;
    return 2 * N * D * C + C * D * D;
}
static double f_ncti(double N, double D, double C, const pl_opts *o) {
    (void)o;
    return gram(N, D) + N * D * 64 + N * C * 64;
}

static const pl_metric metrics[] = {
    {"logme", pl_logme, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "LogME, fixed-point iteration (You et al., JMLR'22; thuml/LogME default)", NULL, NULL, no_keys,
     "stats + O(D³ + C·D²)", f_logme},
    {"logme_icml", pl_logme_icml, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "LogME, ICML'21 iteration (You et al., ICML'21)", NULL, NULL, no_keys,
     "stats + O(D³ + C·D²)", f_logme},
    {"sfda", pl_sfda, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "SFDA: self-challenging Fisher discriminant analysis (Shao et al., ECCV'22)", NULL, NULL,
     no_keys, "stats + 2 passes O(N·D·(C + D)) + O(D³)", f_sfda},
    {"gbc", pl_gbc, PL_NEED_FEATURES, 1, gbc_keys,
     "Gaussian Bhattacharyya Coefficient (Pandy et al., CVPR'22); type=diagonal|spherical, pca=K",
     NULL, NULL,
     gbc_docs, "O(N·D) + O(C²·D); pca: stats + O(D³ + N·D·K)", f_gbc},
    {"leep", pl_leep, PL_NEED_SOURCE_PROBS, 1, no_keys,
     "LEEP: log expected empirical prediction (Nguyen et al., ICML'20); needs source probabilities",
     NULL, NULL,
     no_keys, "O(N·Cs)", f_source},
    {"nce", pl_nce, PL_NEED_SOURCE_LABELS, 1, no_keys,
     "NCE: negative conditional entropy (Tran et al., ICCV'19); needs source labels", NULL, NULL,
     no_keys, "O(N log N)", f_source},
    {"nleep", pl_nleep, PL_NEED_FEATURES | PL_NEED_GRAM, 1, nleep_keys,
     "N-LEEP: Gaussian-mixture LEEP on PCA features (Li et al., CVPR'21); ratio=5, log=false",
     NULL, NULL,
     nleep_docs, "stats + O(D³ + N·D·k) + EM iterations (<= 100) of O(N·k²·ratio·C)", f_nleep},
    {"hscore", pl_hscore, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "H-score (Bao et al., ICIP'19)", NULL, NULL, no_keys, "stats + O(D³ + C·D²)", f_hscore},
    {"hscore_reg", pl_hscore_reg, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "H-score with Ledoit-Wolf shrinkage (Ibrahim et al., ECML-PKDD'22)", NULL, NULL, no_keys,
     "stats + O(D³ + C·D²) + one O(N·D) pass", f_hscore},
    {"transrate", pl_transrate, PL_NEED_FEATURES | PL_NEED_GRAM, 1, transrate_keys,
     "TransRate: coding-rate transferability (Huang et al., ICML'22); eps=1e-4", NULL, NULL,
     transrate_docs, "stats + O(D³ + C·D²)", f_logme},
    {"parc", pl_parc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, parc_keys,
     "PARC: pairwise annotation representation comparison (Bolya et al., NeurIPS'21), x100; "
     "dims=32",
     NULL, NULL,
     parc_docs, "stats + O(D³ + N·D·k) + O(N²·k) (N <= 15000 rows)", f_parc},
    {"etran_energy", pl_etran_energy, PL_NEED_FEATURES, 1, etran_energy_keys,
     "ETran's energy part: mean logsumexp of the lowest 0.5 % of rows (Gholami et al., ICCV'23)",
     NULL, NULL,
     etran_energy_docs, "one O(N·D) pass", f_etran_energy},
    {"etran_lda", pl_etran_lda, PL_NEED_FEATURES, 1, no_keys,
     "ETran's LDA part: mean probability of the true class, adaptive shrinkage (ICCV'23)",
     NULL, NULL,
     no_keys, "class sums + one O(N·D·C) pass", f_etran_lda},
    {"ncti_nuc", pl_ncti_nuc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, ncti_keys,
     "NCTI's nuclear norm of the LDA projection of 64 PCA dims (Wang et al., ICCV'23)", NULL, NULL,
     ncti_docs, "stats + O(D³) + one O(N·D·64) pass", f_ncti},
    {"ncti_ncc", pl_ncti_ncc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, ncti_keys,
     "NCTI's nearest-centre score: mean LDA probability of the true class (ICCV'23)", NULL, NULL,
     ncti_docs, "stats + O(D³) + one O(N·D·64) pass", f_ncti},
    {"ncti_vc", pl_ncti_vc, PL_NEED_FEATURES | PL_NEED_GRAM, 0, ncti_keys,
     "NCTI's variability collapse: log sum of per-class nuclear norms (ICCV'23; lower is better)",
     NULL, NULL, ncti_docs, "stats + O(D³) + one O(N·D·64) pass", f_ncti},
    {"etran", NULL, PL_NEED_FEATURES, 1, no_keys,
     "ETran (Gholami et al., ICCV'23): zoo-level, from etran_energy and etran_lda", etran_parts,
     "0.15*minmax(etran_energy) + 0.85*minmax(etran_lda)", no_keys, "its parts'", NULL},
    {"ncti", NULL, PL_NEED_FEATURES, 1, no_keys,
     "NCTI (Wang et al., ICCV'23): zoo-level, from ncti_ncc, ncti_nuc and ncti_vc", ncti_parts,
     "minmax(ncti_ncc) + minmax(ncti_nuc) - minmax(ncti_vc)", no_keys, "its parts'", NULL},
};

double pl_metric_seconds(const char *name, double N, double D, double C, const pl_opts *o) {
    const pl_metric *m = pl_metric_find(name);
    if (!m) return 0;
    if (m->flops) return m->flops(N, D, C, o) / PL_FLOPS_PER_SECOND;
    double s = 0;
    for (const char *const *p = m->parts; p && *p; p++) s += pl_metric_seconds(*p, N, D, C, o);
    return s;
}

const pl_metric *pl_metric_all(size_t *count) {
    *count = sizeof metrics / sizeof metrics[0];
    return metrics;
}

const pl_metric *pl_metric_find(const char *name) {
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++)
        if (!strcmp(metrics[i].name, name)) return &metrics[i];
    return NULL;
}

int pl_metric_score(const char *name, pl_data *d, const pl_opts *o, double *out, pl_err *err) {
    const pl_metric *m = pl_metric_find(name);
    *out = (double)NAN;
    if (!m) {
        char list[512];
        const char *names[sizeof metrics / sizeof metrics[0] + 1];
        for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) names[i] = metrics[i].name;
        names[sizeof metrics / sizeof metrics[0]] = NULL;
        pl_join(list, sizeof list, names, ", ", "");
        return pl_err_set(err, PL_EINVAL, "unknown metric '%s'; known: %s", name, list);
    }
    if (!m->fn) {
        char list[128];
        pl_join(list, sizeof list, m->parts, ", ", "");
        return pl_err_set(err, PL_EINVAL,
                          "%s is zoo-level: it combines %s across the models of a task (%s); rank "
                          "a zoo with `pedlab rank --metric %s`, or score the parts of one file",
                          name, list, m->combine, name);
    }
    for (size_t i = 0; o && i < o->n; i++) {
        int ok = 0;
        for (const char *const *k = m->keys; *k; k++)
            if (!strcmp(*k, o->kv[i].key)) ok = 1;
        if (!ok) {
            char list[256];
            pl_join(list, sizeof list, m->keys, ", ", "");
            return pl_err_set(err, PL_EINVAL, "%s: unknown option '%s'; %s%s", name, o->kv[i].key,
                              *m->keys ? "known: " : "it takes no options", list);
        }
    }
    if ((m->needs & PL_NEED_SOURCE_PROBS) && !pl_data_source_probs(d))
        return pl_err_set(err, PL_EINVAL, "%s needs source-model probabilities (--source-probs "
                          "P.npy)", name);
    if ((m->needs & PL_NEED_SOURCE_LABELS) && !pl_data_source_labels(d))
        return pl_err_set(err, PL_EINVAL, "%s needs source-model labels (--source-labels S.npy)",
                          name);
    pl_opts none = {NULL, 0, 0};
    int rc = m->fn(d, o ? o : &none, out, err);
    if (rc) {
        /* every message names the metric (the core's own errors may not) */
        size_t nl = strlen(name);
        if (err && !(strncmp(err->msg, name, nl) == 0 && err->msg[nl] == ':') && rc != PL_EINTR)
            pl_err_prefix(err, "%s", name);
        return rc;
    }
    if (!isfinite(*out))
        return pl_err_set(err, PL_ENUMERIC, "%s: the score is %s on %s; refusing to report it",
                          name,
                          isnan(*out) ? "NaN" : "infinite", pl_data_name(d));
    return PL_OK;
}

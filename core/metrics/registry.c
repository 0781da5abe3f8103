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

static const pl_metric metrics[] = {
    {"logme", pl_logme, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "LogME, fixed-point iteration (You et al., JMLR'22; thuml/LogME default)", NULL, NULL},
    {"logme_icml", pl_logme_icml, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "LogME, ICML'21 iteration (You et al., ICML'21)", NULL, NULL},
    {"sfda", pl_sfda, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "SFDA: self-challenging Fisher discriminant analysis (Shao et al., ECCV'22)", NULL, NULL},
    {"gbc", pl_gbc, PL_NEED_FEATURES, 1, gbc_keys,
     "Gaussian Bhattacharyya Coefficient (Pandy et al., CVPR'22); type=diagonal|spherical, pca=K",
     NULL, NULL},
    {"leep", pl_leep, PL_NEED_SOURCE_PROBS, 1, no_keys,
     "LEEP: log expected empirical prediction (Nguyen et al., ICML'20); needs source probabilities",
     NULL, NULL},
    {"nce", pl_nce, PL_NEED_SOURCE_LABELS, 1, no_keys,
     "NCE: negative conditional entropy (Tran et al., ICCV'19); needs source labels", NULL, NULL},
    {"nleep", pl_nleep, PL_NEED_FEATURES | PL_NEED_GRAM, 1, nleep_keys,
     "N-LEEP: Gaussian-mixture LEEP on PCA features (Li et al., CVPR'21); ratio=5, log=false",
     NULL, NULL},
    {"hscore", pl_hscore, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "H-score (Bao et al., ICIP'19)", NULL, NULL},
    {"hscore_reg", pl_hscore_reg, PL_NEED_FEATURES | PL_NEED_GRAM, 1, no_keys,
     "H-score with Ledoit-Wolf shrinkage (Ibrahim et al., ECML-PKDD'22)", NULL, NULL},
    {"transrate", pl_transrate, PL_NEED_FEATURES | PL_NEED_GRAM, 1, transrate_keys,
     "TransRate: coding-rate transferability (Huang et al., ICML'22); eps=1e-4", NULL, NULL},
    {"parc", pl_parc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, parc_keys,
     "PARC: pairwise annotation representation comparison (Bolya et al., NeurIPS'21), x100; "
     "dims=32",
     NULL, NULL},
    {"etran_energy", pl_etran_energy, PL_NEED_FEATURES, 1, etran_energy_keys,
     "ETran's energy part: mean logsumexp of the lowest 0.5 % of rows (Gholami et al., ICCV'23)",
     NULL, NULL},
    {"etran_lda", pl_etran_lda, PL_NEED_FEATURES, 1, no_keys,
     "ETran's LDA part: mean probability of the true class, adaptive shrinkage (ICCV'23)",
     NULL, NULL},
    {"ncti_nuc", pl_ncti_nuc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, ncti_keys,
     "NCTI's nuclear norm of the LDA projection of 64 PCA dims (Wang et al., ICCV'23)", NULL, NULL},
    {"ncti_ncc", pl_ncti_ncc, PL_NEED_FEATURES | PL_NEED_GRAM, 1, ncti_keys,
     "NCTI's nearest-centre score: mean LDA probability of the true class (ICCV'23)", NULL, NULL},
    {"ncti_vc", pl_ncti_vc, PL_NEED_FEATURES | PL_NEED_GRAM, 0, ncti_keys,
     "NCTI's variability collapse: log sum of per-class nuclear norms (ICCV'23; lower is better)",
     NULL, NULL},
    {"etran", NULL, PL_NEED_FEATURES, 1, no_keys,
     "ETran (Gholami et al., ICCV'23): zoo-level, from etran_energy and etran_lda", etran_parts,
     "0.15*minmax(etran_energy) + 0.85*minmax(etran_lda)"},
    {"ncti", NULL, PL_NEED_FEATURES, 1, no_keys,
     "NCTI (Wang et al., ICCV'23): zoo-level, from ncti_ncc, ncti_nuc and ncti_vc", ncti_parts,
     "minmax(ncti_ncc) + minmax(ncti_nuc) - minmax(ncti_vc)"},
};

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
    *out = NAN;
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

/* metric.h — the transferability-metric interface and registry.
 *
 * A metric scores a dataset: fn(d, opts, &score, err). It reads features only through the
 * pl_data API (pl_data_stats, pl_data_read, pl_data_dense), so moved datasets (PED) and streamed
 * files work unchanged, and it never modifies them. It returns a finite score or an error.
 *
 * Options arrive as key=value strings (command line "gbc:type=spherical:pca=64"); the registry
 * rejects keys a metric does not list, so a metric only reads the keys it declared. */
#ifndef PL_METRIC_H
#define PL_METRIC_H

#include "../data.h"

typedef struct pl_kv {
    const char *key;
    const char *val;
} pl_kv;

typedef struct pl_opts {
    const pl_kv *kv;
    size_t n;
    uint64_t seed;        /* for metrics with randomness (NLEEP) */
} pl_opts;

/* Typed option lookups; a missing key yields def. A malformed value is an error naming the
 * metric, the key and what was expected. */
int pl_opt_double(const pl_opts *o, const char *metric, const char *key, double def,
                  double *out, pl_err *err);
int pl_opt_int(const pl_opts *o, const char *metric, const char *key, long def, long *out,
               pl_err *err);
int pl_opt_bool(const pl_opts *o, const char *metric, const char *key, int def, int *out,
                pl_err *err);
/* choices: NULL-terminated list; *out is the index of the match. */
int pl_opt_choice(const pl_opts *o, const char *metric, const char *key,
                  const char *const *choices, int def, int *out, pl_err *err);

enum {
    PL_NEED_FEATURES = 1,
    PL_NEED_SOURCE_PROBS = 2,
    PL_NEED_SOURCE_LABELS = 4,
    PL_NEED_TARGETS = 8,         /* real-valued targets (LogME regression) */
    PL_NEED_GRAM = 16            /* reads the Gram XᵀX of pl_data_stats: callers that compute
                                    statistics first (PED) should ask for it in the same pass */
};

typedef int (*pl_metric_fn)(pl_data *d, const pl_opts *o, double *out, pl_err *err);

/* A metric scores one dataset (fn), or is zoo-level: fn is NULL and `parts` names the
 * per-model metrics whose scores a combiner joins across the models of one task (`combine`
 * says how; the Lua layer runs it, and researchers add their own there). */
typedef struct pl_metric {
    const char *name;
    pl_metric_fn fn;
    unsigned needs;
    int higher_better;
    const char *const *keys;  /* NULL-terminated allowed option keys */
    const char *summary;      /* one line: what it is, the paper */
    const char *const *parts; /* zoo-level: NULL-terminated per-model parts; else NULL */
    const char *combine;      /* zoo-level: the combination, as a formula */
    const char *const *key_docs; /* parallel to keys: "default V; range or choices: meaning" */
    const char *cost;         /* the cost model in words (docs/metrics.md's Cost column) */
    /* The cost model as a number: estimated floating-point operations of one score on N rows,
     * D features, C classes (o: the options; malformed ones count as their default). NULL for
     * zoo-level metrics (the sum of their parts). Callers turn it into seconds to announce
     * long work; it is an estimate (the iteration counts and the PCA size are assumed). */
    double (*flops)(double N, double D, double C, const pl_opts *o);
} pl_metric;

/* Estimated seconds of pl_metric_score(name, ...) on N×D with C classes (0 when unknown):
 * flops / PL_FLOPS_PER_SECOND, a conservative single-process rate. */
#define PL_FLOPS_PER_SECOND 5e9
double pl_metric_seconds(const char *name, double N, double D, double C, const pl_opts *o);

const pl_metric *pl_metric_find(const char *name);
const pl_metric *pl_metric_all(size_t *count);
/* Look the metric up, check options and inputs, run it, check the score is finite. */
int pl_metric_score(const char *name, pl_data *d, const pl_opts *o, double *out, pl_err *err);

/* The metric functions (one file each under core/metrics/). */
int pl_logme(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_logme_icml(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_sfda(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_gbc(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_leep(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_nce(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_nleep(pl_data *d, const pl_opts *o, double *out, pl_err *err);
/* Testing hook: components per E-step product (0, the default: chosen by the PCA dimension). */
extern size_t pl_nleep_estep_group;
int pl_hscore(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_hscore_reg(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_transrate(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_parc(pl_data *d, const pl_opts *o, double *out, pl_err *err);

/* The 2023 metrics' per-model parts (core/metrics/etran.c, core/metrics/ncti.c). */
int pl_etran_energy(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_etran_lda(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_ncti_nuc(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_ncti_ncc(pl_data *d, const pl_opts *o, double *out, pl_err *err);
int pl_ncti_vc(pl_data *d, const pl_opts *o, double *out, pl_err *err);

/* LogME with real-valued targets (N×K, thuml's regression=True; multi-label as 0/1 columns):
 * the mean over target columns of the per-column evidence. */
int pl_logme_targets(pl_data *d, const pl_mat *targets, double *out, pl_err *err);

#endif

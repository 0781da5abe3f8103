/* test_rank.c — rank correlations against scipy 1.10.1 (tests/fixtures/rank/cases.json) and
 * hand-computed @k measures. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../../core/rank.h"
#include "test.h"

static cJSON *load_cases(void) {
    char *text = tf_read_text(tf_path("rank", "cases.json"));
    if (!text) return NULL;
    cJSON *root = cJSON_Parse(text);
    free(text);
    return root;
}

/* A JSON number, or "nan" -> NAN. */
static double json_value(const cJSON *v) {
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (cJSON_IsString(v) && strcmp(v->valuestring, "nan") == 0) return (double)NAN;
    return -12345.0;  /* never a valid expectation: makes the test fail */
}

/* The numbers of a JSON array, malloc'd; NULL when out of memory. */
static double *json_array(const cJSON *a, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    if (!v) return NULL;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = e->valuedouble;
    return v;
}

typedef int (*rank_fn)(const double *, const double *, size_t, double *, pl_err *);

TEST(rank_scipy_cases) {
    cJSON *root = load_cases();
    ASSERT(root != NULL);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    if (cJSON_GetArraySize(cases) != 31) {
        cJSON_Delete(root);
        TF_FAIL("cases.json: expected 31 cases");
    }
    static const char *const keys[] = {"weightedtau", "kendalltau", "spearmanr", "pearsonr"};
    const rank_fn fns[] = {pl_rank_weighted_tau, pl_rank_kendall_tau, pl_rank_spearman,
                           pl_rank_pearson};
    double maxrel[4] = {0};
    int checked = 0, nans = 0, bad = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        size_t nx, ny;
        double *x = json_array(cJSON_GetObjectItemCaseSensitive(c, "x"), &nx);
        double *y = json_array(cJSON_GetObjectItemCaseSensitive(c, "y"), &ny);
        if (!x || !y) {
            free(x);
            free(y);
            fprintf(stderr, "%s: out of memory\n", name);
            cJSON_Delete(root); /* name points into the tree */
            TF_FAIL("out of memory reading a case");
        }
        for (int s = 0; s < 4 && nx == ny; s++) {
            double want = json_value(cJSON_GetObjectItemCaseSensitive(c, keys[s]));
            double got = -99;
            pl_err err = {0};
            int rc = fns[s](x, y, nx, &got, &err);
            checked++;
            if (rc != PL_OK) {
                fprintf(stderr, "%s %s: %s\n", name, keys[s], err.msg);
                bad++;
            } else if (isnan(want)) {
                nans++;
                if (!isnan(got)) {
                    fprintf(stderr, "%s %s: got %.17g, want nan\n", name, keys[s], got);
                    bad++;
                }
            } else {
                double rel = fabs(got - want) / fmax(1.0, fabs(want));
                if (rel > maxrel[s]) maxrel[s] = rel;
                if (!(rel <= 1e-12)) {
                    fprintf(stderr, "%s %s: got %.17g, want %.17g\n", name, keys[s], got, want);
                    bad++;
                }
            }
        }
        free(x);
        free(y);
        if (nx != ny) bad++;
    }
    cJSON_Delete(root);
    printf("rank_scipy_cases: max rel err weightedtau %.2g kendalltau %.2g spearmanr %.2g "
           "pearsonr %.2g (%d nan checks)\n", maxrel[0], maxrel[1], maxrel[2], maxrel[3], nans);
    ASSERT(checked == 31 * 4);
    ASSERT(nans == 4);
    ASSERT(bad == 0);
}

/* Small cases worked out by hand. */
TEST(rank_correlation_hand) {
    pl_err err = {0};
    double out;
    const double x[] = {1, 2, 3, 4}, up[] = {10, 20, 30, 40}, down[] = {4, 3, 2, 1};
    ASSERT_OK(pl_rank_kendall_tau(x, up, 4, &out, &err), &err);
    ASSERT_NEAR(out, 1.0, 1e-15);
    ASSERT_OK(pl_rank_spearman(x, down, 4, &out, &err), &err);
    ASSERT_NEAR(out, -1.0, 1e-15);
    ASSERT_OK(pl_rank_weighted_tau(x, up, 4, &out, &err), &err);
    ASSERT_NEAR(out, 1.0, 1e-15);
    ASSERT_OK(pl_rank_weighted_tau(x, down, 4, &out, &err), &err);
    ASSERT_NEAR(out, -1.0, 1e-15);
    /* one swap of the two lowest: concordant 5, discordant 1 of 6 pairs -> tau = 4/6 */
    const double sw[] = {2, 1, 3, 4};
    ASSERT_OK(pl_rank_kendall_tau(x, sw, 4, &out, &err), &err);
    ASSERT_NEAR(out, 4.0 / 6.0, 1e-15);
    /* spearman: d = (1, 1, 0, 0), 1 - 6*2/(4*15) = 0.8 */
    ASSERT_OK(pl_rank_spearman(x, sw, 4, &out, &err), &err);
    ASSERT_NEAR(out, 0.8, 1e-15);
    /* pearson with n = 2 is the product of the signs (scipy's special case) */
    const double a2[] = {1, 3}, b2[] = {5, -2};
    ASSERT_OK(pl_rank_pearson(a2, b2, 2, &out, &err), &err);
    ASSERT_NEAR(out, -1.0, 0);
    /* weighted tau, swap at the bottom barely matters; swap at the top matters more */
    double bottom, top;
    const double swtop[] = {1, 2, 4, 3};
    ASSERT_OK(pl_rank_weighted_tau(x, sw, 4, &bottom, &err), &err);
    ASSERT_OK(pl_rank_weighted_tau(x, swtop, 4, &top, &err), &err);
    ASSERT(bottom > top);
    /* constant input: NaN, not an error */
    const double k[] = {5, 5, 5, 5};
    ASSERT_OK(pl_rank_weighted_tau(x, k, 4, &out, &err), &err);
    ASSERT(isnan(out));
    ASSERT_OK(pl_rank_kendall_tau(k, x, 4, &out, &err), &err);
    ASSERT(isnan(out));
    ASSERT_OK(pl_rank_spearman(x, k, 4, &out, &err), &err);
    ASSERT(isnan(out));
    ASSERT_OK(pl_rank_pearson(k, x, 4, &out, &err), &err);
    ASSERT(isnan(out));
}

TEST(rank_errors) {
    pl_err err = {0};
    double out;
    const double x[] = {1, 2, 3}, bad[] = {1, (double)NAN, 3}, inf[] = {1, 2, (double)INFINITY};
    ASSERT_FAILS(pl_rank_weighted_tau(x, x, 1, &out, &err), &err, "at least 2");
    ASSERT_FAILS(pl_rank_kendall_tau(x, bad, 3, &out, &err), &err, "kendall_tau: y[1] is not finite");
    ASSERT_FAILS(pl_rank_spearman(inf, x, 3, &out, &err), &err, "spearman: x[2] is not finite");
    ASSERT_FAILS(pl_rank_pearson(x, x, 0, &out, &err), &err, "pearson");
    ASSERT_FAILS(pl_rank_rel_at_k(x, x, 3, 0, &out, &err), &err, "k must be in 1..3");
    ASSERT_FAILS(pl_rank_recall_at_k(x, x, 3, 4, &out, &err), &err, "k must be in 1..3");
    ASSERT_FAILS(pl_rank_regret_at_k(bad, x, 3, 1, &out, &err), &err, "regret_at_k: score[1]");
    const double zero[] = {0, 0, 0};
    ASSERT_FAILS(pl_rank_rel_at_k(x, zero, 3, 1, &out, &err), &err, "must be positive");
}

TEST(rank_at_k_hand) {
    pl_err err = {0};
    double out;
    /* five models; the metric ranks them 2 > 0 > 4 > 1 > 3 (0-based), best by accuracy is 4 */
    const double score[] = {0.8, 0.1, 0.9, -1.0, 0.5};
    const double acc[] = {70, 60, 65, 50, 80};
    ASSERT_OK(pl_rank_rel_at_k(score, acc, 5, 1, &out, &err), &err);
    ASSERT_NEAR(out, 65.0 / 80.0, 1e-15);
    ASSERT_OK(pl_rank_rel_at_k(score, acc, 5, 2, &out, &err), &err);
    ASSERT_NEAR(out, 70.0 / 80.0, 1e-15);
    ASSERT_OK(pl_rank_rel_at_k(score, acc, 5, 3, &out, &err), &err);
    ASSERT_NEAR(out, 1.0, 0);
    ASSERT_OK(pl_rank_regret_at_k(score, acc, 5, 1, &out, &err), &err);
    ASSERT_NEAR(out, 15.0, 1e-15);
    ASSERT_OK(pl_rank_regret_at_k(score, acc, 5, 2, &out, &err), &err);
    ASSERT_NEAR(out, 10.0, 1e-15);
    ASSERT_OK(pl_rank_regret_at_k(score, acc, 5, 5, &out, &err), &err);
    ASSERT_NEAR(out, 0.0, 0);
    /* top model by score is 2 (acc 65), third best by accuracy (80, 70, 65) */
    ASSERT_OK(pl_rank_recall_at_k(score, acc, 5, 1, &out, &err), &err);
    ASSERT(out == 0.0);
    ASSERT_OK(pl_rank_recall_at_k(score, acc, 5, 2, &out, &err), &err);
    ASSERT(out == 0.0);
    ASSERT_OK(pl_rank_recall_at_k(score, acc, 5, 3, &out, &err), &err);
    ASSERT(out == 1.0);
    /* ties in score keep input order: models 0 and 1 tie, 0 comes first */
    const double tied[] = {1, 1, 0};
    const double acc3[] = {10, 20, 30};
    ASSERT_OK(pl_rank_rel_at_k(tied, acc3, 3, 1, &out, &err), &err);
    ASSERT_NEAR(out, 10.0 / 30.0, 1e-15);
    ASSERT_OK(pl_rank_regret_at_k(tied, acc3, 3, 2, &out, &err), &err);
    ASSERT_NEAR(out, 10.0, 1e-15);
    /* a tie with the k-th best accuracy counts as inside the top k */
    const double s4[] = {3, 2, 1, 0};
    const double a4[] = {50, 60, 50, 40};
    ASSERT_OK(pl_rank_recall_at_k(s4, a4, 4, 2, &out, &err), &err);
    ASSERT(out == 1.0);
    ASSERT_OK(pl_rank_recall_at_k(s4, a4, 4, 1, &out, &err), &err);
    ASSERT(out == 0.0);
}

/* test.h — the C unit-test harness: TEST(name) { ... } in any tests/c/test_*.c file.
 *
 * CMake finds every TEST(name) line and registers `pl_ctest name` with ctest under that name;
 * `pl_ctest` alone runs all. ASSERT* stop the current test; fixtures are read from
 * PL_FIXTURES (tests/fixtures).
 *
 * Allocation failures: in a -DPL_FAIL_ALLOC=ON build (make check-alloc), `pl_ctest --fail-alloc
 * [name...]` runs each test again in a child process with its N-th allocation failing
 * (tests/c/failalloc.h); the test may then fail, but neither it nor the core may crash, hang or
 * trip a sanitizer, so a test checks its own allocations (ASSERT(p != NULL)) as the core does.
 * `PEDLAB_FAIL_ALLOC=N pl_ctest name` replays one such run. */
#ifndef PL_TEST_H
#define PL_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../core/pl.h"

typedef void (*tf_fn)(void);
void tf_register(const char *name, tf_fn fn);
extern int tf_failed;
/* TF_SKIP("what (reason)") ends the current test as skipped: a check that cannot run here is
 * counted and named, never a pass; with PL_NO_SKIP=1 (.ci/run) it is a failure. pl_ctest exits
 * 77 (ctest's SKIP_RETURN_CODE) when a test skipped and none failed. */
extern int tf_skipped;
void tf_skip(const char *file, int line, const char *why);
#define TF_SKIP(why)                                                            \
    do {                                                                        \
        tf_skip(__FILE__, __LINE__, why);                                       \
        return;                                                                 \
    } while (0)

#define TEST(name)                                                              \
    static void test_##name(void);                                              \
    __attribute__((constructor)) static void reg_##name(void) {                 \
        tf_register(#name, test_##name);                                        \
    }                                                                           \
    static void test_##name(void)

#define TF_FAIL(...)                                                            \
    do {                                                                        \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                         \
        fprintf(stderr, __VA_ARGS__);                                           \
        fputc('\n', stderr);                                                    \
        tf_failed = 1;                                                          \
        return;                                                                 \
    } while (0)

#define ASSERT(c) do { if (!(c)) TF_FAIL("assertion failed: %s", #c); } while (0)
/* status must be PL_OK; prints the error message otherwise */
#define ASSERT_OK(call, errp)                                                   \
    do {                                                                        \
        int rc_ = (call);                                                       \
        if (rc_ != PL_OK) TF_FAIL("%s -> %d: %s", #call, rc_, (errp)->msg);     \
    } while (0)
/* status must be a failure and the message must contain substr */
#define ASSERT_FAILS(call, errp, substr)                                        \
    do {                                                                        \
        int rc_ = (call);                                                       \
        if (rc_ == PL_OK) TF_FAIL("%s succeeded, expected failure", #call);     \
        if (!strstr((errp)->msg, (substr)))                                     \
            TF_FAIL("%s: message '%s' lacks '%s'", #call, (errp)->msg, substr); \
    } while (0)
/* relative closeness: |a-b| <= rtol * |b| (a value of 3e-3 is held to rtol of itself, not of
 * 1). An expected 0, or an entry whose own size means nothing (rounding noise in a vector), takes
 * an absolute bound instead: ASSERT_ABS(a, b, atol), e.g. atol = rtol * max|vector|. */
#define ASSERT_NEAR(a, b, rtol) ASSERT_REL(a, b, rtol)

/* absolute closeness: |a-b| <= atol */
#define ASSERT_ABS(a, b, atol)                                                  \
    do {                                                                        \
        double a_ = (a), b_ = (b);                                              \
        if (!(fabs(a_ - b_) <= (atol)))                                         \
            TF_FAIL("%s = %.17g, expected %.17g (atol %g)", #a, a_, b_,         \
                    (double)(atol));                                            \
    } while (0)

/* strictly relative closeness: |a-b| <= rtol * |b| */
#define ASSERT_REL(a, b, rtol)                                                      \
    do {                                                                            \
        double a_ = (a), b_ = (b);                                                  \
        if (!(fabs(a_ - b_) <= (rtol) * fabs(b_)))                                  \
            TF_FAIL("%s = %.17g, expected %.17g (rel err %.3g > %g)", #a, a_, b_,   \
                    fabs(a_ - b_) / fabs(b_), (double)(rtol));                      \
    } while (0)

/* Fixture helpers. */
const char *tf_path(const char *fixture_case, const char *file); /* static buffer rotation */
/* A number from tests/fixtures/<case>/expected.json by dotted key ("ped.set1.ped_logme");
 * returns NAN when absent or null, and fails the test when the file is unreadable. */
double tf_expected(const char *fixture_case, const char *dotted_key);
/* A fixture case as a dataset (features streamed from the .npy); with_sources also attaches
 * source_probs.npy and source_labels.npy. NULL with err filled on failure. */
struct pl_data;
struct pl_mat;
struct pl_opts;
struct pl_data *tf_load(const char *fixture_case, int with_sources, pl_err *err);
/* An in-memory dataset from a matrix and raw labels (one per row). */
struct pl_data *tf_from_mat(const struct pl_mat *x, const int64_t *y, pl_err *err);
/* The oracle of a moved dataset: d's rows moved by hand, x = row + shift[class] (N×D, caller
 * releases), and y = each row's class (malloc'd, caller frees). */
int tf_moved_by_hand(struct pl_data *d, const double *shift, struct pl_mat *x, int64_t **y,
                     pl_err *err);
/* A whole text file, malloc'd and NUL-terminated; NULL when unreadable. */
char *tf_read_text(const char *path);
/* A fixture case's features and labels (x, y) and a shuffled, relabelled copy (xp, yp: rows
 * permuted by a seeded Fisher-Yates, ids 1000 − 7·y) for invariance tests. Caller releases
 * x and xp and frees y and yp. */
int tf_load_permuted(const char *fixture_case, uint64_t seed, struct pl_mat *x, int64_t **y,
                     struct pl_mat *xp, int64_t **yp, pl_err *err);
/* PED's final score is the metric of X moved by the stored per-class displacement: score every
 * case moved by ped_disp_set1/2.npy with fn and compare with expected "ped.<set>.<key>"
 * (relative rtol; rtol_wide on the `wide` case). Fails the calling test on a mismatch. */
void tf_check_ped_displacement(int (*fn)(struct pl_data *, const struct pl_opts *, double *, pl_err *),
                               const char *key, double rtol, double rtol_wide);
/* PL_TEST_VERBOSE set and not "0": tests may print their error tables. */
int tf_verbose(void);
/* Deterministic uniform numbers in [0, 1) from a 64-bit LCG state. */
double tf_rand(uint64_t *state);

/* The public fixture cases, NULL-terminated. */
extern const char *const tf_cases[];

#endif

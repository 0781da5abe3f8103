/* test_harness.c — the harness itself: closeness is relative for small values, and a skip is
 * a skip (tests/sh/test_harness.sh runs harness_skip_probe with PL_TEST_SKIP_PROBE=1). */
#include <stdlib.h>

#include "test.h"

static void near_3e3(double rel) { ASSERT_NEAR(3e-3 * (1 + rel), 3e-3, 1e-9); }
static void abs_zero(double a) { ASSERT_ABS(a, 0.0, 1e-12); }

TEST(harness_near_is_relative) {
    near_3e3(2e-7); /* 6e-10 apart: within 1e-9 absolute, 2e-7 relative */
    int caught = tf_failed;
    tf_failed = 0;
    ASSERT(caught == 1);
    near_3e3(5e-10);
    ASSERT(tf_failed == 0);
    abs_zero(2e-12);
    caught = tf_failed;
    tf_failed = 0;
    ASSERT(caught == 1);
}

TEST(harness_skip_probe) {
    if (getenv("PL_TEST_SKIP_PROBE")) TF_SKIP("the harness's skip probe");
}

/* test_pl.c — the small helpers of core/pl.h. */
#include "../../core/pl.h"
#include "test.h"

TEST(pl_join_lists) {
    const char *const names[] = {"unit", "count", NULL};
    const char *const none[] = {NULL};
    char buf[64];
    ASSERT(!strcmp(pl_join(buf, sizeof buf, names, " or ", "'"), "'unit' or 'count'"));
    ASSERT(!strcmp(pl_join(buf, sizeof buf, names, ", ", ""), "unit, count"));
    ASSERT(!strcmp(pl_join(buf, sizeof buf, none, ", ", ""), ""));
    /* cut to the buffer, always terminated */
    char small[8];
    ASSERT(!strcmp(pl_join(small, sizeof small, names, " or ", "'"), "'unit' "));
    char one[1] = {'x'};
    ASSERT(!strcmp(pl_join(one, sizeof one, names, ", ", ""), ""));
}

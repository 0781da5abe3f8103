/* main.c — runner for the C unit tests (see test.h). */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "test.h"

#ifndef PL_FIXTURES
#error "PL_FIXTURES must name tests/fixtures"
#endif

int tf_failed;

typedef struct {
    const char *name;
    tf_fn fn;
} tf_entry;

static tf_entry tf_tests[512];
static int tf_ntests;

const char *const tf_cases[] = {"blobs_small", "overlap", "wide", "imbalanced", "digits",
                                "fmnist", NULL};

void tf_register(const char *name, tf_fn fn) {
    if (tf_ntests < (int)(sizeof tf_tests / sizeof tf_tests[0]))
        tf_tests[tf_ntests++] = (tf_entry){name, fn};
}

const char *tf_path(const char *fixture_case, const char *file) {
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s/%s", PL_FIXTURES, fixture_case, file);
    return b;
}

double tf_expected(const char *fixture_case, const char *dotted_key) {
    const char *path = tf_path(fixture_case, "expected.json");
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        tf_failed = 1;
        return NAN;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    size_t got = fread(text, 1, (size_t)len, f);
    text[got] = 0;
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    double v = NAN;
    char key[256];
    snprintf(key, sizeof key, "%s", dotted_key);
    cJSON *node = root;
    for (char *part = strtok(key, "."); part && node; part = strtok(NULL, "."))
        node = cJSON_GetObjectItemCaseSensitive(node, part);
    if (node && cJSON_IsNumber(node)) v = node->valuedouble;
    cJSON_Delete(root);
    return v;
}

int main(int argc, char **argv) {
    int failures = 0, ran = 0;
    for (int i = 0; i < tf_ntests; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                if (strcmp(argv[a], tf_tests[i].name) == 0) want = 1;
            if (!want) continue;
        }
        tf_failed = 0;
        tf_tests[i].fn();
        ran++;
        if (tf_failed) failures++;
        printf("%s %s\n", tf_failed ? "FAIL" : "ok  ", tf_tests[i].name);
    }
    if (argc > 1 && ran == 0) {
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    printf("%d passed, %d failed\n", ran - failures, failures);
    return failures ? 1 : 0;
}

/*
 * test_determinism.c - training is reproducible (daemon/train/train.h): the
 * same 600 articles with 3-fold cross-validation over C in {0.5, 1} (nested
 * cross-validation and the learned combiner included) and SOURCE_DATE_EPOCH
 * set give byte-identical model directories, whatever the number of worker
 * processes; the manifest's "created" is that time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "testutil.h"
#include "train/train.h"

#define EPOCH "1700000000" /* 2023-11-14T22:13:20Z */
#define EPOCH_TEXT "2023-11-14T22:13:20Z"

static void train_into(const char *out, int jobs)
{
    static const char *data[1];
    static char path[4096];
    snprintf(path, sizeof(path), "%s/train.jsonl", NC_TEST_CORPUS);
    data[0] = path;
    struct nc_train_opts o;
    nc_train_opts_default(&o);
    o.data = data;
    o.ndata = 1;
    o.out_dir = out;
    o.limit = 600;
    o.folds = 3;
    o.c_grid[0] = 0.5;
    o.c_grid[1] = 1.0;
    o.nc = 2;
    o.jobs = jobs;
    o.log = NULL;
    char err[1024];
    if (nc_train(&o, err, sizeof(err)) != 0)
        fail_msg("nc_train: %s", err);
}

/* Sorted regular-file names of dir (NULL-terminated, malloc'd). */
static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_files(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    char **names = NULL;
    size_t cnt = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = realloc(names, (cnt + 2) * sizeof(*names));
        assert_non_null(names);
        names[cnt] = strdup(e->d_name);
        assert_non_null(names[cnt]);
        cnt++;
    }
    closedir(d);
    if (names)
        qsort(names, cnt, sizeof(*names), by_name);
    *n = cnt;
    return names;
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void test_same_data_same_bytes(void **state)
{
    (void)state;
    char root[4096], a[4200], b[4200];
    tu_mkdtemp(root, sizeof(root));
    snprintf(a, sizeof(a), "%s/a", root);
    snprintf(b, sizeof(b), "%s/b", root);
    assert_int_equal(setenv("SOURCE_DATE_EPOCH", EPOCH, 1), 0);
    train_into(a, 2);
    train_into(b, 3); /* other worker count: jobs finish in another order */

    size_t na, nb;
    char **fa = list_files(a, &na), **fb = list_files(b, &nb);
    assert_int_equal(na, nb);
    assert_int_equal(na, 6); /* manifest.json, df.tsv, 4 label files */
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(fa[i], fb[i]);
        char pa[4400], pb[4400];
        snprintf(pa, sizeof(pa), "%s/%s", a, fa[i]);
        snprintf(pb, sizeof(pb), "%s/%s", b, fb[i]);
        size_t la, lb;
        char *da = tu_read(pa, &la), *db = tu_read(pb, &lb);
        assert_non_null(da);
        assert_non_null(db);
        if (la != lb || memcmp(da, db, la) != 0) {
            size_t k = 0;
            while (k < la && k < lb && da[k] == db[k])
                k++;
            fail_msg("%s differs between two trainings (sizes %zu and %zu, first at byte %zu)",
                     fa[i], la, lb, k);
        }
        free(da);
        free(db);
    }

    /* the manifest: creation time from SOURCE_DATE_EPOCH, cross-validation recorded */
    char mp[4400];
    snprintf(mp, sizeof(mp), "%s/manifest.json", a);
    json_error_t je;
    json_t *m = json_load_file(mp, JSON_REJECT_DUPLICATES, &je);
    if (!m)
        fail_msg("manifest: %s", je.text);
    assert_string_equal(json_string_value(json_object_get(m, "created")), EPOCH_TEXT);
    assert_contains(json_string_value(json_object_get(m, "version")), "default-2023.11.14-");
    json_t *tr = json_object_get(m, "training");
    assert_int_equal(json_integer_value(json_object_get(tr, "documents")), 600);
    assert_int_equal(json_integer_value(json_object_get(tr, "folds")), 3);
    assert_int_equal(json_array_size(json_object_get(tr, "C_grid")), 2);
    assert_int_equal(json_integer_value(json_object_get(m, "format_version")), 2);
    assert_string_equal(json_string_value(json_object_get(tr, "combine")), "learned");
    assert_true(json_is_true(json_object_get(tr, "nested_cv")));
    json_t *nested = json_object_get(json_object_get(m, "cv"), "nested");
    assert_int_equal(json_integer_value(json_object_get(nested, "folds")), 3);
    assert_true(json_is_number(json_object_get(json_object_get(nested, "learned"), "macro_f1")));
    assert_true(json_is_number(json_object_get(json_object_get(nested, "max"), "macro_f1")));
    json_t *labels = json_object_get(m, "labels");
    assert_int_equal(json_array_size(labels), 4);
    for (size_t k = 0; k < 4; k++) {
        json_t *l = json_array_get(labels, k);
        double c = json_number_value(json_object_get(l, "C"));
        assert_true(c == 0.5 || c == 1.0);
        double th = json_number_value(json_object_get(l, "threshold"));
        assert_true(th >= 0.05 && th <= 0.95);
        assert_non_null(json_object_get(l, "cv"));
        assert_string_equal(json_string_value(json_object_get(l, "rule")), "learned");
        assert_int_equal(json_array_size(json_object_get(json_object_get(l, "combiner"),
                                                         "weights")),
                         5);
    }
    json_decref(m);

    /* and the model loads */
    nc_model *model = NULL;
    char err[1024];
    if (nc_model_load(a, &model, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    nc_model_free(model);

    free_list(fa, na);
    free_list(fb, nb);
    tu_rmtree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_data_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

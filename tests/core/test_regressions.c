/*
 * test_regressions.c - regression tests for bugs found in the core, each
 * fixed; the notes below say what went wrong and how it was fixed.
 *
 * 1. svmfile.c accepts "rho", "label" and "nr_sv" before "nr_class", but
 *    libsvm's read_model_header() sizes those arrays with the nr_class read so
 *    far: an uninitialised int (malloc'd svm_model). A checksum-valid file
 *    with that order makes svm_load_model() allocate a garbage size or read
 *    past the arrays (under ASan: allocation-size-too-big in
 *    read_model_header). Fix: in nc_svmfile_check(), refuse rho/label/nr_sv
 *    unless nr_class was seen (or require the order svm_save_model writes).
 *
 * 2. Finite numbers can still collapse to non-finite weights: a coefficient
 *    1e300 times a value 1e300 is +inf in w, and an article touching +inf and
 *    -inf weights gets a NaN decision. nc_model_load() accepts such a model,
 *    and nc_encode_result() then silently drops that label from "scores" and
 *    "decision" (json_real(NaN) is NULL and json_object_set_new's error is not
 *    checked), so the output record breaks the schema. Fix: in
 *    nc_linear_set_from_svm() (linear.c), refuse a model whose w or b is not
 *    finite after collapsing; in encode.c, check every json_object_set_new()
 *    and fail the record instead of emitting a partial one.
 *
 * 3. Sublinear tf goes negative below tf = 1/e: nc_sublinear_tf()
 *    (featurize.c) returns 1 + ln tf for every tf > 0, and title occurrences
 *    weigh title_weight, which nc_featurizer_new() accepts in (0, 100]. With
 *    --title-weight 0.2 a word seen only in the title gets the value
 *    (1 + ln 0.2) * idf < 0, so it pushes every score the opposite way of its
 *    learned weight. Fix: tf < 1 ? tf : 1 + ln tf (continuous, positive), or
 *    refuse title_weight < 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/article.h"
#include "core/encode.h"
#include "core/featurize.h"
#include "core/model.h"
#include "core/svmfile.h"
#include "testutil.h"
#include "base/util.h"

/* Bug 1: header order that libsvm cannot read safely. */
static void test_svmfile_needs_nr_class_first(void **state)
{
    (void)state;
    static const char *const files[] = {
        "svm_type c_svc\nkernel_type linear\nrho 0.5\nnr_class 2\ntotal_sv 1\nlabel 1 -1\n"
        "nr_sv 1 0\nSV\n1 1:0.5\n",
        "svm_type c_svc\nkernel_type linear\nlabel 1 -1\nnr_class 2\ntotal_sv 1\nrho 0.5\n"
        "nr_sv 1 0\nSV\n1 1:0.5\n",
        "svm_type c_svc\nkernel_type linear\nnr_sv 1 0\nnr_class 2\ntotal_sv 1\nrho 0.5\n"
        "label 1 -1\nSV\n1 1:0.5\n",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct nc_svmfile_info info;
        char err[256];
        if (nc_svmfile_check(files[i], strlen(files[i]), 10, &info, err, sizeof(err)) == 0)
            fail_msg("accepted a header libsvm reads with an uninitialised nr_class:\n%s",
                     files[i]);
    }
}

/* A copy of the tiny fixture whose first label file is replaced (checksum updated). */
static void tampered_copy(char *dir, size_t dirlen, const char *(*edit)(const char *svm))
{
    char fixture[4096], path[4200];
    snprintf(fixture, sizeof(fixture), "%s/tiny", NC_TEST_FIXTURES);
    tu_mkdtemp(dir, dirlen);
    tu_copy_dir(fixture, dir);
    tu_path(path, sizeof(path), dir, "manifest.json");
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m)
        fail_msg("%s: %s (run ctest first to build the fixtures)", path, je.text);
    json_t *l = json_array_get(json_object_get(m, "labels"), 0);
    char svmpath[4200];
    tu_path(svmpath, sizeof(svmpath), dir, json_string_value(json_object_get(l, "file")));
    char *svm = tu_read(svmpath, NULL);
    assert_non_null(svm);
    const char *text = edit(svm);
    tu_write_str(svmpath, text);
    char hex[17];
    nc_hash_hex(text, strlen(text), hex);
    json_object_set_new(l, "sha", json_string(hex));
    assert_int_equal(json_dump_file(m, path, JSON_INDENT(2)), 0);
    json_decref(m);
    free(svm);
}

/* Coefficient 1e300 and values +-1e300: every weight of the label overflows. */
static char overflow_buf[1 << 20];
static const char *overflow_edit(const char *svm)
{
    const char *sv = strstr(svm, "\nSV\n");
    assert_non_null(sv);
    size_t n = (size_t)(sv - svm) + 4;
    memcpy(overflow_buf, svm, n);
    n += (size_t)snprintf(overflow_buf + n, sizeof(overflow_buf) - n, "1e300");
    const char *p = sv + 4;
    const char *e = strchr(p, '\n');
    int sign = 1;
    for (const char *q = strchr(p, ' '); q && q < e; q = strchr(q + 1, ' ')) {
        unsigned long idx = strtoul(q + 1, NULL, 10);
        if (idx == 0)
            continue;
        n += (size_t)snprintf(overflow_buf + n, sizeof(overflow_buf) - n, " %lu:%s1e300", idx,
                              sign > 0 ? "" : "-");
        sign = -sign;
    }
    snprintf(overflow_buf + n, sizeof(overflow_buf) - n, "\n");
    return overflow_buf;
}

/* Bug 2a: the loader must refuse weights that are not finite. */
static void test_load_refuses_non_finite_weights(void **state)
{
    (void)state;
    char dir[4096];
    tampered_copy(dir, sizeof(dir), overflow_edit);
    nc_model *m = NULL;
    char err[1024];
    int rc = nc_model_load(dir, &m, err, sizeof(err));
    nc_model_free(m);
    tu_rmtree(dir);
    if (rc == 0)
        fail_msg("loaded a model whose collapsed weights are +-inf");
}

/* The tiny fixture model (tests/core/make_fixtures.sh). */
static nc_model *tiny_model(void)
{
    char fixture[4096], err[1024];
    snprintf(fixture, sizeof(fixture), "%s/tiny", NC_TEST_FIXTURES);
    nc_model *m = NULL;
    if (nc_model_load(fixture, &m, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return m;
}

/* Bug 2b: a non-finite score must not silently disappear from the output record. */
static void test_encode_keeps_every_label(void **state)
{
    (void)state;
    nc_model *m = tiny_model();
    char err[1024];
    nc_article *a = nc_article_new();
    const char *msg = "{\"id\": \"n\", \"title\": \"t\"}";
    assert_int_equal(nc_article_parse(a, msg, strlen(msg), 0, err, sizeof(err)), NC_ART_OK);
    nc_result r;
    memset(&r, 0, sizeof(r));
    r.nlabels = nc_model_nlabels(m);
    r.decision[0] = NAN;
    r.prob[0] = NAN;
    size_t len;
    char *out = nc_encode_result(m, a, &r, NULL, &len, err, sizeof(err));
    int complete = 1;
    if (out) { /* acceptable only if every label is still there */
        json_t *o = json_loads(out, 0, NULL);
        complete = o && json_object_size(json_object_get(o, "scores")) == r.nlabels &&
                   json_object_size(json_object_get(o, "decision")) == r.nlabels;
        json_decref(o);
    }
    char copy[2048];
    snprintf(copy, sizeof(copy), "%s", out ? out : "(null)");
    free(out);
    nc_article_free(a);
    nc_model_free(m);
    if (!complete)
        fail_msg("record without label \"conflict\": %s", copy);
}

/* Article numbers pass through untouched: with article_mode ALL the record
 * embeds the article's text as received (one line), else a compact dump. */
static void test_encode_embeds_article_text(void **state)
{
    (void)state;
    nc_model *m = tiny_model();
    char err[1024];
    nc_article *a = nc_article_new();
    nc_result r;
    memset(&r, 0, sizeof(r));
    r.nlabels = nc_model_nlabels(m);
    struct nc_encode_opts o = {NC_ARTICLE_ALL, NULL, 0, NULL};
    const char *one = "{\"id\": \"n\", \"title\": \"caf\\u00e9\", \"x\": 1.0000000000000002}";
    const char *multi = "{\"id\": \"n\",\n \"title\": \"t\", \"x\": 2.5}";
    const char *want[2] = {one, "{\"id\":\"n\",\"title\":\"t\",\"x\":2.5}"};
    const char *msgs[2] = {one, multi};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nc_article_parse(a, msgs[i], strlen(msgs[i]), 0, err, sizeof(err)),
                         NC_ART_OK);
        size_t len;
        char *out = nc_encode_result(m, a, &r, &o, &len, err, sizeof(err));
        assert_non_null(out);
        char tail[512];
        snprintf(tail, sizeof(tail), ",\"article\":%s}", want[i]);
        size_t tl = strlen(tail);
        int ok = len > tl && strcmp(out + len - tl, tail) == 0 && strchr(out, '\n') == NULL;
        json_t *j = json_loads(out, 0, NULL);
        ok = ok && j != NULL;
        json_decref(j);
        if (!ok)
            fail_msg("record %d does not end with %s: %s", i, tail, out);
        free(out);
    }
    nc_article_free(a);
    nc_model_free(m);
}

/* Bug 3: a feature value is never negative, whatever the title weight. */
static void test_title_weight_below_one(void **state)
{
    (void)state;
    struct nc_feature_settings fs;
    nc_feature_settings_default(&fs);
    fs.title_weight = 0.2;
    char err[256];
    nc_featurizer *f = nc_featurizer_new(&fs, err, sizeof(err));
    if (!f) /* refusing such a weight is a fix too */
        return;
    nc_fscratch *s = nc_fscratch_new(f);
    assert_non_null(s);
    struct nc_svec v = {0};
    assert_int_equal(nc_features_extract(f, s, "sanctions", 9, "trade tariffs", 13), 0);
    size_t n;
    nc_fscratch_occ(s, &n);
    assert_int_equal(nc_features_vector(f, s, 0, n, &v), 0);
    size_t negative = 0;
    for (size_t i = 0; i < v.n; i++)
        negative += v.val[i] < 0;
    nc_svec_release(&v);
    nc_fscratch_free(s);
    nc_featurizer_free(f);
    if (negative)
        fail_msg("%zu of the feature values are negative (title_weight 0.2)", negative);
}

/* The 1 + ln tf table must agree with log() exactly (it once compiled empty). */
static void test_sublinear_table(void **state)
{
    (void)state;
    for (int k = 1; k < 200; k++)
        assert_true(nc_sublinear_tf((double)k) == 1.0 + log((double)k));
    assert_true(fabs(nc_sublinear_tf(2.5) - (1.0 + log(2.5))) < 1e-15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sublinear_table),
        cmocka_unit_test(test_svmfile_needs_nr_class_first),
        cmocka_unit_test(test_load_refuses_non_finite_weights),
        cmocka_unit_test(test_encode_keeps_every_label),
        cmocka_unit_test(test_encode_embeds_article_text),
        cmocka_unit_test(test_title_weight_below_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

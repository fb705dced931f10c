/*
 * test_model_load.c - nc_model_load() (daemon/core/model.h) on the valid
 * fixture model and on one broken copy of it per failure mode: each must be
 * refused with its own one-line "model <dir>: ..." reason. A manifest of the
 * previous format version (1) still loads, with the max rule.
 *
 * Every case copies NC_TEST_FIXTURES/tiny (built by the core_fixtures test,
 * with small hash spaces so that a hundred loads stay fast) into a fresh
 * temporary directory and breaks one thing. When it tampers with a file it
 * also updates that file's checksum in the manifest, so the check that must
 * catch it is the one after the checksum (the strict libsvm reader, the
 * df.tsv parser, the settings validation).
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
#include "core/combine.h"
#include "core/model.h"
#include "testutil.h"
#include "base/util.h"

static char fixture[4096];

static int group_setup(void **state)
{
    (void)state;
    snprintf(fixture, sizeof(fixture), "%s/tiny", NC_TEST_FIXTURES);
    char path[4200];
    snprintf(path, sizeof(path), "%s/manifest.json", fixture);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "no fixture model at %s: run through ctest (fixture core_fixtures)\n",
                fixture);
        return -1;
    }
    return 0;
}

/* A broken copy of the fixture under construction. */
struct work {
    char dir[4096];
    json_t *manifest;
};

static struct work *work_new(void)
{
    struct work *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    tu_mkdtemp(w->dir, sizeof(w->dir));
    tu_copy_dir(fixture, w->dir);
    char path[4200];
    tu_path(path, sizeof(path), w->dir, "manifest.json");
    json_error_t je;
    w->manifest = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!w->manifest)
        fail_msg("fixture manifest: %s", je.text);
    return w;
}

static void work_free(struct work *w)
{
    json_decref(w->manifest);
    tu_rmtree(w->dir);
    free(w);
}

static void work_save_manifest(struct work *w)
{
    char path[4200];
    tu_path(path, sizeof(path), w->dir, "manifest.json");
    assert_int_equal(json_dump_file(w->manifest, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
}

static json_t *features(struct work *w)
{
    json_t *f = json_object_get(w->manifest, "features");
    assert_non_null(f);
    return f;
}

static json_t *label_obj(struct work *w, size_t k)
{
    json_t *l = json_array_get(json_object_get(w->manifest, "labels"), k);
    assert_non_null(l);
    return l;
}

static char *work_read(struct work *w, const char *file, size_t *len)
{
    char path[4200];
    tu_path(path, sizeof(path), w->dir, file);
    char *s = tu_read(path, len);
    if (!s)
        fail_msg("cannot read %s", path);
    return s;
}

static void work_write(struct work *w, const char *file, const char *data, size_t len)
{
    char path[4200];
    tu_path(path, sizeof(path), w->dir, file);
    tu_write(path, data, len);
}

/* Replaces a file and records its new checksum under `holder`.`key` in the manifest. */
static void work_replace_checked(struct work *w, const char *file, const char *data, json_t *holder,
                                 const char *key)
{
    work_write(w, file, data, strlen(data));
    char hex[17];
    nc_hash_hex(data, strlen(data), hex);
    assert_int_equal(json_object_set_new(holder, key, json_string(hex)), 0);
}

/* The first label's libsvm file, replaced with a correct checksum. */
static void work_set_svm(struct work *w, const char *text)
{
    json_t *l = label_obj(w, 0);
    work_replace_checked(w, json_string_value(json_object_get(l, "file")), text, l, "sha");
}

static void work_set_df(struct work *w, const char *text)
{
    work_replace_checked(w, "df.tsv", text, features(w), "df_sha");
}

static char *first_svm(struct work *w)
{
    return work_read(w, json_string_value(json_object_get(label_obj(w, 0), "file")), NULL);
}

/* s with the first occurrence of `from` replaced by `to` (malloc'd). */
static char *replace1(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p)
        fail_msg("\"%s\" not found", from);
    size_t a = (size_t)(p - s), fl = strlen(from), tl = strlen(to), n = strlen(s);
    char *r = malloc(n - fl + tl + 1);
    assert_non_null(r);
    memcpy(r, s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, p + fl, n - a - fl + 1);
    return r;
}

/* s with the whole line that starts with `prefix` replaced by `line` (no newline). */
static char *replace_line(const char *s, const char *prefix, const char *line)
{
    const char *p = strstr(s, prefix);
    if (!p)
        fail_msg("no line \"%s...\"", prefix);
    const char *e = strchr(p, '\n');
    assert_non_null(e);
    size_t plen = (size_t)(e - p);
    char *old = malloc(plen + 1);
    assert_non_null(old);
    memcpy(old, p, plen);
    old[plen] = '\0';
    char *r = replace1(s, old, line);
    free(old);
    return r;
}

static uint32_t model_dim(struct work *w)
{
    json_t *f = features(w);
    json_int_t wb = json_integer_value(json_object_get(f, "word_bits"));
    json_int_t cb = json_integer_value(json_object_get(f, "char_bits"));
    return (uint32_t)((1u << wb) +
                      (json_is_null(json_object_get(f, "char_ngrams")) ? 0 : 1u << cb));
}

/* Loads dir and expects failure with `detail` (and `detail2`) in a one-line message. */
static void expect_fail_dir2(const char *dir, const char *detail, const char *detail2)
{
    nc_model *m = (nc_model *)&m;
    char err[1024];
    err[0] = '\0';
    int rc = nc_model_load(dir, &m, err, sizeof(err));
    if (rc == 0) {
        nc_model_free(m);
        fail_msg("model %s loaded; expected a failure with \"%s\"", dir, detail);
    }
    assert_int_equal(rc, -1);
    assert_null(m);
    assert_one_line(err);
    char prefix[4200];
    snprintf(prefix, sizeof(prefix), "model %s: ", dir);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("expected the message to start with \"%s\": %s", prefix, err);
    assert_contains(err, detail);
    if (detail2)
        assert_contains(err, detail2);
}

static void expect_fail_dir(const char *dir, const char *detail)
{
    expect_fail_dir2(dir, detail, NULL);
}

/* Saves the manifest, then expect_fail_dir(). */
static void expect_fail(struct work *w, const char *detail)
{
    work_save_manifest(w);
    expect_fail_dir(w->dir, detail);
}

static nc_model *load_ok(const char *dir)
{
    nc_model *m = NULL;
    char err[1024];
    if (nc_model_load(dir, &m, err, sizeof(err)) != 0)
        fail_msg("cannot load %s: %s", dir, err);
    assert_non_null(m);
    return m;
}

/* A model with the example article classified. */
struct example {
    nc_model *m;
    nc_workspace *ws;
    nc_article *a;
    char *text;
    nc_result r;
};

static void example_open(struct example *ex, const char *dir)
{
    char path[4200], err[512];
    size_t len;
    ex->m = load_ok(dir);
    snprintf(path, sizeof(path), "%s/example-article.txt", NC_TEST_CORPUS);
    ex->text = tu_read(path, &len);
    ex->a = nc_article_new();
    ex->ws = nc_workspace_new(ex->m);
    assert_non_null(ex->text);
    assert_non_null(ex->a);
    assert_non_null(ex->ws);
    assert_int_equal(nc_article_parse(ex->a, ex->text, len, 0, err, sizeof(err)), NC_ART_OK);
    assert_int_equal(nc_model_classify(ex->m, ex->ws, ex->a, &ex->r, err, sizeof(err)), 0);
}

static void example_close(struct example *ex)
{
    nc_workspace_free(ex->ws);
    nc_article_free(ex->a);
    free(ex->text);
    nc_model_free(ex->m);
}

/* Computes label k's probability from its scores as combine.h defines it. */
static double prob_by_hand(const nc_model *m, size_t k, const struct nc_label_score *ls)
{
    const struct nc_combine *c = nc_model_combiner(m, k);
    if (c->rule == NC_COMBINE_MAX)
        return nc_platt_prob(&c->platt, nc_label_score_max(ls));
    double x[NC_COMBINE_NIN], z = c->bias;
    nc_combine_inputs(ls, x);
    for (size_t i = 0; i < NC_COMBINE_NIN; i++)
        z += c->w[i] * x[i];
    return 1.0 / (1.0 + exp(-z));
}

/* ---- the valid model ---- */

static void test_fixture_loads(void **state)
{
    (void)state;
    nc_model *m = load_ok(fixture);
    assert_int_equal(nc_model_nlabels(m), 4);
    static const char *const names[] = {"conflict", "sanctions", "trade", "vaccines"};
    for (size_t k = 0; k < 4; k++) {
        assert_string_equal(nc_model_label(m, k), names[k]);
        assert_int_equal(nc_model_label_index(m, names[k]), (int)k);
        assert_true(nc_model_threshold(m, k) == 0.5); /* no cross-validation: fixed 0.5 */
    }
    assert_null(nc_model_label(m, 4));
    assert_int_equal(nc_model_label_index(m, "sports"), -1);
    assert_string_equal(nc_model_name(m), "default");
    assert_contains(nc_model_version(m), "default-2023.11.14-"); /* SOURCE_DATE_EPOCH */
    assert_string_equal(nc_model_dir(m), fixture);

    char err[256];
    assert_int_equal(nc_model_set_threshold(m, "trade", 0.3, err, sizeof(err)), 0);
    assert_true(nc_model_threshold(m, 2) == 0.3);
    assert_int_equal(nc_model_set_threshold(m, "sports", 0.3, err, sizeof(err)), -1);
    assert_contains(err, "sports");
    assert_int_equal(nc_model_set_threshold(m, "trade", 1.0, err, sizeof(err)), -1);
    assert_int_equal(nc_model_set_threshold(m, "trade", 0.0, err, sizeof(err)), -1);
    assert_int_equal(nc_model_set_threshold(m, "trade", NAN, err, sizeof(err)), -1);

    nc_model_free(m);

    /* classify the shipped example article */
    struct example ex;
    example_open(&ex, fixture);
    nc_result r = ex.r;
    assert_int_equal(r.nlabels, 4);
    assert_int_equal(r.skipped, NC_SKIP_NONE);
    for (size_t k = 0; k < 4; k++) {
        assert_true(isfinite(r.decision[k]));
        const struct nc_label_score *ls = &nc_workspace_scores(ex.ws)->label[k];
        assert_true(r.decision[k] == nc_label_score_max(ls));
        assert_true(r.prob[k] == nc_combine_prob(nc_model_combiner(ex.m, k), ls));
        assert_true(r.prob[k] == prob_by_hand(ex.m, k, ls));
        assert_int_equal(r.on[k], r.prob[k] >= nc_model_threshold(ex.m, k));
    }
    /* a language the model was not trained for is skipped */
    const char *de = "{\"title\": \"Sanktionen\", \"lang\": \"de\"}";
    assert_int_equal(nc_article_parse(ex.a, de, strlen(de), 0, err, sizeof(err)), NC_ART_OK);
    assert_int_equal(nc_model_classify(ex.m, ex.ws, ex.a, &r, err, sizeof(err)), 0);
    assert_int_equal(r.skipped, NC_SKIP_LANGUAGE);
    for (size_t k = 0; k < 4; k++)
        assert_false(r.on[k]);
    /* "en-GB" matches "en" */
    const char *gb = "{\"title\": \"Sanctions\", \"lang\": \"EN-gb\"}";
    assert_int_equal(nc_article_parse(ex.a, gb, strlen(gb), 0, err, sizeof(err)), NC_ART_OK);
    assert_int_equal(nc_model_classify(ex.m, ex.ws, ex.a, &r, err, sizeof(err)), 0);
    assert_int_equal(r.skipped, NC_SKIP_NONE);
    example_close(&ex);
    nc_model_free(NULL);
}

/* The harness itself: a copy with the manifest rewritten by jansson still loads. */
static void test_untouched_copy_loads(void **state)
{
    (void)state;
    struct work *w = work_new();
    work_save_manifest(w);
    char *svm = first_svm(w);
    work_set_svm(w, svm); /* same bytes, same checksum */
    work_save_manifest(w);
    nc_model_free(load_ok(w->dir));
    free(svm);
    work_free(w);
}

/* ---- the directory and the manifest ---- */

static void test_missing_dir(void **state)
{
    (void)state;
    expect_fail_dir("/nonexistent/newsclf-model", "cannot read manifest");
    expect_fail_dir("/nonexistent/newsclf-model", "No such file or directory");
    char dir[4096];
    tu_mkdtemp(dir, sizeof(dir));
    expect_fail_dir(dir, "cannot read manifest"); /* empty directory */
    tu_rmtree(dir);
}

static void test_missing_manifest(void **state)
{
    (void)state;
    struct work *w = work_new();
    char path[4200];
    tu_path(path, sizeof(path), w->dir, "manifest.json");
    assert_int_equal(unlink(path), 0);
    expect_fail_dir(w->dir, "cannot read manifest");
    /* a directory where the manifest should be */
    assert_int_equal(mkdir(path, 0755), 0);
    expect_fail_dir(w->dir, "not a regular file");
    work_free(w);
}

static void test_manifest_not_json(void **state)
{
    (void)state;
    struct work *w = work_new();
    work_write(w, "manifest.json", "not json at all", 15);
    expect_fail_dir(w->dir, "manifest.json:1:");
    work_write(w, "manifest.json", "", 0);
    expect_fail_dir(w->dir, "manifest.json:");
    work_write(w, "manifest.json", "{\"format\": \"newsclf-model\",", 27);
    expect_fail_dir(w->dir, "manifest.json:");
    const char *dup = "{\"format\": \"newsclf-model\", \"format\": \"newsclf-model\"}";
    work_write(w, "manifest.json", dup, strlen(dup));
    expect_fail_dir(w->dir, "duplicate");
    work_write(w, "manifest.json", "[1, 2]", 6);
    expect_fail_dir(w->dir, "is not a newsclf model manifest");
    work_free(w);
}

static void test_wrong_format(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(w->manifest, "format", json_string("sklearn-pickle"));
    expect_fail(w, "is not a newsclf model manifest");
    json_object_del(w->manifest, "format");
    expect_fail(w, "\"format\" must be \"newsclf-model\"");
    json_object_set_new(w->manifest, "format", json_integer(1));
    expect_fail(w, "is not a newsclf model manifest");
    work_free(w);
}

static void test_format_version(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(w->manifest, "format_version", json_integer(3));
    expect_fail(w, "model format version 3 is newer than this newsclf supports (2)");
    json_object_set_new(w->manifest, "format_version", json_integer(0));
    expect_fail(w, "format_version missing or invalid");
    json_object_set_new(w->manifest, "format_version", json_string("1"));
    expect_fail(w, "format_version missing or invalid");
    json_object_set_new(w->manifest, "format_version", json_real(1.0));
    expect_fail(w, "format_version missing or invalid");
    json_object_del(w->manifest, "format_version");
    expect_fail(w, "format_version missing or invalid");
    work_free(w);
}

static void test_name_version_languages(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(w->manifest, "name", json_string("bad name"));
    expect_fail(w, "name and version must be strings");
    json_object_set_new(w->manifest, "name", json_string("default"));
    json_object_set_new(w->manifest, "version", json_string("../../etc"));
    expect_fail(w, "name and version must be strings");
    json_object_del(w->manifest, "version");
    expect_fail(w, "name and version must be strings");
    work_free(w);

    w = work_new();
    json_object_set_new(w->manifest, "languages", json_string("en"));
    expect_fail(w, "languages must be an array");
    json_t *many = json_array();
    for (int i = 0; i < 17; i++)
        json_array_append_new(many, json_string("en"));
    json_object_set_new(w->manifest, "languages", many);
    expect_fail(w, "languages must be an array of at most 16 codes");
    json_object_set_new(w->manifest, "languages", json_pack("[s]", ""));
    expect_fail(w, "languages[0] must be a short string");
    json_object_set_new(w->manifest, "languages",
                        json_pack("[s,s]", "en", "this-is-too-long-a-code"));
    expect_fail(w, "languages[1] must be a short string");
    json_object_set_new(w->manifest, "languages", json_pack("[i]", 1));
    expect_fail(w, "languages[0] must be a short string");
    work_free(w);
}

/* ---- labels ---- */

static void test_bad_label_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Conflict",   "",
        "a/b",        "../x",
        "with space", "x234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct work *w = work_new();
        json_object_set_new(label_obj(w, 1), "name", json_string(bad[i]));
        expect_fail(w, "labels[1].name must be 1..63 characters of [a-z0-9._-]");
        work_free(w);
    }
    struct work *w = work_new();
    json_object_set_new(label_obj(w, 0), "name", json_integer(5));
    expect_fail(w, "labels[0].name must be");
    json_object_del(label_obj(w, 0), "name");
    expect_fail(w, "labels[0].name must be");
    work_free(w);
}

static void test_duplicate_label(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(label_obj(w, 2), "name", json_string("conflict"));
    expect_fail(w, "label \"conflict\" appears twice");
    work_free(w);
}

static void test_labels_array(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_t *first = json_deep_copy(label_obj(w, 0));
    json_object_set_new(w->manifest, "labels", json_array());
    expect_fail(w, "labels must be an array of 1..64 labels");
    json_object_set_new(w->manifest, "labels", json_object());
    expect_fail(w, "labels must be an array of 1..64 labels");
    json_t *many = json_array();
    for (int i = 0; i < 65; i++)
        json_array_append(many, first);
    json_decref(first);
    json_object_set_new(w->manifest, "labels", many);
    expect_fail(w, "labels must be an array of 1..64 labels");
    json_object_set_new(w->manifest, "labels", json_pack("[s]", "conflict"));
    expect_fail(w, "labels[0].name must be");
    work_free(w);
}

static void test_threshold_out_of_range(void **state)
{
    (void)state;
    json_t *bad[] = {json_real(0.0),  json_real(1.0),  json_real(1.5),     json_real(-0.1),
                     json_integer(0), json_integer(1), json_string("0.5"), json_null()};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct work *w = work_new();
        json_object_set_new(label_obj(w, 3), "threshold", bad[i]);
        expect_fail(w, "labels[3].threshold must be a probability in (0, 1)");
        work_free(w);
    }
    struct work *w = work_new();
    json_object_del(label_obj(w, 0), "threshold");
    expect_fail(w, "labels[0].threshold must be a probability in (0, 1)");
    /* the bounds are exclusive, values just inside are fine */
    json_object_set_new(label_obj(w, 0), "threshold", json_real(0.999));
    json_object_set_new(label_obj(w, 1), "threshold", json_real(0.001));
    work_save_manifest(w);
    nc_model *m = load_ok(w->dir);
    assert_true(nc_model_threshold(m, 0) == 0.999);
    nc_model_free(m);
    work_free(w);
}

static void test_platt_params(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_del(json_object_get(label_obj(w, 0), "platt"), "A");
    expect_fail(w, "labels[0].platt must have numbers A and B");
    json_object_set_new(label_obj(w, 0), "platt", json_pack("{s:f,s:s}", "A", -1.0, "B", "0"));
    expect_fail(w, "labels[0].platt must have numbers A and B");
    json_object_del(label_obj(w, 0), "platt");
    expect_fail(w, "labels[0].platt must have numbers A and B");
    work_free(w);
}

static void test_label_file_names(void **state)
{
    (void)state;
    static const char *const bad[] = {"../compact/conflict.svm", "/etc/passwd", ".hidden", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct work *w = work_new();
        json_object_set_new(label_obj(w, 0), "file", json_string(bad[i]));
        expect_fail(w, "labels[0] needs a plain \"file\" name and its \"sha\"");
        work_free(w);
    }
    struct work *w = work_new();
    json_object_del(label_obj(w, 0), "sha");
    expect_fail(w, "labels[0] needs a plain \"file\" name and its \"sha\"");
    work_free(w);
}

/* Classifies the example article with the model in dir; its label scores into ls. */
static void classify_example(const char *dir, nc_result *r, struct nc_label_score *ls,
                             double *by_hand)
{
    struct example ex;
    example_open(&ex, dir);
    const struct nc_scores *sc = nc_workspace_scores(ex.ws);
    *r = ex.r;
    assert_int_equal(sc->nlabels, r->nlabels);
    for (size_t k = 0; k < r->nlabels; k++) {
        ls[k] = sc->label[k];
        by_hand[k] = prob_by_hand(ex.m, k, &ls[k]);
    }
    example_close(&ex);
}

/*
 * A model of format version 1 (no "rule": every label is the max rule with
 * its "platt") still loads and classifies as before: Platt's sigmoid of the
 * maximum over the document and its passages.
 */
static void test_previous_format_version(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(w->manifest, "format_version", json_integer(1));
    json_t *labels = json_object_get(w->manifest, "labels");
    for (size_t k = 0; k < json_array_size(labels); k++) {
        json_t *l = json_array_get(labels, k);
        assert_int_equal(json_object_del(l, "rule"), 0);
        json_object_set_new(l, "platt", json_pack("{s:f,s:f}", "A", -3.0 - (double)k, "B", 0.25));
    }
    /* its Platt parameters are what it must have */
    json_t *platt2 = json_deep_copy(json_object_get(json_array_get(labels, 2), "platt"));
    json_object_del(json_array_get(labels, 2), "platt");
    expect_fail(w, "labels[2].platt must have numbers A and B");
    json_object_set_new(json_array_get(labels, 2), "platt", platt2);
    /* a "rule" or "combiner" in a version 1 manifest means nothing */
    json_object_set_new(json_array_get(labels, 1), "rule", json_string("learned"));
    work_save_manifest(w);
    nc_result r;
    struct nc_label_score ls[NC_MAX_LABELS];
    double by_hand[NC_MAX_LABELS];
    classify_example(w->dir, &r, ls, by_hand);
    work_free(w);
    for (size_t k = 0; k < r.nlabels; k++) {
        struct nc_platt p = {-3.0 - (double)k, 0.25};
        assert_true(r.decision[k] == nc_label_score_max(&ls[k]));
        assert_true(r.prob[k] == nc_platt_prob(&p, r.decision[k]));
        assert_true(r.prob[k] == by_hand[k]);
    }
}

/* A label's combiner in a version 2 manifest: the rule and the learned coefficients. */
static void test_combiner(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_t *l0 = label_obj(w, 0);
    json_object_set_new(l0, "rule", json_string("mean"));
    expect_fail(w, "labels[0].rule must be \"max\" or \"learned\"");
    json_object_del(l0, "rule");
    expect_fail(w, "labels[0].rule must be \"max\" or \"learned\"");
    json_object_set_new(l0, "rule", json_string("learned"));
    expect_fail(w, "labels[0].combiner.inputs are not [\"document\", \"passage_max\"");
    /* the inputs in another order */
    json_t *cj = json_pack("{s:[s,s,s,s,s],s:[f,f,f,f,f],s:f}", "inputs", "has_passages",
                           "document", "passage_max", "passage_top2_mean", "log1p_passages",
                           "weights", 1.5, 0.5, 0.25, -0.2, 0.1, "bias", -0.3);
    json_object_set_new(l0, "combiner", cj);
    expect_fail(w, "the model was built by an incompatible newsclf");
    json_object_set_new(cj, "inputs", json_pack("[s,s,s,s,s]", "document", "passage_max",
                                                "passage_top2_mean", "log1p_passages",
                                                "has_passages"));
    json_t *weights = json_object_get(cj, "weights");
    json_array_set_new(weights, 2, json_real(2e6));
    expect_fail(w, "labels[0].combiner needs 5 weights and a bias, numbers within");
    json_array_set_new(weights, 2, json_string("0"));
    expect_fail(w, "labels[0].combiner needs 5 weights");
    json_array_set_new(weights, 2, json_real(0.25));
    json_array_remove(weights, 4);
    expect_fail(w, "labels[0].combiner needs 5 weights");
    json_array_append_new(weights, json_real(0.1));
    json_object_set_new(cj, "bias", json_null());
    expect_fail(w, "labels[0].combiner needs 5 weights and a bias");
    /* valid: the probability is the logistic of bias + weights . inputs */
    json_object_set_new(cj, "bias", json_real(-0.3));
    work_save_manifest(w);
    nc_result r;
    struct nc_label_score ls[NC_MAX_LABELS];
    double by_hand[NC_MAX_LABELS];
    classify_example(w->dir, &r, ls, by_hand);
    assert_true(ls[0].npassages >= 2); /* the example article is long */
    double x[NC_COMBINE_NIN];
    nc_combine_inputs(&ls[0], x);
    double z = -0.3 + 1.5 * ls[0].doc + 0.5 * ls[0].pmax + 0.25 * 0.5 * (ls[0].pmax + ls[0].p2nd) -
               0.2 * log1p((double)ls[0].npassages) + 0.1;
    assert_true(fabs(r.prob[0] - 1.0 / (1.0 + exp(-z))) < 1e-12);
    for (size_t k = 0; k < r.nlabels; k++) {
        assert_true(fabs(r.prob[k] - by_hand[k]) < 1e-12);
        assert_int_equal(r.on[k], r.prob[k] >= 0.5);
    }
    work_free(w);
}

/* ---- the libsvm files ---- */

static void test_missing_svm(void **state)
{
    (void)state;
    struct work *w = work_new();
    char path[4200];
    tu_path(path, sizeof(path), w->dir, "trade.svm");
    assert_int_equal(unlink(path), 0);
    expect_fail_dir(w->dir, "cannot read trade.svm");
    work_free(w);
}

static void test_truncated_svm(void **state)
{
    (void)state;
    struct work *w = work_new();
    size_t len = 0;
    char *svm = work_read(w, "sanctions.svm", &len);
    work_write(w, "sanctions.svm", svm, len / 2);
    expect_fail_dir(w->dir, "sanctions.svm is damaged or truncated (checksum ");
    work_write(w, "sanctions.svm", svm, 0);
    expect_fail_dir(w->dir, "sanctions.svm is damaged or truncated");
    /* one flipped byte is damage too */
    svm[len / 3] ^= 1;
    work_write(w, "sanctions.svm", svm, len);
    expect_fail_dir(w->dir, "sanctions.svm is damaged or truncated");
    free(svm);
    work_free(w);
    /* and a wrong checksum in the manifest */
    w = work_new();
    json_object_set_new(label_obj(w, 0), "sha", json_string("0000000000000000"));
    expect_fail(w, "conflict.svm is damaged or truncated (checksum ");
    work_free(w);
}

/* Tampers with the first label's file (checksum updated); expects `detail`. */
static void expect_svm_rejected(char *text, const char *detail)
{
    struct work *w = work_new();
    work_set_svm(w, text);
    work_save_manifest(w);
    expect_fail_dir2(w->dir, "conflict.svm: line ", detail);
    free(text);
    work_free(w);
}

static void test_tampered_svm(void **state)
{
    (void)state;
    struct work *w = work_new();
    char *svm = first_svm(w);
    uint32_t dim = model_dim(w);
    assert_non_null(strstr(svm, "\nSV\n1 ")); /* compact form: coefficient 1 */
    char pair[64], msg[64];

    /* index beyond the dimension */
    snprintf(pair, sizeof(pair), "%u:0.5 \n", dim + 1);
    snprintf(msg, sizeof(msg), "index %u outside 1..%u", dim + 1, dim);
    char *s = malloc(strlen(svm) + 64);
    assert_non_null(s);
    strcpy(s, svm);
    size_t n = strlen(s);
    assert_true(n > 0 && s[n - 1] == '\n');
    s[n - 1] = '\0';
    strcat(s, pair);
    expect_svm_rejected(s, msg);

    /* negative index, decreasing indices */
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\n1 -5:0.5 "), "bad index");
    snprintf(pair, sizeof(pair), "\nSV\n1 %u:0.5 ", dim);
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", pair), "indices not increasing");
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\n1 0:0.5 "), "index 0 outside");

    /* counts */
    expect_svm_rejected(replace1(svm, "nr_sv 1 0\n", "nr_sv 2 0\n"),
                        "nr_sv 2 + 0 disagrees with total_sv 1");
    expect_svm_rejected(replace1(svm, "nr_class 2\n", "nr_class 1000000000\n"),
                        "nr_class must be 2");
    expect_svm_rejected(replace1(svm, "nr_class 2\n", "nr_class 2147483647\n"),
                        "nr_class must be 2");
    char *two = replace1(svm, "nr_sv 1 0\n", "nr_sv 2 0\n");
    expect_svm_rejected(replace_line(two, "total_sv ", "total_sv 2"),
                        "file ends after 1 of 2 support vectors");
    free(two);
    expect_svm_rejected(replace1(svm, "total_sv 1\n", "total_sv 2000000000\n"),
                        "total_sv must be between 1 and 10000000");

    /* extra support vector lines */
    const char *sv = strstr(svm, "\nSV\n") + 4;
    s = malloc(strlen(svm) + strlen(sv) + 1);
    assert_non_null(s);
    strcpy(s, svm);
    strcat(s, sv);
    expect_svm_rejected(s, "more support vectors than total_sv 1");

    /* non-finite numbers */
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\n1 1:nan "), "bad value");
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\n1 1:inf "), "bad value");
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\n1 1:1e999 "), "bad value");
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\ninf "), "bad coefficient");
    expect_svm_rejected(replace1(svm, "\nSV\n1 ", "\nSV\nnan "), "bad coefficient");
    expect_svm_rejected(replace_line(svm, "rho ", "rho nan"), "rho must be one finite number");
    expect_svm_rejected(replace_line(svm, "rho ", "rho -inf"), "rho must be one finite number");

    /* header */
    expect_svm_rejected(replace1(svm, "kernel_type linear", "kernel_type rbf"),
                        "kernel_type must be linear");
    expect_svm_rejected(replace1(svm, "svm_type c_svc", "svm_type one_class"),
                        "svm_type must be c_svc");
    expect_svm_rejected(replace1(svm, "label 1 -1", "label 1 1"), "label must be");
    expect_svm_rejected(replace1(svm, "label 1 -1", "label 1 -1\ngamma 0.5"),
                        "unexpected header line \"gamma\"");
    free(svm);
    work_free(w);
}

/* The highest valid index (dim) is accepted and lands in the last weight. */
static void test_index_at_dimension_accepted(void **state)
{
    (void)state;
    struct work *w = work_new();
    char *svm = first_svm(w);
    uint32_t dim = model_dim(w);
    size_t n = strlen(svm);
    /* the compact line ends in "<last>:<value> \n"; the last index must be below dim */
    const char *p = svm + n - 2;
    while (p > svm && *p != ' ')
        p--;
    /* find the start of the last pair */
    const char *q = p - 1;
    while (q > svm && *q != ' ')
        q--;
    unsigned long lastidx = strtoul(q + 1, NULL, 10);
    if (lastidx >= dim) {
        free(svm);
        work_free(w);
        skip();
    }
    char *s = malloc(n + 64);
    assert_non_null(s);
    memcpy(s, svm, n - 1);
    snprintf(s + n - 1, 64, "%u:0.25 \n", dim);
    work_set_svm(w, s);
    work_save_manifest(w);
    nc_model *m = load_ok(w->dir);
    nc_model_free(m);
    free(s);
    free(svm);
    work_free(w);
}

/* ---- df.tsv ---- */

static void test_df_damaged(void **state)
{
    (void)state;
    struct work *w = work_new();
    size_t len = 0;
    char *df = work_read(w, "df.tsv", &len);
    work_write(w, "df.tsv", df, len - 7);
    expect_fail_dir(w->dir, "df.tsv is damaged or truncated");
    char path[4200];
    tu_path(path, sizeof(path), w->dir, "df.tsv");
    assert_int_equal(unlink(path), 0);
    expect_fail_dir(w->dir, "cannot read df.tsv");
    work_free(w);

    /* with the checksum updated, the parser must catch each problem */
    w = work_new();
    uint32_t dim = model_dim(w);
    unsigned fdim, ndocs;
    assert_int_equal(sscanf(df, "newsclf-df 1 %u %u", &fdim, &ndocs), 2);
    assert_int_equal(fdim, dim);
    assert_int_equal(ndocs, 400);
    char text[512];
    static const struct {
        const char *header; /* NULL: the right one */
        const char *body;
        const char *detail;
    } cases[] = {
        {"newsclf-df 2 DIM 400\n", "", "df.tsv: line 1: bad header"},
        {"", "", "df.tsv: line 1: bad header"},
        {"newsclf-df 1 x 400\n", "", "df.tsv: line 1: bad header"},
        {"newsclf-df 1 DIM\n", "", "df.tsv: line 1: bad header"},
        {"newsclf-df 1 DIM 400 \n", "", "df.tsv: line 1: bad header"},
        {"newsclf-df DIM 400\n", "", "df.tsv: line 1: bad header"},
        {NULL, "5\t3\n4\t2\n", "df.tsv: line 3: index or count out of range"},
        {NULL, "5\t3\n5\t2\n", "df.tsv: line 3: index or count out of range"},
        {NULL, "5\t0\n", "df.tsv: line 2: index or count out of range"},
        {NULL, "5\t401\n", "df.tsv: line 2: index or count out of range"},
        {NULL, "5 3\n", "df.tsv: line 2: expected"},
        {NULL, "5\t3", "df.tsv: line 2: expected"},
        {NULL, "5\t3\n\n", "df.tsv: line 3: expected"},
        {NULL, "-5\t3\n", "df.tsv: line 2: expected"},
        {NULL, "5\t99999999999\n", "df.tsv: line 2: expected"},
        {NULL, "5\t3\r\n", "df.tsv: line 2: expected"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dimstr[16];
        snprintf(dimstr, sizeof(dimstr), "%u", dim);
        const char *h = cases[i].header ? cases[i].header : "newsclf-df 1 DIM 400\n";
        char *hdr = strstr(h, "DIM") ? replace1(h, "DIM", dimstr) : strdup(h);
        assert_non_null(hdr);
        snprintf(text, sizeof(text), "%s%s", hdr, cases[i].body);
        free(hdr);
        struct work *c = work_new();
        work_set_df(c, text);
        expect_fail(c, cases[i].detail);
        work_free(c);
    }
    /* an index equal to the dimension (indices are 0-based here) */
    snprintf(text, sizeof(text), "newsclf-df 1 %u 400\n%u\t1\n", dim, dim);
    struct work *c = work_new();
    work_set_df(c, text);
    expect_fail(c, "df.tsv: line 2: index or count out of range");
    work_free(c);
    /* a header for another dimension */
    snprintf(text, sizeof(text), "newsclf-df 1 %u 400\n", dim * 2);
    c = work_new();
    work_set_df(c, text);
    expect_fail(c, "disagrees with the manifest's");
    work_free(c);
    /* control: the real contents with a correct checksum load; so does a df with no entries */
    work_set_df(w, df);
    work_save_manifest(w);
    nc_model_free(load_ok(w->dir));
    snprintf(text, sizeof(text), "newsclf-df 1 %u 400\n", dim);
    work_set_df(w, text);
    work_save_manifest(w);
    nc_model_free(load_ok(w->dir));
    free(df);
    work_free(w);
}

/* ---- feature settings ---- */

static void test_featurizer_id_mismatch(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(features(w), "featurizer", json_string("nc-features-0"));
    expect_fail(w, "features.featurizer is not \"nc-features-1\"");
    json_object_del(features(w), "featurizer");
    expect_fail(w, "features.featurizer is not");
    work_free(w);
    w = work_new();
    json_object_set_new(features(w), "hash", json_string("md5"));
    expect_fail(w, "features.hash/tf/idf/norm must be xxh3-64/sublinear/smooth/l2-per-block");
    work_free(w);
    w = work_new();
    json_object_set_new(features(w), "norm", json_string("l2"));
    expect_fail(w, "features.hash/tf/idf/norm must be");
    work_free(w);
    w = work_new();
    json_object_del(w->manifest, "features");
    expect_fail(w, "\"features\" missing or not an object");
    work_free(w);
}

/* Sets features.<key> (or features.passages.<key> when sub) and expects `detail`. */
static void expect_setting_rejected(const char *key, json_t *value, const char *detail)
{
    struct work *w = work_new();
    json_t *f = features(w);
    const char *dot = strchr(key, '.');
    if (dot) {
        char parent[64];
        snprintf(parent, sizeof(parent), "%.*s", (int)(dot - key), key);
        json_t *o = json_object_get(f, parent);
        assert_true(json_is_object(o));
        if (value)
            json_object_set_new(o, dot + 1, value);
        else
            json_object_del(o, dot + 1);
    } else if (value) {
        json_object_set_new(f, key, value);
    } else {
        json_object_del(f, key);
    }
    expect_fail(w, detail);
    work_free(w);
}

static void test_settings_out_of_range(void **state)
{
    (void)state;
    expect_setting_rejected("word_bits", json_integer(9), "word_bits 9 out of range 10..24");
    expect_setting_rejected("word_bits", json_integer(25), "word_bits 25 out of range 10..24");
    expect_setting_rejected("word_bits", json_integer(-1), "features.word_bits/word_ngram_max");
    expect_setting_rejected("word_bits", json_integer(4294967316LL),
                            "features.word_bits/word_ngram_max");
    expect_setting_rejected("word_bits", json_real(20.0), "features.word_bits/word_ngram_max");
    expect_setting_rejected("word_bits", NULL, "features.word_bits/word_ngram_max");
    expect_setting_rejected("word_ngram_max", json_integer(3), "word_ngram_max 3 not 1 or 2");
    expect_setting_rejected("word_ngram_max", json_integer(0), "word_ngram_max 0 not 1 or 2");
    expect_setting_rejected("char_ngrams", json_pack("[i,i]", 3, 9),
                            "character n-gram settings out of range");
    expect_setting_rejected("char_ngrams", json_pack("[i,i]", 5, 3),
                            "character n-gram settings out of range");
    expect_setting_rejected("char_ngrams", json_pack("[i,i]", -1, 3),
                            "features.char_ngrams out of range");
    expect_setting_rejected("char_ngrams", json_pack("[i]", 3), "char_ngrams must be [min, max]");
    expect_setting_rejected("char_ngrams", json_string("3-5"), "char_ngrams must be [min, max]");
    expect_setting_rejected("char_bits", json_integer(30),
                            "character n-gram settings out of range");
    expect_setting_rejected("char_bits", NULL, "features.char_bits missing");
    expect_setting_rejected("title_weight", json_real(0.0), "title_weight out of range");
    expect_setting_rejected("title_weight", json_real(-2.0), "title_weight out of range");
    expect_setting_rejected("title_weight", json_real(101.0), "title_weight out of range");
    expect_setting_rejected("title_weight", json_string("1"), "features.title_weight missing");
    expect_setting_rejected("passages.stride", json_integer(0), "passage settings invalid");
    expect_setting_rejected("passages.stride", json_integer(41), "passage settings invalid");
    expect_setting_rejected("passages.min_words", json_integer(39), "passage settings invalid");
    expect_setting_rejected("passages.words", json_integer(200000), "passage settings invalid");
    expect_setting_rejected("passages.words", NULL, "features.passages needs words, stride");
    expect_setting_rejected("passages", json_integer(40), "features.passages must be an object");
    expect_setting_rejected("min_df", json_integer(-1),
                            "features.min_df missing or not an integer");
    expect_setting_rejected("min_df", NULL, "features.min_df missing");
    expect_setting_rejected("strip_html", json_string("yes"), "strip_html must be true or false");
    expect_setting_rejected("strip_html", NULL, "strip_html must be true or false");
    expect_setting_rejected("stopwords", json_string("the"), "stopwords must be an array");
    expect_setting_rejected("stopwords", json_pack("[s,s]", "the", ""),
                            "stopwords[1] must be a non-empty string");
    expect_setting_rejected("stopwords", json_pack("[s,i]", "the", 1),
                            "stopwords[1] must be a non-empty string");
    expect_setting_rejected("df_sha", NULL, "features.df_sha missing");
}

/* Settings valid on their own but not those of df.tsv: the dimensions disagree. */
static void test_settings_inconsistent_with_df(void **state)
{
    (void)state;
    struct work *w = work_new();
    json_object_set_new(features(w), "word_bits", json_integer(19));
    expect_fail(w, "df.tsv: dimension");
    work_free(w);
    w = work_new();
    json_object_set_new(features(w), "char_ngrams", json_null());
    expect_fail(w, "df.tsv: dimension");
    work_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_loads),
        cmocka_unit_test(test_untouched_copy_loads),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_missing_manifest),
        cmocka_unit_test(test_manifest_not_json),
        cmocka_unit_test(test_wrong_format),
        cmocka_unit_test(test_format_version),
        cmocka_unit_test(test_name_version_languages),
        cmocka_unit_test(test_bad_label_names),
        cmocka_unit_test(test_duplicate_label),
        cmocka_unit_test(test_labels_array),
        cmocka_unit_test(test_threshold_out_of_range),
        cmocka_unit_test(test_platt_params),
        cmocka_unit_test(test_previous_format_version),
        cmocka_unit_test(test_combiner),
        cmocka_unit_test(test_label_file_names),
        cmocka_unit_test(test_missing_svm),
        cmocka_unit_test(test_truncated_svm),
        cmocka_unit_test(test_tampered_svm),
        cmocka_unit_test(test_index_at_dimension_accepted),
        cmocka_unit_test(test_df_damaged),
        cmocka_unit_test(test_featurizer_id_mismatch),
        cmocka_unit_test(test_settings_out_of_range),
        cmocka_unit_test(test_settings_inconsistent_with_df),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

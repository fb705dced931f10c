/*
 * test_encode.c - the output record writer (encode.c) against a reference
 * built the plain way: a jansson tree dumped with json_dumps, as the record
 * was first written. nc_encode_result() writes the record directly for
 * speed; these tests pin it to the reference byte for byte:
 *   - nc_encode_real() against json_dumps(json_real(v), JSON_REAL_PRECISION(6))
 *     on edge values and 200,000 doubles of every magnitude;
 *   - whole records of every dev article (shipped model) in the CLI's form
 *     and the daemon's (input metadata; article none, all, a field list);
 *   - ids and topics that need escaping, numeric and missing ids, plain
 *     text, a language-skipped result, and refusal of non-finite scores
 *     and of a topic that is not UTF-8.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/article.h"
#include "core/encode.h"
#include "core/model.h"
#include "testutil.h"
#include "base/util.h"
#include "base/clock.h"

/* ---- the reference: the record as a jansson tree, dumped ---- */

static json_t *ref_article_value(const nc_article *a, const struct nc_encode_opts *o)
{
    json_t *src = nc_article_json(a);
    if (!src) {
        size_t blen;
        const char *body = nc_article_body(a, &blen);
        json_t *obj = json_object();
        json_object_set_new(obj, "body", json_stringn(body ? body : "", blen));
        if (o->article_mode == NC_ARTICLE_LIST) {
            int wanted = 0;
            for (size_t i = 0; i < o->nfields; i++)
                wanted |= strcmp(o->fields[i], "body") == 0;
            if (!wanted)
                json_object_del(obj, "body");
        }
        return obj;
    }
    if (o->article_mode == NC_ARTICLE_ALL)
        return json_incref(src);
    json_t *obj = json_object();
    for (size_t i = 0; i < o->nfields; i++) {
        json_t *v = json_object_get(src, o->fields[i]);
        if (v)
            json_object_set(obj, o->fields[i], v);
    }
    return obj;
}

static char *ref_encode(const nc_model *m, const nc_article *a, const nc_result *r,
                        const struct nc_encode_opts *o)
{
    json_t *root = json_object(), *labels = json_array(), *scores = json_object(),
           *decision = json_object();
    const char *id = nc_article_id(a);
    json_object_set_new(root, "schema_version", json_integer(NC_SCHEMA_VERSION));
    json_object_set_new(root, "id", id ? json_string(id) : json_null());
    if (r->skipped == NC_SKIP_NONE) {
        for (size_t k = 0; k < r->nlabels; k++) {
            const char *name = nc_model_label(m, k);
            if (r->on[k])
                json_array_append_new(labels, json_string(name));
            assert_int_equal(json_object_set_new(scores, name, json_real(r->prob[k])), 0);
            assert_int_equal(json_object_set_new(decision, name, json_real(r->decision[k])), 0);
        }
    }
    json_object_set_new(root, "labels", labels);
    json_object_set_new(root, "scores", scores);
    json_object_set_new(root, "decision", decision);
    if (r->skipped == NC_SKIP_LANGUAGE)
        json_object_set_new(root, "skipped", json_string("language"));
    json_object_set_new(root, "model", json_pack("{s:s,s:s}", "name", nc_model_name(m), "version",
                                                 nc_model_version(m)));
    if (o && o->input) {
        const struct nc_input_meta *in = o->input;
        json_t *ij = json_object();
        json_object_set_new(ij, "topic", json_string(in->topic ? in->topic : ""));
        json_object_set_new(ij, "partition", json_integer(in->partition));
        json_object_set_new(ij, "offset", json_integer(in->offset));
        json_object_set_new(ij, "timestamp", in->timestamp_ms >= 0 ? json_integer(in->timestamp_ms)
                                                                    : json_null());
        json_object_set_new(root, "input", ij);
        char ts[40];
        nc_format_rfc3339_ms(in->classified_at_ms, ts, sizeof(ts));
        json_object_set_new(root, "classified_at", json_string(ts));
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(root);
    assert_non_null(s);
    if (!o || o->article_mode == NC_ARTICLE_NONE)
        return s;
    size_t alen;
    const char *raw = o->article_mode == NC_ARTICLE_ALL ? nc_article_raw(a, &alen) : NULL;
    char *as = NULL;
    if (!raw) {
        json_t *art = ref_article_value(a, o);
        as = json_dumps(art, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        json_decref(art);
        assert_non_null(as);
        raw = as;
        alen = strlen(as);
    }
    size_t n = strlen(s);
    char *out = malloc(n + alen + 16);
    assert_non_null(out);
    memcpy(out, s, n - 1);
    sprintf(out + n - 1, ",\"article\":%.*s}", (int)alen, raw);
    free(s);
    free(as);
    return out;
}

/* ---- helpers ---- */

static nc_model *shipped_model(void)
{
    char dir[4096], err[1024];
    snprintf(dir, sizeof(dir), "%s/models/default", NC_TEST_SOURCE_DIR);
    nc_model *m = NULL;
    if (nc_model_load(dir, &m, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return m;
}

/* Fails unless nc_encode_result gives exactly the reference record. */
static void check_record(const nc_model *m, const nc_article *a, const nc_result *r,
                         const struct nc_encode_opts *o, const char *what)
{
    char err[256];
    size_t len = 0;
    char *got = nc_encode_result(m, a, r, o, &len, err, sizeof(err));
    if (!got)
        fail_msg("%s: %s", what, err);
    char *want = ref_encode(m, a, r, o);
    if (len != strlen(got) || strcmp(got, want) != 0)
        fail_msg("%s:\n got  %s\n want %s", what, got, want);
    free(got);
    free(want);
}

static void check_real(double v)
{
    char got[64];
    size_t n = nc_encode_real(v, got, sizeof(got));
    json_t *j = json_real(v);
    char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
    json_decref(j);
    assert_non_null(want);
    if (n != strlen(want) || strcmp(got, want) != 0)
        fail_msg("%.17g: got \"%s\", jansson writes \"%s\"", v, got, want);
    free(want);
}

/* ---- tests ---- */

static void test_real_matches_jansson(void **state)
{
    (void)state;
    static const double edge[] = {0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 10.0, 100000.0, 999999.0,
                                  999999.5, 1000000.0, 1e6, 1e7, 1e15, 1e16, 1e17, 1e21, 1e100,
                                  1e300, 1.7976931348623157e308, 1e-4, 1e-5, 0.0001, 0.00001234,
                                  1e-300, 4.9e-324, 2.2250738585072014e-308, 0.1, 0.2, 0.3,
                                  1.0 / 3.0, 2.0 / 3.0, 0.9999995, 0.99999949, 123456.5,
                                  -123456789.0, 5e-7, -5e-7, 12345678901234567890.0};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        check_real(edge[i]);
        check_real(-edge[i]);
    }
    /* Every magnitude: mantissas from a fixed LCG, exponents -330..330. */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double mant = (double)(x >> 11) / 9007199254740992.0; /* [0, 1) */
        int e = (int)((x >> 3) % 661) - 330;
        double v = mant * pow(10.0, e);
        if (!isfinite(v))
            continue;
        check_real(i & 1 ? -v : v);
        check_real(mant); /* the usual range of probabilities */
    }
    char small[4];
    assert_int_equal(nc_encode_real(0.123456, small, sizeof(small)), 0);
}

static void test_dev_records_match_reference(void **state)
{
    (void)state;
    nc_model *m = shipped_model();
    nc_workspace *ws = nc_workspace_new(m);
    nc_article *a = nc_article_new();
    assert_non_null(ws);
    char path[4096], err[1024];
    snprintf(path, sizeof(path), "%s/dev.jsonl", NC_TEST_CORPUS);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: cannot open", path);
    static const char *const fields[] = {"title", "id", "no-such-field", "url"};
    struct nc_input_meta in = {"news.articles", 3, 0, 1764201600123, 1764201600456};
    struct nc_encode_opts modes[] = {{NC_ARTICLE_NONE, NULL, 0, NULL},
                                     {NC_ARTICLE_NONE, NULL, 0, &in},
                                     {NC_ARTICLE_ALL, NULL, 0, &in},
                                     {NC_ARTICLE_LIST, fields, 4, &in}};
    char *line = NULL;
    size_t cap = 0, count = 0, labeled = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        assert_int_equal(nc_article_parse(a, line, (size_t)n, 0, err, sizeof(err)), NC_ART_OK);
        nc_result r;
        assert_int_equal(nc_model_classify(m, ws, a, &r, err, sizeof(err)), 0);
        in.offset = (int64_t)count;
        in.timestamp_ms = count % 7 == 0 ? -1 : 1764201600123 + (int64_t)count;
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
            char what[64];
            snprintf(what, sizeof(what), "dev line %zu, mode %zu", count + 1, i);
            check_record(m, a, &r, i == 0 ? NULL : &modes[i], what);
        }
        for (size_t k = 0; k < r.nlabels; k++)
            labeled += r.on[k];
        count++;
    }
    free(line);
    fclose(f);
    assert_true(count > 500);
    assert_true(labeled > 100); /* the records compared carry labels */
    nc_article_free(a);
    nc_workspace_free(ws);
    nc_model_free(m);
}

static void test_unusual_articles_match_reference(void **state)
{
    (void)state;
    nc_model *m = shipped_model();
    nc_workspace *ws = nc_workspace_new(m);
    nc_article *a = nc_article_new();
    char err[1024];
    static const char *const msgs[] = {
        "{\"id\": \"quote\\\" back\\\\slash\", \"title\": \"Sanctions on oil\"}",
        "{\"id\": \"back\\\\slash only\", \"title\": \"Sanctions on oil\"}",
        "{\"id\": \"tab\\there\\nnewline\\u0001ctl\\u007f\", \"body\": \"vaccine trial\"}",
        "{\"id\": \"caf\\u00e9 \\u2028 \\ud83d\\ude00 /slash\", \"body\": \"x\"}",
        "{\"id\": 12345678901234, \"title\": \"Tariffs\"}",
        "{\"id\": -0.5e3, \"title\": \"Tariffs\"}",
        "{\"title\": \"no id at all\", \"body\": \"troops\"}",
        "{\"id\": \"\", \"title\": \"empty id\"}",
        "plain text about a ceasefire and sanctions",
        "{\"id\": \"multi\",\n \"title\": \"spans\",\n \"body\": \"lines\", \"n\": 1.50}"};
    static const char *const fields[] = {"body", "id"};
    struct nc_input_meta in = {"odd\"topic\\\x01\xc3\xa9", -1, INT64_MAX, INT64_MAX, 0};
    struct nc_input_meta in2 = {"back\\slash.topic", 0, 0, 0, 0};
    struct nc_encode_opts modes[] = {{NC_ARTICLE_ALL, NULL, 0, &in},
                                     {NC_ARTICLE_LIST, fields, 2, &in},
                                     {NC_ARTICLE_LIST, fields, 1, NULL},
                                     {NC_ARTICLE_NONE, NULL, 0, &in2},
                                     {NC_ARTICLE_ALL, NULL, 0, NULL}};
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        assert_int_equal(nc_article_parse(a, msgs[i], strlen(msgs[i]), 0, err, sizeof(err)),
                         NC_ART_OK);
        nc_result r;
        assert_int_equal(nc_model_classify(m, ws, a, &r, err, sizeof(err)), 0);
        for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
            char what[64];
            snprintf(what, sizeof(what), "message %zu, mode %zu", i, k);
            check_record(m, a, &r, &modes[k], what);
            nc_result skipped = r;
            skipped.skipped = NC_SKIP_LANGUAGE;
            memset(skipped.on, 0, sizeof(skipped.on));
            check_record(m, a, &skipped, &modes[k], what);
        }
    }
    nc_article_free(a);
    nc_workspace_free(ws);
    nc_model_free(m);
}

/* Refusals: the shipped model and one parsed article, shared by the tests
 * below (setup/teardown). */
struct refusal {
    nc_model *m;
    nc_article *a;
};

static int refusal_setup(void **state)
{
    struct refusal *f = malloc(sizeof(*f));
    char err[256];
    const char *msg = "{\"id\": \"n\", \"title\": \"t\"}";
    assert_non_null(f);
    f->m = shipped_model();
    f->a = nc_article_new();
    assert_int_equal(nc_article_parse(f->a, msg, strlen(msg), 0, err, sizeof(err)), NC_ART_OK);
    *state = f;
    return 0;
}

static int refusal_teardown(void **state)
{
    struct refusal *f = *state;
    nc_article_free(f->a);
    nc_model_free(f->m);
    free(f);
    return 0;
}

/* Fails unless the record is refused with a reason that contains needle. */
static void expect_refused(const struct refusal *f, const nc_result *r,
                           const struct nc_encode_opts *o, const char *needle)
{
    char err[256] = "";
    size_t len;
    char *out = nc_encode_result(f->m, f->a, r, o, &len, err, sizeof(err));
    if (out)
        fail_msg("written although it should be refused (%s): %s", needle, out);
    assert_contains(err, needle);
}

static void test_non_finite_scores_refused(void **state)
{
    const struct refusal *f = *state;
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++)
        for (int which = 0; which < 2; which++) {
            nc_result r;
            memset(&r, 0, sizeof(r));
            r.nlabels = nc_model_nlabels(f->m);
            if (which)
                r.decision[1] = bad[i];
            else
                r.prob[1] = bad[i];
            expect_refused(f, &r, NULL, nc_model_label(f->m, 1));
            /* A skipped result has no scores to refuse. */
            r.skipped = NC_SKIP_LANGUAGE;
            check_record(f->m, f->a, &r, NULL, "skipped with a non-finite score");
        }
}

/* A topic that is not UTF-8 (the record could not be JSON) is refused with
 * a reason, not written and not blamed on memory. */
static void test_invalid_utf8_refused(void **state)
{
    const struct refusal *f = *state;
    nc_result r;
    memset(&r, 0, sizeof(r));
    r.nlabels = nc_model_nlabels(f->m);
    struct nc_input_meta in = {"bad\xff\xfetopic", 0, 0, 0, 0};
    struct nc_encode_opts o = {NC_ARTICLE_NONE, NULL, 0, &in};
    expect_refused(f, &r, &o, "UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_matches_jansson),
        cmocka_unit_test(test_dev_records_match_reference),
        cmocka_unit_test(test_unusual_articles_match_reference),
        cmocka_unit_test_setup_teardown(test_non_finite_scores_refused, refusal_setup,
                                        refusal_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_refused, refusal_setup,
                                        refusal_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

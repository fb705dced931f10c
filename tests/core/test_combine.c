/*
 * test_combine.c - the learned combiner of document and passage scores:
 * its fit (daemon/train/logreg.h: Newton/IRLS on smoothed targets with a
 * ridge), its inputs and probability (daemon/core/combine.h), its manifest
 * form read back (the round trip), and training through the nested
 * cross-validation with labels so rare that some training folds have no
 * positive at all.
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

#include "core/combine.h"
#include "core/model.h"
#include "testutil.h"
#include "train/logreg.h"
#include "train/train.h"

/* Gradient of logreg.h's objective at (w, bias): zero at the optimum. */
static double grad_max(const double *x, const unsigned char *truth, size_t n, size_t d,
                       double ridge, const double *w, double bias)
{
    double pos = 0, g[NC_LOGREG_MAX_DIM + 1] = {0};
    for (size_t i = 0; i < n; i++)
        pos += truth[i];
    for (size_t i = 0; i < n; i++) {
        double z = bias, t = truth[i] ? (pos + 1) / (pos + 2) : 1 / ((double)n - pos + 2);
        for (size_t j = 0; j < d; j++)
            z += w[j] * x[i * d + j];
        double r = 1 / (1 + exp(-z)) - t;
        g[0] += r;
        for (size_t j = 0; j < d; j++)
            g[j + 1] += r * x[i * d + j];
    }
    double m = fabs(g[0]);
    for (size_t j = 0; j < d; j++)
        m = fmax(m, fabs(g[j + 1] + ridge * w[j]));
    return m;
}

static double logit(const double *w, double bias, const double *x, size_t d)
{
    double z = bias;
    for (size_t j = 0; j < d; j++)
        z += w[j] * x[j];
    return z;
}

/* A noisy two-input problem: the fit reaches the optimum, the same bits every time. */
static void test_fit_optimum_and_determinism(void **state)
{
    (void)state;
    enum { N = 400 };
    static double x[N * 2];
    static unsigned char truth[N];
    unsigned s = 12345;
    for (size_t i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        double u = (double)(s >> 8 & 0xffff) / 65536.0;
        s = s * 1103515245u + 12345u;
        double v = (double)(s >> 8 & 0xffff) / 65536.0;
        x[2 * i] = 4 * u - 2;
        x[2 * i + 1] = v;
        truth[i] = (unsigned char)(x[2 * i] + 0.5 * v + 0.8 * (u - 0.5) * (v - 0.5) > 0.1);
    }
    double w[2], b, w2[2], b2;
    int it = nc_logreg_fit(x, truth, N, 2, 1.0, w, &b);
    assert_true(it >= 1 && it < 100);
    assert_true(grad_max(x, truth, N, 2, 1.0, w, b) < 1e-6);
    assert_true(w[0] > 1 && w[1] > 0);
    assert_int_equal(nc_logreg_fit(x, truth, N, 2, 1.0, w2, &b2), it);
    assert_memory_equal(w, w2, sizeof(w));
    assert_memory_equal(&b, &b2, sizeof(b));
    /* bad arguments */
    assert_int_equal(nc_logreg_fit(x, truth, N, 0, 1.0, w, &b), -1);
    assert_int_equal(nc_logreg_fit(x, truth, N, NC_LOGREG_MAX_DIM + 1, 1.0, w, &b), -1);
}

/* Separable classes: plain maximum likelihood would diverge; the fit stays finite. */
static void test_fit_separable(void **state)
{
    (void)state;
    const double x[] = {-3, -2, -1, -0.5, 0.5, 1, 2, 3};
    const unsigned char truth[] = {0, 0, 0, 0, 1, 1, 1, 1};
    double w, b;
    int it = nc_logreg_fit(x, truth, 8, 1, 0.0, &w, &b); /* no ridge: the targets alone */
    assert_true(it >= 1 && it < 100);
    assert_true(isfinite(w) && isfinite(b) && w > 0 && w < 100);
    assert_true(grad_max(x, truth, 8, 1, 0.0, &w, b) < 1e-6);
    for (size_t i = 0; i < 8; i++) {
        double p = nc_logistic(logit(&w, b, &x[i], 1));
        assert_true(truth[i] ? p > 0.5 && p < 0.99 : p < 0.5 && p > 0.01);
    }
}

/* A constant input (the same as the bias) and an input that is always 0. */
static void test_fit_constant_inputs(void **state)
{
    (void)state;
    enum { N = 50 };
    double x[N * 3];
    unsigned char truth[N];
    for (size_t i = 0; i < N; i++) {
        x[3 * i] = (double)i / 10.0 - 2.5;
        x[3 * i + 1] = 1.0;
        x[3 * i + 2] = 0.0;
        truth[i] = (unsigned char)(i % 7 != 0 && i > 20);
    }
    double w[3], b;
    int it = nc_logreg_fit(x, truth, N, 3, 1.0, w, &b);
    assert_true(it >= 1 && it < 100);
    assert_true(grad_max(x, truth, N, 3, 1.0, w, b) < 1e-6);
    assert_true(w[2] == 0.0);     /* no information, no weight */
    assert_true(fabs(w[1]) < 1.0); /* the unpenalised bias takes the constant's part */
    assert_true(w[0] > 0.5);
    double w1, b1; /* without the constant inputs: the same probabilities, nearly */
    double x1[N];
    for (size_t i = 0; i < N; i++)
        x1[i] = x[3 * i];
    nc_logreg_fit(x1, truth, N, 1, 1.0, &w1, &b1);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(nc_logistic(logit(w, b, x + 3 * i, 3)) -
                         nc_logistic(logit(&w1, b1, x1 + i, 1))) < 0.05);
}

/* A training fold without positives (or without negatives). */
static void test_fit_one_class(void **state)
{
    (void)state;
    const double x[] = {-1, 0, 1, 2, 0.5, -0.5};
    const unsigned char none[6] = {0}, all[6] = {1, 1, 1, 1, 1, 1};
    double w, b;
    assert_true(nc_logreg_fit(x, none, 6, 1, 1.0, &w, &b) >= 0);
    assert_true(isfinite(w) && isfinite(b));
    for (size_t i = 0; i < 6; i++)
        assert_true(nc_logistic(logit(&w, b, &x[i], 1)) < 0.2);
    assert_true(nc_logreg_fit(x, all, 6, 1, 1.0, &w, &b) >= 0);
    for (size_t i = 0; i < 6; i++)
        assert_true(nc_logistic(logit(&w, b, &x[i], 1)) > 0.8);
    assert_true(nc_logreg_fit(x, none, 0, 1, 1.0, &w, &b) >= 0); /* nothing at all */
    assert_true(isfinite(w) && isfinite(b));
}

static void test_inputs_and_probability(void **state)
{
    (void)state;
    double x[NC_COMBINE_NIN];
    struct nc_label_score none = {.doc = -0.7}, one = {.doc = 0.1, .pmax = 0.9, .npassages = 1},
                          many = {.doc = 0.2, .pmax = 1.0, .p2nd = 0.5, .npassages = 7};
    nc_combine_inputs(&none, x);
    const double want0[] = {-0.7, 0, 0, 0, 0};
    assert_memory_equal(x, want0, sizeof(want0));
    nc_combine_inputs(&one, x);
    const double want1[] = {0.1, 0.9, 0.9, log1p(1.0), 1};
    assert_memory_equal(x, want1, sizeof(want1));
    nc_combine_inputs(&many, x);
    const double want7[] = {0.2, 1.0, 0.75, log1p(7.0), 1};
    assert_memory_equal(x, want7, sizeof(want7));

    struct nc_combine c = {.rule = NC_COMBINE_LEARNED, .w = {2, 1, -1, 0.5, -0.25}, .bias = -1};
    double z = -1 + 2 * 0.2 + 1.0 - 0.75 + 0.5 * log1p(7.0) - 0.25;
    assert_true(fabs(nc_combine_prob(&c, &many) - 1 / (1 + exp(-z))) < 1e-15);
    assert_true(fabs(nc_combine_prob(&c, &none) - 1 / (1 + exp(1 + 1.4))) < 1e-15);
    struct nc_combine m = {.rule = NC_COMBINE_MAX, .platt = {-2, 0.1}};
    assert_true(nc_combine_prob(&m, &many) == nc_platt_prob(&m.platt, 1.0));
    assert_true(nc_combine_prob(&m, &none) == nc_platt_prob(&m.platt, -0.7));
    assert_true(nc_label_score_max(&none) == -0.7 && nc_label_score_max(&one) == 0.9);
    assert_true(nc_logistic(-800) == 0.0 && nc_logistic(800) == 1.0 && nc_logistic(0) == 0.5);
    assert_string_equal(nc_combine_rule_name(NC_COMBINE_LEARNED), "learned");
    assert_int_equal(nc_combine_rule_parse("max"), NC_COMBINE_MAX);
    assert_int_equal(nc_combine_rule_parse("learned"), NC_COMBINE_LEARNED);
    assert_int_equal(nc_combine_rule_parse("Max"), -1);
    assert_int_equal(nc_combine_rule_parse(NULL), -1);
}

/* to_json -> text as the trainer writes it -> parse -> from_json gives the combiner back. */
static void round_trip(const struct nc_combine *c, size_t flags, double tol)
{
    json_t *label = json_pack("{s:s}", "name", "x");
    assert_int_equal(nc_combine_to_json(c, label), 0);
    char *text = json_dumps(label, flags);
    assert_non_null(text);
    json_error_t je;
    json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(back);
    struct nc_combine d;
    char err[256];
    assert_int_equal(nc_combine_from_json(back, 2, 0, &d, err, sizeof(err)), 0);
    assert_int_equal(d.rule, c->rule);
    assert_true(fabs(d.platt.A - c->platt.A) <= tol * fabs(c->platt.A));
    assert_true(fabs(d.platt.B - c->platt.B) <= tol * fabs(c->platt.B));
    for (size_t i = 0; i < NC_COMBINE_NIN; i++)
        assert_true(fabs(d.w[i] - c->w[i]) <= tol * fabs(c->w[i]));
    assert_true(fabs(d.bias - c->bias) <= tol * fabs(c->bias));
    if (c->rule == NC_COMBINE_LEARNED) {
        assert_null(json_object_get(back, "platt"));
        json_t *in = json_object_get(json_object_get(back, "combiner"), "inputs");
        assert_int_equal(json_array_size(in), NC_COMBINE_NIN);
        for (size_t i = 0; i < NC_COMBINE_NIN; i++)
            assert_string_equal(json_string_value(json_array_get(in, i)),
                                nc_combine_input_names[i]);
    } else {
        assert_null(json_object_get(back, "combiner"));
    }
    free(text);
    json_decref(label);
    json_decref(back);
}

static void test_manifest_round_trip(void **state)
{
    (void)state;
    struct nc_combine learned = {.rule = NC_COMBINE_LEARNED,
                                 .w = {4.123456789012345, 0.35, -1.0957, 0.25e-3, -0.2},
                                 .bias = 0.0333333333333333};
    struct nc_combine max = {.rule = NC_COMBINE_MAX, .platt = {-4.129638032123, 0.40796876}};
    round_trip(&learned, JSON_COMPACT, 0);
    round_trip(&max, JSON_COMPACT, 0);
    round_trip(&learned, JSON_INDENT(2) | JSON_REAL_PRECISION(10), 1e-9); /* the manifest's form */
    round_trip(&max, JSON_INDENT(2) | JSON_REAL_PRECISION(10), 1e-9);
    /* what cannot be written is refused, not written half */
    struct nc_combine bad = learned;
    bad.w[3] = NAN;
    json_t *label = json_object();
    assert_int_equal(nc_combine_to_json(&bad, label), -1);
    json_decref(label);
    /* format version 1: the max rule, whatever else the label says */
    json_t *v1 = json_pack("{s:s,s:{s:f,s:f},s:s}", "name", "x", "platt", "A", -2.0, "B", 0.5,
                           "rule", "learned");
    struct nc_combine d;
    char err[256];
    assert_int_equal(nc_combine_from_json(v1, 1, 3, &d, err, sizeof(err)), 0);
    assert_int_equal(d.rule, NC_COMBINE_MAX);
    assert_true(d.platt.A == -2.0 && d.platt.B == 0.5);
    assert_int_equal(nc_combine_from_json(v1, 2, 3, &d, err, sizeof(err)), -1);
    assert_contains(err, "labels[3].combiner.inputs are not");
    json_decref(v1);
}

/*
 * Training with 5 folds on 80 articles where "rare" has 2 positives: they
 * lie in at most two folds, so the trainings without those folds see one
 * class only, and so do the combiner fits inside the outer fold that holds
 * them. Training must go through and the
 * manifest hold both combiners' nested figures.
 */
static void test_training_with_rare_label(void **state)
{
    (void)state;
    char root[4096], data[4200], out[4200], src[4200];
    struct nc_train_opts o;
    nc_train_opts_default(&o);
    tu_mkdtemp(root, sizeof(root));
    tu_path(data, sizeof(data), root, "rare.jsonl");
    tu_path(out, sizeof(out), root, "model");
    snprintf(src, sizeof(src), "%s/train.jsonl", NC_TEST_CORPUS);
    char *text = tu_read(src, NULL);
    assert_non_null(text);
    FILE *fp = fopen(data, "w");
    assert_non_null(fp);
    char *line = text;
    for (int i = 0; i < 80; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_error_t je;
        json_t *a = json_loads(line, 0, &je);
        assert_non_null(a);
        json_object_set_new(a, "labels", i < 2     ? json_pack("[s,s]", "rare", "common")
                                         : i % 2 ? json_pack("[s]", "common")
                                                 : json_array());
        char *s = json_dumps(a, JSON_COMPACT);
        fprintf(fp, "%s\n", s);
        free(s);
        json_decref(a);
        line = nl + 1;
    }
    fclose(fp);
    free(text);
    const char *files[1] = {data};
    o.data = files;
    o.ndata = 1;
    o.out_dir = out;
    char err[1024];
    if (nc_train(&o, err, sizeof(err)) != 0)
        fail_msg("nc_train: %s", err);
    char mp[4400];
    tu_path(mp, sizeof(mp), out, "manifest.json");
    json_error_t je;
    json_t *m = json_load_file(mp, 0, &je);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "format_version")), 2);
    json_t *nested = json_object_get(json_object_get(m, "cv"), "nested");
    assert_int_equal(json_integer_value(json_object_get(nested, "folds")), 5);
    for (int r = 0; r < 2; r++) {
        json_t *fig = json_object_get(nested, r ? "max" : "learned");
        double f1 = json_number_value(json_object_get(json_object_get(
            json_object_get(fig, "labels"), "rare"), "f1"));
        assert_true(f1 >= 0 && f1 <= 1);
        assert_true(json_is_number(json_object_get(fig, "macro_f1")));
    }
    json_t *labels = json_object_get(m, "labels");
    for (size_t k = 0; k < 2; k++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(labels, k), "rule")),
                            "learned");
    json_decref(m);
    nc_model *model = NULL;
    if (nc_model_load(out, &model, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    nc_model_free(model);
    tu_rmtree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_optimum_and_determinism),
        cmocka_unit_test(test_fit_separable),
        cmocka_unit_test(test_fit_constant_inputs),
        cmocka_unit_test(test_fit_one_class),
        cmocka_unit_test(test_inputs_and_probability),
        cmocka_unit_test(test_manifest_round_trip),
        cmocka_unit_test(test_training_with_rare_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

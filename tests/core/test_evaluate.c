/*
 * test_evaluate.c - multi-label quality figures (daemon/evaluate.h) on a
 * hand-computed example, the zero-division conventions (0/0 counts as 0)
 * and the JSON / table printers.
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

#include "core/evaluate.h"
#include "testutil.h"

/*
 * 2 labels x 5 documents (row = document, columns = label 0, label 1):
 *
 *        truth   pred
 *   d0   1 0     1 0    exact
 *   d1   1 1     1 0    label 1 missed (fn)
 *   d2   0 1     1 1    label 0 wrong (fp)
 *   d3   0 0     0 0    exact
 *   d4   1 0     0 1    label 0 missed (fn), label 1 wrong (fp)
 *
 * label 0: tp 2 (d0 d1), fp 1 (d2), fn 1 (d4), support 3 -> P = R = F1 = 2/3
 * label 1: tp 1 (d2),    fp 1 (d4), fn 1 (d1), support 2 -> P = R = F1 = 1/2
 * micro: TP 3, FP 2, FN 2 -> F1 = 6 / 10 = 0.6
 * macro: (2/3 + 1/2) / 2 = 7/12 ; exact match: 2 of 5 = 0.4
 */
static const unsigned char truth5[] = {1, 0, 1, 1, 0, 1, 0, 0, 1, 0};
static const unsigned char pred5[] = {1, 0, 1, 0, 1, 1, 0, 0, 0, 1};

static void test_hand_computed(void **state)
{
    (void)state;
    struct nc_eval ev;
    assert_int_equal(nc_eval_compute(&ev, 2, 5, truth5, pred5), 0);
    assert_int_equal(ev.nlabels, 2);
    assert_int_equal(ev.ndocs, 5);
    const struct nc_label_stats *l0 = &ev.label[0], *l1 = &ev.label[1];
    assert_int_equal(l0->tp, 2);
    assert_int_equal(l0->fp, 1);
    assert_int_equal(l0->fn, 1);
    assert_int_equal(l0->support, 3);
    assert_int_equal(l1->tp, 1);
    assert_int_equal(l1->fp, 1);
    assert_int_equal(l1->fn, 1);
    assert_int_equal(l1->support, 2);
    /* exact: each figure is one correctly rounded division */
    assert_true(l0->precision == 2.0 / 3.0);
    assert_true(l0->recall == 2.0 / 3.0);
    assert_true(l0->f1 == 2.0 / 3.0);
    assert_true(l1->precision == 0.5);
    assert_true(l1->recall == 0.5);
    assert_true(l1->f1 == 0.5);
    assert_true(ev.micro_f1 == 0.6);
    assert_true(ev.macro_f1 == (2.0 / 3.0 + 0.5) / 2.0);
    assert_true(fabs(ev.macro_f1 - 7.0 / 12.0) < 1e-15);
    assert_int_equal(ev.exact, 2);
    assert_true(ev.exact_match == 0.4);
    nc_eval_release(&ev);
    assert_null(ev.label);
}

/* Precision and recall differ: 1 label, tp 1, fp 3, fn 0 -> P 1/4, R 1, F1 2/5. */
static void test_precision_recall_differ(void **state)
{
    (void)state;
    const unsigned char t[] = {1, 0, 0, 0};
    const unsigned char p[] = {1, 1, 1, 1};
    struct nc_eval ev;
    assert_int_equal(nc_eval_compute(&ev, 1, 4, t, p), 0);
    assert_true(ev.label[0].precision == 0.25);
    assert_true(ev.label[0].recall == 1.0);
    assert_true(ev.label[0].f1 == 0.4);
    assert_true(ev.micro_f1 == 0.4);
    assert_true(ev.macro_f1 == 0.4);
    assert_true(ev.exact_match == 0.25);
    nc_eval_release(&ev);
}

/* 0/0 counts as 0: no predictions, no truth, no documents. */
static void test_zero_division(void **state)
{
    (void)state;
    struct nc_eval ev;
    /* label 0: truth but never predicted (P = 0/0); label 1: never true nor predicted */
    const unsigned char t[] = {1, 0, 1, 0, 0, 0};
    const unsigned char p[] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(nc_eval_compute(&ev, 2, 3, t, p), 0);
    assert_int_equal(ev.label[0].fn, 2);
    assert_true(ev.label[0].precision == 0.0);
    assert_true(ev.label[0].recall == 0.0);
    assert_true(ev.label[0].f1 == 0.0);
    assert_int_equal(ev.label[1].support, 0);
    assert_true(ev.label[1].precision == 0.0);
    assert_true(ev.label[1].recall == 0.0);
    assert_true(ev.label[1].f1 == 0.0);
    assert_true(ev.micro_f1 == 0.0);
    assert_true(ev.macro_f1 == 0.0);
    assert_true(ev.exact_match == 1.0 / 3.0); /* d1: nothing true, nothing predicted */
    nc_eval_release(&ev);

    /* predicted but never true: R = 0/0 */
    const unsigned char t2[] = {0, 0};
    const unsigned char p2[] = {1, 0};
    assert_int_equal(nc_eval_compute(&ev, 1, 2, t2, p2), 0);
    assert_int_equal(ev.label[0].fp, 1);
    assert_true(ev.label[0].precision == 0.0);
    assert_true(ev.label[0].recall == 0.0);
    assert_true(ev.label[0].f1 == 0.0);
    assert_true(ev.exact_match == 0.5);
    nc_eval_release(&ev);

    /* no documents at all */
    assert_int_equal(nc_eval_compute(&ev, 3, 0, NULL, NULL), 0);
    assert_int_equal(ev.ndocs, 0);
    assert_true(ev.micro_f1 == 0.0);
    assert_true(ev.macro_f1 == 0.0);
    assert_true(ev.exact_match == 0.0);
    for (size_t k = 0; k < 3; k++)
        assert_true(ev.label[k].f1 == 0.0);
    nc_eval_release(&ev);

    /* no labels */
    assert_int_equal(nc_eval_compute(&ev, 0, 0, NULL, NULL), 0);
    assert_true(ev.macro_f1 == 0.0);
    assert_true(ev.micro_f1 == 0.0);
    nc_eval_release(&ev);

    /* perfect */
    assert_int_equal(nc_eval_compute(&ev, 2, 5, truth5, truth5), 0);
    assert_true(ev.micro_f1 == 1.0);
    assert_true(ev.macro_f1 == 1.0);
    assert_true(ev.exact_match == 1.0);
    nc_eval_release(&ev);
}

/* Any non-zero byte is a "yes". */
static void test_flags_are_booleans(void **state)
{
    (void)state;
    const unsigned char t[] = {2, 0, 255, 0};
    const unsigned char p[] = {1, 0, 7, 9};
    struct nc_eval ev;
    assert_int_equal(nc_eval_compute(&ev, 2, 2, t, p), 0);
    assert_int_equal(ev.label[0].tp, 2);
    assert_int_equal(ev.label[1].fp, 1);
    assert_int_equal(ev.exact, 1);
    nc_eval_release(&ev);
}

static char *capture(const struct nc_eval *ev, const char *const *names, int json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    if (json)
        nc_eval_print_json(ev, names, fp);
    else
        nc_eval_print_table(ev, names, fp);
    assert_int_equal(fclose(fp), 0);
    return buf;
}

static void test_printers(void **state)
{
    (void)state;
    struct nc_eval ev;
    const char *names[] = {"conflict", "trade"};
    assert_int_equal(nc_eval_compute(&ev, 2, 5, truth5, pred5), 0);

    char *js = capture(&ev, names, 1);
    size_t n = strlen(js);
    assert_true(n > 0 && js[n - 1] == '\n');
    assert_null(memchr(js, '\n', n - 1)); /* one line */
    json_error_t je;
    json_t *root = json_loads(js, 0, &je);
    if (!root)
        fail_msg("eval JSON does not parse: %s: %s", je.text, js);
    json_t *labels = json_object_get(root, "labels");
    assert_int_equal(json_object_size(labels), 2);
    json_t *c = json_object_get(labels, "conflict");
    assert_int_equal(json_integer_value(json_object_get(c, "tp")), 2);
    assert_int_equal(json_integer_value(json_object_get(c, "fp")), 1);
    assert_int_equal(json_integer_value(json_object_get(c, "fn")), 1);
    assert_int_equal(json_integer_value(json_object_get(c, "support")), 3);
    assert_true(fabs(json_real_value(json_object_get(c, "f1")) - 2.0 / 3.0) < 1e-12);
    json_t *t = json_object_get(labels, "trade");
    assert_true(fabs(json_real_value(json_object_get(t, "precision")) - 0.5) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(root, "micro_f1")) - 0.6) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(root, "macro_f1")) - 7.0 / 12.0) < 1e-12);
    assert_true(fabs(json_real_value(json_object_get(root, "exact_match")) - 0.4) < 1e-12);
    assert_int_equal(json_integer_value(json_object_get(root, "documents")), 5);
    json_decref(root);
    free(js);

    char *tab = capture(&ev, names, 0);
    assert_contains(tab, "conflict");
    assert_contains(tab, "trade");
    assert_contains(tab, "micro-F1");
    assert_contains(tab, "macro-F1");
    assert_contains(tab, "exact-match");
    assert_contains(tab, "0.6000");
    assert_contains(tab, "0.5833");
    free(tab);
    nc_eval_release(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_computed), cmocka_unit_test(test_precision_recall_differ),
        cmocka_unit_test(test_zero_division), cmocka_unit_test(test_flags_are_booleans),
        cmocka_unit_test(test_printers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_platt.c - probability calibration and threshold choice
 * (daemon/platt.h): on separable data the fitted sigmoid is finite and
 * increasing in the decision value; the threshold is a grid value
 * 0.05..0.95 and ties go to the one closest to 0.5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/platt.h"

static void assert_monotone(const struct nc_platt *p)
{
    double prev = -1;
    for (int i = -400; i <= 400; i++) {
        double d = i / 40.0; /* -10 .. 10 */
        double q = nc_platt_prob(p, d);
        assert_true(isfinite(q));
        assert_true(q >= 0.0 && q <= 1.0);
        /* strictly increasing until it saturates at the ends of double precision */
        if (q < prev || (q == prev && q > 1e-9 && q < 1 - 1e-9))
            fail_msg("probability not increasing at decision %g: %.17g after %.17g", d, q, prev);
        prev = q;
    }
}

static void test_separable_monotone(void **state)
{
    (void)state;
    const double dec[] = {-3, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3};
    const unsigned char truth[] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    struct nc_platt p;
    nc_platt_fit(dec, truth, 10, &p);
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(p.A < 0);          /* larger decision -> larger probability */
    assert_true(fabs(p.B) < 1e-6); /* symmetric data: the sigmoid is centred on 0 */
    assert_monotone(&p);
    for (size_t i = 0; i < 10; i++) {
        double q = nc_platt_prob(&p, dec[i]);
        if (truth[i])
            assert_true(q > 0.5);
        else
            assert_true(q < 0.5);
    }
    /* the smoothed targets keep it from becoming a step function */
    assert_true(nc_platt_prob(&p, 3) < 1.0);
    assert_true(nc_platt_prob(&p, -3) > 0.0);
}

/* Separable but imbalanced and shifted: still increasing, boundary between the classes. */
static void test_separable_imbalanced(void **state)
{
    (void)state;
    enum { N = 200 };
    double dec[N];
    unsigned char truth[N];
    for (int i = 0; i < N; i++) {
        truth[i] = i % 10 == 0; /* 10% positives */
        dec[i] = truth[i] ? 0.2 + (i % 7) * 0.1 : -1.5 + (i % 13) * 0.1;
    }
    struct nc_platt p;
    nc_platt_fit(dec, truth, N, &p);
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(p.A < 0);
    assert_monotone(&p);
    /* the 0.5 point -B/A lies between the largest negative and the smallest positive */
    double mid = -p.B / p.A;
    assert_true(mid > -0.3 && mid < 0.2);
}

static void test_prob_extremes(void **state)
{
    (void)state;
    struct nc_platt p = {-2.0, 0.0};
    assert_true(nc_platt_prob(&p, 0) == 0.5);
    assert_true(nc_platt_prob(&p, 1e6) == 1.0);
    assert_true(nc_platt_prob(&p, -1e6) == 0.0);
    assert_true(nc_platt_prob(&p, 1e308) == 1.0);
    assert_true(nc_platt_prob(&p, -1e308) == 0.0);
    assert_true(nc_platt_prob(&p, 0.3) > 0.5);
    /* symmetric: P(d) + P(-d) = 1 */
    assert_true(fabs(nc_platt_prob(&p, 0.7) + nc_platt_prob(&p, -0.7) - 1.0) < 1e-15);
}

static void test_degenerate_inputs(void **state)
{
    (void)state;
    struct nc_platt p;
    nc_platt_fit(NULL, NULL, 0, &p); /* nothing: a flat 0.5 */
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(fabs(nc_platt_prob(&p, 1.0) - 0.5) < 1e-12);
    const double dec[] = {-1, 0, 1};
    const unsigned char none[] = {0, 0, 0}, all[] = {1, 1, 1};
    nc_platt_fit(dec, none, 3, &p);
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(nc_platt_prob(&p, 0) < 0.5);
    nc_platt_fit(dec, all, 3, &p);
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(nc_platt_prob(&p, 0) > 0.5);
    const double same[] = {0.5, 0.5, 0.5, 0.5};
    const unsigned char mixed[] = {1, 0, 1, 0};
    nc_platt_fit(same, mixed, 4, &p);
    assert_true(isfinite(p.A) && isfinite(p.B));
    assert_true(fabs(nc_platt_prob(&p, 0.5) - 0.5) < 1e-4);
}

/* th is one of 0.05, 0.06, ..., 0.95 (as k / 100.0). */
static void assert_grid(double th)
{
    long k = lround(th * 100.0);
    if (k < 5 || k > 95 || th != (double)k / 100.0)
        fail_msg("threshold %.17g is not on the grid 0.05..0.95", th);
}

static void test_threshold_ties_prefer_half(void **state)
{
    (void)state;
    double f1, f1h, th;
    /* perfectly separated at 0.1 / 0.9: every threshold in (0.1, 0.9] gives F1 = 1 */
    const double prob[] = {0.1, 0.1, 0.9, 0.9, 0.1, 0.9};
    const unsigned char truth[] = {0, 0, 1, 1, 0, 1};
    th = nc_best_threshold(prob, truth, 6, &f1, &f1h);
    assert_true(th == 0.5);
    assert_true(f1 == 1.0);
    assert_true(f1h == 1.0);

    /* every threshold ties (no positives at all): 0.5 */
    const unsigned char none[] = {0, 0, 0, 0, 0, 0};
    th = nc_best_threshold(prob, none, 6, &f1, &f1h);
    assert_true(th == 0.5);
    assert_true(f1 == 0.0);
    assert_true(f1h == 0.0);

    /* best range (0.1, 0.3]: the value in it closest to 0.5 is 0.30 */
    const double low[] = {0.1, 0.3, 0.3, 0.1};
    const unsigned char lt[] = {0, 1, 1, 0};
    th = nc_best_threshold(low, lt, 4, &f1, &f1h);
    assert_grid(th);
    assert_true(th == 0.30);
    assert_true(f1 == 1.0);
    assert_true(f1h == 0.0);

    /* best range (0.6, 0.7]: 0.61 (a probability equal to the threshold counts as on) */
    const double high[] = {0.6, 0.7, 0.7, 0.6};
    th = nc_best_threshold(high, lt, 4, &f1, &f1h);
    assert_grid(th);
    assert_true(th == 0.61);
    assert_true(f1 == 1.0);
    assert_true(f1h == 4.0 / 6.0); /* at 0.5 all four are on: tp 2, fp 2 */

    /* positives at 0.05 exactly: the grid's lowest value */
    const double tiny[] = {0.05, 0.01, 0.01};
    const unsigned char tt[] = {1, 0, 0};
    th = nc_best_threshold(tiny, tt, 3, &f1, &f1h);
    assert_true(th == 0.05);
    assert_true(f1 == 1.0);
}

/* Random data: always a grid value, and never worse than 0.5. */
static void test_threshold_random(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 200; round++) {
        enum { N = 97 };
        double prob[N];
        unsigned char truth[N];
        for (int i = 0; i < N; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            prob[i] = (double)(x % 1000) / 1000.0;
            truth[i] = (unsigned char)((x >> 20) % 3 == 0);
        }
        double f1, f1h;
        double th = nc_best_threshold(prob, truth, N, &f1, &f1h);
        assert_grid(th);
        assert_true(f1 >= f1h);
        assert_true(f1 >= 0.0 && f1 <= 1.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_separable_monotone),
        cmocka_unit_test(test_separable_imbalanced),
        cmocka_unit_test(test_prob_extremes),
        cmocka_unit_test(test_degenerate_inputs),
        cmocka_unit_test(test_threshold_ties_prefer_half),
        cmocka_unit_test(test_threshold_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
